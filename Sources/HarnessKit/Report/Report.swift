import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A rendered report: markdown and the SVG figures it links to by relative file name.
public struct ReportDocument: Sendable {
    public let markdown: String
    public let figures: [(fileName: String, svg: String)]
    /// The report's tables as rendered, for `--format latex`: a name, a caption and the table.
    let tables: [(name: String, caption: String, table: MarkdownTable)]
}

/// `harness report`: an experiment's results as a markdown report that stands alone
/// (settings, data, a row per grid point with the paper's numbers beside ours, the best
/// configuration's confusion matrix and per-class metrics) with SVG figures, and two-way
/// pivot tables (Pivot.swift).
///
/// The output depends only on the database (and spec file): no clocks, no host names, a
/// fixed order everywhere and fixed decimals, so a report can be diffed and golden-tested.
public enum Report {
    public static let defaultDatabasePath = Store.defaultPath

    /// The file-name stem figures of a report written to `path` get: "reports/layers.md"
    /// gives "layers", hence "layers-loss.svg" beside it.
    public static func figureStem(forOutput path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// The report of `data`. With a `figureStem` the figures are rendered and linked as
    /// "<stem>-<figure>.svg"; without, the markdown says figures were not written.
    /// `baseline`: the points to compare every other with besides the best (`--baseline`);
    /// nil for the spec's own `baseline`, if any.
    public static func render(_ data: ReportData, figureStem: String?, baseline: String? = nil) throws -> ReportDocument {
        var renderer = ReportRenderer(data: data, reference: try ReferenceTable(spec: data.spec, origin: data.spec.filePath),
                                      figureStem: figureStem, baseline: try chosenBaseline(data, argument: baseline))
        renderer.render()
        while renderer.lines.last == "" { renderer.lines.removeLast() }
        return ReportDocument(markdown: renderer.lines.joined(separator: "\n") + "\n", figures: renderer.figures,
                              tables: renderer.tables)
    }

    /// The baseline `--baseline` names (`argument`), else the spec's own, else nil.
    static func chosenBaseline(_ data: ReportData, argument: String?) throws -> Baseline? {
        try argument.map { try Baseline(argument: $0, spec: data.spec) } ?? Baseline(spec: data.spec, origin: data.spec.filePath)
    }

    /// Writes the figures, then the markdown (so the markdown never links a figure that is
    /// not there yet), each atomically; figures go beside the markdown file. Every target is
    /// checked first (`checkTarget`), so a refused `--out` writes nothing.
    public static func write(_ document: ReportDocument, to path: String, database: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let figures = document.figures.map { (path: directory.appendingPathComponent($0.fileName).path, svg: $0.svg) }
        try checkTarget(path, kind: .report(.md), database: database)
        for figure in figures { try checkTarget(figure.path, kind: .figure, database: database) }
        for figure in figures { try writeAtomically(figure.svg, to: figure.path) }
        try writeAtomically(document.markdown, to: path)
    }

    /// Writes `text` (a pivot table, or a report in `format`) to `path` atomically, after `checkTarget`.
    public static func writeText(_ text: String, to path: String, format: ReportFormat = .md, database: String) throws {
        try checkTarget(path, kind: .report(format), database: database)
        try writeAtomically(text, to: path)
    }

    enum OutputKind {
        case report(ReportFormat), figure
        /// `harness report --all`'s README.md.
        case index

        /// Whether `head` (a file's first bytes) is what harness writes as this kind.
        func matches(_ head: Data) -> Bool {
            let text = String(decoding: head, as: UTF8.self)
            switch self {
            case let .report(format): return text.hasPrefix(format.signature)
            case .figure: return text.hasPrefix("<?xml") || text.hasPrefix("<svg")
            case .index: return text.hasPrefix(ResultsIndex.heading)
            }
        }
    }

    /// Refuses a report output that would destroy something: the results database (or its
    /// -wal, -shm or -journal file), a directory, or an existing file that is not a report
    /// (or figure) harness wrote, such as a spec or someone's notes. Paths are compared
    /// after resolving symbolic links and "..".
    static func checkTarget(_ path: String, kind: OutputKind, database: String) throws {
        func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        let target = resolved(path)
        let databaseFiles = Set(["", "-wal", "-shm", "-journal"].map { resolved(database + $0) })
        if databaseFiles.contains(target) {
            throw HarnessError("harness report: \(path) is the results database (or one of its files); "
                               + "give --out a report file such as results/report.md")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            throw HarnessError("harness report: \(path) is a directory; give --out a report file such as \(path)/report.md")
        }
        let head = FileHandle(forReadingAtPath: target).map { handle in
            defer { try? handle.close() }
            return (try? handle.read(upToCount: 64)) ?? Data()
        }
        guard let head, kind.matches(head) else {
            throw HarnessError("harness report: \(path) exists and is not a report written by harness, so it is left as "
                               + "it is; remove it or choose another --out")
        }
    }

    static func writeAtomically(_ text: String, to path: String) throws {
        try writeFileAtomically(Data(text.utf8), to: path)
    }

    /// "6 done, 1 failed, 1 pending": job counts by state, states without jobs left out.
    static func describeStates(_ jobs: [ReportJob]) -> String {
        let order: [JobState] = [.done, .running, .pending, .failed, .interrupted]
        let counts = Dictionary(grouping: jobs, by: \.result.state).mapValues(\.count)
        let parts = order.compactMap { state in counts[state].map { "\($0) \(state.rawValue)" } }
        return parts.isEmpty ? "no jobs" : parts.joined(separator: ", ")
    }
}

/// Builds the markdown section by section.
struct ReportRenderer {
    let data: ReportData
    let reference: ReferenceTable?
    let figureStem: String?
    var lines: [String] = []
    var figures: [(fileName: String, svg: String)] = []
    var tables: [(name: String, caption: String, table: MarkdownTable)] = []
    let baseline: Baseline?
    /// Every point against its baseline point on accuracy, paired by seed (as the
    /// Comparisons and Pattern selection sections show them); nil without a baseline.
    let baselineComparisons: [PairedComparison]?

