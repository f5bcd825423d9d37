import Foundation
import HarnessKit

struct SubmitCommand: Subcommand {
    static let slurm = Flag("slurm", help: "submit to Slurm, the only batch system supported", required: true)
    static let partition = Option<String>.text("partition", "P", help: "the Slurm partition, as #SBATCH --partition",
                                               defaultText: "sbatch's default")
    static let time = Option<String>.text("time", "LIMIT", help: "time limit per array task, in any Slurm form: "
                                          + "HH:MM:SS, D-HH:MM, minutes, ...", defaultText: "the partition's")
    static let cpusPerTask = Option<Int>.integer("cpus-per-task", range: 1...1024,
                                                 help: "CPUs per array task; the task trains with that many threads",
                                                 default: 1)
    static let maxParallel = Option<Int>.integer("max-parallel", "K", range: 1...100_000,
                                                 help: "at most K array tasks at once: --array=0-(n-1)%K",
                                                 defaultText: "no limit")
    static let jobsPerTask = Option<Int>.integer("jobs-per-task", range: 1...1_000_000, help: "jobs per array task",
                                                 defaultText: "1, more when over 1,000 jobs are pending")
    static let noMergeJob = Flag("no-merge-job", help: "do not submit the dependent job that runs harness merge; "
                                 + "run it yourself once the array has ended")
    static let dryRun = Flag("dry-run", help: "write the scripts and print the sbatch commands, do not call sbatch")

    static let command = CommandDescription(
        name: "submit",
        summary: "submit a spec's pending jobs to Slurm as one job array",
        discussion: "Prints the array's job id. Each array task trains into a shard database of its own beside the "
            + "main one (results/slurm/...); a dependent job merges the shards into the main database once the "
            + "array has ended. The binary, the data and the database must be on a file system the compute nodes share. "
            + "With adaptive seeds, a submission made when every job is done submits the next round's seeds: submit "
            + "again after each merge until it says there is nothing to submit.",
        positionals: [Positional("SPEC", help: "the experiment spec, a JSON file", noun: "spec file")],
        options: [slurm, partition, time, cpusPerTask, maxParallel, jobsPerTask, SharedOptions.db, SharedOptions.data,
                  noMergeJob, dryRun],
        examples: ["harness submit experiments/quick.json --slurm --partition short --time 00:30:00 "
                   + "--cpus-per-task 2 --max-parallel 20",
                   "harness submit experiments/quick.json --slurm --dry-run"])

    let options: SubmitOptions

    init(_ arguments: ParsedArguments) throws {
        // Slurm is the only batch system so far; the flag keeps room for others.
        guard arguments.flag(Self.slurm) else {
            throw HarnessError("harness submit: say which batch system to submit to: --slurm (the only one supported)")
        }
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().path else {
            throw HarnessError("harness submit: cannot find the path of the running harness binary")
        }
        options = SubmitOptions(specPath: arguments.positionals[0], databasePath: try arguments.value(SharedOptions.db),
                                dataDirectory: try arguments.optional(SharedOptions.data),
                                partition: try arguments.optional(Self.partition),
                                timeLimit: try arguments.optional(Self.time),
                                cpusPerTask: try arguments.value(Self.cpusPerTask),
                                maxParallel: try arguments.optional(Self.maxParallel),
                                jobsPerTask: try arguments.optional(Self.jobsPerTask),
                                mergeJob: !arguments.flag(Self.noMergeJob), dryRun: arguments.flag(Self.dryRun),
                                executable: executable)
    }

    func run() throws -> Int32 {
        let submission = try SlurmSubmitter.submit(options, log: .forStandardError())
        reportMerge(submission.merge, command: Self.command.name)
        for message in submission.adaptiveMessages { standardError(message) }
        guard let directory = submission.directory, let arrayScript = submission.arrayScript else {
            standardOutput("nothing to submit: all \(submission.totalJobs) jobs of \(submission.experiment) are done")
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
            standardOutput(id)
        } else {
            // --dry-run: what would have been run.
            standardOutput("sbatch --parsable \(arrayScript)")
            if let mergeScript = submission.mergeScript {
                standardOutput("sbatch --parsable --dependency=afterany:<array job id> \(mergeScript)")
            }
        }
        return 0
    }
}
