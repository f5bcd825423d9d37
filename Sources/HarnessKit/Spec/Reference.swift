/// The paper's numbers for an experiment, read from the spec's `reference` field, which
/// the report shows in a column beside each of ours:
///
///     "reference": {
///       "source": "Shen, Table 3",
///       "note": "the paper's 'after pruning' column is after retraining",
///       "rows": [
///         {"pruning.threshold": 0.05, "accuracy_before_pruning": 0.8735, "accuracy": 0.8875,
///          "update_seconds": 0.0007, "update_seconds_pruned": 0.0018},
///         {"pruning.threshold": 0.1, "accuracy_before_pruning": 0.8784, "accuracy": 0.8772}
///       ]
///     }
///
/// `source` and `note` are optional text. Each row's keys are grid dimensions of the spec,
/// which say which grid points the row describes, and result column names (`ResultColumn.names`)
/// with values in the database's units: fractions for accuracies and sparsity, seconds for
/// times; `null` means "not reported". A row matches a grid point when every dimension it
/// names has the point's value (numbers compare by value, so 1 matches 1.0); a dimension
/// it leaves out matches any value, so a row without dimensions describes every point, as
/// for an experiment without a grid. When several rows match, the first that gives the
/// metric wins.
///
/// `"best": {"model.layers": 2}` states the paper's ranking claim: the best configuration
/// has these grid values (a subset of the grid's dimensions, each one of its values); a
/// list of such objects states several claims.
struct ReferenceTable: Sendable {
    struct Row: Sendable {
        let dimensions: [(path: String, value: JSONValue)]
        let metrics: [String: Double]
    }

    let source: String?
    let note: String?
    let rows: [Row]
    /// How far (in the metric's units: 0.01 is one percentage point) our mean may be from the
    /// paper's and still count as consistent with it; `"margin"`, default 0.01.
    let margin: Double
    /// The paper's ranking claims, each the grid values it says the best configuration has;
    /// empty when it makes none.
    let best: [[(path: String, value: JSONValue)]]

    /// The spec's reference, or nil when it has none. `origin` names the spec in errors.
    init?(spec: ExperimentSpec, origin: String) throws {
        guard let reference = spec.reference else { return nil }
        func fail(_ path: String, _ message: String) -> HarnessError { HarnessError("\(origin): \(path): \(message)") }
        let format = #"expected {"source": "...", "rows": [{"<grid dimension>": value, "<metric>": number, ...}]}"#

        guard case let .object(members) = reference else { throw fail("$.reference", "\(format), found \(reference.canonicalText())") }
        for (key, _) in members where !["source", "note", "rows", "margin", "best"].contains(key) {
            throw fail(JSONPath.member("$.reference", key), "unknown key; \(format)")
        }
        func text(_ key: String) throws -> String? {
            switch reference[key] {
            case nil, .null?: return nil
            case let .string(value)?: return value
            case let other?: throw fail("$.reference.\(key)", "expected a string, found \(other.canonicalText())")
            }
        }
        source = try text("source")
        note = try text("note")
        switch reference["margin"] {
        case nil, .null?: margin = 0.01
        case let .double(x)? where x > 0 && x.isFinite: margin = x
        case let .int(n)? where n > 0: margin = Double(n)
        case let other?: throw fail("$.reference.margin", "expected a number > 0 (0.01 is one percentage point), found \(other.canonicalText())")
        }

        /// One claim: an object of grid values, at `path` in the spec.
        func claim(_ value: JSONValue, at path: String) throws -> [(path: String, value: JSONValue)] {
            guard case let .object(claimed) = value, !claimed.isEmpty else {
                throw fail(path, "expected an object of grid values the paper's best configuration has, "
                           + #"like {"model.layers": 2}, found "# + value.canonicalText())
            }
            return try claimed.map { key, value in
                let memberPath = JSONPath.member(path, key)
                guard let dimension = spec.grid.first(where: { $0.path == key }) else {
                    var message = "not a grid dimension of this spec; \"best\" names grid values"
                        + (spec.grid.isEmpty ? ", and this spec has no grid" : " (\(spec.grid.map(\.path).joined(separator: ", ")))")
                    if let guess = Spelling.closestMatch(to: key, among: spec.grid.map(\.path)) { message += "; did you mean \"\(guess)\"?" }
                    throw fail(memberPath, message)
                }
                // A section-valued dimension's variant may be named by its label: {"model": "CNN"}.
                if case .string = value, let variant = dimension.values.first(where: { $0[SettingField.variantLabelKey] == value }) {
                    return (key, variant)
                }
                guard dimension.values.contains(where: { PointAssignment.same($0, value) }) else {
                    throw fail(memberPath, "\(value.canonicalText()) is not one of the grid's values "
                               + "(\(dimension.values.map { GridLabel.value($0) }.joined(separator: ", ")))")
                }
                return (key, value)
            }
        }
        switch reference["best"] {
        case nil, .null?: best = []
        case let .array(claims)?: best = try claims.enumerated().map { try claim($1, at: "$.reference.best[\($0)]") }
        case let value?: best = [try claim(value, at: "$.reference.best")]
        }

        guard case let .array(elements)? = reference["rows"] else {
            throw fail("$.reference.rows", "missing or not a list; \(format)")
        }
        let dimensions = spec.grid.map(\.path)
        rows = try elements.enumerated().map { index, element in
            let rowPath = "$.reference.rows[\(index)]"
            guard case let .object(fields) = element else {
                throw fail(rowPath, "expected an object of grid values and metrics, found \(element.canonicalText())")
            }
            var row: [(path: String, value: JSONValue)] = []
            var metrics: [String: Double] = [:]
            for (key, value) in fields {
                let path = JSONPath.member(rowPath, key)
                if dimensions.contains(key) {
                    row.append((key, value))
                } else if ResultColumn.names.contains(key) {
                    switch value {
                    case .null: break
                    case let .int(n): metrics[key] = Double(n)
                    case let .double(x): metrics[key] = x
                    default: throw fail(path, "expected a number (or null), found \(value.canonicalText())")
                    }
                } else {
                    let known = dimensions + ResultColumn.names
                    var message = "unknown key; expected "
                        + (dimensions.isEmpty ? "" : "a grid dimension (\(dimensions.joined(separator: ", "))) or ")
                        + "a metric (\(ResultColumn.names.joined(separator: ", ")))"
                    if let guess = Spelling.closestMatch(to: key, among: known) { message += "; did you mean \"\(guess)\"?" }
                    throw fail(path, message)
                }
            }
            return Row(dimensions: row, metrics: metrics)
        }
    }

    /// Whether any row gives `metric`, i.e. whether its column is worth showing.
    func has(_ metric: String) -> Bool { rows.contains { $0.metrics[metric] != nil } }

    /// The paper's value of `metric` at the grid point with `values` (one per dimension).
    func value(_ metric: String, dimensions: [String], values: [JSONValue]) -> Double? {
        for row in rows {
            guard let value = row.metrics[metric] else { continue }
            let matches = row.dimensions.allSatisfy { entry in
                guard let column = dimensions.firstIndex(of: entry.path) else { return false }
                return PointAssignment.same(entry.value, values[column])
            }
            if matches { return value }
        }
        return nil
    }
}