    init(data: ReportData, reference: ReferenceTable?, figureStem: String?, baseline: Baseline? = nil) {
        self.data = data
        self.reference = reference
        self.figureStem = figureStem
        self.baseline = baseline
        baselineComparisons = baseline.flatMap { $0.references.count == data.points.count ? $0 : nil }.map {
            PairedComparison.against(references: $0.references, points: data.points, metric: ReportMetric.named("accuracy")!)
        }
    }

    var spec: ExperimentSpec { data.spec }

    mutating func render() {
        header()
        settings()
        dataSets()
        results()
        if spec.pruning != nil { pruning() }
        patternSelection()
        reproduction()
        bestConfiguration()
        jobsNotDone()
    }

    // MARK: Sections

    mutating func header() {
        lines.append("# \(spec.name)")
        lines.append("")
        if !spec.description.isEmpty {
            lines.append(spec.description)
            lines.append("")
        }
        if let file = data.specFile {
            lines.append("Spec file: `\(file)`." + (data.specFileDiffers
                ? " It differs from the spec stored with the experiment; its grid and reference are used here." : ""))
        } else {
            lines.append("Spec: as stored with the experiment in the results database.")
        }
        let versions = Set(data.jobs.filter(\.isDone).compactMap(\.result.engineVersion)).sorted()
        if !versions.isEmpty {
            lines.append("Engine version\(versions.count == 1 ? "" : "s") of the done runs: \(versions.joined(separator: ", ")).")
        }
        if figureStem == nil {
            lines.append("")
            lines.append("> Note: figures are written only with `--out FILE`; this report was printed without them.")
        }
        lines.append("")
    }

    mutating func settings() {
        lines.append("## Settings shared by all jobs")
        lines.append("")
        var table = MarkdownTable([.init("setting", .left), .init("value", .left)])
        for (path, value) in sharedSettings() { table.add([path, value]) }
        table.add(["seeds", seedsCell])
        lines.append(table.text)
        lines.append("")
        let grid = spec.grid.map { "`\($0.path)` (\($0.values.count) value\($0.values.count == 1 ? "" : "s"))" }
        var seeds = "\(spec.seeds.count) seed\(spec.seeds.count == 1 ? "" : "s")"
        if let adaptive = spec.adaptiveSeeds, adaptive.max > adaptive.start, !grid.isEmpty {
            seeds += ", more (up to \(adaptive.max)) where the comparison with the best was undecided"
        }
        if grid.isEmpty {
            lines.append("No grid: one configuration × \(seeds).")
        } else {
            lines.append("Grid: \(grid.joined(separator: " × ")) = \(spec.gridPointCount) grid points × \(seeds).")
        }
        lines.append("Jobs: \(data.jobs.count) (\(Report.describeStates(data.jobs))).")
        let unmatched = data.unmatchedJobs.count
        if unmatched > 0 {
            lines.append("\(unmatched) job\(unmatched == 1 ? "" : "s") of the experiment match no grid point of this spec "
                         + "(it changed after they were registered) and are left out of the tables.")
        }
        lines.append("")
    }

    /// "1, 2, 3", or with adaptive seeds "1–3, adaptive up to 10 (grid points have 3–7
    /// done seeds)".
    var seedsCell: String {
        guard let adaptive = spec.adaptiveSeeds else { return spec.seeds.map(String.init).joined(separator: ", ") }
        let done = data.points.map { Set($0.doneJobs.map(\.result.seed)).count }
        let low = done.min() ?? 0, high = done.max() ?? 0
        return adaptive.description + " (" + (data.points.count == 1 ? "the grid point has \(low)"
            : low == high ? "every grid point has \(low)" : "grid points have \(low)–\(high)")
            + " done seed\(high == 1 ? "" : "s"))"
    }

    /// Settings whose value is the same in every job's resolved config, grid dimensions
    /// left out, in the spec format's order. `dataset.path` and `training.threads` are not
    /// part of a config (the data section shows the directory).
    func sharedSettings() -> [(String, String)] {
        let dimensions = Set(data.dimensions)
        let flattened: [[(path: String, value: JSONValue)]] = data.jobs.map { job in
            guard case let .object(sections) = job.config else { return [] }
            return sections.flatMap { section -> [(path: String, value: JSONValue)] in
                guard case let .object(fields) = section.value else { return [] }
                return fields.map { ("\(section.key).\($0.key)", $0.value) }
            }
        }
        guard let first = flattened.first else { return [] }
        var shared = first.filter { entry in
            !dimensions.contains(entry.path) && flattened.dropFirst().allSatisfy { other in
                other.contains { $0.path == entry.path && PointAssignment.same($0.value, entry.value) }
            }
        }
        // A config leaves train_size out when all training images are used.
        if !dimensions.contains("dataset.train_size") && !flattened.contains(where: { $0.contains { $0.path == "dataset.train_size" } }) {
            shared.append(("dataset.train_size", .string("all")))
        }
        let order = Dictionary(uniqueKeysWithValues: SettingField.all.enumerated().map { ($1.path, $0) })
        shared.sort { (order[$0.path] ?? Int.max, $0.path) < (order[$1.path] ?? Int.max, $1.path) }
        return shared.map { ($0.path, GridLabel.value($0.value)) }
    }

    mutating func dataSets() {
        lines.append("## Data")
        lines.append("")
        guard !data.datasets.isEmpty else {
            lines.append("No data set is recorded for this experiment's jobs.")
            lines.append("")
            return
        }
        var table = MarkdownTable([.init("data set", .left), .init("directory", .left), .init("train records"),
                                   .init("test records"), .init("jobs")])
        var fileLines: [String] = []
        for dataset in data.datasets {
            let description = (try? JSONValue.parse(dataset.descriptionJSON)) ?? .null
            func text(_ value: JSONValue?) -> String {
                switch value {
                case let .string(s)?: return s
                case let .int(n)?: return String(n)
                default: return "–"
                }
            }
            table.add([dataset.fingerprint, text(description["directory"]), text(description["train"]?["records"]),
                       text(description["test"]?["records"]), String(dataset.jobCount)])
            if case let .array(files)? = description["files"] {
                let listed = files.map { file in
                    "`\(text(file["name"]))` (\(text(file["records"])) records, MD5 \(text(file["md5"])))"
                }
                fileLines.append("Files of \(dataset.fingerprint): " + listed.joined(separator: ", ") + ".")
            }
        }
        lines.append(table.text)
        lines.append("")
        if !fileLines.isEmpty {
            lines += fileLines
            lines.append("")
        }
    }

