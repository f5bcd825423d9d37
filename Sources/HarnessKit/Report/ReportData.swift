import Engine
import Foundation

/// What a report is about: a spec file (its grid and `reference` are used) or the name of
/// an experiment already in the database (the spec stored with it is used).
public enum ReportSubject: Sendable, Equatable {
    case specFile(String)
    case experiment(String)

    /// An existing file, or anything ending in ".json" or containing "/", is a spec file;
    /// anything else is an experiment name (names cannot contain "/").
    public init(argument: String) {
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && !isDirectory.boolValue
        self = isFile || argument.hasSuffix(".json") || argument.contains("/") ? .specFile(argument) : .experiment(argument)
    }
}

/// One job of the experiment: its `job_results` row, its resolved config parsed, and the
/// grid point it belongs to.
public struct ReportJob: Sendable {
    public let result: JobResult
    let config: JSONValue
    /// Index into `ReportData.points`; nil when the job matches no grid point of the spec
    /// (the spec file changed since the experiment was registered).
    public let point: Int?

    var isDone: Bool { result.state == .done }
}

/// One point of the spec's grid: a value per grid dimension, and the jobs (one per seed)
/// that ran it, in the experiment's job order.
public struct GridPoint: Sendable {
    public let index: Int
    /// One value per `spec.grid` dimension, as written in the spec.
    public let values: [JSONValue]
    public let jobs: [ReportJob]

    public var doneJobs: [ReportJob] { jobs.filter(\.isDone) }
}

/// A run's weight histograms before and after pruning (either may be empty).
struct RunHistograms: Sendable {
    let before: [WeightHistogram]
    let after: [WeightHistogram]
}

/// Everything a report shows, read from the store once, so rendering is a pure function
/// of it and the same database always gives the same report.
public struct ReportData: Sendable {
    public let spec: ExperimentSpec
    public let experiment: ExperimentRecord
    /// The spec file the report was asked for, or nil when the stored spec is used.
    public let specFile: String?
    /// True when `specFile` differs from the spec stored with the experiment.
    public let specFileDiffers: Bool
    public let datasets: [DatasetRecord]
    /// Every job of the experiment, in its job order.
    public let jobs: [ReportJob]
    /// The spec's grid points, first grid dimension varying slowest (as in `spec.jobs()`).
    public let points: [GridPoint]
    /// Epochs of every done run. A pruning run that loaded its base model from a checkpoint
    /// recorded only its retraining; its training epochs are those of the base job's run.
    let epochs: [Int64: [EpochRecord]]
    /// The done runs whose training epochs were taken from their base job's run.
    let runsWithBaseEpochs: Set<Int64>
    /// Weight histograms of every done run that has some.
    let histograms: [Int64: RunHistograms]
    /// The grid point with the highest mean accuracy over its done jobs (the first on ties).
    public let best: Int?
    /// Every point against `best` on accuracy, paired by seed; nil without a best point.
    let comparisonsWithBest: [PairedComparison]?
    /// The best point's confusion matrix summed over its done runs, and those runs' jobs.
    let confusion: ConfusionMatrix?
    let confusionJobs: [ReportJob]
    /// The confusion matrix of every done run that recorded one, by run id.
    let confusions: [Int64: ConfusionMatrix]
    /// Which test images each done run classified correctly, in the test set's order, by
    /// run id: for runs that stored predictions on a data set whose test labels are stored.
    let correctness: [Int64: [Bool]]
    /// The test labels of each data set that has them recorded, by fingerprint.
    let testLabels: [String: [UInt8]]

