/// A two-way table of one metric: `harness report ... --rows DIM --cols DIM --metric M`.
public struct PivotRequest: Sendable, Equatable {
    public let rows: String
    public let columns: String
    public let metric: String

    public init(rows: String, columns: String, metric: String) {
        self.rows = rows
        self.columns = columns
        self.metric = metric
    }
}

extension Report {
    /// Names `--rows` and `--cols` accept: every grid dimension of the spec format, and `seed`.
    public static let pivotDimensions = ExperimentSpec.gridDimensions + ["seed"]

    /// The pivot as markdown: one cell per (row value, column value) with the mean of the
    /// metric over the done jobs there, whatever their other grid values and seeds, and n;
    /// an "all" row and column hold the margins. Names are checked against fixed lists and
    /// values come from the parsed configs, never from SQL built out of user text.
    public static func pivot(_ data: ReportData, _ request: PivotRequest, format: ReportFormat = .md) throws -> String {
        for (name, option) in [(request.rows, "--rows"), (request.columns, "--cols")] where !pivotDimensions.contains(name) {
            var message = "harness report: unknown dimension \"\(name)\" for \(option)"
            if let guess = suggestDimension(name) { message += "; did you mean \"\(guess)\"?" }
            throw HarnessError(message + " (dimensions: \(pivotDimensions.joined(separator: ", ")))")
        }
        guard request.rows != request.columns else {
            throw HarnessError("harness report: --rows and --cols are both \(request.rows); give two different dimensions")
        }
        let metric = try ReportMetric.lookup(request.metric, option: "--metric")

        let jobs = data.jobs
        let rowValues = orderedValues(data, request.rows)
        let columnValues = orderedValues(data, request.columns)
        func index(_ values: [JSONValue], _ value: JSONValue) -> Int {
            values.firstIndex { PointAssignment.same($0, value) }!
        }
        // cells[row][column]: the metric's values there; the extra last row and column collect the margins.
        var cells = [[[Double]]](repeating: [[Double]](repeating: [], count: columnValues.count + 1),
                                 count: rowValues.count + 1)
        for job in jobs where job.isDone {
            guard let value = metric.value(job.result) else { continue }
            let row = index(rowValues, data.value(of: request.rows, for: job))
            let column = index(columnValues, data.value(of: request.columns, for: job))
            for r in [row, rowValues.count] {
                for c in [column, columnValues.count] { cells[r][c].append(value) }
            }
        }

        func cell(_ values: [Double]) -> String {
            let summary = Summary(values)
            return summary.count == 0 ? "–" : "\(metric.text(summary.mean)) (n=\(summary.count))"
        }
        var table = MarkdownTable([.init("\(request.rows) \\ \(request.columns)", .left)]
                                  + columnValues.map { .init(GridLabel.value($0)) } + [.init("all")])
        for (row, value) in rowValues.enumerated() {
            table.add([GridLabel.value(value)] + cells[row].map(cell))
        }
        table.add(["all"] + cells[rowValues.count].map(cell))
        let title = "\(data.spec.name): \(metric.title) by \(request.rows) × \(request.columns)"

        switch format {
        case .md: break
        case .latex:
            return "\(ReportFormat.latex.signature) of \(data.spec.name): a pivot table for \\usepackage{booktabs}\n\n"
                + LaTeXTable.render(table, caption: title + " (mean over the done jobs in each cell, with n)",
                                    label: "tab:\(data.spec.name)-pivot") + "\n"
        case .csv, .json:
            // One row per (row value, column value) cell with its mean and n, margins as "all".
            var cellsTable = DataTable(name: "pivot", columns: ["point", request.rows, request.columns,
                                                                metric.name + "_mean", metric.name + "_n"])
            let rowKeys = rowValues + [.string("all")], columnKeys = columnValues + [.string("all")]
            for (r, rowValue) in rowKeys.enumerated() {
                for (c, columnValue) in columnKeys.enumerated() {
                    let summary = Summary(cells[r][c])
                    cellsTable.rows.append([.int(cellsTable.rows.count + 1), rowValue, columnValue,
                                            summary.count > 0 ? number(summary.mean) : .null, .int(summary.count)])
                }
            }
            if format == .csv { return cellsTable.csv }
            return JSONValue.object([("experiment", .string(data.spec.name)), ("pivot", cellsTable.json)]).orderedText() + "\n"
        }

        var lines = [
            "# " + title,
            "",
            "Mean over the done jobs in each cell (seeds and the other grid dimensions pooled), with n.",
            "",
            table.text,
            "",
        ]
        let notDone = jobs.filter { !$0.isDone }
        if !notDone.isEmpty {
            lines.append("Jobs not done, left out: \(describeStates(notDone)).")
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// A misspelt dotted path, or a bare key ("hidden") that names one dimension.
    static func suggestDimension(_ name: String) -> String? {
        let sameKey = pivotDimensions.filter { $0.split(separator: ".").last.map(String.init) == name }
        if sameKey.count == 1 { return sameKey[0] }
        return Spelling.closestMatch(to: name, among: pivotDimensions)
    }

    /// The distinct values `dimension` takes over the experiment's jobs: a grid
    /// dimension's in the spec's order, others sorted (null first, then numbers, then the
    /// rest by their JSON text).
    static func orderedValues(_ data: ReportData, _ dimension: String) -> [JSONValue] {
        var values: [JSONValue] = []
        for job in data.jobs {
            let value = data.value(of: dimension, for: job)
            if !values.contains(where: { PointAssignment.same($0, value) }) { values.append(value) }
        }
        if let grid = data.spec.grid.first(where: { $0.path == dimension }) {
            func rank(_ value: JSONValue) -> Int {
                grid.values.firstIndex { PointAssignment.same($0, value) } ?? grid.values.count
            }
            return values.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        }
        func key(_ value: JSONValue) -> (Int, Double, String) {
            switch value {
            case .null: return (0, 0, "")
            case let .int(n): return (1, Double(n), "")
            case let .double(x): return (1, x, "")
            default: return (2, 0, value.canonicalText())
            }
        }
        return values.sorted { key($0) < key($1) }
    }
}
