import Foundation

// MARK: - Typed settings

public enum SequenceOrder: String, Sendable, CaseIterable { case rows, columns }
public enum ModelType: String, Sendable, CaseIterable { case lstm, rnn, cnn }
public enum Activation: String, Sendable, CaseIterable { case tanh, relu }
public enum OptimizerKind: String, Sendable, CaseIterable { case adam, sgd }
/// Whose default weight initialisation a model starts from (see the engine's `WeightInitialization`).
public enum InitializationScheme: String, Sendable, CaseIterable { case pytorch, keras }

public struct DatasetSettings: Sendable, Equatable {
    /// Where the Fashion-MNIST files are; nil means the data layer's default location.
    public var path: String?
    /// How many training images to use; nil means all of them.
    public var trainSize: Int?
    /// Or which share of the training images to use (0 < f <= 1), so that one spec reduces
    /// whatever data it runs on in the same proportions.
    public var trainFraction: Double?
    /// Whether a `trainSize` subset keeps the class proportions of the full set.
    public var stratified: Bool
    /// How a recurrent model reads an image: one row (or column) of 28 pixels per time step.
    public var sequence: SequenceOrder

    public init(path: String? = nil, trainSize: Int? = nil, trainFraction: Double? = nil, stratified: Bool = false,
                sequence: SequenceOrder = .rows) {
        self.path = path
        self.trainSize = trainSize
        self.trainFraction = trainFraction
        self.stratified = stratified
        self.sequence = sequence
    }
}

/// One model. Recurrent models (lstm, rnn) use `layers`, `hidden` and `activation`; cnn models
/// use `conv`, `kernel` and `pool`; both end in `dense` hidden ReLU layers, each followed by
/// dropout `dropout`, then a 10-way output. Fields of the other kind hold their defaults and
/// mean nothing. `init` chooses PyTorch's default weight initialisation or Keras's.
public struct ModelSettings: Sendable, Equatable {
    public var type: ModelType
    public var layers: Int
    public var hidden: Int
    public var activation: Activation
    public var dense: [Int]
    public var dropout: Double
    public var conv: [Int]
    public var kernel: Int
    public var pool: Int
    public var initialization: InitializationScheme

    /// The defaults for `type`. The cnn defaults are the Keras notebook's model: Conv2D 32 3x3
    /// ReLU, MaxPool 2, Dense 128 ReLU, Dropout 0.2, Dense 32 ReLU, Dropout 0.2, Dense 10.
    public init(type: ModelType) {
        self.type = type
        layers = 1
        hidden = 64
        activation = .tanh
        conv = [32]
        kernel = 3
        pool = 2
        initialization = .pytorch
        switch type {
        case .lstm, .rnn:
            dense = []
            dropout = 0
        case .cnn:
            dense = [128, 32]
            dropout = 0.2
        }
    }
}

public struct TrainingSettings: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Double
    /// Used by sgd only.
    public var momentum: Double
    /// A threads-per-job hint for the scheduler; not part of a job's identity.
    public var threads: Int?

    public init(epochs: Int = 10, batchSize: Int = 100, optimizer: OptimizerKind = .adam,
                learningRate: Double = 0.001, momentum: Double = 0.9, threads: Int? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.threads = threads
    }
}

/// Magnitude pruning after training: either remove weights with |w| < `threshold` or remove
/// the smallest fraction `sparsity` of them, then retrain the rest for `retrainEpochs`.
/// A valid job has exactly one of `threshold` and `sparsity`.
public struct PruningSettings: Sendable, Equatable {
    public var threshold: Double?
    public var sparsity: Double?
    public var retrainEpochs: Int

    public init(threshold: Double? = nil, sparsity: Double? = nil, retrainEpochs: Int = 10) {
        self.threshold = threshold
        self.sparsity = sparsity
        self.retrainEpochs = retrainEpochs
    }
}

// MARK: - The spec