    /// Reads the experiment from `store`. A spec file must name an experiment that is in
    /// the database; its grid and reference are used instead of the stored spec's.
    public static func load(store: Store, subject: ReportSubject) throws -> ReportData {
        let spec: ExperimentSpec
        let specFile: String?
        switch subject {
        case let .specFile(path):
            spec = try ExperimentSpec.load(path: path)
            specFile = path
        case let .experiment(name):
            let record = try experimentRecord(store, name, hint: "")
            spec = try ExperimentSpec.parse(text: record.specJSON, filePath: "spec of experiment \(name) in \(store.path)")
            specFile = nil
        }
        let hint = specFile.map { " (run the spec first: harness run \($0))" } ?? ""
        let experiment = try experimentRecord(store, spec.name, hint: hint)
        var differs = false
        if specFile != nil {
            // Compared as JSON, so reformatting the file does not count as a change.
            let stored = (try? JSONValue.parse(experiment.specJSON).canonicalText()) ?? experiment.specJSON
            differs = try JSONValue.parse(spec.sourceJSON).canonicalText() != stored
        }

        let (jobs, points) = try gridPoints(spec, results: try store.results(experiment: spec.name), store: store)

        var epochs: [Int64: [EpochRecord]] = [:]
        var runsWithBaseEpochs: Set<Int64> = []
        var histograms: [Int64: RunHistograms] = [:]
        var confusions: [Int64: ConfusionMatrix] = [:]
        var correctness: [Int64: [Bool]] = [:]
        var testLabels: [String: [UInt8]] = [:]
        for job in jobs where job.isDone {
            guard let run = job.result.runID else { continue }
            let matrix = try store.confusion(runID: run)
            if matrix.classes > 0 { confusions[run] = matrix }
            let fingerprint = job.result.datasetFingerprint
            if testLabels[fingerprint] == nil { testLabels[fingerprint] = try store.testLabels(fingerprint: fingerprint) }
            let predicted = try store.predictions(runID: run), labels = testLabels[fingerprint]!
            if !predicted.isEmpty && predicted.count == labels.count {
                correctness[run] = zip(predicted, labels).map { $0 == $1 }
            }
            var records = try store.epochs(runID: run)
            if !records.contains(where: { $0.phase == .train }), let base = JobConfig.baseConfigJSON(ofStored: job.config),
               let baseRun = try store.latestDoneRunID(jobID: JobIdentity.jobID(canonicalConfig: base,
                                                                              dataFingerprint: job.result.datasetFingerprint)) {
                let baseTraining = try store.epochs(runID: baseRun).filter { $0.phase == .train }
                if !baseTraining.isEmpty {
                    records = baseTraining + records
                    runsWithBaseEpochs.insert(run)
                }
            }
            epochs[run] = records
            let stages = RunHistograms(before: try store.weightHistograms(runID: run, stage: .before),
                                       after: try store.weightHistograms(runID: run, stage: .after))
            if !stages.before.isEmpty || !stages.after.isEmpty { histograms[run] = stages }
        }

        let accuracy = ReportMetric.named("accuracy")!
        let best = PairedComparison.best(points.map { accuracy.values($0.doneJobs.map(\.result)) })

        // Summed over seeds, so the matrix and the per-class metrics describe the
        // configuration rather than whichever seed happened to run first.
        var confusion: ConfusionMatrix?
        var confusionJobs: [ReportJob] = []
        if let best {
            for job in points[best].doneJobs {
                guard let run = job.result.runID, let matrix = confusions[run] else { continue }
                if let sum = confusion {
                    guard sum.classes == matrix.classes else { continue }
                    confusion = sum + matrix
                } else {
                    confusion = matrix
                }
                confusionJobs.append(job)
            }
        }

        return ReportData(spec: spec, experiment: experiment, specFile: specFile, specFileDiffers: differs,
                          datasets: try store.datasets(experiment: spec.name), jobs: jobs, points: points,
                          epochs: epochs, runsWithBaseEpochs: runsWithBaseEpochs, histograms: histograms, best: best,
                          comparisonsWithBest: best.map { PairedComparison.against($0, points: points, metric: accuracy) },
                          confusion: confusion, confusionJobs: confusionJobs, confusions: confusions,
                          correctness: correctness, testLabels: testLabels.filter { !$0.value.isEmpty })
    }

