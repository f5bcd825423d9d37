import Engine

/// The sections of a spec that hold settings, in the spec format's order.
enum SettingSection: String, Sendable, CaseIterable {
    case dataset, model, training, pruning
}

/// One setting a spec can give at `section.key`: the one place that knows its JSON key, its
/// type and range, which jobs it applies to, and how it enters a job's identity. Base values
/// and grid values are read by the same row, and a job's canonical JSON (and so its id) is
/// written from these rows, so a new setting is one row here and one property in
/// Settings.swift.
struct SettingField: Sendable {
    /// Which jobs a setting means something for.
    enum Applicability: Sendable, Equatable {
        case always, recurrent, cnn, sgd
        /// Pruning jobs of one method.
        case units, gradual
        /// Jobs whose pattern selection is one of these.
        case selections([PatternSelection])

        /// Why the field at `path` means nothing for `settings`, or nil if it applies.
        func reason(_ path: String, _ settings: JobSettings) -> String? {
            let type = settings.model.type
            switch self {
            case .always:
                return nil
            case .recurrent:
                return type.isRecurrent ? nil : "\(path) applies to \(Self.recurrentKinds) models, not \(type.rawValue)"
            case .cnn:
                return type == .cnn ? nil : "\(path) applies to cnn models, not \(type.rawValue)"
            case .sgd:
                let optimizer = settings.training.optimizer
                return optimizer == .sgd ? nil : "\(path) applies to the sgd optimizer, not \(optimizer.rawValue)"
            case .units, .gradual:
                let method = settings.pruning?.method ?? .magnitude
                let wanted: PruningMethod = self == .units ? .units : .gradual
                return method == wanted ? nil : "\(path) applies to the \(wanted.rawValue) pruning method, not \(method.rawValue)"
            case .selections(let wanted):
                let selection = settings.dataset.selection
                return wanted.contains(selection) ? nil
                    : "\(path) applies to dataset.selection \(Self.names(wanted)), not \(selection.rawValue)"
            }
        }

        /// "el2n or forgetting".
        static func names(_ selections: [PatternSelection]) -> String { list(selections.map(\.rawValue), "or") }

        /// "lstm, rnn and gru": the engine's recurrent model kinds.
        static var recurrentKinds: String { list(ModelConfig.Kind.allCases.filter(\.isRecurrent).map(\.rawValue), "and") }

        /// "a, b and c" (or "a, b or c").
        private static func list(_ names: [String], _ conjunction: String) -> String {
            names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " \(conjunction) " + names.last!
        }

        /// For documentation: the jobs the setting applies to.
        var jobs: String {
            switch self {
            case .always: "all"
            case .recurrent: Self.recurrentKinds
            case .cnn: "cnn"
            case .sgd: "sgd"
            case .units: "pruning method units"
            case .gradual: "pruning method gradual"
            case .selections(let wanted): "selection " + Self.names(wanted)
            }
        }
    }

    /// How a setting enters a job's canonical JSON, from which the job id is hashed.
    enum Identity: Sendable {
        /// Not at all: where the data is read from (its content fingerprint is part of the
        /// id instead) and scheduling hints.
        case none
        /// Written whenever it applies and has a value.
        case always
        /// Written only when it differs from the job's default: the setting came after
        /// results were stored, and leaving the default out keeps those jobs' ids.
        case unlessDefault
    }

    typealias Read = @Sendable (_ value: JSONValue, _ path: String, _ settings: inout JobSettings) throws -> Void
    typealias Value = @Sendable (_ settings: JobSettings) -> JSONValue?

    let section: SettingSection
    let key: String
    let applicability: Applicability
    let identity: Identity
    let isGridDimension: Bool
    /// Checks `value` (blaming `path`) and stores it into the settings.
    let read: Read
    /// The setting's value in `settings` as the canonical JSON writes it; nil when it is
    /// unset, or means nothing given the other settings (dropout without dense layers).
    let value: Value
    /// The value of a job that leaves the setting out (for `.unlessDefault`).
    let defaultValue: Value

    var path: String { section.rawValue + "." + key }

    init(_ section: SettingSection, _ key: String, _ applicability: Applicability = .always,
         identity: Identity = .always, isGridDimension: Bool = true,
         default defaultValue: @escaping Value = { _ in nil }, read: @escaping Read, value: @escaping Value) {
        self.section = section
        self.key = key
        self.applicability = applicability
        self.identity = identity
        self.isGridDimension = isGridDimension
        self.read = read
        self.value = value
        self.defaultValue = defaultValue
    }

