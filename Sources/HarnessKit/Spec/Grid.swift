/// One fully resolved job: the base settings with one grid point's values, and one seed.
public struct JobConfig: Sendable, Equatable {
    public var dataset: DatasetSettings
    public var model: ModelSettings
    public var training: TrainingSettings
    public var pruning: PruningSettings?
    public var seed: Int
    /// This job's grid values as written in the spec, in grid order (for display).
    public var gridPoint: [(path: String, value: JSONValue)]

    public init(dataset: DatasetSettings = DatasetSettings(), model: ModelSettings, training: TrainingSettings = TrainingSettings(),
                pruning: PruningSettings? = nil, seed: Int, gridPoint: [(path: String, value: JSONValue)] = []) {
        self.dataset = dataset
        self.model = model
        self.training = training
        self.pruning = pruning
        self.seed = seed
        self.gridPoint = gridPoint
    }

    public static func == (lhs: JobConfig, rhs: JobConfig) -> Bool {
        lhs.dataset == rhs.dataset && lhs.model == rhs.model && lhs.training == rhs.training
            && lhs.pruning == rhs.pruning && lhs.seed == rhs.seed
            && lhs.gridPoint.count == rhs.gridPoint.count
            && zip(lhs.gridPoint, rhs.gridPoint).allSatisfy { $0.path == $1.path && $0.value == $1.value }
    }

    /// The job's settings apart from its seed.
    public var settings: JobSettings {
        JobSettings(dataset: dataset, model: model, training: training, pruning: pruning)
    }

    /// Canonical JSON of everything that determines the job's result: sorted keys, defaults
    /// filled in, fields that do not apply left out (no cnn fields on an lstm, no momentum with
    /// adam, no dropout without dense layers), the seed included. `dataset.path` and
    /// `training.threads` are left out: the data's content fingerprint is part of the job's
    /// identity instead (`JobIdentity`), and the thread count is a scheduling hint. Written
    /// from `SettingField.all`.
    public func canonicalJSON() -> String {
        SettingField.identity(settings, seed: seed).canonicalText()
    }

    /// Canonical JSON of the trained model a pruning job starts from: this job without
    /// `pruning`, so every threshold (or sparsity) of one configuration and seed shares it.
    public func baseConfigJSON() -> String {
        var base = settings
        base.pruning = nil
        return SettingField.identity(base, seed: seed).canonicalText()
    }

    /// The plain training job whose trained model this pruning job starts from, labelled by
    /// the grid values that are not about pruning. Nil when the job does not prune.
    public var baseJob: JobConfig? {
        guard pruning != nil else { return nil }
        var base = self
        base.pruning = nil
        base.gridPoint = gridPoint.filter { !$0.path.hasPrefix(SettingSection.pruning.rawValue) }
        return base
    }

    /// `baseConfigJSON()` of the job whose `canonicalJSON()` was stored as `storedConfig`.
    /// Nil when the job does not prune.
    public static func baseConfigJSON(ofStored storedConfig: JSONValue) -> String? {
        guard storedConfig[SettingSection.pruning.rawValue] != nil, case let .object(members) = storedConfig else { return nil }
        return JSONValue.object(members.filter { $0.key != SettingSection.pruning.rawValue }).canonicalText()
    }

    /// "model.layers = 2, model.hidden = 64, seed 1": how progress lines name the job.
    public var label: String {
        (gridPoint.isEmpty ? "" : GridLabel.point(gridPoint) + ", ") + "seed \(seed)"
    }
}

// MARK: - Expansion

/// One grid point with its settings resolved: its jobs are these settings with each seed.
public struct ResolvedGridPoint: Sendable {
    /// The point's values as written in the spec, in grid order.
    public let gridPoint: [(path: String, value: JSONValue)]
    public let settings: JobSettings

    /// The point's job with `seed`.
    public func job(seed: Int) -> JobConfig {
        JobConfig(dataset: settings.dataset, model: settings.model, training: settings.training, pruning: settings.pruning,
                  seed: seed, gridPoint: gridPoint)
    }
}

extension ExperimentSpec {
    /// The largest expansion accepted; far beyond any real experiment, it stops a typo such as
    /// an extra dimension from producing a plan nobody can read.
    static let maxJobs = 1_000_000