/// An experiment spec file: base settings, a grid of variations and the seeds to run each with.
///
/// The base must be valid on its own (except that a `pruning` section may leave its threshold
/// or sparsity to the grid). When a grid value changes the model type or the optimizer, base
/// fields that do not apply to the new one are dropped for that job; grid fields must apply to
/// every job they are part of.
public struct ExperimentSpec: Sendable {
    public let name: String
    public let description: String
    public let dataset: DatasetSettings
    public let model: ModelSettings
    public let training: TrainingSettings
    public let pruning: PruningSettings?
    public let seeds: [Int]
    /// Dotted setting paths and their values, in file order.
    public let grid: [(path: String, values: [JSONValue])]
    /// The paper's numbers for this experiment, verbatim, for reports.
    public let reference: JSONValue?
    /// The file's text.
    public let sourceJSON: String
    public let filePath: String

    /// The settings the file gives explicitly, in file order. Each job applies them over the
    /// defaults of its own model type, because those defaults differ between lstm and cnn.
    let baseEntries: [SettingEntry]

    /// Every dotted path a grid may vary, in the order of the spec format.
    public static let gridDimensions: [String] = SettingField.all.filter(\.isGridDimension).map(\.path)

    /// The number of grid points (1 for an empty grid).
    public var gridPointCount: Int { grid.reduce(1) { $0 * $1.values.count } }

    public static func load(path: String) throws -> ExperimentSpec {
        guard FileManager.default.fileExists(atPath: path) else {
            throw HarnessError("\(path): no such spec file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HarnessError("\(path): cannot read the spec file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HarnessError("\(path): the spec file is not UTF-8 text")
        }
        return try parse(text: text, filePath: path)
    }

    /// Parses and validates a spec, including every job its grid expands to, so a spec that
    /// parses can be run.
    public static func parse(text: String, filePath: String) throws -> ExperimentSpec {
        let root: JSONValue
        do {
            root = try JSONValue.parse(text)
        } catch let error as JSONSyntaxError {
            throw HarnessError("\(filePath):\(error.line):\(error.column): \(error.message)")
        }
        do {
            let spec = try SpecReader(text: text, filePath: filePath).read(root)
            _ = try spec.expand()
            return spec
        } catch let issue as SpecIssue {
            throw issue.error(in: filePath)
        }
    }

    fileprivate init(name: String, description: String, settings: ResolvedSettings, seeds: [Int],
                     grid: [(path: String, values: [JSONValue])], reference: JSONValue?,
                     sourceJSON: String, filePath: String, baseEntries: [SettingEntry]) {
        self.name = name
        self.description = description
        dataset = settings.dataset
        model = settings.model
        training = settings.training
        pruning = settings.pruning
        self.seeds = seeds
        self.grid = grid
        self.reference = reference
        self.sourceJSON = sourceJSON
        self.filePath = filePath
        self.baseEntries = baseEntries
    }
}

// MARK: - Reading a spec

/// A problem at a JSON path (`$.model.layers`), before the file name is attached.
struct SpecIssue: Error {
    var path: String
    var message: String
    init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    func error(in filePath: String) -> HarnessError { HarnessError("\(filePath): \(path): \(message)") }
}

/// A job's settings apart from its seed.
struct ResolvedSettings: Sendable, Equatable {
    var dataset = DatasetSettings()
    var model: ModelSettings
    var training = TrainingSettings()
    var pruning: PruningSettings?

    init(type: ModelType, pruning: Bool) {
        model = ModelSettings(type: type)
        self.pruning = pruning ? PruningSettings() : nil
    }

