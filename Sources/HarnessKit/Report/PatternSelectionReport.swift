import Foundation

// The report's Pattern selection section (issue 16): for an experiment whose jobs choose
// their training patterns (`dataset.selection`), what each grid point trained on, what
// choosing cost (scoring's CPU time, shared among the jobs that used the scores) and the
// accuracy it bought, against the baseline (random at the same share) and in a figure of
// accuracy against training cost.

extension ReportData {
    /// Whether some job of the experiment chooses its patterns other than at random.
    var selectsPatterns: Bool {
        jobs.contains { job in PatternSelection(rawValue: PointAssignment.selection(job.config)).map { !$0.isRandomDraw } ?? false }
    }

    /// Each done job's share of the CPU seconds its scores took, by job id: a score run's
    /// seconds split equally among this experiment's done jobs that used it (a job that
    /// computed its scores itself carries them whole); 0 for a job without scores.
    var scoringShares: [String: Double] {
        let done = jobs.filter(\.isDone).map(\.result)
        let users = Dictionary(grouping: done.filter { $0.metric("scores_run_id") != nil }) { $0.metric("scores_run_id")! }
        var shares: [String: Double] = [:]
        for job in done {
            guard let seconds = job.metric("scoring_cpu_seconds"), seconds.isFinite else {
                shares[job.jobID] = 0
                continue
            }
            shares[job.jobID] = seconds / Double(job.metric("scores_run_id").flatMap { users[$0]?.count } ?? 1)
        }
        return shares
    }
}

extension ReportRenderer {
    /// One row per grid point: patterns per epoch, accuracy, training CPU time, its share of
    /// scoring and the two together, and (with a baseline) the paired difference from it and
    /// the total CPU time as a multiple of its; then the accuracy-against-cost figure.
    mutating func patternSelection() {
        guard data.selectsPatterns else { return }
        let shares = data.scoringShares
        lines.append("## Pattern selection")
        lines.append("")
        var intro = "What each grid point trained on and what choosing its patterns cost. Patterns / epoch: the mean number "
            + "of training patterns an epoch trained on (the active set shrinks as patterns are learned). Train CPU: the "
            + "job's training. Scoring CPU: the CPU time its el2n or forgetting scores took (the probe models' training and "
            + "scoring), split equally among this experiment's done jobs that used the same scores. Total CPU = train + "
            + "scoring: the cost of the accuracy. Means over the done jobs (n) with 95% intervals [Student t]."
        let compared = comparedBaseline
        if let compared {
            intro += " Against the baseline (" + (compared.point.map { data.label(data.points[$0]) } ?? matchedText(compared))
                + "): the accuracy difference in points, paired by seed, with its 95% interval and the Holm-adjusted paired "
                + "t-test's verdict (as in Comparisons, which also lists them by baseline point), and the total CPU time "
                + "as a multiple of the baseline's."
        }
        lines.append(intro)
        lines.append("")

        let comparisons = baselineComparisons
        var columns = dimensionColumns(data.dimensions) + [
            .init("n"), .init("patterns / epoch"), .init("accuracy (%) [95% CI]"), .init("train CPU (s)"),
            .init("scoring CPU (s)"), .init("total CPU (s) [95% CI]"),
        ]
        if compared != nil { columns += [.init("vs baseline (pp) [95% CI]"), .init("verdict", .left), .init("CPU vs baseline")] }
        var table = MarkdownTable(columns)
        let accuracy = ReportMetric.named("accuracy")!, seconds = NumberFormat.fixed(2)
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        func totals(_ point: GridPoint) -> [Double] {
            point.doneJobs.compactMap { job in
                job.result.metric("train_cpu_seconds").map { $0 + (shares[job.result.jobID] ?? 0) }
            }
        }
        for point in data.points {
            let done = point.doneJobs.map(\.result)
            var cells = point.values.map(GridLabel.value) + [String(done.count)]
            let epochs = Double(max(1, point.jobs.first.map { Self.trainingEpochs($0.config) } ?? 1))
            cells.append(mean(done.compactMap { $0.metric("pattern_epochs") }).map { NumberFormat.decimal($0 / epochs, 0) } ?? "–")
            cells.append(accuracy.intervalText(accuracy.values(done)))
            cells.append(mean(done.compactMap { $0.metric("train_cpu_seconds") }).map(seconds.text) ?? "–")
            cells.append(mean(done.map { shares[$0.jobID] ?? 0 }).map(seconds.text) ?? "–")
            cells.append(seconds.intervalText(totals(point)))
            if let comparisons, let compared {
                let comparison = comparisons[point.index]
                if let reference = compared.references[point.index] {
                    cells.append(Self.pairedCells(comparison.test, comparison.wilcoxon)[0])
                    cells.append(comparison.verdict.text(reference: "baseline"))
                    if let mine = mean(totals(point)), let theirs = mean(totals(data.points[reference])) {
                        cells.append(NumberFormat.decimal(mine / theirs, 2) + "x")
                    } else {
                        cells.append("–")
                    }
                } else {
                    cells += ["–", "baseline", "–"]
                }
            }
            table.add(cells)
        }
        lines.append(table.text)
        lines.append("")
        tables.append(("selection", "\(spec.name): pattern selection, accuracy and training cost per grid point", table))
        figure(ReportFigures.selectionCost(data, shares: shares), missing: "")
    }

