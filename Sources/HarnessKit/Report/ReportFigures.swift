import Engine
import Foundation

/// One figure of a report: `name` becomes the file name suffix (`<stem>-<name>.svg`).
public struct ReportFigure: Sendable {
    public let name: String
    /// Alternative text for the markdown image.
    public let title: String
    /// The sentence printed under the figure: what is drawn from which runs.
    public let caption: String
    public let svg: String
}

/// The figures of a report, built from `ReportData` alone.
enum ReportFigures {
    /// A forest plot of test accuracy, shown beside the results table: a row per grid point
    /// in grid order, a dot at its mean over the done jobs and a whisker for the 95%
    /// Student-t interval of that mean (none for n = 1), so overlapping intervals are seen
    /// at once. With two grid points or more a dashed line marks the best mean (as the
    /// table's "vs best" column needs two points); an open diamond marks the paper's
    /// accuracy where `reference` gives one. Drawn for any grid with a done job, a single
    /// point included; nil when no grid point has one.
    static func accuracy(_ data: ReportData, reference: ReferenceTable?) -> ReportFigure? {
        let metric = ReportMetric.named("accuracy")!
        let rows = data.points.map { point -> ForestPlot.Row in
            let summary = try? Statistics.Summary(metric.values(point.doneJobs.map(\.result)))
            let estimate = summary.map { summary in
                ForestPlot.Estimate(mean: 100 * summary.mean,
                                    interval: summary.tInterval(confidence: 0.95).map {
                                        Statistics.Interval(lower: 100 * $0.lower, upper: 100 * $0.upper)
                                    },
                                    count: summary.count)
            }
            let paper = reference?.value(metric.name, dimensions: data.dimensions, values: point.values)
            return ForestPlot.Row(label: data.shortLabel(point), estimate: estimate, paper: paper.map { 100 * $0 })
        }
        guard rows.contains(where: { $0.estimate != nil }) else { return nil }
        let best = data.points.count > 1 ? data.best : nil
        let paperLabel = "paper" + (reference?.source.map { " (\($0))" } ?? "")
        let chart = ForestPlot(title: "Test accuracy per grid point (mean and 95% CI over seeds)", xLabel: "test accuracy (%)",
                               rows: rows, estimateLabel: "mean over seeds", intervalLabel: "95% CI (Student t)",
                               referenceLine: best.flatMap { rows[$0].estimate.map { ($0.mean, "best mean") } },
                               paperLabel: paperLabel, missingText: "no done job")

        var caption = "Test accuracy (%) of each grid point, in the results table's order. Dot: the mean over its done jobs "
            + "(n, one per seed); whisker: the 95% confidence interval of that mean (Student t), none for n = 1"
        if let best {
            caption += "; dashed line: the highest mean (\(data.label(data.points[best])))"
        }
        if rows.contains(where: { $0.paper != nil }) {
            caption += "; open diamond: the paper's value (\(reference?.source ?? "the spec's reference values"))"
        }
        caption += "."
        if data.points.count == 1 { caption += " A single grid point, so no line marks the best." }
        if rows.contains(where: { $0.estimate == nil }) { caption += " A grid point without a done job has no dot." }
        return ReportFigure(name: "accuracy", title: chart.title, caption: caption, svg: chart.svg())
    }

