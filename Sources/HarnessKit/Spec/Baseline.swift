/// The grid points a report compares every other point with, besides the best: the spec's
/// `"baseline": {"pruning.threshold": 0.05}` or `harness report --baseline 'pruning.threshold=0.05'`.
///
/// It names a value for some grid dimensions. Naming every dimension that has several values
/// names one grid point, which every other point is compared with. Leaving some out makes a
/// matched baseline: each point is compared with the point that has the baseline's values on
/// the named dimensions and its own values on the others: with `{"training.learning_rate":
/// 0.001}` over training fractions × learning rates, each learning rate at a fraction is
/// compared with 0.001 at that same fraction, not at whichever fraction one happened to name.
struct Baseline: Sendable, Equatable {
    /// Per grid point (in `spec.jobs()`'s order of points), the index of the point it is
    /// compared with; nil for the reference points themselves.
    let references: [Int?]
    /// The dimensions the baseline names, in grid order, with the grid's value for each.
    let named: [(path: String, value: JSONValue)]
    /// The dimensions with several values that the baseline leaves out, in grid order: each
    /// point keeps its own value of these. Empty when the baseline names one point.
    let matched: [String]

    static func == (a: Baseline, b: Baseline) -> Bool { a.references == b.references }

    /// The reference points, in grid order: one for a baseline that names a single point,
    /// one per combination of the matched dimensions' values otherwise.
    var referencePoints: [Int] { references.indices.filter { references[$0] == nil } }

    /// The points that are compared with a reference point, grouped by it: in the order of
    /// their reference points, then in grid order.
    var comparedPoints: [Int] {
        references.indices.filter { references[$0] != nil }.sorted { (references[$0]!, $0) < (references[$1]!, $1) }
    }

    /// The one point every other is compared with, or nil for a matched baseline.
    var point: Int? { matched.isEmpty ? referencePoints.first : nil }

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
        // The value index the baseline gives each dimension; nil where it leaves it out.
        var chosen: [Int?] = Array(repeating: nil, count: spec.grid.count)
        for (key, value) in members {
            guard let dimension = spec.grid.firstIndex(where: { $0.path == key }) else {
                let names = spec.grid.map(\.path).joined(separator: ", ")
                throw HarnessError("\(describe(key)): not a grid dimension of the spec (its dimensions: \(names.isEmpty ? "none" : names))")
            }
            guard let valueIndex = spec.grid[dimension].values.firstIndex(where: { PointAssignment.same($0, value) }) else {
                let values = spec.grid[dimension].values.map(GridLabel.value).joined(separator: ", ")
                throw HarnessError("\(describe(key)): \(value.canonicalText()) is not one of the grid's values (\(values))")
            }
            chosen[dimension] = valueIndex
        }
        named = spec.grid.indices.compactMap { d in chosen[d].map { (path: spec.grid[d].path, value: spec.grid[d].values[$0]) } }
        matched = spec.grid.indices.filter { chosen[$0] == nil && spec.grid[$0].values.count > 1 }.map { spec.grid[$0].path }
        // Naming only dimensions with one value would match every point with itself.
        guard matched.isEmpty || chosen.indices.contains(where: { chosen[$0] != nil && spec.grid[$0].values.count > 1 }) else {
            throw HarnessError("\(describe(members[0].key)): the grid gives it a single value, so the baseline would compare "
                               + "each grid point with itself; name a dimension with several values instead "
                               + "(\(matched.joined(separator: ", ")))")
        }

        // A point's reference has the baseline's value where it gives one and the point's
        // own value elsewhere. The first dimension varies slowest, as in ExperimentSpec.expand.
        let counts = spec.grid.map(\.values.count)
        references = (0..<spec.gridPointCount).map { point in
            var rest = point, indices = counts
            for d in counts.indices.reversed() {
                indices[d] = rest % counts[d]
                rest /= counts[d]
            }
            let reference = counts.indices.reduce(0) { $0 * counts[$1] + (chosen[$1] ?? indices[$1]) }
            return reference == point ? nil : reference
        }
    }
}
