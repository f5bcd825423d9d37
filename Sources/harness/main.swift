import Foundation
import HarnessKit

/// A subcommand: parses its own arguments and runs, returning the process's exit status.
protocol Subcommand {
    static var name: String { get }
    static var summary: String { get }
    init(arguments: [String]) throws
    func run() throws -> Int32
}

let subcommands: [any Subcommand.Type] = [RunCommand.self, PlanCommand.self, StatusCommand.self, ReportCommand.self,
                                         SubmitCommand.self, WorkerCommand.self, MergeCommand.self, BenchCommand.self]

@MainActor func usage() -> String {
    let lines = subcommands.map { "  \($0.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.summary)" }
    return "usage: harness <command> [options]\n\ncommands:\n" + lines.joined(separator: "\n")
}

func standardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

let argv = Array(CommandLine.arguments.dropFirst())
guard let name = argv.first, !["-h", "--help", "help"].contains(name) else {
    print(usage())
    exit(argv.isEmpty ? 2 : 0)
}
guard let command = subcommands.first(where: { $0.name == name }) else {
    standardError("harness: unknown command \"\(name)\"\n\n" + usage())
    exit(2)
}
do {
    exit(try command.init(arguments: Array(argv.dropFirst())).run())
} catch {
    standardError("\(error)")
    exit(1)
}