    /// The experiment's jobs (`results`, from `store`) with their configs parsed, and the
    /// spec's grid points holding them. `harness run` reads its adaptive seeds' rounds
    /// through this too, so a round decides on the points the report shows.
    static func gridPoints(_ spec: ExperimentSpec, results: [JobResult], store: Store) throws
        -> (jobs: [ReportJob], points: [GridPoint]) {
        let assign = try PointAssignment(spec)
        let jobs = try results.map { result -> ReportJob in
            let config: JSONValue
            do {
                config = try JSONValue.parse(result.configJSON)
            } catch {
                throw HarnessError("job \(result.jobID) of experiment \(spec.name) in \(store.path): config is not JSON (\(error))")
            }
            return ReportJob(result: result, config: config, point: assign.point(config: config, position: result.position))
        }
        let points = assign.values.enumerated().map { index, values in
            GridPoint(index: index, values: values, jobs: jobs.filter { $0.point == index })
        }
        return (jobs, points)
    }

    private static func experimentRecord(_ store: Store, _ name: String, hint: String) throws -> ExperimentRecord {
        let names = try store.experimentNames()
        guard names.contains(name) else {
            var message = "no experiment named \(name) in \(store.path)\(hint)"
            if let guess = Spelling.closestMatch(to: name, among: names) {
                message += "; did you mean \(guess)?"
            } else {
                message += names.isEmpty ? "; it has no experiments" : "; it has: \(names.joined(separator: ", "))"
            }
            throw HarnessError(message)
        }
        return try store.experiment(name: name)
    }

    // MARK: Questions the renderers ask

    /// The grid point with the highest mean accuracy after the best (the first on ties).
    var runnerUp: Int? {
        guard let best else { return nil }
        let accuracy = ReportMetric.named("accuracy")!
        var found: (index: Int, mean: Double)?
        for point in points where point.index != best {
            let summary = accuracy.summary(point.doneJobs.map(\.result))
            if summary.count > 0 && summary.mean > (found?.mean ?? -.infinity) { found = (point.index, summary.mean) }
        }
        return found?.index
    }

    public var dimensions: [String] { spec.grid.map(\.path) }

    /// The jobs that match no grid point of the spec.
    var unmatchedJobs: [ReportJob] { jobs.filter { $0.point == nil } }

    /// Seeds the spec asks for at `point` that the experiment has no job for (only when
    /// the spec file is newer than the registered experiment). With adaptive seeds, the
    /// start seeds: the seeds a round may add are not asked for until it adds them.
    func missingSeeds(_ point: GridPoint) -> [Int] {
        let present = Set(point.jobs.map(\.result.seed))
        return spec.seeds.filter { !present.contains($0) }
    }

    /// Whether adaptive seeds added seeds to some grid point, beyond the start seeds every
    /// point runs: then the comparisons stopped on the data, which the report warns about.
    var hasAdaptiveSeeds: Bool {
        guard spec.adaptiveSeeds != nil else { return false }
        let start = Set(spec.seeds)
        return points.contains { point in point.jobs.contains { !start.contains($0.result.seed) } }
    }

    /// The value of `dimension` for `job`: its grid value when `dimension` is a grid
    /// dimension and the job has a point, `seed`, else the value in its config (null when
    /// the config leaves the setting out, e.g. `dataset.path`).
    func value(of dimension: String, for job: ReportJob) -> JSONValue {
        if dimension == "seed" { return .int(job.result.seed) }
        if let column = dimensions.firstIndex(of: dimension), let point = job.point {
            return points[point].values[column]
        }
        return PointAssignment.configValue(job.config, path: dimension)
    }

    /// "model.hidden = 64, pruning.threshold = 0.05", or "all jobs" for an empty grid.
    func label(_ point: GridPoint) -> String { Self.label(dimensions: dimensions, values: point.values) }

    static func label(dimensions: [String], values: [JSONValue]) -> String {
        guard !dimensions.isEmpty else { return "all jobs" }
        return GridLabel.point(Array(zip(dimensions, values).map { (path: $0, value: $1) }))
    }

    /// The dimensions' names for legends: the last component of each ("hidden") when those
    /// are unambiguous, else the full paths.
    var shortDimensionNames: [String] {
        let keys = dimensions.map { String($0.split(separator: ".").last ?? Substring($0)) }
        return Set(keys).count == keys.count ? keys : dimensions
    }

