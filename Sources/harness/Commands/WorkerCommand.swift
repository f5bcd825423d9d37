import HarnessKit

struct WorkerCommand: Subcommand {
    static let jobsFile = Option<String>.text("jobs-file", "FILE", help: "the submission's submission.json",
                                              required: true)
    static let index = Option<Int>.integer("index", "I", range: 0...10_000_000,
                                           help: "the array task id, $SLURM_ARRAY_TASK_ID", required: true)
    static let shard = Option<String>.text("shard", "PATH", help: "where the task's shard database goes; written as "
                                           + "PATH.partial and renamed when the task ends", required: true)

    static let command = CommandDescription(
        name: "worker",
        summary: "run one Slurm array task's jobs into its shard database (used by submit's scripts)",
        discussion: "SIGTERM (scancel, the time limit, preemption) records the running job as interrupted and "
            + "publishes the shard; that job stays pending in the main database.",
        options: [jobsFile, index, shard, SharedOptions.jobs, SharedOptions.threads],
        examples: ["harness worker --jobs-file results/slurm/quick-20250101-120000/submission.json "
                   + "--index 0 --shard results/slurm/quick-20250101-120000/shard-0.sqlite"])

    let options: WorkerOptions

    init(_ arguments: ParsedArguments) throws {
        options = WorkerOptions(jobsFile: try arguments.value(Self.jobsFile), index: try arguments.value(Self.index),
                                shardPath: try arguments.value(Self.shard),
                                workers: try arguments.optional(SharedOptions.jobs),
                                threadsPerJob: try arguments.optional(SharedOptions.threads))
    }

    func run() throws -> Int32 {
        // scancel, the time limit and preemption send SIGTERM (SIGKILL follows after
        // Slurm's KillWait): the running job is recorded as interrupted and the shard
        // published, so its finished jobs are kept and the interrupted one stays pending.
        let outcome = try withStopSignals(command: Self.command.name,
                                          whatHappens: "the running job is recorded as interrupted") { stop in
            try ShardWorker.run(options, stop: stop, log: .forStandardError())
        }
        let summary = outcome.summary
        standardOutput("task \(options.index): \(summary.total) jobs: \(summary.completed) completed, \(summary.failed) failed, "
                       + "\(summary.interrupted) interrupted; shard \(outcome.shard)")
        if let number = summary.stoppedBySignal { return 128 + number }
        return summary.allDone ? 0 : 1
    }
}