    /// Lets a pruning field be set whether or not the section exists yet.
    var editablePruning: PruningSettings {
        get { pruning ?? PruningSettings() }
        set { pruning = newValue }
    }
}

extension ResolvedSettings {
    /// The job's settings: `base` over the model type's defaults, then `overrides` (grid values).
    /// Base fields must apply to the base; a base field that no longer applies after an override
    /// changed the model type or optimizer is dropped, while an override that does not apply is an error.
    static func resolve(base: [SettingEntry], overrides: [SettingEntry], pruning: Bool) throws -> ResolvedSettings {
        let overridden = Set(overrides.map(\.field.path))
        let kept = base.filter { !overridden.contains($0.field.path) }

        func build(_ entries: [SettingEntry]) throws -> ResolvedSettings {
            // The model type decides the other model fields' defaults, so it is read first.
            var typeOnly = ResolvedSettings(type: .lstm, pruning: pruning)
            for entry in entries where entry.field.path == "model.type" {
                try entry.field.apply(entry.value, entry.path, &typeOnly)
            }
            var settings = ResolvedSettings(type: typeOnly.model.type, pruning: pruning)
            for entry in entries { try entry.field.apply(entry.value, entry.path, &settings) }
            return settings
        }

        let settings = try build(kept + overrides)
        if settings.dataset.trainSize != nil && settings.dataset.trainFraction != nil {
            let path = (overrides + kept).last { $0.field.path == "dataset.train_fraction" }?.path ?? "$.dataset.train_fraction"
            throw SpecIssue(path, "give dataset.train_size (a count) or dataset.train_fraction (a share), not both")
        }
        for entry in overrides {
            if let reason = entry.field.applicability.reason(entry.field.path, settings) {
                throw SpecIssue(entry.path, reason)
            }
        }
        var applicable: [SettingEntry] = []
        for entry in kept {
            guard let reason = entry.field.applicability.reason(entry.field.path, settings) else {
                applicable.append(entry)
                continue
            }
            // In the base alone an inapplicable field is a mistake; after a grid value changed
            // the model type or optimizer it merely describes the base.
            if overrides.isEmpty { throw SpecIssue(entry.path, reason) }
        }
        return applicable.count == kept.count ? settings : try build(applicable + overrides)
    }
}

/// A value the file gives for a setting, with the JSON path to blame in errors.
struct SettingEntry: Sendable {
    let field: SettingField
    let value: JSONValue
    let path: String
}

private struct SpecReader {
    let text: String
    let filePath: String

    static let topLevelKeys = ["name", "description", "dataset", "model", "training", "pruning", "seeds", "grid", "reference"]
    static let sections = ["dataset", "model", "training", "pruning"]

    func read(_ root: JSONValue) throws -> ExperimentSpec {
        guard case let .object(members) = root else {
            throw SpecIssue("$", "expected an object with at least \"name\" and \"model\", found \(shown(root))")
        }
        for (key, _) in members where !Self.topLevelKeys.contains(key) {
            throw unknownKeyIssue(key, at: "$", candidates: Self.topLevelKeys)
        }

        guard let nameValue = root["name"] else {
            throw SpecIssue("$.name", "missing required field; give the experiment a name of letters, digits, \".\", \"_\" and \"-\"")
        }
        let name = try SpecRead.string(nameValue, "$.name")
        let nameCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(nameCharacters.contains) else {
            throw SpecIssue("$.name", "\(shown(nameValue)) is not a valid name; use only letters, digits, \".\", \"_\" and \"-\"")
        }
        let description = try root["description"].map { try SpecRead.string($0, "$.description") } ?? ""
        let seeds = try root["seeds"].map(readSeeds) ?? [1]

        var entries: [SettingEntry] = []
        for section in Self.sections {
            guard let value = root[section] else { continue }
            entries += try sectionEntries(section, value)
        }
        guard root["model"] != nil else {
            throw SpecIssue("$.model", "missing required section; give at least {\"type\": \"lstm\"} (or \"rnn\", \"cnn\")")
        }
        guard entries.contains(where: { $0.field.path == "model.type" }) else {
            throw SpecIssue("$.model.type", "missing required field; give \"lstm\", \"rnn\" or \"cnn\"")
        }
        let hasPruning = root["pruning"] != nil
        let base = try ResolvedSettings.resolve(base: entries, overrides: [], pruning: hasPruning)
        let grid = try readGrid(root["grid"] ?? .object([]), base: base)
        try checkPruning(base: base, grid: grid)

        return ExperimentSpec(name: name, description: description, settings: base, seeds: seeds, grid: grid,
                              reference: root["reference"], sourceJSON: text, filePath: filePath, baseEntries: entries)
    }

    func readSeeds(_ value: JSONValue) throws -> [Int] {
        guard case let .array(elements) = value else {
            throw SpecIssue("$.seeds", "expected a list of integer seeds like [1, 2, 3], found \(shown(value))")
        }
        guard !elements.isEmpty else { throw SpecIssue("$.seeds", "empty list; give at least one seed") }
        var seeds: [Int] = []
        for (index, element) in elements.enumerated() {
            let path = "$.seeds[\(index)]"
            let seed = try SpecRead.int(element, path, 0...Int.max)
            if let first = seeds.firstIndex(of: seed) {
                throw SpecIssue(path, "duplicate seed \(seed) (also at $.seeds[\(first)]); seeds must be distinct")
            }
            seeds.append(seed)
        }
        return seeds
    }