    /// Every job: the cartesian product of the grid (the first grid key varies slowest) times
    /// the seeds (innermost), each validated as a combination. With adaptive seeds, these
    /// are the start seeds' jobs; `gridPoints()` gives the jobs of any other seed.
    public func jobs() throws -> [JobConfig] {
        do {
            return try expand()
        } catch let issue as SpecIssue {
            throw issue.error(in: filePath)
        }
    }

    /// The grid points in `jobs()`'s order, each validated.
    public func gridPoints() throws -> [ResolvedGridPoint] {
        do {
            return try expandPoints()
        } catch let issue as SpecIssue {
            throw issue.error(in: filePath)
        }
    }

    func expand() throws -> [JobConfig] {
        try expandPoints().flatMap { point in seeds.map(point.job) }
    }

    func expandPoints() throws -> [ResolvedGridPoint] {
        let (points, overflow) = grid.reduce((1, false)) { partial, dimension in
            let product = partial.0.multipliedReportingOverflow(by: dimension.values.count)
            return (product.partialValue, partial.1 || product.overflow)
        }
        // Adaptive seeds count with their maximum: that is how many jobs the grid may get.
        if overflow || points > Self.maxJobs / possibleSeeds.count {
            throw SpecIssue("$.grid", "the grid expands to more than \(Self.maxJobs) jobs"
                            + (adaptiveSeeds == nil ? "" : " (counting every grid point at $.seeds.max seeds)")
                            + "; split the experiment")
        }

        var resolved: [ResolvedGridPoint] = []
        resolved.reserveCapacity(points)
        // Two grid points that resolve to the same settings would run the same job twice.
        var firstPointWithIdentity: [String: Int] = [:]
        for point in 0..<points {
            var indices = Array(repeating: 0, count: grid.count)
            var rest = point
            for dimension in grid.indices.reversed() {
                indices[dimension] = rest % grid[dimension].values.count
                rest /= grid[dimension].values.count
            }
            var overrides: [SettingEntry] = []
            for d in grid.indices {
                let value = grid[d].values[indices[d]], path = "\(JSONPath.member("$.grid", grid[d].path))[\(indices[d])]"
                if let field = SettingField.byPath[grid[d].path] {
                    overrides.append(SettingEntry(field: field, value: value, path: path))
                } else {
                    overrides += try SettingField.variantEntries(SettingSection(rawValue: grid[d].path)!, value, path: path)
                }
            }
            let gridPoint = grid.indices.map { (path: grid[$0].path, value: grid[$0].values[indices[$0]]) }

            let settings: JobSettings
            do {
                settings = try JobSettings.resolve(base: baseEntries, overrides: overrides, pruning: pruning != nil)
                if let missing = settings.pruning?.missingCriterion {
                    // Blame the last pruning setting the job was given.
                    throw SpecIssue((baseEntries + overrides).last { $0.field.section == .pruning }?.path ?? "$.pruning", missing)
                }
            } catch var issue as SpecIssue {
                issue.message += " (in grid point \(point + 1): \(GridLabel.point(gridPoint)))"
                throw issue
            }

            let candidate = ResolvedGridPoint(gridPoint: gridPoint, settings: settings)
            let identity = candidate.job(seed: 0).canonicalJSON() + "\u{0}" + (settings.dataset.path ?? "")
            if let earlier = firstPointWithIdentity[identity] {
                let earlierPoint = resolved[earlier].gridPoint
                throw SpecIssue("$.grid", "grid points \(earlier + 1) (\(GridLabel.point(earlierPoint))) and \(point + 1) "
                                + "(\(GridLabel.point(gridPoint))) describe the same job; a value that differs between "
                                + "them has no effect on these settings")
            }
            firstPointWithIdentity[identity] = point
            resolved.append(candidate)
        }
        return resolved
    }
}

// MARK: - Labels

/// How grid values are shown to people, in progress lines, errors, plans and reports alike.
public enum GridLabel {
    /// A variant's `"label"` when it has one, a string without its quotes, anything else as
    /// canonical JSON: `64`, `relu`, `[128,32]`, `{"type":"cnn"}`.
    public static func value(_ value: JSONValue) -> String {
        if case let .string(label)? = value[SettingField.variantLabelKey] { return label }
        if case let .string(text) = value { return text }
        return value.canonicalText()
    }

    /// "model.layers = 2, model.hidden = 64"
    public static func point(_ entries: [(path: String, value: JSONValue)]) -> String {
        entries.map { "\($0.path) = \(value($0.value))" }.joined(separator: ", ")
    }
}
