import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// The seeds every grid point runs: the list given, or adaptive seeds' start seeds.
    public let seeds: [Int]
    /// Set when `"seeds"` is an object: more seeds may be added to some grid points.
    public let adaptiveSeeds: AdaptiveSeeds?
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
    public static var gridDimensions: [String] { SettingField.gridDimensions }

    /// The number of grid points (1 for an empty grid).
    public var gridPointCount: Int { grid.reduce(1) { $0 * $1.values.count } }

    /// Every seed a grid point can run, in the order they are added: `seeds`, then, with
    /// adaptive seeds, the rest up to `max`. A job's position in the experiment is its grid
    /// point's index times this count plus its seed's index here, so a position never
    /// moves when another point gets a seed, and seeds not (yet) added leave gaps.
    public var possibleSeeds: [Int] { adaptiveSeeds?.allSeeds ?? seeds }

    /// Reads and parses the spec file at `path`. Only a regular file (or a symbolic link to
    /// one) is read: a FIFO, directory or device is refused by its type before it is opened
    /// for reading, so a FIFO without a writer cannot block the command.
    public static func load(path: String) throws -> ExperimentSpec {
        let data = try readSpecFile(path)
        guard let text = String(data: data, encoding: .utf8) else {
            throw HarnessError("\(path): the spec file is not UTF-8 text")
        }
        return try parse(text: text, filePath: path)
    }

    private static func readSpecFile(_ path: String) throws -> Data {
        func failure(_ code: Int32) -> HarnessError {
            if code == ENOENT || code == ENOTDIR { return HarnessError("\(path): no such spec file") }
            return HarnessError("\(path): cannot read the spec file (\(String(cString: strerror(code))))")
        }
        func requireRegularFile(_ info: stat) throws {
            guard let what = FileKind.nonRegular(info) else { return }
            throw HarnessError("\(path): is not a regular file but \(what); a spec must be a JSON file")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure(errno) }
        try requireRegularFile(info)
        // O_NONBLOCK: should the path have become a FIFO since `stat`, `open` still returns at
        // once and `fstat` refuses it. It changes nothing for a regular file.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }
        guard fstat(descriptor, &info) == 0 else { throw failure(errno) }
        try requireRegularFile(info)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure(errno) }
            if count == 0 { return data }
            data.append(contentsOf: buffer[..<count])
        }
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
            // The reference is checked now, not when a report is first asked for, hours of
            // training later.
            _ = try ReferenceTable(spec: spec, origin: filePath)
            _ = try Baseline(spec: spec, origin: filePath)
            return spec
        } catch let issue as SpecIssue {
            throw issue.error(in: filePath)
        }
    }

    fileprivate init(name: String, description: String, settings: JobSettings, seeds: [Int], adaptiveSeeds: AdaptiveSeeds?,
                     grid: [(path: String, values: [JSONValue])], reference: JSONValue?,
                     sourceJSON: String, filePath: String, baseEntries: [SettingEntry]) {
        self.name = name
        self.description = description
        dataset = settings.dataset
        model = settings.model
        training = settings.training
        pruning = settings.pruning
        self.seeds = seeds
        self.adaptiveSeeds = adaptiveSeeds
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

extension JobSettings {
    /// The job's settings: `base` over the model type's defaults, then `overrides` (grid values).
    /// Base fields must apply to the base; a base field that no longer applies after an override
    /// changed the model type or optimizer is dropped, while an override that does not apply is an error.
    /// `selectionVaries`: the grid varies `dataset.selection`, so a base setting of some
    /// selections (`score_epochs`, `threshold`, ...) that the base's own selection lacks is
    /// meant for the grid's points, not a mistake.
    static func resolve(base: [SettingEntry], overrides: [SettingEntry], pruning: Bool,
                        selectionVaries: Bool = false) throws -> JobSettings {
        let overridden = Set(overrides.map(\.field.path))
        let kept = base.filter { !overridden.contains($0.field.path) }

        func build(_ entries: [SettingEntry]) throws -> JobSettings {
            // The model type decides the other model fields' defaults, so it is read first.
            var typeOnly = JobSettings(type: .lstm, pruning: pruning)
            for entry in entries where entry.field.path == "model.type" {
                try entry.field.read(entry.value, entry.path, &typeOnly)
            }
            var settings = JobSettings(type: typeOnly.model.type, pruning: pruning)
            for entry in entries { try entry.field.read(entry.value, entry.path, &settings) }
            return settings
        }

        let settings = try build(kept + overrides)
        if settings.dataset.trainSize != nil && settings.dataset.trainFraction != nil {
            let path = (overrides + kept).last { $0.field.path == "dataset.train_fraction" }?.path ?? "$.dataset.train_fraction"
            throw SpecIssue(path, "give dataset.train_size (a count) or dataset.train_fraction (a share), not both")
        }
        if settings.dataset.selection.isScored && !settings.dataset.isSubset {
            let path = (overrides + kept).last { $0.field.path == "dataset.selection" }?.path ?? "$.dataset.selection"
            throw SpecIssue(path, "\(settings.dataset.selection.rawValue) keeps the highest-scoring patterns of the training set: "
                            + "give dataset.train_size or dataset.train_fraction to say how many")
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
            let forGridSelections: Bool
            if case .selections = entry.field.applicability { forGridSelections = selectionVaries } else { forGridSelections = false }
            if overrides.isEmpty && !forGridSelections { throw SpecIssue(entry.path, reason) }
        }
        return applicable.count == kept.count ? settings : try build(applicable + overrides)
    }
}

private struct SpecReader {
    let text: String
    let filePath: String

    static let topLevelKeys = ["name", "description", "dataset", "model", "training", "pruning", "seeds", "grid", "reference",
                               "baseline"]

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
        let (seeds, adaptiveSeeds) = try root["seeds"].map(readSeeds) ?? ([1], nil)

        var entries: [SettingEntry] = []
        for section in SettingSection.allCases {
            guard let value = root[section.rawValue] else { continue }
            entries += try sectionEntries(section, value)
        }
        guard root["model"] != nil else {
            throw SpecIssue("$.model", "missing required section; give at least {\"type\": \"lstm\"} (model types: \(Self.modelTypes))")
        }
        guard entries.contains(where: { $0.field.path == "model.type" }) else {
            throw SpecIssue("$.model.type", "missing required field; give one of \(Self.modelTypes)")
        }
        let hasPruning = root["pruning"] != nil
        let gridKeys: [String]
        if case let .object(members)? = root["grid"] { gridKeys = members.map(\.key) } else { gridKeys = [] }
        let base = try JobSettings.resolve(base: entries, overrides: [], pruning: hasPruning,
                                           selectionVaries: gridKeys.contains("dataset.selection") || gridKeys.contains("dataset"))
        let grid = try readGrid(root["grid"] ?? .object([]), base: base)
        try checkPruning(base: base, grid: grid)

        return ExperimentSpec(name: name, description: description, settings: base, seeds: seeds,
                              adaptiveSeeds: adaptiveSeeds, grid: grid,
                              reference: root["reference"], sourceJSON: text, filePath: filePath, baseEntries: entries)
    }

    /// A list of seeds, or adaptive seeds `{"start": 3, "max": 10}` (then the list is the start seeds).
    func readSeeds(_ value: JSONValue) throws -> ([Int], AdaptiveSeeds?) {
        if case .object = value {
            let adaptive = try AdaptiveSeeds(value, path: "$.seeds")
            return (adaptive.startSeeds, adaptive)
        }
        guard case let .array(elements) = value else {
            throw SpecIssue("$.seeds", "expected a list of integer seeds like [1, 2, 3], or adaptive seeds like "
                            + "{\"start\": 3, \"max\": 10}, found \(shown(value))")
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
        return (seeds, nil)
    }

    /// "\"lstm\", \"rnn\", \"cnn\"": the model types the engine builds.
    static var modelTypes: String { ModelConfig.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }

    func sectionEntries(_ section: SettingSection, _ value: JSONValue) throws -> [SettingEntry] {
        let sectionPath = "$." + section.rawValue
        guard case let .object(members) = value else {
            throw SpecIssue(sectionPath, "expected an object, found \(shown(value))")
        }
        return try SettingField.entries(members, section: section, path: sectionPath)
    }

    func readGrid(_ value: JSONValue, base: JobSettings) throws -> [(path: String, values: [JSONValue])] {
        guard case let .object(members) = value else {
            throw SpecIssue("$.grid", "expected an object mapping settings like \"model.layers\" to lists of values, found \(shown(value))")
        }
        return try members.map { key, value in
            let path = JSONPath.member("$.grid", key)
            if key == "seed" || key == "seeds" {
                throw SpecIssue(path, "seeds are not a grid dimension; list them in \"seeds\" at the top level")
            }
            if let section = SettingSection(rawValue: key) {
                return (path: key, values: try readVariantDimension(section, value, path: path, base: base))
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
            if field.section == .pruning && base.pruning == nil {
                throw SpecIssue(path, "a grid over \(key) needs a \"pruning\" section in the base spec, e.g. \"pruning\": {\"retrain_epochs\": 10}")
            }
            guard case let .array(values) = value else {
                throw SpecIssue(path, "expected a list of values, found \(shown(value))")
            }
            guard !values.isEmpty else { throw SpecIssue(path, "empty list; give at least one value") }
            // Each value is checked on its own here; combinations are checked when jobs are expanded.
            var applied: [JobSettings] = []
            for (index, element) in values.enumerated() {
                var settings = base
                try field.read(element, "\(path)[\(index)]", &settings)
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
    func readVariantDimension(_ section: SettingSection, _ value: JSONValue, path: String, base: JobSettings) throws -> [JSONValue] {
        guard case let .array(values) = value else {
            throw SpecIssue(path, "expected a list of \(section.rawValue) settings objects, found \(shown(value))")
        }
        guard !values.isEmpty else { throw SpecIssue(path, "empty list; give at least one value") }
        if section == .pruning && base.pruning == nil {
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
                try entry.field.read(entry.value, entry.path, &settings)
            }
            if let first = seen.firstIndex(of: element) {
                throw SpecIssue(elementPath, "repeats \(path)[\(first)]; grid values must be distinct")
            }
            seen.append(element)
        }
        return values
    }

    /// Every job needs to be told how much to prune (`PruningSettings.missingCriterion`),
    /// from the base or the grid. Checked here for the spec as a whole, so the message points
    /// at the section or the grid dimension; a grid that varies the method (or whole pruning
    /// variants) is checked job by job as the grid expands.
    func checkPruning(base: JobSettings, grid: [(path: String, values: [JSONValue])]) throws {
        guard var pruning = base.pruning else { return }
        let gridKeys = grid.map(\.path)
        if gridKeys.contains("pruning") || gridKeys.contains("pruning.method") { return }
        // A dimension stands for any of its values.
        if gridKeys.contains("pruning.threshold") { pruning.threshold = pruning.threshold ?? 0 }
        if gridKeys.contains("pruning.sparsity") { pruning.sparsity = pruning.sparsity ?? 0 }
        if gridKeys.contains("pruning.units") { pruning.units = pruning.units ?? 0.5 }
        guard let missing = pruning.missingCriterion else { return }
        let named = ["pruning.sparsity", "pruning.threshold", "pruning.units"].first { gridKeys.contains($0) }
        if pruning.method == .magnitude && base.pruning?.threshold == nil && base.pruning?.sparsity == nil && named == nil {
            throw SpecIssue("$.pruning", "give a \"threshold\" (prune weights with |w| below it) or a \"sparsity\" "
                            + "(fraction of weights to prune), in the section or in the grid")
        }
        throw SpecIssue(named.map { JSONPath.member("$.grid", $0) } ?? "$.pruning", missing)
    }

    /// A bare key given without its section ("layers") maps to its one dotted path; otherwise
    /// the closest dotted path by spelling.
    func suggestGridPath(_ key: String) -> String? {
        let sameKey = SettingField.all.filter { $0.isGridDimension && $0.key == key }
        if sameKey.count == 1 { return sameKey[0].path }
        return Spelling.closestMatch(to: key, among: SettingField.gridDimensions)
    }
}

