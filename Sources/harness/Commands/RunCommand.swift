import Foundation
import HarnessKit

struct RunCommand: Subcommand {
    static let force = Flag("force", help: "rerun jobs that are already done (each once; earlier results are kept)")
    static let retryFailed = Flag("retry-failed", help: "run again the jobs whose last run failed (by default they stay "
                                  + "failed: a diverging loss fails again with the same seed)")

    static let command = CommandDescription(
        name: "run",
        summary: "run a spec's jobs that are not done yet, recording results in SQLite",
        discussion: "Jobs already done in the database are skipped, so rerunning a spec runs only what is missing. "
            + "Several processes may run one spec on one database: each job runs once, a process waits for the jobs "
            + "others are running (taking over any whose process dies), and each exits 0 once every job is done. "
            + "With adaptive seeds (\"seeds\": {\"start\": 3, \"max\": 10}), it then adds seeds in rounds, one at a "
            + "time, to the grid points whose comparison with the best is undecided, until decided or max. "
            + "Ctrl-C or SIGTERM stops claiming jobs and records the running ones as interrupted; "
            + "a second signal quits at once.",
        positionals: [Positional("SPEC", help: "the experiment spec, a JSON file", noun: "spec file")],
        options: [SharedOptions.db, SharedOptions.data, SharedOptions.jobs, SharedOptions.threads, force, retryFailed],
        examples: ["harness run experiments/quick.json",
                   "harness run experiments/quick.json --data ../shared/data/fashion-mnist-prefix --jobs 2 --threads 1"])

    let options: RunOptions

    init(_ arguments: ParsedArguments) throws {
        options = RunOptions(specPath: arguments.positionals[0], databasePath: try arguments.value(SharedOptions.db),
                             dataDirectory: try arguments.optional(SharedOptions.data),
                             workers: try arguments.optional(SharedOptions.jobs),
                             threadsPerJob: try arguments.optional(SharedOptions.threads),
                             force: arguments.flag(Self.force), retryFailed: arguments.flag(Self.retryFailed))
    }

    func run() throws -> Int32 {
        let summary = try withStopSignals(command: Self.command.name,
                                          whatHappens: "the running jobs are recorded as interrupted") { stop in
            try Scheduler(options: options, stop: stop, log: .forStandardError()).run()
        }
        standardOutput("\(summary.total) jobs: \(summary.alreadyDone) already done, \(summary.completed) completed, "
                       + "\(summary.failed) failed, \(summary.interrupted) interrupted; \(summary.notDone) not done"
                       + (summary.failedBefore > 0 ? " (\(summary.failedBefore) failed in an earlier run: --retry-failed "
                          + "runs them again)" : ""))
        standardOutput("results in \(options.databasePath)")
        if let number = summary.stoppedBySignal { return 128 + number }
        return summary.allDone ? 0 : 1
    }
}
