import Foundation
import HarnessKit

struct ReportCommand: Subcommand {
    static let name = "report"
    static let summary = "write an experiment's results as markdown with SVG figures, or a pivot table"
    static let usage = "harness report SPEC|EXPERIMENT [--db PATH] [--out FILE] [--rows DIM --cols DIM [--metric M]]"

    let subject: ReportSubject
    let database: String
    let output: String?
    let pivot: PivotRequest?

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments, valueOptions: ["db", "out", "rows", "cols", "metric"])
        let positionals = try args.positionals(1...1, usage: "one spec file or experiment name; usage: \(Self.usage)")
        subject = ReportSubject(argument: positionals[0])
        database = args.string("db") ?? Report.defaultDatabasePath
        output = args.string("out")
        switch (args.string("rows"), args.string("cols")) {
        case let (rows?, columns?):
            pivot = PivotRequest(rows: rows, columns: columns, metric: args.string("metric") ?? "accuracy")
        case (nil, nil):
            guard args.string("metric") == nil else {
                throw HarnessError("harness report: --metric needs --rows and --cols (a pivot table); usage: \(Self.usage)")
            }
            pivot = nil
        default:
            throw HarnessError("harness report: a pivot table needs both --rows and --cols; usage: \(Self.usage)")
        }
    }

    func run() throws -> Int32 {
        // Opening a missing path would create an empty database; a report only reads one.
        guard FileManager.default.fileExists(atPath: database) else {
            throw HarnessError("harness report: no results database at \(database) (run an experiment first, or give --db PATH)")
        }
        let store = try Store(path: database)
        mergeSlurmShards(into: store, command: Self.name)
        let data = try ReportData.load(store: store, subject: subject)
        if let pivot {
            let markdown = try Report.pivot(data, pivot)
            if let output { try Report.writeText(markdown, to: output) } else { print(markdown, terminator: "") }
            return 0
        }
        if let output {
            let document = try Report.render(data, figureStem: Report.figureStem(forOutput: output))
            try Report.write(document, to: output)
            standardError("wrote \(output) and \(document.figures.count) figure\(document.figures.count == 1 ? "" : "s") beside it")
        } else {
            print(try Report.render(data, figureStem: nil).markdown, terminator: "")
        }
        return 0
    }
}