    mutating func results() {
        lines.append("## Results")
        lines.append("")
        var intro = "One row per grid point. Accuracy, macro F1 and train CPU time are the mean over the grid point's "
            + "done jobs (n, one per seed) with its 95% confidence interval [Student t]. Train CPU time is the CPU "
            + "seconds the job's threads spent training: it does not grow when other jobs share the cores, so it is "
            + "the cost to compare; s / epoch (wall) is the mean wall-clock time per epoch, which does."
        if data.points.count > 1 && data.best != nil {
            intro += " \"vs best\" compares each row with the row of highest mean accuracy, seed by seed "
                + "(see Comparisons)."
        }
        if let reference {
            intro += " \"paper\" columns: \(reference.source ?? "the spec's reference values")."
        }
        lines.append(intro)
        if let note = reference?.note { lines.append("Reference note: \(note)") }
        lines.append("")

        appendPointTable(PointTable(name: "results", caption: "results per grid point, mean [95\\% CI] over seeds", columns: [
            .init("accuracy"), .init("macro_f1"), .init("train_cpu_seconds"), .init("mean_epoch_seconds", shows: .mean),
        ], showsJobs: true, comparesWithBest: true))
        if let best = data.best {
            lines.append("Highest mean accuracy: \(data.label(data.points[best])).")
        } else {
            lines.append("No grid point has a done job yet.")
        }
        lines.append("")
        figure(ReportFigures.accuracy(data, reference: reference), missing: "")
        comparisons()
        testImageComparisons()
        figure(ReportFigures.loss(data), missing: "No done run has recorded epochs, so there is no loss figure.")
    }

