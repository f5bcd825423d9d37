import Foundation
import HarnessKit
import TestSupport
import XCTest

/// `harness submit --slurm`, `worker` and `merge` without a Slurm cluster: the generated
/// scripts are checked as text and run with bash as Slurm would run an array task
/// (`SLURM_ARRAY_TASK_ID` set), and sbatch is replaced by a script on PATH. The real
/// cluster test is .ci/slurm-test.sh.
final class SlurmScriptTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var database: String { directory.file("results/harness.sqlite") }
    private var data: String { directory.file("data") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "slurm-test")
        try IDXFiles.writeDataset(in: data, trainCount: 200, testCount: 100)
    }

    override func tearDown() {
        directory.remove()
    }

    // MARK: Helpers

    /// A spec of small RNN jobs on the test data: by default 2 grid points x 2 seeds.
    private func writeSpec(name: String = "tiny", epochs: Int = 1, grid: String = #""model.hidden": [4, 8]"#,
                           seeds: String = "[1, 2]") throws -> String {
        let path = directory.file("\(name).json")
        try Data("""
            {"name": "\(name)", "description": "tiny jobs for the Slurm tests",
             "dataset": {"train_size": 100},
             "model": {"type": "rnn", "layers": 1, "hidden": 8},
             "training": {"epochs": \(epochs), "batch_size": 50},
             "seeds": \(seeds), "grid": {\(grid)}}
            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func harness(_ arguments: [String], environment: [String: String] = [:]) throws -> HarnessBinary.Result {
        try HarnessBinary.run(arguments, in: directory.path, environment: environment)
    }

    /// `harness submit SPEC --slurm --dry-run ...`; returns the submission directory.
    private func dryRun(_ spec: String, _ extra: [String] = []) throws -> String {
        let result = try harness(["submit", spec, "--slurm", "--dry-run", "--db", database, "--data", data] + extra)
        XCTAssertEqual(result.status, 0, result.standardError)
        let line = try XCTUnwrap(result.standardOutput.split(separator: "\n").first, result.standardOutput)
        XCTAssert(line.hasPrefix("sbatch --parsable ") && line.hasSuffix("/array.sbatch"), String(line))
        return URL(fileURLWithPath: String(line.dropFirst("sbatch --parsable ".count))).deletingLastPathComponent().path
    }

    private func manifest(_ submission: String) throws -> SlurmManifest {
        try SlurmManifest.load(path: submission + "/" + SlurmManifest.fileName)
    }

    private func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// Runs the array script as Slurm runs task `task`: bash with SLURM_ARRAY_TASK_ID set.
    private func runTask(_ submission: String, _ task: Int) throws -> (status: Int32, output: String) {
        try shell(["/bin/bash", submission + "/array.sbatch"], environment: ["SLURM_ARRAY_TASK_ID": "\(task)"])
    }

    /// Starts the array script as Slurm starts task `task`. The script execs harness, so
    /// the process is the worker itself and can be signalled as Slurm would.
    private func startTask(_ submission: String, _ task: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [submission + "/array.sbatch"]
        process.environment = ProcessInfo.processInfo.environment.merging(["SLURM_ARRAY_TASK_ID": "\(task)"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs a command to completion; standard output and error go to one log, returned as `output`.
    private func shell(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = directory.file("shell-\(UUID().uuidString).log")
        XCTAssert(FileManager.default.createFile(atPath: output, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try read(output))
    }

    private func states(_ experiment: String = "tiny") throws -> [JobState] {
        try Store(path: database).results(experiment: experiment).map(\.state)
    }

    /// Polls until the partial shard shows a running run (the job is training).
    private func waitUntilTraining(_ partial: String, process: Process) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            XCTAssert(process.isRunning, "the worker ended before it was stopped")
            if FileManager.default.fileExists(atPath: partial),
               let rows = try? Store(path: partial).results(experiment: "tiny"),
               rows.contains(where: { $0.state == .running }),
               let runID = rows.first(where: { $0.state == .running })?.runID,
               (try? Store(path: partial).epochs(runID: runID).count) ?? 0 >= 1 {
                return
            }
            usleep(100_000)
        }
        XCTFail("the worker did not start training within 120 s")
    }

    // MARK: Tests

    func testDryRunWritesTheArrayScriptMergeScriptAndJobsFile() throws {
        let spec = try writeSpec()
        let submission = try dryRun(spec, ["--partition", "short", "--time", "00:05:00", "--cpus-per-task", "2",
                                           "--max-parallel", "3"])
        XCTAssert(submission.hasPrefix(directory.url.resolvingSymlinksInPath().path + "/results/slurm/tiny-"), submission)
        let binary = HarnessBinary.url.resolvingSymlinksInPath().path
        let array = try read(submission + "/array.sbatch")
        let lines = array.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "#!/bin/bash")
        XCTAssertEqual(lines.filter { $0.hasPrefix("#SBATCH") }, [
            "#SBATCH --job-name=harness-tiny",
            "#SBATCH --array=0-3%3",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --output=\(submission)/task-%a.out",
            "#SBATCH --partition=short",
            "#SBATCH --time=00:05:00",
        ])
        XCTAssertEqual(lines.last, "exec '\(binary)' worker --jobs-file '\(submission)/submission.json' "
                       + "--index \"$SLURM_ARRAY_TASK_ID\" --shard '\(submission)'/shard-\"$SLURM_ARRAY_TASK_ID\".sqlite "
                       + "--jobs 1 --threads 2")
        let merge = try read(submission + "/merge.sbatch").split(separator: "\n").map(String.init)
        XCTAssertEqual(merge.filter { $0.hasPrefix("#SBATCH") }, [
            "#SBATCH --job-name=harness-tiny-merge",
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --output=\(submission)/merge.out",
            "#SBATCH --partition=short",
            "#SBATCH --time=00:05:00",
        ])
        let db = URL(fileURLWithPath: database).resolvingSymlinksInPath().path
        XCTAssertEqual(merge.last, "exec '\(binary)' merge --db '\(db)'")
        for script in ["array.sbatch", "merge.sbatch"] {
            XCTAssertEqual(try shell(["/bin/bash", "-n", submission + "/" + script]).status, 0, script)
        }

        // One task per pending job, in spec order, registered in the main database.
        let jobs = try manifest(submission)
        XCTAssertEqual(jobs.tasks.map(\.count), [1, 1, 1, 1])
        XCTAssertEqual(jobs.tasks.flatMap { $0 }, try Store(path: database).results(experiment: "tiny").map(\.jobID))
        XCTAssertEqual(jobs.database, db)
        XCTAssertEqual(jobs.dataDirectory, URL(fileURLWithPath: data).resolvingSymlinksInPath().path)
        XCTAssertNil(jobs.arrayJobID)
        XCTAssertEqual(try read(submission + "/spec.json"), try read(spec))
        XCTAssertEqual(try states(), [.pending, .pending, .pending, .pending])
    }

    func testSlicesOfSeveralJobsPerTaskShareTheTasksCPUs() throws {
        let submission = try dryRun(try writeSpec(), ["--jobs-per-task", "3", "--cpus-per-task", "2", "--no-merge-job"])
        let array = try read(submission + "/array.sbatch")
        XCTAssert(array.contains("#SBATCH --array=0-1\n"), array)
        XCTAssert(array.contains("--jobs 2 --threads 1\n"), array)
        XCTAssertEqual(try manifest(submission).tasks.map(\.count), [3, 1])
        XCTAssertFalse(FileManager.default.fileExists(atPath: submission + "/merge.sbatch"))
    }

    func testSubmitRunsSbatchForTheArrayAndADependentMergeJob() throws {
        let bin = directory.file("fake-bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let log = directory.file("sbatch.log")
        // Prints 4242;cluster the first time (as --parsable does on a federation), 4243 the second.
        try Data("""
            #!/bin/bash
            echo "$*" >> '\(log)'
            if [ "$(wc -l < '\(log)')" -eq 1 ]; then echo '4242;cluster'; else echo 4243; fi
            """.utf8).write(to: URL(fileURLWithPath: bin + "/sbatch"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/sbatch")
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")

        let result = try harness(["submit", try writeSpec(), "--slurm", "--db", database, "--data", data],
                                 environment: ["PATH": path])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "4242\n")
        let calls = try read(log).split(separator: "\n").map(String.init)
        XCTAssertEqual(calls.count, 2, calls.joined(separator: "\n"))
        let submission = try XCTUnwrap(calls.first?.split(separator: " ").last.map { URL(fileURLWithPath: String($0)).deletingLastPathComponent().path })
        XCTAssertEqual(calls, ["--parsable \(submission)/array.sbatch",
                               "--parsable --dependency=afterany:4242 \(submission)/merge.sbatch"])
        let jobs = try manifest(submission)
        XCTAssertEqual(jobs.arrayJobID, "4242")
        XCTAssertEqual(jobs.mergeJobID, "4243")
        XCTAssert(result.standardError.contains("merge job 4243"), result.standardError)

        // sbatch refusing the job is an error that says why.
        try Data("#!/bin/bash\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n".utf8)
            .write(to: URL(fileURLWithPath: bin + "/sbatch"))
        let refused = try harness(["submit", try writeSpec(), "--slurm", "--db", database, "--data", data,
                                   "--partition", "nope"], environment: ["PATH": path])
        XCTAssertEqual(refused.status, 1)
        XCTAssert(refused.standardError.contains("invalid partition specified: nope"), refused.standardError)
    }

    func testSubmitRejectsBadOptions() throws {
        let spec = try writeSpec()
        for (arguments, message) in [
            (["submit", spec, "--dry-run"], "--slurm"),
            (["submit", spec, "--slurm", "--dry-run", "--time", "2h"], "--time \"2h\" is not a Slurm time limit"),
            (["submit", spec, "--slurm", "--dry-run", "--partition", "a b"], "--partition \"a b\""),
            (["submit", spec, "--slurm", "--dry-run", "--cpus-per-task", "0"], "--cpus-per-task 0 is out of range"),
            (["submit", spec, "--slurm", "--dry-run", "--db", directory.file("with space/h.sqlite")], "contains \" \""),
        ] {
            let result = try harness(arguments + ["--data", data])
            XCTAssertEqual(result.status, 1, arguments.joined(separator: " "))
            XCTAssert(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("results/slurm")))
    }

    /// The scancel story without Slurm: a task is killed outright (SIGKILL, as after
    /// Slurm's KillWait) in the middle of its job; merging leaves that job pending, and
    /// submitting again sends only it.
    func testAKilledTaskLeavesItsJobPendingAndResubmissionRunsOnlyIt() throws {
        // Job 0 takes one epoch; job 1 is long enough to be killed in the middle.
        let spec = try writeSpec(grid: #""training.epochs": [1, 1000]"#, seeds: "[1]")
        let first = try dryRun(spec)
        let ids = try Store(path: database).results(experiment: "tiny").map(\.jobID)
        let task0 = try runTask(first, 0)
        XCTAssertEqual(task0.status, 0, task0.output)
        XCTAssert(FileManager.default.fileExists(atPath: first + "/shard-0.sqlite"), task0.output)
        let worker = try startTask(first, 1)
        try waitUntilTraining(first + "/shard-1.sqlite.partial", process: worker)
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: first + "/shard-1.sqlite"))

        let status = try harness(["status", "--db", database])
        XCTAssertEqual(status.status, 0, status.standardError)
        XCTAssert(status.standardError.contains("merged 1 run(s) (1 done, 0 failed) from 1 shard(s)"), status.standardError)
        XCTAssert(status.standardError.contains("1 task(s) without a shard yet"), status.standardError)
        XCTAssertEqual(try states(), [.done, .pending])
        XCTAssertEqual(try Store(path: database).results(experiment: "tiny").map(\.attempts), [1, 0])

        let second = try dryRun(spec)
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(try manifest(second).tasks, [[ids[1]]])
        XCTAssert(try read(second + "/array.sbatch").contains("#SBATCH --array=0-0\n"))
        let task = try runTask(second, 0)
        XCTAssertEqual(task.status, 0, task.output)
        let merge = try harness(["merge", "--db", database])
        XCTAssertEqual(merge.status, 0, merge.standardError)
        XCTAssertEqual(merge.standardOutput, "merged 1 run(s) (1 done, 0 failed) from 2 shard(s); 1 merged before\n")
        XCTAssertEqual(try states(), [.done, .done])
        XCTAssertEqual(try Store(path: database).results(experiment: "tiny").map(\.attempts), [1, 1])

        let nothing = try harness(["submit", spec, "--slurm", "--dry-run", "--db", database, "--data", data])
        XCTAssertEqual(nothing.status, 0, nothing.standardError)
        XCTAssertEqual(nothing.standardOutput, "nothing to submit: all 2 jobs of tiny are done\n")
    }

    /// scancel's SIGTERM: the worker records the running job as interrupted and
    /// publishes its shard; the merge takes nothing from it.
    func testATerminatedTaskPublishesItsShardButItsJobStaysPending() throws {
        let submission = try dryRun(try writeSpec(epochs: 500), ["--jobs-per-task", "4"])
        let worker = try startTask(submission, 0)
        try waitUntilTraining(submission + "/shard-0.sqlite.partial", process: worker)
        kill(worker.processIdentifier, SIGTERM)
        worker.waitUntilExit()
        XCTAssertEqual(worker.terminationStatus, 128 + SIGTERM)
        let shard = submission + "/shard-0.sqlite"
        // One job (the costliest, started first) was running; the others never started.
        let shardStates = try Store(path: shard).results(experiment: "tiny").map(\.state)
        XCTAssertEqual(shardStates.filter { $0 == .interrupted }.count, 1, "\(shardStates)")
        XCTAssertEqual(shardStates.filter { $0 == .pending }.count, 3, "\(shardStates)")

        let merge = try harness(["merge", "--db", database])
        XCTAssertEqual(merge.status, 0, merge.standardError)
        XCTAssertEqual(merge.standardOutput, "merged 0 run(s) (0 done, 0 failed) from 1 shard(s); "
                       + "1 unfinished run(s) left out (their jobs stay pending)\n")
        XCTAssertEqual(try states(), [.pending, .pending, .pending, .pending])
        XCTAssertEqual(try Store(path: database).results(experiment: "tiny").map(\.attempts), [0, 0, 0, 0])
    }

    /// Adaptive seeds: a submission made once every job is done submits the next round's
    /// jobs, so submitting again after each merge goes round by round. Thresholds 0 and
    /// 1e-9 prune nothing (the same accuracy on every seed: undecided until max), 100
    /// prunes everything (decided at the start seeds).
    func testAdaptiveSeedsAreSubmittedRoundByRound() throws {
        let spec = directory.file("adaptive.json")
        try Data("""
            {"name": "adaptive", "model": {"type": "lstm", "layers": 1, "hidden": 8},
             "training": {"epochs": 3, "batch_size": 50, "learning_rate": 0.01},
             "pruning": {"retrain_epochs": 0}, "seeds": {"start": 3, "max": 4},
             "grid": {"pruning.threshold": [0, 1e-9, 100]}}
            """.utf8).write(to: URL(fileURLWithPath: spec))
        func submit() throws -> HarnessBinary.Result {
            let result = try harness(["submit", spec, "--slurm", "--dry-run", "--jobs-per-task", "20", "--db", database,
                                      "--data", data])
            XCTAssertEqual(result.status, 0, result.standardError)
            return result
        }
        func runAndMerge(_ result: HarnessBinary.Result) throws -> [[String]] {
            let line = try XCTUnwrap(result.standardOutput.split(separator: "\n").first, result.standardOutput)
            let submission = URL(fileURLWithPath: String(line.dropFirst("sbatch --parsable ".count))).deletingLastPathComponent().path
            let task = try runTask(submission, 0)
            XCTAssertEqual(task.status, 0, task.output)
            let merge = try harness(["merge", "--db", database])
            XCTAssertEqual(merge.status, 0, merge.standardError)
            return try manifest(submission).tasks
        }

        let first = try submit()
        XCTAssertFalse(first.standardError.contains("adaptive seeds"), first.standardError)
        XCTAssertEqual(try runAndMerge(first).map(\.count), [9], "the start seeds' jobs")

        let second = try submit()
        XCTAssert(second.standardError.contains("adaptive seeds: this submission adds seed 4 to 2 grid points (undecided "
                                                + "against the best: pruning.threshold = 1e-09; and the best, "
                                                + "pruning.threshold = 0)\n"), second.standardError)
        let results = try Store(path: database).results(experiment: "adaptive")
        XCTAssertEqual(results.map(\.seed), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3])
        XCTAssertEqual(try runAndMerge(second), [[results[3].jobID, results[7].jobID]])
        XCTAssertEqual(try states("adaptive"), Array(repeating: .done, count: 11))

        let last = try submit()
        XCTAssertEqual(last.standardOutput, "nothing to submit: all 11 jobs of adaptive are done\n")
        XCTAssert(last.standardError.contains("adaptive seeds: finished: best pruning.threshold = 0 (4 seeds); decided "
                                              + "against it: 1 below (3 seeds); undecided at the maximum of 4 seeds: "
                                              + "pruning.threshold = 1e-09\n"), last.standardError)
    }

    func testWorkerRejectsATaskOutsideTheJobsFile() throws {
        let submission = try dryRun(try writeSpec())
        let result = try harness(["worker", "--jobs-file", submission + "/submission.json", "--index", "4",
                                  "--shard", submission + "/shard-4.sqlite"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.standardError.contains("has tasks 0...3, no task 4"), result.standardError)
    }
}
