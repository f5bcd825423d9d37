import Foundation
import HarnessKit

struct MergeCommand: Subcommand {
    static let command = CommandDescription(
        name: "merge",
        summary: "copy the finished runs of Slurm shard databases into the main database",
        discussion: "Without shard files, merges every complete shard of the submissions made with this database. "
            + "Merging is idempotent: a run already merged is not copied again.",
        positionals: [Positional("SHARD.sqlite", help: "particular shard databases to merge", noun: "shard database",
                                 count: .any)],
        options: [SharedOptions.db],
        examples: ["harness merge", "harness merge --db results/harness.sqlite results/slurm/quick-20250101-120000/shard-3.sqlite"])

    let databasePath: String
    let shards: [String]

    init(_ arguments: ParsedArguments) throws {
        shards = arguments.positionals
        databasePath = try arguments.value(SharedOptions.db)
    }

    func run() throws -> Int32 {
        guard !shards.isEmpty || FileManager.default.fileExists(atPath: databasePath) else {
            throw HarnessError("harness merge: no database at \(databasePath) (give --db PATH, the database you submitted with)")
        }
        let store = try Store(path: databasePath)
        let report = shards.isEmpty ? SlurmShards.mergeAll(into: store) : SlurmShards.merge(shards, into: store)
        for error in report.errors { standardError("harness merge: \(error)") }
        standardOutput(report.summary())
        return report.errors.isEmpty ? 0 : 1
    }
}