    /// Fig. 4: mean training loss per epoch, one line per grid point; retraining after
    /// pruning continues the epoch axis as a dashed line. Nil when no done run has epochs.
    /// When there are more lines than colours and the grid has two dimensions or more, one
    /// panel per value of the first dimension keeps each panel's lines apart.
    ///
    /// Each line is shaded with the 95% Student-t interval of its mean at every epoch where
    /// at least two runs have a loss, so a gap between two lines can be read against the
    /// spread over seeds rather than taken at face value.
    static func loss(_ data: ReportData) -> ReportFigure? {
        let facets = data.points.count > seriesColours.count && data.dimensions.count >= 2
        var panels: [(value: JSONValue, panel: LineChart.Panel)] = []
        var hasRetraining = false, hasBaseEpochs = false, hasBands = false
        for point in data.points {
            let runIDs = point.doneJobs.compactMap { $0.result.runID }
            let runs = runIDs.compactMap { data.epochs[$0] }.filter { !$0.isEmpty }
            hasBaseEpochs = hasBaseEpochs || runIDs.contains { data.runsWithBaseEpochs.contains($0) }
            guard !runs.isEmpty else { continue }
            let records = runs.flatMap { $0 }
            let train = epochLosses(records.filter { $0.phase == .train })
            let retrain = epochLosses(records.filter { $0.phase == .retrain })

            var parts = pieces(train.map { (Double($0.epoch), $0.mean) }, dashed: false)
            var bands = bandPieces(train.map { (Double($0.epoch), $0.interval) })
            if !retrain.isEmpty {
                hasRetraining = true
                let lastTrain = records.filter { $0.phase == .train }.map(\.epoch).max() ?? 0
                let shift = lastTrain - retrain[0].epoch + 1
                var continued = pieces(retrain.map { (Double($0.epoch + shift), $0.mean) }, dashed: true)
                var continuedBands = bandPieces(retrain.map { (Double($0.epoch + shift), $0.interval) })
                // The dashed line (and its band) starts where training ended, so the two read as one curve.
                if let end = train.last, let loss = end.mean, retrain[0].mean != nil, !continued.isEmpty {
                    continued[0].points.insert((Double(lastTrain), loss), at: 0)
                }
                if let end = train.last, let interval = end.interval, retrain[0].interval != nil, !continuedBands.isEmpty {
                    continuedBands[0].points.insert((Double(lastTrain), interval.lower, interval.upper), at: 0)
                }
                parts += continued
                bands += continuedBands
            }
            guard !parts.isEmpty else { continue }
            hasBands = hasBands || !bands.isEmpty
            let series = LineChart.Series(label: "\(data.shortLabel(point, from: facets ? 1 : 0)) (n=\(runs.count))",
                                          parts: parts, bands: bands)
            let value = facets ? point.values[0] : .null
            if let last = panels.indices.last, panels[last].value == value {
                panels[last].panel.series.append(series)
            } else {
                let title = facets ? data.shortDimensionNames[0] + " " + GridLabel.value(value) : nil
                panels.append((value, LineChart.Panel(title: title, series: [series])))
            }
        }
        guard !panels.isEmpty else { return nil }
        let chart = LineChart(title: "Training loss per epoch (mean over seeds)", xLabel: "epoch",
                              yLabel: "mean training loss", panels: panels.map(\.panel), integerX: true,
                              styleNotes: hasRetraining ? [("training", false), ("retraining after pruning", true)] : [],
                              bandNote: hasBands ? "95% CI of the mean" : nil)
        var caption = "Mean training loss per epoch over the done runs of each grid point (n runs)."
        if hasBands {
            caption += " Shaded: 95% confidence interval of the mean over seeds (Student t), at each epoch over the runs "
                + "with a loss there; none where fewer than 2 runs have one."
        }
        if facets { caption += " One panel per \(data.dimensions[0]), all on the same axes." }
        if hasRetraining { caption += " Dashed: retraining after pruning, its epochs counted on from the last training epoch." }
        if hasBaseEpochs {
            caption += " A pruning run that started from its base model's checkpoint shows that base run's training epochs."
        }
        return ReportFigure(name: "loss", title: chart.title, caption: caption, svg: chart.svg())
    }

    /// The losses of several runs at one epoch, summarised.
    struct EpochLoss {
        let epoch: Int
        /// The mean of the runs' defined losses; nil where every run's loss was NaN.
        let mean: Double?
        /// The 95% Student-t interval of that mean; nil where fewer than 2 runs have a loss.
        let interval: Statistics.Interval?
    }

