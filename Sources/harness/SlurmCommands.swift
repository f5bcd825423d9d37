import Dispatch
import Foundation
import HarnessKit

struct SubmitCommand: Subcommand {
    static let name = "submit"
    static let summary = "submit a spec's pending jobs to Slurm as one job array"
    static let usage = "one spec file: harness submit SPEC.json --slurm [--partition P] [--time HH:MM:SS] "
        + "[--cpus-per-task N] [--max-parallel K] [--jobs-per-task N] [--db PATH] [--data DIR] [--no-merge-job] [--dry-run]"
    let options: SubmitOptions

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments,
                                 valueOptions: ["partition", "time", "cpus-per-task", "max-parallel", "jobs-per-task",
                                                "db", "data"],
                                 flagOptions: ["slurm", "dry-run", "no-merge-job"])
        let spec = try args.positionals(1...1, usage: Self.usage)[0]
        // Slurm is the only batch system so far; the flag keeps room for others.
        guard args.flag("slurm") else {
            throw HarnessError("harness submit: say which batch system to submit to: --slurm (the only one supported)")
        }
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().path else {
            throw HarnessError("harness submit: cannot find the path of the running harness binary")
        }
        options = SubmitOptions(specPath: spec, databasePath: args.string("db") ?? defaultDatabase,
                                dataDirectory: args.string("data"), partition: args.string("partition"),
                                timeLimit: args.string("time"),
                                cpusPerTask: try args.int("cpus-per-task", default: 1, range: 1...1024)!,
                                maxParallel: try args.int("max-parallel", range: 1...100_000),
                                jobsPerTask: try args.int("jobs-per-task", range: 1...1_000_000),
                                mergeJob: !args.flag("no-merge-job"), dryRun: args.flag("dry-run"),
                                executable: executable)
    }

    func run() throws -> Int32 {
        let submission = try SlurmSubmitter.submit(options, log: .forStandardError())
        reportMerge(submission.merge, command: Self.name)
        guard let directory = submission.directory, let arrayScript = submission.arrayScript else {
            print("nothing to submit: all \(submission.totalJobs) jobs of \(submission.experiment) are done")
            return 0
        }
        standardError("\(submission.experiment): \(submission.pendingJobs.count) of \(submission.totalJobs) jobs pending, "
                      + "\(submission.tasks) array task(s); scripts in \(directory)")
        if let id = submission.arrayJobID {
            if let mergeID = submission.mergeJobID {
                standardError("merge job \(mergeID) runs harness merge after array job \(id) has ended")
            } else {
                standardError("run harness merge --db \(options.databasePath) once array job \(id) has ended")
            }
            print(id)
        } else {
            // --dry-run: what would have been run.
            print("sbatch --parsable \(arrayScript)")
            if let mergeScript = submission.mergeScript {
                print("sbatch --parsable --dependency=afterany:<array job id> \(mergeScript)")
            }
        }
        return 0
    }
}

struct WorkerCommand: Subcommand {
    static let name = "worker"
    static let summary = "run one Slurm array task's jobs into its shard database (used by submit's scripts)"
    let options: WorkerOptions

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments,
                                 valueOptions: ["jobs-file", "index", "shard", "jobs", "threads"])
        _ = try args.positionals(0...0, usage: "no positional arguments: harness worker --jobs-file FILE --index I "
                                     + "--shard PATH [--jobs N] [--threads N]")
        func required(_ name: String) throws -> String {
            guard let value = args.string(name) else { throw HarnessError("harness worker: --\(name) is required") }
            return value
        }
        guard let index = try args.int("index", range: 0...10_000_000) else {
            throw HarnessError("harness worker: --index is required (the array task id, $SLURM_ARRAY_TASK_ID)")
        }
        options = WorkerOptions(jobsFile: try required("jobs-file"), index: index, shardPath: try required("shard"),
                                workers: try args.int("jobs", range: 1...256), threadsPerJob: try args.int("threads", range: 1...256))
    }

    func run() throws -> Int32 {
        let stop = StopFlag()
        // scancel, the time limit and preemption send SIGTERM (SIGKILL follows after
        // Slurm's KillWait): the running job is recorded as interrupted and the shard
        // published, so its finished jobs are kept and the interrupted one stays pending.
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isSet { exit(128 + number) }
                stop.set(signal: number)
                standardError("harness worker: stopping; the running job is recorded as interrupted")
            }
            source.resume()
            return source
        }
        let outcome = try ShardWorker.run(options, stop: stop, log: .forStandardError())
        sources.forEach { $0.cancel() }
        let summary = outcome.summary
        print("task \(options.index): \(summary.total) jobs: \(summary.completed) completed, \(summary.failed) failed, "
              + "\(summary.interrupted) interrupted; shard \(outcome.shard)")
        if let number = summary.stoppedBySignal { return 128 + number }
        return summary.allDone ? 0 : 1
    }
}

struct MergeCommand: Subcommand {
    static let name = "merge"
    static let summary = "copy the finished runs of Slurm shard databases into the main database"
    let databasePath: String
    let shards: [String]

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments, valueOptions: ["db"])
        shards = try args.positionals(0...Int.max, usage: "harness merge [--db PATH] [SHARD.sqlite ...]")
        databasePath = args.string("db") ?? defaultDatabase
    }

    func run() throws -> Int32 {
        guard !shards.isEmpty || FileManager.default.fileExists(atPath: databasePath) else {
            throw HarnessError("harness merge: no database at \(databasePath) (give --db PATH, the database you submitted with)")
        }
        let store = try Store(path: databasePath)
        let report = shards.isEmpty ? SlurmShards.mergeAll(into: store) : SlurmShards.merge(shards, into: store)
        for error in report.errors { standardError("harness merge: \(error)") }
        print(report.summary())
        return report.errors.isEmpty ? 0 : 1
    }
}

/// `status` (and anything else that reads results) merges finished shards first, so it
/// shows what the cluster has done. Problems are reported, not fatal: the database
/// itself is still readable.
func mergeSlurmShards(into store: Store, command: String) {
    reportMerge(SlurmShards.mergeAll(into: store), command: command)
}

/// On standard error, so that the command's own output stays as it was; silent when
/// there was nothing to merge and nothing to wait for.
private func reportMerge(_ report: SlurmShards.MergeReport, command: String) {
    for error in report.errors { standardError("harness \(command): \(error)") }
    if report.mergedRuns == 0 && report.errors.isEmpty && report.waitingTasks.isEmpty { return }
    standardError("harness \(command): \(report.summary())")
}