    /// Every setting, in the spec format's order (which is also the order `harness plan` shows).
    static let all: [SettingField] = [
        SettingField(.dataset, "path", identity: .none,
                     read: { v, p, s in s.dataset.path = try SpecRead.optional(v) { try SpecRead.string(v, p) } },
                     value: { s in s.dataset.path.map { .string($0) } }),
        SettingField(.dataset, "train_size",
                     read: { v, p, s in s.dataset.trainSize = try SpecRead.optional(v) { try SpecRead.int(v, p, 1...60000) } },
                     value: { s in s.dataset.trainSize.map { .int($0) } }),
        SettingField(.dataset, "train_fraction",
                     read: { v, p, s in
                         s.dataset.trainFraction = try SpecRead.optional(v) {
                             try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false, upper: 1), "train_fraction")
                         }
                     },
                     value: { s in s.dataset.trainFraction.map { .double($0) } }),
        // Stratification only shapes a random subset; with the full set there is nothing to
        // choose. `"stratified": true` is `"selection": "stratified"`, and a job's identity
        // says it this way (as it did before selection existed), so random and stratified
        // jobs keep their ids. Set to true under a scored or active selection it is left
        // for the applicability check to report.
        SettingField(.dataset, "stratified", .selections([.random, .stratified]),
                     read: { v, p, s in
                         if try SpecRead.bool(v, p) {
                             if s.dataset.selection == .random { s.dataset.selection = .stratified }
                         } else if s.dataset.selection == .stratified {
                             s.dataset.selection = .random
                         }
                     },
                     value: { s in s.dataset.isSubset ? .bool(s.dataset.stratified) : nil }),
        // Random and stratified selection are written as `stratified` (above).
        SettingField(.dataset, "selection",
                     read: { v, p, s in s.dataset.selection = try SpecRead.choice(v, p) },
                     value: { s in s.dataset.selection.isRandomDraw ? nil : .string(s.dataset.selection.rawValue) }),
        SettingField(.dataset, "score_epochs", .selections([.el2n, .forgetting]),
                     read: { v, p, s in s.dataset.scoreEpochs = try SpecRead.int(v, p, 1...1000) },
                     value: { s in .int(s.dataset.scoreEpochs) }),
        SettingField(.dataset, "score_models", .selections([.el2n]),
                     read: { v, p, s in s.dataset.scoreModels = try SpecRead.int(v, p, 1...100) },
                     value: { s in .int(s.dataset.scoreModels) }),
        SettingField(.dataset, "drop_hardest", .selections([.el2n]),
                     read: { v, p, s in
                         s.dataset.dropHardest = try SpecRead.double(v, p, DoubleBounds(0, upper: 1, upperInclusive: false),
                                                                     "drop_hardest")
                     },
                     value: { s in .double(s.dataset.dropHardest) }),
        SettingField(.dataset, "threshold", .selections([.active]),
                     read: { v, p, s in
                         s.dataset.threshold = try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false), "threshold")
                     },
                     value: { s in .double(s.dataset.threshold) }),
        SettingField(.dataset, "revisit", .selections([.active]),
                     read: { v, p, s in s.dataset.revisit = try SpecRead.int(v, p, 1...1000) },
                     value: { s in .int(s.dataset.revisit) }),
        SettingField(.dataset, "sequence", .recurrent,
                     read: { v, p, s in s.dataset.sequence = try SpecRead.choice(v, p) },
                     value: { s in .string(s.dataset.sequence.rawValue) }),

        SettingField(.model, "type",
                     read: { v, p, s in s.model.type = try SpecRead.choice(v, p) },
                     value: { s in .string(s.model.type.rawValue) }),
        SettingField(.model, "layers", .recurrent,
                     read: { v, p, s in s.model.layers = try SpecRead.int(v, p, 1...8) },
                     value: { s in .int(s.model.layers) }),
        SettingField(.model, "hidden", .recurrent,
                     read: { v, p, s in s.model.hidden = try SpecRead.int(v, p, 1...2048) },
                     value: { s in .int(s.model.hidden) }),
        SettingField(.model, "activation", .recurrent,
                     read: { v, p, s in s.model.activation = try SpecRead.choice(v, p) },
                     value: { s in .string(s.model.activation.rawValue) }),
        SettingField(.model, "conv", .cnn,
                     read: { v, p, s in s.model.conv = try SpecRead.intList(v, p, 1...512, allowEmpty: false) },
                     value: { s in .array(s.model.conv.map { .int($0) }) }),
        SettingField(.model, "kernel", .cnn,
                     read: { v, p, s in s.model.kernel = try SpecRead.int(v, p, 1...7) },
                     value: { s in .int(s.model.kernel) }),
        SettingField(.model, "pool", .cnn,
                     read: { v, p, s in s.model.pool = try SpecRead.int(v, p, 1...2) },
                     value: { s in .int(s.model.pool) }),
        SettingField(.model, "dense",
                     read: { v, p, s in s.model.dense = try SpecRead.intList(v, p, 1...4096, allowEmpty: true) },
                     value: { s in .array(s.model.dense.map { .int($0) }) }),
        // Dropout follows each hidden dense layer, so without one it does nothing.
        SettingField(.model, "dropout",
                     read: { v, p, s in
                         s.model.dropout = try SpecRead.double(v, p, DoubleBounds(0, upper: 1, upperInclusive: false), "dropout")
                     },
                     value: { s in s.model.dense.isEmpty ? nil : .double(s.model.dropout) }),
        SettingField(.model, "init", identity: .unlessDefault,
                     default: { s in .string(ModelSettings(type: s.model.type).initialization.rawValue) },
                     read: { v, p, s in s.model.initialization = try SpecRead.choice(v, p) },
                     value: { s in .string(s.model.initialization.rawValue) }),

        SettingField(.training, "epochs",
                     read: { v, p, s in s.training.epochs = try SpecRead.int(v, p, 1...1000) },
                     value: { s in .int(s.training.epochs) }),
        SettingField(.training, "batch_size",
                     read: { v, p, s in s.training.batchSize = try SpecRead.int(v, p, 1...60000) },
                     value: { s in .int(s.training.batchSize) }),
        SettingField(.training, "optimizer",
                     read: { v, p, s in s.training.optimizer = try SpecRead.choice(v, p) },
                     value: { s in .string(s.training.optimizer.rawValue) }),
        SettingField(.training, "learning_rate",
                     read: { v, p, s in
                         s.training.learningRate = try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false, upper: 10),
                                                                       "learning_rate")
                     },
                     value: { s in .double(s.training.learningRate) }),
        SettingField(.training, "momentum", .sgd,
                     read: { v, p, s in s.training.momentum = try SpecRead.double(v, p, DoubleBounds(0, upper: 1), "momentum") },
                     value: { s in .double(s.training.momentum) }),
        SettingField(.training, "weight_decay", identity: .unlessDefault,
                     default: { s in .double(s.training.defaultWeightDecay) },
                     read: { v, p, s in s.training.weightDecay = try SpecRead.double(v, p, DoubleBounds(0), "weight_decay") },
                     value: { s in .double(s.training.weightDecay ?? s.training.defaultWeightDecay) }),
        SettingField(.training, "threads", identity: .none, isGridDimension: false,
                     read: { v, p, s in s.training.threads = try SpecRead.optional(v) { try SpecRead.int(v, p, 1...64) } },
                     value: { s in s.training.threads.map { .int($0) } }),

        SettingField(.pruning, "method", identity: .unlessDefault, default: { _ in .string(PruningMethod.magnitude.rawValue) },
                     read: { v, p, s in s.editablePruning.method = try SpecRead.choice(v, p) },
                     value: { s in s.pruning.map { .string($0.method.rawValue) } }),
        SettingField(.pruning, "threshold",
                     read: { v, p, s in s.editablePruning.threshold = try SpecRead.double(v, p, DoubleBounds(0), "threshold") },
                     value: { s in s.pruning?.threshold.map { .double($0) } }),
        SettingField(.pruning, "sparsity",
                     read: { v, p, s in
                         s.editablePruning.sparsity = try SpecRead.double(v, p, DoubleBounds(0, upper: 1, upperInclusive: false),
                                                                          "sparsity")
                     },
                     value: { s in s.pruning?.sparsity.map { .double($0) } }),
        SettingField(.pruning, "units", .units,
                     read: { v, p, s in
                         s.editablePruning.units = try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false, upper: 1,
                                                                                          upperInclusive: false), "units")
                     },
                     value: { s in s.pruning?.units.map { .double($0) } }),
        SettingField(.pruning, "frequency", .gradual,
                     read: { v, p, s in s.editablePruning.frequency = try SpecRead.int(v, p, 1...1_000_000) },
                     value: { s in s.pruning?.method == .gradual ? s.pruning.map { .int($0.frequency) } : nil }),
        SettingField(.pruning, "retrain_epochs",
                     read: { v, p, s in s.editablePruning.retrainEpochs = try SpecRead.int(v, p, 0...1000) },
                     value: { s in s.pruning.map { .int($0.retrainEpochs) } }),
    ]

    static let byPath: [String: SettingField] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })

    /// Every dotted path a grid may vary, in the order of the spec format.
    static let gridDimensions: [String] = all.filter(\.isGridDimension).map(\.path)
}