    /// `training.epochs` of a stored job config (10, harness's default, when absent).
    static func trainingEpochs(_ config: JSONValue) -> Int {
        if case let .int(epochs) = PointAssignment.configValue(config, path: "training.epochs") { return epochs }
        return TrainingSettings().epochs
    }
}

extension ReportFigures {
    /// Test accuracy against training CPU time including scoring: one marker per grid point
    /// (mean over its done jobs, whisker the accuracy's 95% t-interval), shaped and coloured by
    /// its selection, with the Pareto front. Nil when no done job recorded CPU time.
    static func selectionCost(_ data: ReportData, shares: [String: Double]) -> ReportFigure? {
        let order = PatternSelection.allCases.map(\.rawValue)
        let shapes: [SVGCanvas.Marker] = [.circle, .diamond, .square, .triangle, .star]
        let styles = order.enumerated().map { index, name in
            CostChart.Style(label: name, shape: shapes[index % shapes.count], colour: seriesColours[index % seriesColours.count])
        }
        var points: [CostChart.Point] = []
        for point in data.points {
            let jobs = point.doneJobs.map(\.result).filter { $0.metric("train_cpu_seconds") != nil && $0.metric("accuracy") != nil }
            guard let first = point.jobs.first, let summary = try? Statistics.Summary(jobs.map { 100 * $0.metric("accuracy")! })
            else { continue }
            let cost = jobs.map { $0.metric("train_cpu_seconds")! + (shares[$0.jobID] ?? 0) }.reduce(0, +) / Double(jobs.count)
            points.append(CostChart.Point(label: data.shortLabel(point), tag: String(point.index + 1),
                                          style: order.firstIndex(of: PointAssignment.selection(first.config)) ?? 0,
                                          x: cost, y: summary.mean, interval: summary.tInterval(confidence: 0.95)))
        }
        guard !points.isEmpty else { return nil }
        let panel = CostChart.Panel(title: "Training cost", xLabel: "training CPU time per job, scoring included (s)", points: points)
        let used = Set(points.map(\.style)).sorted()
        let chart = CostChart(title: "Test accuracy against training cost (mean over seeds)", yLabel: "test accuracy (%)",
                              styles: styles,
                              panels: [panel], intervalLabel: "95% CI (Student t)")
        var caption = "Test accuracy (%) against the CPU seconds a job's training took, plus its share of the CPU time its "
            + "scores took (el2n, forgetting). One marker per grid point at the mean over its done jobs; whisker: the "
            + "accuracy's 95% confidence interval (Student t). Marker shape and colour: the selection ("
            + used.map { "\(shapeName(styles[$0].shape)) \(order[$0])" }.joined(separator: ", ") + ")."
        if panel.usesLogScale { caption += " The cost axis is logarithmic (the costs span more than 10x)." }
        caption += " Dashed staircase, markers outlined: the Pareto front, the points no other point beats (none costs no more "
            + "and is at least as accurate, and better in one of the two), by mean accuracy. On the front, in order of cost: "
            + panel.front.map { panel.points[$0].label }.joined(separator: "; ") + "."
        return ReportFigure(name: "selection-cost", title: chart.title, caption: caption, svg: chart.svg())
    }

    static func shapeName(_ shape: SVGCanvas.Marker) -> String {
        switch shape {
        case .circle: "circle"
        case .square: "square"
        case .triangle: "triangle"
        case .diamond: "diamond"
        case .star: "star"
        }
    }
}
