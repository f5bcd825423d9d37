import Foundation
import HarnessKit

struct StatusCommand: Subcommand {
    static let command = CommandDescription(
        name: "status",
        summary: "show each experiment's jobs by state",
        discussion: "Finished Slurm shards of the database's submissions are merged first (see harness merge).",
        options: [SharedOptions.db],
        examples: ["harness status", "harness status --db elsewhere/harness.sqlite"])

    let databasePath: String

    init(_ arguments: ParsedArguments) throws {
        databasePath = try arguments.value(SharedOptions.db)
    }

    func run() throws -> Int32 {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw HarnessError("harness status: no database at \(databasePath) (run a spec first, or give --db PATH)")
        }
        let store = try Store(path: databasePath)
        mergeSlurmShards(into: store, command: Self.command.name)
        let rows = try store.statusSummary()
        standardOutput(StatusTable.render(rows, gone: try store.runningJobsWhoseProcessIsGone()), terminator: "")
        return 0
    }
}