// MARK: - Identity

extension SettingField {
    /// What this setting contributes to the canonical JSON of a job with `settings`: its
    /// value, or nil when it is not part of the identity, does not apply, is unset, or is a
    /// later setting at its default.
    func identityValue(_ settings: JobSettings) -> JSONValue? {
        guard identity != .none, applicability.reason(path, settings) == nil, let value = value(settings) else { return nil }
        if identity == .unlessDefault && value == defaultValue(settings) { return nil }
        return value
    }

    /// One section of a job's identity: the settings of `section` that enter it, in table order.
    static func identityObject(_ section: SettingSection, _ settings: JobSettings) -> JSONValue {
        .object(all.filter { $0.section == section }.compactMap { field in
            field.identityValue(settings).map { (key: field.key, value: $0) }
        })
    }

    /// The settings object a job's id is hashed from: every section that the job has (no
    /// `pruning` for a plain training job), then the seed. Canonical text sorts the keys.
    static func identity(_ settings: JobSettings, seed: Int) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for section in SettingSection.allCases where section != .pruning || settings.pruning != nil {
            members.append((section.rawValue, identityObject(section, settings)))
        }
        members.append(("seed", .int(seed)))
        return .object(members)
    }
}

// MARK: - Reading sections and variants

extension SettingField {
    /// The member of a grid variant object that names it for reports and progress lines
    /// (`{"type": "cnn", "label": "CNN"}`); it is not a setting.
    static let variantLabelKey = "label"