    func sectionEntries(_ section: String, _ value: JSONValue) throws -> [SettingEntry] {
        let sectionPath = "$." + section
        guard case let .object(members) = value else {
            throw SpecIssue(sectionPath, "expected an object, found \(shown(value))")
        }
        return try SettingField.entries(members, section: section, path: sectionPath)
    }

    func readGrid(_ value: JSONValue, base: ResolvedSettings) throws -> [(path: String, values: [JSONValue])] {
        guard case let .object(members) = value else {
            throw SpecIssue("$.grid", "expected an object mapping settings like \"model.layers\" to lists of values, found \(shown(value))")
        }
        return try members.map { key, value in
            let path = JSONPath.member("$.grid", key)
            if key == "seed" || key == "seeds" {
                throw SpecIssue(path, "seeds are not a grid dimension; list them in \"seeds\" at the top level")
            }
            if SettingField.sections.contains(key) {
                return (path: key, values: try readVariantDimension(key, value, path: path, base: base))
            }
            guard let field = SettingField.byPath[key] else {
                if let guess = suggestGridPath(key) {
                    throw SpecIssue(path, "unknown setting; did you mean \"\(guess)\"?")
                }
                throw SpecIssue(path, "unknown setting; grid keys are dotted paths such as \"model.layers\" or \"training.batch_size\"")
            }
            guard field.isGridDimension else {
                throw SpecIssue(path, "\(key) is a scheduling hint, not an experiment setting, so it cannot be a grid dimension")
            }
            if field.section == "pruning" && base.pruning == nil {
                throw SpecIssue(path, "a grid over \(key) needs a \"pruning\" section in the base spec, e.g. \"pruning\": {\"retrain_epochs\": 10}")
            }
            guard case let .array(values) = value else {
                throw SpecIssue(path, "expected a list of values, found \(shown(value))")
            }
            guard !values.isEmpty else { throw SpecIssue(path, "empty list; give at least one value") }
            // Each value is checked on its own here; combinations are checked when jobs are expanded.
            var applied: [ResolvedSettings] = []
            for (index, element) in values.enumerated() {
                var settings = base
                try field.apply(element, "\(path)[\(index)]", &settings)
                if let first = applied.firstIndex(of: settings) {
                    throw SpecIssue("\(path)[\(index)]", "\(shown(element)) repeats \(path)[\(first)]; grid values must be distinct")
                }
                applied.append(settings)
            }
            return (path: key, values: values)
        }
    }

    /// A grid dimension over whole variants of one section: `"model": [{...}, {...}]`, each
    /// object a set of that section's settings applied together (an LSTM with its head and
    /// a CNN with its own, say), so settings that belong together need not be crossed.
    func readVariantDimension(_ section: String, _ value: JSONValue, path: String, base: ResolvedSettings) throws -> [JSONValue] {
        guard case let .array(values) = value else {
            throw SpecIssue(path, "expected a list of \(section) settings objects, found \(shown(value))")
        }
        guard !values.isEmpty else { throw SpecIssue(path, "empty list; give at least one value") }
        if section == "pruning" && base.pruning == nil {
            throw SpecIssue(path, "a grid over pruning needs a \"pruning\" section in the base spec, e.g. \"pruning\": {\"retrain_epochs\": 10}")
        }
        var seen: [JSONValue] = []
        for (index, element) in values.enumerated() {
            let elementPath = "\(path)[\(index)]"
            for entry in try SettingField.variantEntries(section, element, path: elementPath) {
                guard entry.field.isGridDimension else {
                    throw SpecIssue(entry.path, "\(entry.field.path) is a scheduling hint, not an experiment setting, so it cannot vary in a grid")
                }
                var settings = base
                try entry.field.apply(entry.value, entry.path, &settings)
            }
            if let first = seen.firstIndex(of: element) {
                throw SpecIssue(elementPath, "repeats \(path)[\(first)]; grid values must be distinct")
            }
            seen.append(element)
        }
        return values
    }