    /// A legend label of the point's values of the dimensions from `first` on
    /// ("hidden 64, threshold 0.05").
    func shortLabel(_ point: GridPoint, from first: Int = 0) -> String {
        guard !dimensions.isEmpty else { return spec.name }
        return zip(shortDimensionNames, point.values).dropFirst(first).map { "\($0) \(GridLabel.value($1))" }.joined(separator: ", ")
    }
}

/// Finds the grid point of a job: by its config without the seed among the spec's grid
/// points (which also covers settings the config leaves out, like `dataset.path`, and any
/// seed, adaptive ones included), else by the values its config has at each grid dimension.
struct PointAssignment {
    /// Each grid point's values, in `spec.jobs()` order.
    let values: [[JSONValue]]
    let dimensions: [String]
    /// The grid points whose jobs have this config (without the seed): one, or several when
    /// points differ only in settings the config leaves out (a grid over `dataset.path`).
    private let pointsByConfig: [String: [Int]]
    /// Positions per grid point in the experiment's job order (`spec.possibleSeeds.count`).
    private let perPoint: Int

    init(_ spec: ExperimentSpec) throws {
        var values: [[JSONValue]] = []
        var pointsByConfig: [String: [Int]] = [:]
        for (point, resolved) in try spec.gridPoints().enumerated() {
            values.append(resolved.gridPoint.map(\.value))
            let key = Self.key(resolved.job(seed: 0).canonicalJSON())
            if pointsByConfig[key]?.contains(point) != true { pointsByConfig[key, default: []].append(point) }
        }
        self.values = values
        dimensions = spec.grid.map(\.path)
        self.pointsByConfig = pointsByConfig
        perPoint = spec.possibleSeeds.count
    }

    /// `position` is the job's place in the experiment's job order, which is the spec's
    /// expansion order with `perPoint` places per grid point: it tells apart points whose
    /// jobs share a config.
    func point(config: JSONValue, position: Int) -> Int? {
        if let points = pointsByConfig[Self.key(config)] {
            return points.count == 1 || !points.contains(position / perPoint) ? points[0] : position / perPoint
        }
        let found = dimensions.map { Self.configValue(config, path: $0) }
        return values.firstIndex { point in zip(point, found).allSatisfy { Self.same($0, $1) } }
    }

    /// A config's canonical text without its seed: what all jobs of one grid point share.
    private static func key(_ config: JSONValue) -> String {
        guard case let .object(members) = config else { return config.canonicalText() }
        return JSONValue.object(members.filter { $0.key != "seed" }).canonicalText()
    }

    private static func key(_ configJSON: String) -> String {
        key((try? JSONValue.parse(configJSON)) ?? .string(configJSON))
    }

    /// The value at a dotted setting path ("model.hidden") of a config; null when absent.
    static func configValue(_ config: JSONValue, path: String) -> JSONValue {
        guard let dot = path.firstIndex(of: ".") else { return config[path] ?? .null }
        let section = String(path[..<dot]), key = String(path[path.index(after: dot)...])
        return config[section]?[key] ?? .null
    }

    /// The pruning method a job's config names ("magnitude", the default, when it leaves it out).
    static func pruningMethod(_ config: JSONValue) -> String {
        if case let .string(method) = configValue(config, path: "pruning.method") { return method }
        return PruningMethod.magnitude.rawValue
    }

    /// The pattern selection a job's config names ("random" when it leaves it out, and
    /// "stratified" for `"stratified": true`, the way its identity writes it).
    static func selection(_ config: JSONValue) -> String {
        if case let .string(name) = configValue(config, path: "dataset.selection") { return name }
        if case .bool(true) = configValue(config, path: "dataset.stratified") { return PatternSelection.stratified.rawValue }
        return PatternSelection.random.rawValue
    }

    /// Equality that ignores how a number was written: a grid's `1` matches a config's `1.0`.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.int(x), .double(y)), let (.double(y), .int(x)): return Double(x) == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case let (.object(x), .object(y)):
            // A grid variant's "label" names it for people; it is not a setting.
            let settings = { (members: [(key: String, value: JSONValue)]) in
                members.filter { $0.key != SettingField.variantLabelKey }.sorted { $0.key < $1.key }
            }
            let (a, b) = (settings(x), settings(y))
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
        default: return a == b
        }
    }
}