    /// The settings one variant object gives, each with the JSON path to blame. Its
    /// `"label"`, if any, must be a non-empty string and is not a setting.
    static func variantEntries(_ section: SettingSection, _ element: JSONValue, path: String) throws -> [SettingEntry] {
        guard case let .object(members) = element, !members.isEmpty else {
            throw SpecIssue(path, "expected an object of \(section.rawValue) settings such as {\"type\": \"lstm\", \"hidden\": 64}, "
                            + "found \(shown(element))")
        }
        var settings = members
        if let index = members.firstIndex(where: { $0.key == variantLabelKey }) {
            guard case let .string(label) = members[index].value, !label.isEmpty else {
                throw SpecIssue(JSONPath.member(path, variantLabelKey),
                                "expected a non-empty string that names this variant in reports, found \(shown(members[index].value))")
            }
            settings.remove(at: index)
            guard !settings.isEmpty else {
                throw SpecIssue(path, "a variant needs at least one \(section.rawValue) setting besides its label")
            }
        }
        return try entries(settings, section: section, path: path)
    }

    /// The settings that the members of a `section` object at `path` give; an unknown key
    /// is an error that suggests the closest key of the section.
    static func entries(_ members: [(key: String, value: JSONValue)], section: SettingSection, path: String) throws -> [SettingEntry] {
        let keys = all.filter { $0.section == section }.map(\.key)
        return try members.map { key, value in
            guard let field = byPath[section.rawValue + "." + key] else {
                throw unknownKeyIssue(key, at: path, candidates: keys)
            }
            return SettingEntry(field: field, value: value, path: JSONPath.member(path, key))
        }
    }
}

/// A value the file gives for a setting, with the JSON path to blame in errors.
struct SettingEntry: Sendable {
    let field: SettingField
    let value: JSONValue
    let path: String
}
