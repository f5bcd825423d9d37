import Foundation
import HarnessKit

struct ReportCommand: Subcommand {
    static let out = Option<String>.text("out", "FILE", help: "write the markdown to FILE and the SVG figures beside it "
                                         + "(with --all: the directory to write into)",
                                         defaultText: "print the markdown, without figures; with --all, results")
    static let rows = Option<String>.text("rows", "DIM", help: "a pivot table instead of the report: the grid dimension "
                                          + "down its rows (e.g. model.layers); needs --cols")
    static let cols = Option<String>.text("cols", "DIM", help: "the pivot table's dimension across its columns; needs --rows")
    static let format = Option<ReportFormat>.choice("format", "F", cases: ReportFormat.allCases,
                                                    help: "md: the report with SVG figures; csv: one row per grid point "
                                                    + "(mean, sd and n of every metric); json: points and jobs; latex: "
                                                    + "the report's tables as booktabs tabulars", default: .md)
    static let baseline = Option<String>.text("baseline", "K=V", help: "also compare every grid point with this one "
                                              + "(e.g. pruning.threshold=0.05; several as k=v,k2=v2); dimensions left "
                                              + "out are matched: each point against the one with these values and its own "
                                              + "values of the rest",
                                              defaultText: "the spec's \"baseline\", if any")
    static let metric = Option<String>.text("metric", "M", help: "the pivot table's metric: one of "
                                            + ReportMetric.names.joined(separator: ", "), default: "accuracy")
    static let all = Flag("all", help: "report every experiment of the database into the directory --out names "
                          + "(default results): <name>.md with its figures for each, and README.md, every paper value "
                          + "and claim against ours, one line each")

    static let command = CommandDescription(
        name: "report",
        summary: "write an experiment's results as markdown with SVG figures, or a pivot table",
        discussion: "Finished Slurm shards of the database's submissions are merged first (see harness merge).",
        positionals: [Positional("SPEC|EXPERIMENT", help: "a spec file, or the name of an experiment in the database "
                                 + "(none with --all)", noun: "spec file or experiment name", count: .optional)],
        options: [SharedOptions.db, out, format, baseline, rows, cols, metric, all],
        examples: ["harness report experiments/quick.json --out results/quick.md",
                   "harness report --all --out results",
                   "harness report layers --format csv --out results/layers.csv",
                   "harness report quick --rows model.layers --cols model.hidden --metric macro_f1"])

    /// Nil with `--all`.
    let subject: ReportSubject?
    let database: String
    let output: String?
    let format: ReportFormat
    let baselineArgument: String?
    let pivot: PivotRequest?

    init(_ arguments: ParsedArguments) throws {
        let usage = "usage: " + Help.usageLine(Self.command)
        database = try arguments.value(SharedOptions.db)
        output = try arguments.optional(Self.out)
        format = try arguments.value(Self.format)
        baselineArgument = try arguments.optional(Self.baseline)
        if arguments.flag(Self.all) {
            guard arguments.positionals.isEmpty else {
                throw HarnessError("harness report: --all reports every experiment of the database; give no spec or "
                                   + "experiment name (got \(arguments.positionals.joined(separator: " ")))")
            }
            let alone: [any DeclaredOption] = [Self.format, Self.baseline, Self.rows, Self.cols, Self.metric]
            if let other = alone.first(where: { arguments.isGiven($0) }) {
                throw HarnessError("harness report: --all writes markdown reports and their index; it does not take "
                                   + "--\(other.declaration.name)")
            }
            subject = nil
            pivot = nil
            return
        }
        guard let argument = arguments.positionals.first else {
            throw HarnessError("harness report: expected one spec file or experiment name, or --all; \(usage)")
        }
        subject = ReportSubject(argument: argument)
        switch (try arguments.optional(Self.rows), try arguments.optional(Self.cols)) {
        case let (rows?, columns?):
            pivot = PivotRequest(rows: rows, columns: columns, metric: try arguments.value(Self.metric))
        case (nil, nil):
            guard !arguments.isGiven(Self.metric) else {
                throw HarnessError("harness report: --metric needs --rows and --cols (a pivot table); \(usage)")
            }
            pivot = nil
        default:
            throw HarnessError("harness report: a pivot table needs both --rows and --cols; \(usage)")
        }
    }

    func run() throws -> Int32 {
        // Opening a missing path would create an empty database; a report only reads one.
        guard FileManager.default.fileExists(atPath: database) else {
            throw HarnessError("harness report: no results database at \(database) (run an experiment first, or give --db PATH)")
        }
        let store = try Store(path: database)
        mergeSlurmShards(into: store, command: Self.command.name)
        guard let subject else {
            let directory = output ?? "results"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw HarnessError("harness report: --all writes a report per experiment into a directory, and \(directory) "
                                   + "is a file; give --out a directory such as results")
            }
            let written = try ResultsIndex.write(try ResultsIndex.load(store: store), to: directory, database: database)
            standardError("wrote \(written.count - 1) report\(written.count == 2 ? "" : "s") and "
                          + "\(URL(fileURLWithPath: directory).appendingPathComponent(ResultsIndex.fileName).relativePath)")
            return 0
        }
        let data = try ReportData.load(store: store, subject: subject)
        if let pivot {
            let text = try Report.pivot(data, pivot, format: format)
            if let output {
                try Report.writeText(text, to: output, format: format, database: database)
            } else {
                standardOutput(text, terminator: "")
            }
            return 0
        }
        if format != .md {
            let text = try Report.export(data, format: format, baseline: baselineArgument)
            if let output {
                try Report.writeText(text, to: output, format: format, database: database)
                standardError("wrote \(output)")
            } else {
                standardOutput(text, terminator: "")
            }
            return 0
        }
        if let output {
            let document = try Report.render(data, figureStem: Report.figureStem(forOutput: output), baseline: baselineArgument)
            try Report.write(document, to: output, database: database)
            standardError("wrote \(output) and \(document.figures.count) figure\(document.figures.count == 1 ? "" : "s") beside it")
        } else {
            standardOutput(try Report.render(data, figureStem: nil, baseline: baselineArgument).markdown, terminator: "")
        }
        return 0
    }
}
