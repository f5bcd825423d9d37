/// The grid point a report compares every other point with, besides the best: the spec's
/// `"baseline": {"pruning.threshold": 0.05}` or `harness report --baseline 'pruning.threshold=0.05'`.
/// It names a value for grid dimensions so that exactly one grid point has them all
/// (dimensions with a single value may be left out).
struct Baseline: Sendable, Equatable {
    /// The grid point's index, in `spec.jobs()`'s order of points.
    let point: Int
    /// The values as given, for the report's text.
    let values: [(path: String, value: JSONValue)]

    static func == (a: Baseline, b: Baseline) -> Bool { a.point == b.point }

    /// The spec's own `baseline`, or nil when it has none. `origin` names the spec in errors.
    init?(spec: ExperimentSpec, origin: String) throws {
        guard let root = try? JSONValue.parse(spec.sourceJSON), let given = root["baseline"] else { return nil }
        guard case let .object(members) = given, !members.isEmpty else {
            throw HarnessError("\(origin): $.baseline: expected an object of grid values such as "
                               + "{\"pruning.threshold\": 0.05}, found \(given.canonicalText())")
        }
        try self.init(members, spec: spec, describe: { "\(origin): \(JSONPath.member("$.baseline", $0))" })
    }

    /// `--baseline 'k=v,k2=v2'`: each value read as JSON when it parses, else as a string.
    init(argument: String, spec: ExperimentSpec) throws {
        var members: [(key: String, value: JSONValue)] = []
        for pair in argument.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else {
                throw HarnessError("harness report: --baseline \(argument): expected DIMENSION=VALUE pairs such as "
                                   + "pruning.threshold=0.05, separated by commas")
            }
            let key = String(pair[..<equals]).trimmingCharacters(in: .whitespaces)
            let text = String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            members.append((key, (try? JSONValue.parse(text)) ?? .string(text)))
        }
        guard !members.isEmpty else { throw HarnessError("harness report: --baseline needs DIMENSION=VALUE") }
        try self.init(members, spec: spec, describe: { "harness report: --baseline \($0)" })
    }

    private init(_ members: [(key: String, value: JSONValue)], spec: ExperimentSpec, describe: (String) -> String) throws {
        var index: [Int?] = Array(repeating: nil, count: spec.grid.count)
        for (key, value) in members {
            guard let dimension = spec.grid.firstIndex(where: { $0.path == key }) else {
                let names = spec.grid.map(\.path).joined(separator: ", ")
                throw HarnessError("\(describe(key)): not a grid dimension of the spec (its dimensions: \(names.isEmpty ? "none" : names))")
            }
            guard let valueIndex = spec.grid[dimension].values.firstIndex(where: { PointAssignment.same($0, value) }) else {
                let values = spec.grid[dimension].values.map(GridLabel.value).joined(separator: ", ")
                throw HarnessError("\(describe(key)): \(value.canonicalText()) is not one of the grid's values (\(values))")
            }
            index[dimension] = valueIndex
        }
        for (dimension, chosen) in index.enumerated() where chosen == nil {
            guard spec.grid[dimension].values.count == 1 else {
                throw HarnessError("\(describe(spec.grid[dimension].path)): give a value for it too; the baseline must "
                                   + "name one grid point")
            }
            index[dimension] = 0
        }
        // The first dimension varies slowest, as in ExperimentSpec.expand.
        point = zip(spec.grid, index).reduce(0) { $0 * $1.0.values.count + $1.1! }
        values = members.map { (path: $0.key, value: $0.value) }
    }
}