    /// Every job needs exactly one of threshold and sparsity, from the base or the grid.
    func checkPruning(base: ResolvedSettings, grid: [(path: String, values: [JSONValue])]) throws {
        guard let pruning = base.pruning else { return }
        let gridKeys = grid.map(\.path)
        let hasThreshold = pruning.threshold != nil || gridKeys.contains("pruning.threshold")
        let hasSparsity = pruning.sparsity != nil || gridKeys.contains("pruning.sparsity")
        if !hasThreshold && !hasSparsity {
            throw SpecIssue("$.pruning", "give a \"threshold\" (prune weights with |w| below it) or a \"sparsity\" "
                            + "(fraction of weights to prune), in the section or in the grid")
        }
        if hasThreshold && hasSparsity {
            let path = gridKeys.contains("pruning.sparsity") ? JSONPath.member("$.grid", "pruning.sparsity")
                : gridKeys.contains("pruning.threshold") ? JSONPath.member("$.grid", "pruning.threshold") : "$.pruning"
            throw SpecIssue(path, "pruning takes either a threshold or a sparsity, not both")
        }
    }

    /// A bare key given without its section ("layers") maps to its one dotted path; otherwise
    /// the closest dotted path by spelling.
    func suggestGridPath(_ key: String) -> String? {
        let sameKey = SettingField.all.filter { $0.isGridDimension && $0.key == key }
        if sameKey.count == 1 { return sameKey[0].path }
        return Spelling.closestMatch(to: key, among: ExperimentSpec.gridDimensions)
    }
}

// MARK: - Settings fields

/// One setting a spec can give at `section.key`: the single place that knows its JSON key,
/// type, range and which models it applies to, so base values and grid values are checked
/// by the same code.
struct SettingField: Sendable {
    enum Applicability: Sendable {
        case always, recurrent, cnn, sgd

        /// Why the field at `path` means nothing for `settings`, or nil if it applies.
        func reason(_ path: String, _ settings: ResolvedSettings) -> String? {
            let type = settings.model.type
            switch self {
            case .always: return nil
            case .recurrent: return type == .cnn ? "\(path) applies to lstm and rnn models, not cnn" : nil
            case .cnn: return type == .cnn ? nil : "\(path) applies to cnn models, not \(type.rawValue)"
            case .sgd:
                let optimizer = settings.training.optimizer
                return optimizer == .sgd ? nil : "\(path) applies to the sgd optimizer, not \(optimizer.rawValue)"
            }
        }
    }

    typealias Apply = @Sendable (_ value: JSONValue, _ path: String, _ settings: inout ResolvedSettings) throws -> Void

    let section: String
    let key: String
    let applicability: Applicability
    let isGridDimension: Bool
    /// Checks `value` (blaming `path`) and stores it into the settings.
    let apply: Apply

    var path: String { section + "." + key }

    init(_ section: String, _ key: String, _ applicability: Applicability = .always,
         isGridDimension: Bool = true, apply: @escaping Apply) {
        self.section = section
        self.key = key
        self.applicability = applicability
        self.isGridDimension = isGridDimension
        self.apply = apply
    }

    static let all: [SettingField] = [
        SettingField("dataset", "path") { v, p, s in s.dataset.path = try SpecRead.optional(v) { try SpecRead.string(v, p) } },
        SettingField("dataset", "train_size") { v, p, s in s.dataset.trainSize = try SpecRead.optional(v) { try SpecRead.int(v, p, 1...60000) } },
        SettingField("dataset", "train_fraction") { v, p, s in
            s.dataset.trainFraction = try SpecRead.optional(v) {
                try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false, upper: 1), "train_fraction")
            }
        },
        SettingField("dataset", "stratified") { v, p, s in s.dataset.stratified = try SpecRead.bool(v, p) },
        SettingField("dataset", "sequence", .recurrent) { v, p, s in s.dataset.sequence = try SpecRead.choice(v, p) },

        SettingField("model", "type") { v, p, s in s.model.type = try SpecRead.choice(v, p) },
        SettingField("model", "layers", .recurrent) { v, p, s in s.model.layers = try SpecRead.int(v, p, 1...8) },
        SettingField("model", "hidden", .recurrent) { v, p, s in s.model.hidden = try SpecRead.int(v, p, 1...2048) },
        SettingField("model", "activation", .recurrent) { v, p, s in s.model.activation = try SpecRead.choice(v, p) },
        SettingField("model", "dense") { v, p, s in s.model.dense = try SpecRead.intList(v, p, 1...4096, allowEmpty: true) },
        SettingField("model", "dropout") { v, p, s in
            s.model.dropout = try SpecRead.double(v, p, DoubleBounds(0, upper: 1, upperInclusive: false), "dropout")
        },
        SettingField("model", "conv", .cnn) { v, p, s in s.model.conv = try SpecRead.intList(v, p, 1...512, allowEmpty: false) },
        SettingField("model", "kernel", .cnn) { v, p, s in s.model.kernel = try SpecRead.int(v, p, 1...7) },
        SettingField("model", "pool", .cnn) { v, p, s in s.model.pool = try SpecRead.int(v, p, 1...2) },
        SettingField("model", "init") { v, p, s in s.model.initialization = try SpecRead.choice(v, p) },