    /// The paper's Table 3: accuracy before pruning, right after pruning and after
    /// retraining, sparsity and the mean time of a weight update before and after.
    mutating func pruning() {
        let paired = data.jobs.contains { $0.isDone && $0.result.metric("train_step_seconds") != nil }
        lines.append("## Pruning")
        lines.append("")
        lines.append("In the layout of the paper's Table 3, with the pruning method. Accuracies are the mean over the done "
                     + "jobs (n) with its 95% confidence interval [Student t]; sparsity (the fraction of weight-matrix "
                     + "entries that are zero, or that a model rebuilt smaller lacks) and update times (one optimizer step, "
                     + "wall clock) are means. "
                     + (paired ? "Each job measured the dense base model's update and the pruned model's side by side, "
                        + "under the same conditions (see Cost)."
                        : "The update times come from separate runs (the base job's training and the pruning job's "
                        + "retraining), taken at different times under different loads, so their ratio is not the pruning's.")
                     + (reference.map { " \"paper\" columns: \($0.source ?? "the spec's reference values")." } ?? ""))
        lines.append("")
        // The pruning setting leads, as in Table 3.
        let isPruning = ReportFigures.isPruningSetting
        let order = data.dimensions.indices.sorted { a, b in
            (isPruning(data.dimensions[a]) ? 0 : 1, a) < (isPruning(data.dimensions[b]) ? 0 : 1, b)
        }
        appendPointTable(PointTable(name: "pruning", caption: "pruning as in the paper's Table 3", dimensions: order,
                                    textColumns: [("method", Self.methods)], columns: [
            .init("accuracy_before_pruning"), .init("accuracy_pruned"), .init("accuracy", title: "after retraining (%)"),
            .init("sparsity", shows: .mean), .init("update_seconds", shows: .mean), .init("update_seconds_pruned", shows: .mean),
        ]))
        retraining(order: order)
        if paired { costs(order: order) }
        let weightFigures = ReportFigures.weights(data)
        if weightFigures.isEmpty {
            figure(nil, missing: "No done run has recorded weight histograms, so there are no weight density figures.")
        }
        for weights in weightFigures { figure(weights, missing: "") }
        figure(ReportFigures.cost(data), missing: "No done job has measured FLOPs per image (jobs recorded before harness "
               + "measured the dense and pruned models' costs), so there is no accuracy-versus-cost figure.")
    }

    /// The pruning methods of a point's jobs ("magnitude" where the config leaves it out).
    static func methods(_ point: GridPoint) -> String {
        let names = point.jobs.map { PointAssignment.pruningMethod($0.config) }
        var seen: [String] = []
        for name in names where !seen.contains(name) { seen.append(name) }
        return seen.isEmpty ? "–" : seen.joined(separator: ", ")
    }

    /// What pruning saves, from each job's side-by-side measurement of its dense base model
    /// and its pruned model (`PairedCosts`): absolute figures as "dense → pruned" means, and
    /// the per-job ratio pruned / dense as a mean with its 95% interval over the jobs.
    mutating func costs(order: [Int]) {
        lines.append("### Cost")
        lines.append("")
        lines.append("Each job measured its dense base model and its pruned model side by side in one process: the same "
                     + "batches and test images, rounds alternating which goes first, medians over 5 rounds. Absolute "
                     + "figures are means over the jobs, dense → pruned; ratios (pruned / dense, below 1 is cheaper) are "
                     + "each job's own, as a mean with its 95% confidence interval. Optimizer and training steps (forward, "
                     + "backward, update) are wall time; epoch CPU is a training step's CPU time times the steps of an "
                     + "epoch; inference is wall time per test image (sparse kernels for magnitude-pruned models); FLOPs "
                     + "count multiply-adds per image with pruned weights skipped.")
        lines.append("")
        var table = MarkdownTable(dimensionColumns(order.map { data.dimensions[$0] }) + [
            .init("method", .left), .init("nonzero parameters"), .init("MFLOPs / image"), .init("update (ms)"),
            .init("update ratio"), .init("train step ratio"), .init("epoch CPU (s)"), .init("epoch CPU ratio"),
            .init("inference (µs / image)"), .init("inference ratio"), .init("n"),
        ])
        let ratio = NumberFormat.fixed(2)
        for point in data.points {
            let done = point.doneJobs.map(\.result).filter { $0.metric("train_step_seconds") != nil }
            func mean(_ name: String) -> Double? {
                let summary = ReportMetric.named(name)!.summary(done)
                return summary.count > 0 ? summary.mean : nil
            }
            func pair(_ dense: String, _ pruned: String, _ format: NumberFormat) -> String {
                guard let d = mean(dense), let p = mean(pruned) else { return "–" }
                return "\(format.text(d)) → \(format.text(p))"
            }
            func ratios(_ dense: String, _ pruned: String) -> String {
                let values = done.compactMap { job -> Double? in
                    guard let d = job.metric(dense), let p = job.metric(pruned), d > 0 else { return nil }
                    return p / d
                }
                return ratio.intervalText(values)
            }
            var cells = order.map { GridLabel.value(point.values[$0]) } + [Self.methods(point)]
            cells.append(mean("nonzero_parameters").map { NumberFormat.decimal($0, 0) } ?? "–")
            cells += [pair("flops_per_sample", "flops_per_sample_pruned", .millions(3)),
                      pair("update_seconds", "update_seconds_pruned", .milliseconds(3)),
                      ratios("update_seconds", "update_seconds_pruned"),
                      ratios("train_step_seconds", "train_step_seconds_pruned"),
                      pair("epoch_cpu_seconds", "epoch_cpu_seconds_pruned", .fixed(2)),
                      ratios("epoch_cpu_seconds", "epoch_cpu_seconds_pruned"),
                      pair("inference_sample_seconds", "inference_sample_seconds_pruned", .microseconds(1)),
                      ratios("inference_sample_seconds", "inference_sample_seconds_pruned"), String(done.count)]
            table.add(cells)
        }
        lines.append(table.text)
        lines.append("")
        tables.append(("cost", "\(spec.name): dense and pruned costs measured side by side", table))
    }

    /// Every point against the best, and against the baseline when there is one, paired by
    /// seed (`PairedComparison`).
    mutating func comparisons() {
        guard data.points.count > 1, let best = data.best else { return }
        lines.append("## Comparisons")
        lines.append("")
        var against = ""
        if let baseline = comparedBaseline {
            if let point = baseline.point {
                against = point == best ? "" : " and against the baseline (\(data.label(data.points[point])))"
            } else {
                against = " and against its matched baseline, \(matchedText(baseline))"
            }
        }
        lines.append("Each grid point against the highest mean accuracy (\(data.label(data.points[best])))" + against
                     + ", paired by seed: "
                     + "the mean difference in accuracy (points) with its 95% confidence interval, the paired t-test's p, "
                     + "the exact Wilcoxon signed-rank p, Hedges' g (with its size), and the t-test's p Holm-adjusted over "
                     + "the table, which decides the verdict at 0.05. With n pairs the Wilcoxon p cannot go below 2/2^n; "
                     + "† marks where that is above 0.05, so the test cannot find a difference however large. For an "
                     + "undecided comparison, \"seeds for 80% power\" is how many seeds a paired t-test would need to "
                     + "detect the observed difference 80% of the time. \"CPU cost\" is the point's mean training CPU "
                     + "time as a multiple of the compared point's: what the accuracy difference costs, measured in the "
                     + "clock that other jobs sharing the cores do not inflate.")
        lines.append("")
        if data.hasAdaptiveSeeds {
            lines.append("> Seeds were added adaptively: a grid point got more seeds only while its comparison with the "
                         + "best was undecided, and stopped once it was decided. The p-values are not corrected for that "
                         + "data-dependent stopping (optional stopping inflates false positives a little), so verdicts "
                         + "whose Holm p is near 0.05 deserve caution.")
            lines.append("")
        }
        comparisonTable(data.comparisonsWithBest ?? [], name: "best")
        guard let baseline = comparedBaseline else { return }
        if baseline.point == best {
            lines.append("The baseline (\(data.label(data.points[best]))) is also the best, so this table compares every "
                         + "point with it.")
            lines.append("")
            return
        }
        let comparisons = baselineComparisons!
        if let point = baseline.point {
            lines.append("Against the baseline, \(data.label(data.points[point])):")
            lines.append("")
            comparisonTable(comparisons, name: "baseline")
            return
        }
        lines.append("Against the matched baseline: each point against \(matchedText(baseline)), named in the \"compared "
                     + "with\" column; the baseline points themselves have no row. Holm adjusts over the whole table, "
                     + "whichever point a row is compared with.")
        lines.append("")
        comparisonTable(baseline.comparedPoints.map { comparisons[$0] }, name: "baseline", matched: baseline)
        // Per baseline point, what its matched points did against it.
        for reference in baseline.referencePoints {
            let group = baseline.comparedPoints.filter { baseline.references[$0] == reference }.map { comparisons[$0] }
            let parts = [(PairedComparison.Verdict.above, "above it"), (.indistinguishable, "indistinguishable"),
                         (.below, "below it"), (.tooFewPairs, "too few shared seeds")].compactMap { verdict, text -> String? in
                let names = group.filter { $0.verdict == verdict }.map { namedLabel(data.points[$0.point], baseline) }
                return names.isEmpty ? nil : "\(text): \(names.joined(separator: ", "))"
            }
            lines.append("- Against \(data.label(data.points[reference])): \(parts.joined(separator: "; ")).")
        }
        lines.append("")
    }

    /// The baseline when it fits the data's grid (it always does when read from the same spec).
    var comparedBaseline: Baseline? {
        guard let baseline, baseline.references.count == data.points.count else { return nil }
        return baseline
    }

    /// "the point with training.learning_rate = 0.001 and the same values of the other
    /// dimensions (model.hidden)": what a matched baseline compares each point with.
    func matchedText(_ baseline: Baseline) -> String {
        "the point with \(GridLabel.point(baseline.named)) and the same values of the other dimensions "
            + "(\(baseline.matched.joined(separator: ", ")))"
    }

    /// A point's values of the dimensions the baseline names: within a matched group the
    /// others are the baseline point's.
    func namedLabel(_ point: GridPoint, _ baseline: Baseline) -> String {
        GridLabel.point(zip(data.dimensions, point.values).filter { dimension, _ in
            baseline.named.contains { $0.path == dimension }
        }.map { (path: $0, value: $1) })
    }

    /// One comparison table: a row per comparison, called `name` in verdicts. For a matched
    /// baseline a "compared with" column names each row's own reference point.
    mutating func comparisonTable(_ comparisons: [PairedComparison], name: String, matched: Baseline? = nil) {
        var table = MarkdownTable(dimensionColumns(data.dimensions) + (matched == nil ? [] : [.init("compared with", .left)]) + [
            .init("pairs"), .init("difference (pp) [95% CI]"), .init("t-test p"), .init("Wilcoxon p"),
            .init("Hedges' g"), .init("Holm p"), .init("verdict", .left), .init("seeds for 80% power"), .init("CPU cost"),
        ])
        let cpu = ReportMetric.named("train_cpu_seconds")!
        for comparison in comparisons {
            let point = data.points[comparison.point]
            var cells = point.values.map(GridLabel.value)
            if matched != nil { cells.append(comparison.reference.map { data.label(data.points[$0]) } ?? "–") }
            cells.append(comparison.verdict == .best ? "–" : String(comparison.pairs))
            cells += Self.pairedCells(comparison.test, comparison.wilcoxon)
            if let g = comparison.effect?.hedgesG, let size = comparison.effect?.magnitude {
                cells.append("\(NumberFormat.decimal(g, 2)) (\(size.rawValue))")
            } else {
                cells.append("–")
            }
            cells.append(comparison.adjustedP.map(Self.pText) ?? "–")
            cells.append(comparison.verdict.text(reference: name))
            if comparison.verdict == .indistinguishable, let dz = comparison.effect?.dz, dz.isFinite, dz != 0 {
                cells.append(Statistics.seedsFor80PercentPower(dz).map(String.init) ?? "> 1000")
            } else {
                cells.append("–")
            }
            // A reference point's own row costs 1.00x.
            let pointCPU = cpu.summary(point.doneJobs.map(\.result))
            let referenceCPU = cpu.summary(data.points[comparison.reference ?? comparison.point].doneJobs.map(\.result))
            cells.append(pointCPU.count > 0 && referenceCPU.count > 0 && referenceCPU.mean > 0
                ? NumberFormat.decimal(pointCPU.mean / referenceCPU.mean, 2) + "x" : "–")
            table.add(cells)
        }
        lines.append(table.text)
        lines.append("")
        let against = matched.map { "its matched baseline, \(matchedText($0))" } ?? "the \(name)"
        tables.append(("comparisons-\(name)", "\(spec.name): each grid point against \(against), paired by seed", table))
        // A matched baseline sums up each group instead (`comparisons()`).
        guard matched == nil else { return }
        let indistinguishable = comparisons.filter { $0.verdict == .indistinguishable }.map { data.label(data.points[$0.point]) }
        if !indistinguishable.isEmpty {
            lines.append("Indistinguishable from the \(name) at these seeds: " + indistinguishable.joined(separator: "; ") + ".")
            lines.append("")
        }
    }

    /// Every point against the best (and the baseline) on the same test images, seed by
    /// seed (`TestImageComparison`), and per class for the point closest to the best (or the
    /// baseline).
    mutating func testImageComparisons() {
        guard data.points.count > 1, let best = data.best else { return }
        lines.append("## Comparisons on the test images")
        lines.append("")
        guard !data.correctness.isEmpty else {
            lines.append("No done run has its test-set predictions together with its data set's test labels in the "
                         + "database, so the points are not compared image by image. Runs recorded by harness 0.5 and "
                         + "later store their predictions; a data set registered before stores its labels the next time "
                         + "`harness run` reads it.")
            lines.append("")
            return
        }
        lines.append("Two runs with the same seed classified the same test images. Each grid point against the "
                     + "best on those images: the images only this point classified correctly and those only the "
                     + "best did, summed over the shared seeds; McNemar's exact p per seed and pooled over the seeds "
                     + "(every seed's image a matched pair), the pooled p Holm-adjusted over the table, which decides "
                     + "the verdict at 0.05. This has power even with one seed, but it asks whether these trained "
                     + "models differ on this test set, not whether a new seed would: read it beside the accuracy "
                     + "comparisons above. The last column names the classes whose images the two classify "
                     + "differently (the same test on one class's images, Holm-adjusted over the classes), with the "
                     + "difference in recall in points.")
        lines.append("")
        let withBest = TestImageComparison.against(best, data: data)
        testImageTable(withBest, name: "best")
        var detailed: (comparison: TestImageComparison, name: String)?
        if let baseline = comparedBaseline, baseline.point != best {
            let comparisons = TestImageComparison.against(references: baseline.references, data: data)
            if let point = baseline.point {
                lines.append("Against the baseline, \(data.label(data.points[point])):")
                lines.append("")
                testImageTable(comparisons, name: "baseline")
                // The best against the baseline, per class.
                detailed = (comparisons[best], "baseline")
            } else {
                lines.append("Against the matched baseline: each point against \(matchedText(baseline)) on the same test "
                             + "images, named in the \"compared with\" column; Holm adjusts over the whole table.")
                lines.append("")
                testImageTable(baseline.comparedPoints.map { comparisons[$0] }, name: "baseline", matched: baseline)
            }
        }
        // A matched baseline has no one point to set the best against class by class.
        if detailed == nil, let runnerUp = data.runnerUp {
            detailed = (withBest[runnerUp], "best")
        }
        if let detailed, !detailed.comparison.classes.isEmpty { classTable(detailed.comparison, name: detailed.name) }
    }

    mutating func testImageTable(_ comparisons: [TestImageComparison], name: String, matched: Baseline? = nil) {
        var table = MarkdownTable(dimensionColumns(data.dimensions) + (matched == nil ? [] : [.init("compared with", .left)]) + [
            .init("seeds"), .init("only this right"), .init("only \(name) right"), .init("McNemar p per seed", .left),
            .init("pooled p"), .init("Holm p"), .init("verdict", .left), .init("classes that differ (recall, pp)", .left),
        ])
        for comparison in comparisons {
            var cells = data.points[comparison.point].values.map(GridLabel.value)
            if matched != nil { cells.append(comparison.reference.map { data.label(data.points[$0]) } ?? "–") }
            guard let pooled = comparison.pooled else {
                cells += [comparison.verdict == .best ? "–" : "0", "–", "–", "–", "–", "–",
                          comparison.verdict.text(reference: name), "–"]
                table.add(cells)
                continue
            }
            let names = ReportFigures.classNames(comparison.classes.count)
            let differing = comparison.differingClasses.map { difference in
                let sign = difference.recallDifference > 0 ? "+" : ""
                return "\(names[difference.classIndex]) \(sign)\(NumberFormat.decimal(100 * difference.recallDifference, 1))"
            }
            cells += [String(comparison.seeds.count), String(pooled.onlyFirst), String(pooled.onlySecond),
                      comparison.seeds.map { "\($0.seed): \(Self.pText($0.test.p))" }.joined(separator: "; "),
                      Self.pText(pooled.p), comparison.adjustedP.map(Self.pText) ?? "–",
                      comparison.verdict.text(reference: name), differing.isEmpty ? "none" : differing.joined(separator: ", ")]
            table.add(cells)
        }
        lines.append(table.text)
        lines.append("")
        let against = matched.map { "its matched baseline, \(matchedText($0))," } ?? "the \(name)"
        tables.append(("test-images-\(name)", "\(spec.name): each grid point against \(against) on the same test "
                       + "images (McNemar)", table))
    }

    /// One comparison class by class: the recall of both with intervals over seeds, the
    /// discordant images of the class, McNemar's p and its Holm adjustment over classes.
    mutating func classTable(_ comparison: TestImageComparison, name: String) {
        let label = data.label(data.points[comparison.point])
        lines.append("Per class, \(label) against the \(name) on the same test images: the recall of each (the share "
                     + "of the class's images classified correctly), mean over the \(comparison.seeds.count) shared "
                     + "seed\(comparison.seeds.count == 1 ? "" : "s") with its 95% confidence interval; the class's "
                     + "images only one of them got right, summed over the seeds; McNemar's exact p on those, "
                     + "Holm-adjusted over the classes.")
        lines.append("")
        let percent = NumberFormat.percent(2)
        var table = MarkdownTable([
            .init("class", .left), .init("recall here (%)"), .init("recall of the \(name) (%)"), .init("difference (pp)"),
            .init("only here right"), .init("only \(name) right"), .init("p"), .init("Holm p"), .init("differs", .left),
        ])
        let names = ReportFigures.classNames(comparison.classes.count)
        for difference in comparison.classes {
            table.add([names[difference.classIndex], percent.intervalText(difference.pointRecall),
                       percent.intervalText(difference.referenceRecall),
                       NumberFormat.decimal(100 * difference.recallDifference, 2), String(difference.test.onlyFirst),
                       String(difference.test.onlySecond), Self.pText(difference.test.p), Self.pText(difference.adjustedP),
                       difference.differs ? "yes" : "no"])
        }
        lines.append(table.text)
        lines.append("")
        tables.append(("classes-\(name)", "\(spec.name): \(label) against the \(name) per class", table))
        let differing = comparison.differingClasses.map { names[$0.classIndex] }
        lines.append(differing.isEmpty
            ? "No class differs at 0.05 after the Holm adjustment."
            : "Classes that differ: \(differing.joined(separator: ", ")).")
        lines.append("")
    }

    /// For pruning grids: did retraining beat the base model, per grid point (each job's
    /// accuracy after retraining against its own accuracy before pruning).
    mutating func retraining(order: [Int]) {
        lines.append("Did retraining beat the base model? Each job's accuracy after retraining against the same job's "
                     + "accuracy before pruning (the same seed and trained model), paired: the mean difference (points) "
                     + "with its 95% confidence interval, the paired t-test's and the exact Wilcoxon p († as above).")
        lines.append("")
        var table = MarkdownTable(dimensionColumns(order.map { data.dimensions[$0] }) + [
            .init("n"), .init("after − before (pp) [95% CI]"), .init("t-test p"), .init("Wilcoxon p"), .init("answer", .left),
        ])
        for point in data.points {
            let comparison = RetrainingComparison(point)
            var cells = order.map { GridLabel.value(point.values[$0]) } + [String(comparison.pairs)]
            cells += Self.pairedCells(comparison.test, comparison.wilcoxon)
            cells.append(comparison.answer.rawValue)
            table.add(cells)
        }
        lines.append(table.text)
        lines.append("")
        tables.append(("retraining", "\(spec.name): accuracy after retraining against before pruning, paired", table))
    }

    /// The results table's "vs best" cell.
    static func shortVerdict(_ verdict: PairedComparison.Verdict) -> String {
        switch verdict {
        case .best: "best"
        case .indistinguishable: "≈ best"
        case .below: "below"
        case .above: "above"
        case .tooFewPairs: "–"
        }
    }

    /// Each paper value against our jobs: `Reproduction` verdicts, for the fractions the
    /// paper reports (accuracies, F1, sparsity); times depend on the machine and are not compared.
    mutating func reproduction() {
        guard let reference else { return }
        let rows = ReproductionRow.all(data, reference: reference)
        guard !rows.isEmpty || !reference.best.isEmpty else { return }
        lines.append("## Reproduction")
        lines.append("")
        var intro = "Each value the paper reports against our jobs at that grid point: our mean with its 95% confidence "
            + "interval, the paper's value, the equivalence test (TOST) p for a difference within ±"
            + "\(NumberFormat.decimal(reference.margin * 100, 2)) points (the reference's margin), the one-sample t-test p "
            + "for any difference, and the verdict: consistent (equivalent at 0.05), differs (different at 0.05 and not "
            + "equivalent) or inconclusive (neither, usually too few seeds)."
        if !data.runsOnThePapersData {
            intro += " These jobs did not run on the official full Fashion-MNIST (60,000 training images in the official "
                + "files; see Data), so no verdict compares them with the paper's numbers: they are shown side by side only."
        }
        lines.append(intro)
        lines.append("")
        if !rows.isEmpty {
            var table = MarkdownTable(dimensionColumns(data.dimensions) + [
                .init("metric", .left), .init("ours [95% CI]"), .init("paper"), .init("n"), .init("TOST p"), .init("t-test p"),
                .init("verdict", .left),
            ])
            for row in rows {
                let verdict = row.verdict
                table.add(data.points[row.point].values.map(GridLabel.value) + [
                    row.metric.name, row.metric.intervalText(row.values), row.metric.text(row.paper), String(row.values.count),
                    verdict.tost.map { Self.pText($0.p) } ?? "–", verdict.difference.map { Self.pText($0.p) } ?? "–",
                    verdict.verdict.rawValue,
                ])
            }
            lines.append(table.text)
            lines.append("")
            tables.append(("reproduction", "\(spec.name): our results against the paper's", table))
        }
        for claim in BestClaim.all(data, reference: reference) {
            lines.append("The paper's best configuration has \(claim.claim): \(claim.finding) (paired by seed, Holm-adjusted; "
                         + "see Comparisons). Verdict: \(claim.verdict.rawValue)"
                         + (data.runsOnThePapersData ? "." : ", on other data than the paper's."))
            lines.append("")
        }
    }

    /// The cells every paired table shows: the mean difference in points with its 95%
    /// interval, the t-test's p, and the exact Wilcoxon p († where its n cannot reach 0.05).
    static func pairedCells(_ test: Statistics.PairedTTest?, _ wilcoxon: Statistics.WilcoxonSignedRank?) -> [String] {
        guard let test else { return ["–", "–", "–"] }
        let interval = test.meanDifferenceInterval(confidence: 0.95).map {
            " [\(NumberFormat.decimal(100 * $0.lower, 1)), \(NumberFormat.decimal(100 * $0.upper, 1))]"
        }
        return [NumberFormat.decimal(100 * test.meanDifference, 2) + (interval ?? ""), pText(test.p),
                wilcoxon.map { pText($0.p) + ($0.minimumAchievableP > 0.05 ? " †" : "") } ?? "–"]
    }

    /// A p-value as reports print it: "0.031", "< 0.001", "NaN" when undefined.
    static func pText(_ p: Double) -> String {
        guard p.isFinite else { return "–" }
        return p < 0.001 ? "< 0.001" : NumberFormat.decimal(p, 3)
    }

    mutating func bestConfiguration() {
        lines.append("## Best configuration")
        lines.append("")
        guard let best = data.best, let matrix = data.confusion else {
            lines.append("No done job has a confusion matrix yet.")
            lines.append("")
            return
        }
        let point = data.points[best]
        let count = data.confusionJobs.count, plural = count == 1 ? "" : "s"
        let runs = data.confusionJobs.compactMap(\.result.runID).map(String.init).joined(separator: ", ")
        let seeds = data.confusionJobs.map { String($0.result.seed) }.joined(separator: ", ")
        lines.append("\(data.label(point)). Confusion matrix on the test set summed over its \(count) done run\(plural) "
                     + "(run\(plural) \(runs); seed\(plural) \(seeds)); rows are true "
                     + "classes, columns predicted classes.")
        lines.append("")
        let names = ReportFigures.classNames(matrix.classes)
        var confusion = MarkdownTable([.init("true \\ predicted", .left)] + names.map { .init($0) })
        for (row, counts) in matrix.counts.enumerated() { confusion.add([names[row]] + counts.map(String.init)) }
        lines.append(confusion.text)
        lines.append("")

        // Per run, so the spread over seeds shows: a class's measure is undefined in a run
        // that never predicted it (precision) or whose test set lacks it, and such a run is
        // left out of that cell's mean.
        let runMatrices = data.confusionJobs.compactMap { $0.result.runID.flatMap { data.confusions[$0] } }
            .filter { $0.classes == matrix.classes }
        lines.append("Per-class precision, recall and F1 of each run, mean over the \(runMatrices.count) run"
                     + "\(runMatrices.count == 1 ? "" : "s") with its 95% confidence interval [Student t]; support is "
                     + "the class's test images in one run.")
        lines.append("")
        let fraction = NumberFormat.fixed(4)
        func cell(_ measure: (ConfusionMatrix) -> Double?) -> String {
            fraction.intervalText(runMatrices.compactMap { measure($0) })
        }
        var perClass = MarkdownTable([.init("class", .left), .init("precision"), .init("recall"), .init("F1"), .init("support")])
        for (index, name) in names.enumerated() {
            perClass.add([name, cell { $0.precision(index) }, cell { $0.recall(index) }, cell { $0.f1(index) },
                          String(runMatrices.first?.support(index) ?? 0)])
        }
        perClass.add(["macro average", cell { $0.macroPrecision }, cell { $0.macroRecall }, cell { $0.macroF1 },
                      String(runMatrices.first?.total ?? 0)])
        lines.append(perClass.text)
        lines.append("")
        tables.append(("per-class", "\(spec.name): per-class metrics of the best configuration (\(data.label(point)))", perClass))
        let accuracy = matrix.total > 0 ? NumberFormat.decimal(100 * matrix.accuracy, 2) + "%" : "–"
        lines.append("Accuracy of the summed matrix: \(accuracy) (\(matrix.correct) of \(matrix.total) test predictions). "
                     + "Macro averages are over all classes, a measure that is undefined for a class (never predicted "
                     + "or never present, shown as –) counting as 0, as in every stored macro F1.")
        lines.append("")
        figure(ReportFigures.confusion(data), missing: "")
    }

    /// Failed and interrupted jobs with their errors; pending and running ones are counted.
    mutating func jobsNotDone() {
        let broken = data.jobs.filter { $0.result.state == .failed || $0.result.state == .interrupted }
        let waiting = data.jobs.filter { $0.result.state == .pending || $0.result.state == .running }
        guard !broken.isEmpty || !waiting.isEmpty else { return }
        lines.append("## Jobs not done")
        lines.append("")
        if !waiting.isEmpty {
            lines.append("\(Report.describeStates(waiting)): not finished yet, so left out of the means above.")
            lines.append("")
        }
        guard !broken.isEmpty else { return }
        var table = MarkdownTable([.init("job"), .init("grid point", .left), .init("seed"), .init("state", .left),
                                   .init("attempts"), .init("error", .left)])
        for job in broken {
            let point = job.point.map { data.label(data.points[$0]) } ?? "(not in the spec's grid)"
            let error = (job.result.error ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
            table.add([String(job.result.position + 1), point, String(job.result.seed), job.result.state.rawValue,
                       String(job.result.attempts), error.isEmpty ? "–" : error])
        }
        lines.append(table.text)
        lines.append("")
    }

    // MARK: Pieces

    /// Grid value columns: left-aligned when some value is text, right-aligned for numbers.
    /// Appends `table` (one row per grid point) and a blank line.
    mutating func appendPointTable(_ table: PointTable) {
        let order = table.dimensions ?? Array(data.dimensions.indices)
        var columns = dimensionColumns(order.map { data.dimensions[$0] }) + table.textColumns.map { .init($0.title, .left) }
        for column in table.columns {
            columns.append(.init(column.title ?? column.metric.title))
            if reference?.has(column.metric.name) == true { columns.append(.init("paper")) }
        }
        columns.append(.init("n"))
        let comparisons = table.comparesWithBest && data.points.count > 1 ? data.comparisonsWithBest : nil
        if comparisons != nil { columns.append(.init("vs best", .left)) }
        if table.showsJobs { columns.append(.init("jobs", .left)) }
        var markdown = MarkdownTable(columns)
        for point in data.points {
            var cells = order.map { GridLabel.value(point.values[$0]) } + table.textColumns.map { $0.text(point) }
            let done = point.doneJobs.map(\.result)
            for column in table.columns {
                cells.append(column.shows == .mean ? meanText(column.metric, done) : column.metric.intervalText(column.metric.values(done)))
                if reference?.has(column.metric.name) == true { cells.append(paper(column.metric, point)) }
            }
            cells.append(String(done.count))
            if let comparisons { cells.append(Self.shortVerdict(comparisons[point.index].verdict)) }
            if table.showsJobs { cells.append(jobsCell(point)) }
            markdown.add(cells)
        }
        lines.append(markdown.text)
        lines.append("")
        tables.append((table.name, "\(spec.name): \(table.caption)", markdown))
    }

    func dimensionColumns(_ dimensions: [String]) -> [MarkdownTable.Column] {
        dimensions.map { dimension in
            let column = data.dimensions.firstIndex(of: dimension)!
            let numeric = data.points.allSatisfy { point in
                switch point.values[column] {
                case .int, .double, .null: return true
                default: return false
                }
            }
            return .init(dimension, numeric ? .right : .left)
        }
    }

    func meanText(_ metric: ReportMetric, _ jobs: [JobResult]) -> String {
        let summary = metric.summary(jobs)
        return summary.count > 0 ? metric.text(summary.mean) : "–"
    }

    func paper(_ metric: ReportMetric, _ point: GridPoint) -> String {
        reference?.value(metric.name, dimensions: data.dimensions, values: point.values).map(metric.text) ?? "–"
    }

    /// "2/2 done", "1/2 done, 1 failed", with seeds the spec asks for but the experiment
    /// lacks counted as "not registered".
    func jobsCell(_ point: GridPoint) -> String {
        let done = point.doneJobs.count
        let missing = data.missingSeeds(point).count
        var parts = ["\(done)/\(point.jobs.count + missing) done"]
        let others = point.jobs.filter { !$0.isDone }
        if !others.isEmpty { parts.append(Report.describeStates(others)) }
        if missing > 0 { parts.append("\(missing) not registered") }
        return parts.joined(separator: ", ")
    }

    /// Links a figure (recording its file) when figures are written; `missing` explains
    /// an absent figure.
    mutating func figure(_ figure: ReportFigure?, missing: String) {
        guard let figure else {
            if !missing.isEmpty {
                lines.append(missing)
                lines.append("")
            }
            return
        }
        guard let stem = figureStem else { return }
        let fileName = "\(stem)-\(figure.name).svg"
        figures.append((fileName, figure.svg))
        // CommonMark needs angle brackets around a link target with spaces.
        let target = fileName.contains(" ") ? "<\(fileName)>" : fileName
        lines.append("![\(figure.title)](\(target))")
        lines.append("")
        lines.append("*\(figure.caption)*")
        lines.append("")
    }
}

/// A report table with one row per grid point: its grid values (in `dimensions` order, the
/// grid's by default), one column per metric (each followed by a "paper" column when the
/// spec's reference gives that metric), the number of done jobs, and optionally the jobs.
/// A new table is a list of these columns.
struct PointTable {
    struct Column {
        /// The mean with its 95% Student-t interval, or the mean alone.
        enum Shows { case meanAndInterval, mean }
        let metric: ReportMetric
        /// The header, when not the metric's own title.
        var title: String?
        var shows: Shows

        init(_ metric: String, title: String? = nil, shows: Shows = .meanAndInterval) {
            guard let found = ReportMetric.named(metric) else { preconditionFailure("no result column \(metric)") }
            self.metric = found
            self.title = title
            self.shows = shows
        }
    }

    /// What exports call it ("results"), and the caption a LaTeX table gets.
    var name: String
    var caption: String
    /// Indices into the grid's dimensions, in column order; nil for the grid's order.
    var dimensions: [Int]?
    /// Text columns after the grid values: a title and each point's text.
    var textColumns: [(title: String, text: (GridPoint) -> String)]
    var columns: [Column]
    var showsJobs = false
    /// Adds a "vs best" column: each row's paired comparison with the best (`PairedComparison`).
    var comparesWithBest = false

    init(name: String, caption: String, dimensions: [Int]? = nil,
         textColumns: [(title: String, text: (GridPoint) -> String)] = [], columns: [Column], showsJobs: Bool = false,
         comparesWithBest: Bool = false) {
        self.comparesWithBest = comparesWithBest
        self.name = name
        self.caption = caption
        self.dimensions = dimensions
        self.textColumns = textColumns
        self.columns = columns
        self.showsJobs = showsJobs
    }
}
