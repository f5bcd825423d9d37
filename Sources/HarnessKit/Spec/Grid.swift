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

    /// Canonical JSON of everything that determines the job's result: sorted keys, defaults
    /// filled in, fields that do not apply left out (no cnn fields on an lstm, no momentum with
    /// adam, no dropout without dense layers), the seed included. `dataset.path` and
    /// `training.threads` are left out: the caller adds the data's content fingerprint to the
    /// job's identity, and the thread count is a scheduling hint.
    public func canonicalJSON() -> String {
        settingsObject().canonicalText()
    }

    /// Canonical JSON of the trained model a pruning job starts from: this job without
    /// `pruning`, so every threshold (or sparsity) of one configuration and seed shares it.
    public func baseConfigJSON() -> String {
        Self.withoutPruning(settingsObject()).canonicalText()
    }

    /// `baseConfigJSON()` of the job whose `canonicalJSON()` was stored as `storedConfig`.
    /// Nil when the job does not prune.
    public static func baseConfigJSON(ofStored storedConfig: JSONValue) -> String? {
        guard storedConfig["pruning"] != nil else { return nil }
        return withoutPruning(storedConfig).canonicalText()
    }

    /// A job's settings object without its `pruning` member: the settings of its base model.
    private static func withoutPruning(_ settings: JSONValue) -> JSONValue {
        guard case let .object(members) = settings else { return settings }
        return .object(members.filter { $0.key != "pruning" })
    }

    private func settingsObject() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("dataset", dataset.jsonObject(for: model.type)),
            ("model", model.jsonObject()),
            ("training", training.jsonObject()),
        ]
        if let pruning { members.append(("pruning", pruning.jsonObject())) }
        members.append(("seed", .int(seed)))
        return .object(members)
    }
}

// MARK: - Expansion

extension ExperimentSpec {
    /// The largest expansion accepted; far beyond any real experiment, it stops a typo such as
    /// an extra dimension from producing a plan nobody can read.
    static let maxJobs = 1_000_000

    /// Every job: the cartesian product of the grid (the first grid key varies slowest) times
    /// the seeds (innermost), each validated as a combination.
    public func jobs() throws -> [JobConfig] {
        do {
            return try expand()
        } catch let issue as SpecIssue {
            throw issue.error(in: filePath)
        }
    }

    func expand() throws -> [JobConfig] {
        let (points, overflow) = grid.reduce((1, false)) { partial, dimension in
            let product = partial.0.multipliedReportingOverflow(by: dimension.values.count)
            return (product.partialValue, partial.1 || product.overflow)
        }
        if overflow || points > Self.maxJobs / seeds.count {
            throw SpecIssue("$.grid", "the grid expands to more than \(Self.maxJobs) jobs; split the experiment")
        }

        var jobs: [JobConfig] = []
        jobs.reserveCapacity(points * seeds.count)
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
                    overrides += try SettingField.variantEntries(grid[d].path, value, path: path)
                }
            }
            let gridPoint = grid.indices.map { (path: grid[$0].path, value: grid[$0].values[indices[$0]]) }

            let settings: ResolvedSettings
            do {
                settings = try ResolvedSettings.resolve(base: baseEntries, overrides: overrides, pruning: pruning != nil)
            } catch var issue as SpecIssue {
                issue.message += " (in grid point \(point + 1): \(Self.describe(gridPoint)))"
                throw issue
            }

            let probe = JobConfig(dataset: settings.dataset, model: settings.model, training: settings.training,
                                  pruning: settings.pruning, seed: 0)
            let identity = probe.canonicalJSON() + "\u{0}" + (settings.dataset.path ?? "")
            if let earlier = firstPointWithIdentity[identity] {
                let earlierPoint = jobs[earlier * seeds.count].gridPoint
                throw SpecIssue("$.grid", "grid points \(earlier + 1) (\(Self.describe(earlierPoint))) and \(point + 1) "
                                + "(\(Self.describe(gridPoint))) describe the same job; a value that differs between "
                                + "them has no effect on these settings")
            }
            firstPointWithIdentity[identity] = point

            for seed in seeds {
                jobs.append(JobConfig(dataset: settings.dataset, model: settings.model, training: settings.training,
                                      pruning: settings.pruning, seed: seed, gridPoint: gridPoint))
            }
        }
        return jobs
    }

    /// "model.layers = 2, model.hidden = 64"
    static func describe(_ gridPoint: [(path: String, value: JSONValue)]) -> String {
        gridPoint.map { "\($0.path) = \($0.value.canonicalText())" }.joined(separator: ", ")
    }
}

// MARK: - Settings as JSON

// Each object lists only the fields that affect a result, in the spec format's order (for
// display); canonical text sorts the keys.

extension DatasetSettings {
    func jsonObject(for type: ModelType) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let trainFraction {
            members.append(("train_fraction", .double(trainFraction)))
            members.append(("stratified", .bool(stratified)))
        }
        if let trainSize {
            members.append(("train_size", .int(trainSize)))
            // Stratification only shapes a subset; with the full set there is nothing to choose.
            members.append(("stratified", .bool(stratified)))
        }
        if type != .cnn { members.append(("sequence", .string(sequence.rawValue))) }
        return .object(members)
    }
}

extension ModelSettings {
    func jsonObject() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("type", .string(type.rawValue))]
        switch type {
        case .lstm, .rnn:
            members += [("layers", .int(layers)), ("hidden", .int(hidden)), ("activation", .string(activation.rawValue))]
        case .cnn:
            members += [("conv", .array(conv.map { .int($0) })), ("kernel", .int(kernel)), ("pool", .int(pool))]
        }
        members.append(("dense", .array(dense.map { .int($0) })))
        // Dropout follows each hidden dense layer, so without one it does nothing.
        if !dense.isEmpty { members.append(("dropout", .double(dropout))) }
        // Written only when it is not the default: `init` came after the first results, and
        // leaving the default out keeps the ids of every job that ran before it.
        if initialization != .pytorch { members.append(("init", .string(initialization.rawValue))) }
        return .object(members)
    }
}

extension TrainingSettings {
    func jsonObject() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("epochs", .int(epochs)), ("batch_size", .int(batchSize)),
            ("optimizer", .string(optimizer.rawValue)), ("learning_rate", .double(learningRate)),
        ]
        if optimizer == .sgd { members.append(("momentum", .double(momentum))) }
        return .object(members)
    }
}

extension PruningSettings {
    func jsonObject() -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let threshold { members.append(("threshold", .double(threshold))) }
        if let sparsity { members.append(("sparsity", .double(sparsity))) }
        members.append(("retrain_epochs", .int(retrainEpochs)))
        return .object(members)
    }
}