        SettingField("training", "epochs") { v, p, s in s.training.epochs = try SpecRead.int(v, p, 1...1000) },
        SettingField("training", "batch_size") { v, p, s in s.training.batchSize = try SpecRead.int(v, p, 1...60000) },
        SettingField("training", "optimizer") { v, p, s in s.training.optimizer = try SpecRead.choice(v, p) },
        SettingField("training", "learning_rate") { v, p, s in
            s.training.learningRate = try SpecRead.double(v, p, DoubleBounds(0, lowerInclusive: false, upper: 10), "learning_rate")
        },
        SettingField("training", "momentum", .sgd) { v, p, s in
            s.training.momentum = try SpecRead.double(v, p, DoubleBounds(0, upper: 1), "momentum")
        },
        SettingField("training", "threads", isGridDimension: false) { v, p, s in
            s.training.threads = try SpecRead.optional(v) { try SpecRead.int(v, p, 1...64) }
        },

        SettingField("pruning", "threshold") { v, p, s in
            s.editablePruning.threshold = try SpecRead.double(v, p, DoubleBounds(0), "threshold")
        },
        SettingField("pruning", "sparsity") { v, p, s in
            s.editablePruning.sparsity = try SpecRead.double(v, p, DoubleBounds(0, upper: 1, upperInclusive: false), "sparsity")
        },
        SettingField("pruning", "retrain_epochs") { v, p, s in s.editablePruning.retrainEpochs = try SpecRead.int(v, p, 0...1000) },
    ]

    static let byPath: [String: SettingField] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
}

extension SettingField {
    static let sections = ["dataset", "model", "training", "pruning"]

    /// The settings one variant object gives, each with the JSON path to blame.
    static func variantEntries(_ section: String, _ element: JSONValue, path: String) throws -> [SettingEntry] {
        guard case let .object(members) = element, !members.isEmpty else {
            throw SpecIssue(path, "expected an object of \(section) settings such as {\"type\": \"lstm\", \"hidden\": 64}, found \(shown(element))")
        }
        return try entries(members, section: section, path: path)
    }

    /// The settings that the members of a `section` object at `path` give; an unknown key
    /// is an error that suggests the closest key of the section.
    static func entries(_ members: [(key: String, value: JSONValue)], section: String, path: String) throws -> [SettingEntry] {
        let keys = all.filter { $0.section == section }.map(\.key)
        return try members.map { key, value in
            guard let field = byPath[section + "." + key] else {
                throw unknownKeyIssue(key, at: path, candidates: keys)
            }
            return SettingEntry(field: field, value: value, path: JSONPath.member(path, key))
        }
    }
}

func unknownKeyIssue(_ key: String, at parent: String, candidates: [String]) -> SpecIssue {
    let path = JSONPath.member(parent, key)
    if let guess = Spelling.closestMatch(to: key, among: candidates) {
        return SpecIssue(path, "unknown key; did you mean \"\(guess)\"?")
    }
    return SpecIssue(path, "unknown key; expected one of " + candidates.map { "\"\($0)\"" }.joined(separator: ", "))
}

/// A range of doubles with open or closed ends, described the way a user would write it.
struct DoubleBounds: Sendable {
    var lower: Double
    var lowerInclusive = true
    var upper: Double?
    var upperInclusive = true

    init(_ lower: Double, lowerInclusive: Bool = true, upper: Double? = nil, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    func contains(_ x: Double) -> Bool {
        guard lowerInclusive ? x >= lower : x > lower else { return false }
        guard let upper else { return true }
        return upperInclusive ? x <= upper : x < upper
    }

    /// "0 < learning_rate <= 10", "threshold >= 0".
    func describe(_ name: String) -> String {
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : x.description }
        guard let upper else { return "\(name) \(lowerInclusive ? ">=" : ">") \(number(lower))" }
        return "\(number(lower)) \(lowerInclusive ? "<=" : "<") \(name) \(upperInclusive ? "<=" : "<") \(number(upper))"
    }
}