    /// Mean and 95% interval of the defined losses per epoch, by epoch, each over the runs
    /// that have a loss at that epoch.
    static func epochLosses(_ records: [EpochRecord]) -> [EpochLoss] {
        let byEpoch = Dictionary(grouping: records, by: \.epoch)
        return byEpoch.keys.sorted().map { epoch in
            let losses = byEpoch[epoch]!.compactMap(\.loss)
            return EpochLoss(epoch: epoch, mean: losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count),
                             interval: (try? Statistics.Summary(losses))?.tInterval(confidence: 0.95))
        }
    }

    /// Consecutive intervals as band pieces; an epoch without one leaves a gap.
    private static func bandPieces(_ intervals: [(Double, Statistics.Interval?)]) -> [LineChart.Band] {
        var bands: [LineChart.Band] = []
        var current: [(x: Double, lower: Double, upper: Double)] = []
        for (x, interval) in intervals {
            if let interval {
                current.append((x, interval.lower, interval.upper))
            } else if !current.isEmpty {
                bands.append(LineChart.Band(points: current))
                current = []
            }
        }
        if !current.isEmpty { bands.append(LineChart.Band(points: current)) }
        return bands
    }

    /// Consecutive defined points as line pieces; an undefined loss leaves a gap.
    private static func pieces(_ points: [(Double, Double?)], dashed: Bool) -> [LineChart.Part] {
        var parts: [LineChart.Part] = []
        var current: [(x: Double, y: Double)] = []
        for (x, y) in points {
            if let y {
                current.append((x, y))
            } else if !current.isEmpty {
                parts.append(LineChart.Part(points: current, dashed: dashed))
                current = []
            }
        }
        if !current.isEmpty { parts.append(LineChart.Part(points: current, dashed: dashed)) }
        return parts
    }

    /// Fig. 5: for each grid point, kernel density estimates of the weights before and
    /// after pruning, from its first done run that recorded histograms.
    static func weights(_ data: ReportData) -> [ReportFigure] {
        data.points.compactMap { point -> ReportFigure? in
            guard let job = point.doneJobs.first(where: { $0.result.runID.flatMap { data.histograms[$0] } != nil }),
                  let run = job.result.runID, let stages = data.histograms[run] else { return nil }
            let all = stages.before + stages.after
            let lower = all.map(\.lower).min()!, upper = all.map(\.upper).max()!
            var series: [LineChart.Series] = []
            var bandwidths: [String] = []
            for (label, histograms) in [("before pruning", stages.before), ("after pruning", stages.after)] {
                guard let density = KernelDensity(histograms) else { continue }
                series.append(LineChart.Series(label: label, parts: [LineChart.Part(points: density.curve(from: lower, to: upper),
                                                                                    dashed: false)]))
                bandwidths.append("\(label) \(NumberFormat.decimal(density.bandwidth, 4))")
            }
            guard !series.isEmpty else { return nil }
            let layers = (stages.before.isEmpty ? stages.after : stages.before).map(\.layer)
            let chart = LineChart(title: "Weight values: \(data.shortLabel(point))", xLabel: "weight value",
                                  yLabel: "density", series: series)
            let caption = "Kernel density estimate (Gaussian kernels on the histogram bins, Silverman bandwidth "
                + bandwidths.joined(separator: ", ") + ", at least the bin width) of the weights of layers \(layers.joined(separator: ", ")) "
                + "of run \(run) (seed \(job.result.seed)), \(data.label(point)). Each curve integrates to 1."
            return ReportFigure(name: "weights-\(point.index + 1)", title: chart.title, caption: caption, svg: chart.svg())
        }
    }

    /// Fig. 6: the best grid point's confusion matrix (summed over its done runs).
    static func confusion(_ data: ReportData) -> ReportFigure? {
        guard let best = data.best, let matrix = data.confusion else { return nil }
        let names = classNames(matrix.classes)
        let point = data.points[best]
        let chart = HeatmapChart(title: "Confusion matrix: \(data.shortLabel(point))", rowLabels: names, columnLabels: names,
                                 counts: matrix.counts, rowTitle: "true class", columnTitle: "predicted class",
                                 note: "Shade: share of the true class's test samples; summed over "
                                     + "\(data.confusionJobs.count) seed\(data.confusionJobs.count == 1 ? "" : "s").")
        return ReportFigure(name: "confusion", title: chart.title,
                            caption: "Confusion matrix of the best configuration (\(data.label(point))), test set, "
                                + "summed over its \(data.confusionJobs.count) done "
                                + (data.confusionJobs.count == 1 ? "run." : "runs."),
                            svg: chart.svg())
    }

    /// Fashion-MNIST's class names for a 10-class matrix, else "class 0", "class 1", ...
    static func classNames(_ count: Int) -> [String] {
        count == FashionMNIST.classNames.count ? FashionMNIST.classNames : (0..<count).map { "class \($0)" }
    }
}