/// Checked conversions from JSON to setting values; each error names the path and what was expected.
enum SpecRead {
    static func int(_ value: JSONValue, _ path: String, _ range: ClosedRange<Int>) throws -> Int {
        guard case let .int(n) = value else {
            throw SpecIssue(path, "expected an integer, found \(shown(value))")
        }
        guard range.contains(n) else {
            if range.upperBound == Int.max {
                throw SpecIssue(path, "\(n) is out of range; expected an integer >= \(range.lowerBound)")
            }
            throw SpecIssue(path, "\(n) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// Integers are accepted where a double is expected.
    static func double(_ value: JSONValue, _ path: String, _ bounds: DoubleBounds, _ name: String) throws -> Double {
        let x: Double
        switch value {
        case let .int(n): x = Double(n)
        case let .double(d): x = d
        default: throw SpecIssue(path, "expected a number, found \(shown(value))")
        }
        guard bounds.contains(x) else {
            throw SpecIssue(path, "\(shown(value)) is out of range; expected \(bounds.describe(name))")
        }
        return x
    }

    static func bool(_ value: JSONValue, _ path: String) throws -> Bool {
        guard case let .bool(b) = value else { throw SpecIssue(path, "expected true or false, found \(shown(value))") }
        return b
    }

    static func string(_ value: JSONValue, _ path: String) throws -> String {
        guard case let .string(s) = value else { throw SpecIssue(path, "expected a string, found \(shown(value))") }
        return s
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ value: JSONValue, _ path: String) throws -> Choice
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "expected one of " + names.map { "\"\($0)\"" }.joined(separator: ", ")
        guard case let .string(s) = value else { throw SpecIssue(path, "\(expected), found \(shown(value))") }
        guard let choice = Choice(rawValue: s) else {
            var message = "\(expected), found \(shown(value))"
            if let guess = Spelling.closestMatch(to: s, among: names) { message += "; did you mean \"\(guess)\"?" }
            throw SpecIssue(path, message)
        }
        return choice
    }

    static func intList(_ value: JSONValue, _ path: String, _ range: ClosedRange<Int>, allowEmpty: Bool) throws -> [Int] {
        guard case let .array(elements) = value else {
            throw SpecIssue(path, "expected a list of integers like [128, 32], found \(shown(value))")
        }
        if elements.isEmpty && !allowEmpty { throw SpecIssue(path, "empty list; give at least one value") }
        return try elements.enumerated().map { index, element in try int(element, "\(path)[\(index)]", range) }
    }

    /// `null` for an optional setting means "not set".
    static func optional<T>(_ value: JSONValue, _ read: () throws -> T) rethrows -> T? {
        value == .null ? nil : try read()
    }
}

// MARK: - Helpers

enum JSONPath {
    /// `$.model.layers`, or `$.grid["model.layers"]` when the key is not a plain identifier.
    static func member(_ parent: String, _ key: String) -> String {
        let isIdentifier = !key.isEmpty && key.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
            && !(key.first!.isNumber)
        return isIdentifier ? "\(parent).\(key)" : "\(parent)[\(JSONValue.string(key).canonicalText())]"
    }
}

/// A value for an error message, shortened so a long list cannot swamp the message.
private func shown(_ value: JSONValue) -> String {
    let text = value.canonicalText()
    return text.count <= 60 ? text : String(text.prefix(57)) + "..."
}

/// "Did you mean" suggestions for misspelled keys and values.
enum Spelling {
    /// The candidate closest to `word` by edit distance, ignoring case, if it is close enough to
    /// be a likely typo: at most one edit per three characters of the last dotted component (so
    /// the shared "model." of a grid path does not make "model.colour" look like "model.dropout").
    static func closestMatch(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.lowercased())
        let lastComponent = word.split(separator: ".", omittingEmptySubsequences: false).last ?? ""
        let allowed = max(1, lastComponent.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance <= allowed && distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Levenshtein distance (insertions, deletions and substitutions each cost 1).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...a.count {
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
