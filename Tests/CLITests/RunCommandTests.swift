import Foundation
import Synchronization
import XCTest
import HarnessKit
import TestSupport

/// `harness run`, `plan` and `status` end to end, on small generated data.
final class RunCommandTests: XCTestCase {
    var directory: TemporaryDirectory!
    var data: String { directory.file("data") }
    var database: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: data, trainCount: 300, testCount: 100)
    }

    override func tearDown() { directory.remove() }

    func writeSpec(epochs: Int, hidden: String = "[4, 6]") throws -> String {
        let path = directory.file("spec.json")
        try """
        {"name": "e2e", "description": "end to end", "model": {"type": "lstm", "layers": 1, "hidden": 4},
         "training": {"epochs": \(epochs), "batch_size": 30, "learning_rate": 0.01},
         "seeds": [1, 2], "grid": {"model.hidden": \(hidden)}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testRunThenStatusThenRerunSkips() throws {
        let spec = try writeSpec(epochs: 2)
        let first = try HarnessBinary.run(["run", spec, "--db", database, "--data", data])
        XCTAssertEqual(first.status, 0, first.standardError)
        XCTAssert(first.standardOutput.contains("4 jobs: 0 already done, 4 completed, 0 failed"), first.standardOutput)
        let status = try HarnessBinary.run(["status", "--db", database])
        XCTAssertEqual(status.status, 0, status.standardError)
        XCTAssert(status.standardOutput.contains("e2e"), status.standardOutput)
        let again = try HarnessBinary.run(["run", spec, "--db", database, "--data", data])
        XCTAssertEqual(again.status, 0)
        XCTAssert(again.standardOutput.contains("4 already done, 0 completed"), again.standardOutput)
        let results = try Store(path: database).results(experiment: "e2e")
        XCTAssertEqual(results.count, 4)
        XCTAssert(results.allSatisfy { $0.state == .done && ($0.accuracy ?? 0) > 0.2 }, "\(results.map(\.accuracy))")
    }

    /// GRU, AdamW and weight decay, labelled variants and a pruning grid, end to end: run,
    /// report rows under the labels, pruned GRUs that keep their pruned weights at zero.
    func testGRUWithAdamWAndWeightDecayRunsAndReports() throws {
        let path = directory.file("gru.json")
        try """
        {"name": "gru", "model": {"type": "gru", "layers": 1, "hidden": 6},
         "training": {"epochs": 2, "batch_size": 30, "learning_rate": 0.01, "optimizer": "adamw", "weight_decay": 0.05},
         "pruning": {"sparsity": 0.5, "retrain_epochs": 1},
         "seeds": [1],
         "grid": {"model": [{"type": "gru", "label": "GRU"}, {"type": "lstm", "label": "LSTM"}],
                  "training.weight_decay": [0, 0.05]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try HarnessBinary.run(["run", path, "--db", database, "--data", data])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssert(run.standardOutput.contains("4 jobs: 0 already done, 4 completed, 0 failed"), run.standardOutput)
        let results = try Store(path: database).results(experiment: "gru")
        XCTAssert(results.allSatisfy { $0.state == .done && ($0.accuracy ?? 0) > 0.15 }, "\(results.map(\.accuracy))")
        let configs = try results.map { try JSONValue.parse($0.configJSON) }
        XCTAssertEqual(configs.map { $0["model"]?["type"] }, [.string("gru"), .string("gru"), .string("lstm"), .string("lstm")])
        XCTAssertEqual(configs.map { $0["training"]?["weight_decay"] }, [.double(0), .double(0.05), .double(0), .double(0.05)],
                       "away from adamw's default (0.01), the decay is part of the identity")
        XCTAssert(results.allSatisfy { abs(($0.metric("sparsity") ?? 0) - 0.5) < 0.01 }, "\(results.map { $0.metric("sparsity") })")

        let report = try HarnessBinary.run(["report", "gru", "--db", database, "--out", directory.file("gru.md")])
        XCTAssertEqual(report.status, 0, report.standardError)
        let text = try String(contentsOfFile: directory.file("gru.md"), encoding: .utf8)
        XCTAssert(text.contains("| GRU ") && text.contains("| LSTM "), text)
    }

    /// An invalid reference section stops plan and run before any training (it used to pass
    /// both and fail only the report, after every job had run).
    func testABadReferenceStopsPlanAndRunBeforeTraining() throws {
        let path = directory.file("ref.json")
        try """
        {"name": "ref", "model": {"type": "lstm", "hidden": 4}, "training": {"epochs": 1, "batch_size": 30},
         "reference": {"rows": [{"acuracy": 0.9}]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        for command in ["plan", "run"] {
            let result = try HarnessBinary.run([command, path, "--db", database, "--data", data].prefix(command == "plan" ? 2 : 6)
                                                .map { $0 })
            XCTAssertEqual(result.status, 1, "\(command): \(result.standardError)")
            XCTAssert(result.standardError.contains("ref.json: $.reference.rows[0].acuracy: unknown key"), result.standardError)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: database))
    }

    /// A data set without test images (or training images) is refused before the database is
    /// touched; it used to record every job done with accuracy 0.
    func testEmptyTestOrTrainingSetIsRefusedBeforeAnyJob() throws {
        let spec = try writeSpec(epochs: 1)
        for (train, test, file) in [(300, 0, "t10k-images-idx3-ubyte.gz"), (0, 100, "train-images-idx3-ubyte.gz")] {
            let empty = directory.file("empty-\(train)-\(test)")
            try IDXFiles.writeDataset(in: empty, trainCount: train, testCount: test)
            let result = try HarnessBinary.run(["run", spec, "--db", database, "--data", empty])
            XCTAssertEqual(result.status, 1, result.standardError)
            XCTAssert(result.standardError.contains(file) && result.standardError.contains("declares 0 images"),
                      result.standardError)
            XCTAssertFalse(FileManager.default.fileExists(atPath: database))
        }
    }

    /// Four processes on one database: every job runs once, and every process exits 0, the
    /// ones that run out of jobs first waiting for those the others still run.
    func testFourProcessesOnOneDatabaseAllExitZeroWithEachJobDoneOnce() throws {
        let spec = try writeSpec(epochs: 2, hidden: "[4, 5, 6, 7, 8]")
        let results = Mutex<[HarnessBinary.Result?]>(Array(repeating: nil, count: 4))
        let arguments = ["run", spec, "--db", database, "--data", data, "--jobs", "1", "--threads", "1"]
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let result = try? HarnessBinary.run(arguments)
            results.withLock { $0[index] = result }
        }
        for (index, result) in results.withLock({ $0 }).enumerated() {
            let result = try XCTUnwrap(result, "process \(index) did not run")
            XCTAssertEqual(result.status, 0, "process \(index): \(result.standardOutput) \(result.standardError)")
            XCTAssert(result.standardOutput.contains("0 not done"), result.standardOutput)
        }
        let store = try Store(path: database)
        XCTAssertEqual(try store.results(experiment: "e2e").filter { $0.state == .done }.count, 10)
        let runs = try store.runCounts(status: "done")
        XCTAssertEqual(runs.count, 10)
        XCTAssert(runs.values.allSatisfy { $0 == 1 }, "each job done once: \(runs)")
    }

    /// A grid over dataset.path compares data sets: each job reads its own (loaded once), its
    /// id carries that data's fingerprint, and the report puts each job under its own path.
    func testAGridOverDatasetPathTrainsEachJobOnItsOwnData() throws {
        try IDXFiles.writeDataset(in: directory.file("small"), trainCount: 120, testCount: 60, seed: 7)
        try IDXFiles.writeDataset(in: directory.file("large"), trainCount: 240, testCount: 80, seed: 8)
        let path = directory.file("datasets.json")
        try """
        {"name": "datasets", "model": {"type": "lstm", "hidden": 4}, "training": {"epochs": 1, "batch_size": 30},
         "seeds": [1, 2], "grid": {"dataset.path": ["small", "large"]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        // --data names the run's data; the jobs here each name their own.
        let run = try HarnessBinary.run(["run", path, "--db", database, "--data", data])
        XCTAssertEqual(run.status, 0, run.standardError)
        XCTAssert(run.standardError.contains("--data applies only to the jobs without a dataset.path"), run.standardError)
        let small = try FashionMNIST.load(directory: directory.file("small")).fingerprint
        let large = try FashionMNIST.load(directory: directory.file("large")).fingerprint
        let results = try Store(path: database).results(experiment: "datasets")
        XCTAssertEqual(results.map(\.datasetFingerprint), [small, small, large, large])
        XCTAssert(results.allSatisfy { $0.state == .done })
        XCTAssertEqual(Set(results.map(\.jobID)).count, 4)

        let report = try HarnessBinary.run(["report", "datasets", "--db", database])
        XCTAssertEqual(report.status, 0, report.standardError)
        XCTAssert(report.standardOutput.contains("| small ") && report.standardOutput.contains("| large "), report.standardOutput)
        XCTAssertFalse(report.standardOutput.contains("match no grid point"), report.standardOutput)

        // Two paths holding the same images would be one job: refused before the database is touched.
        try IDXFiles.writeDataset(in: directory.file("copy"), trainCount: 120, testCount: 60, seed: 7)
        let same = directory.file("same.json")
        try #"{"name": "same", "model": {"type": "lstm", "hidden": 4}, "grid": {"dataset.path": ["small", "copy"]}}"#
            .write(toFile: same, atomically: true, encoding: .utf8)
        let other = directory.file("other.sqlite")
        let refused = try HarnessBinary.run(["run", same, "--db", other])
        XCTAssertEqual(refused.status, 1)
        XCTAssert(refused.standardError.contains("hold the same images"), refused.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: other))
    }

    func testPlanPrintsJobsAndRunsNothing() throws {
        let spec = try writeSpec(epochs: 2, hidden: "[4, 6, 8]")
        let plan = try HarnessBinary.run(["plan", spec])
        XCTAssertEqual(plan.status, 0, plan.standardError)
        XCTAssert(plan.standardOutput.contains("6 jobs (3 grid points x 2 seeds)"), plan.standardOutput)
        XCTAssertFalse(FileManager.default.fileExists(atPath: database))
    }

    func testBadSpecNamesFileAndFieldAndLeavesNoDatabase() throws {
        let path = directory.file("bad.json")
        try #"{"name": "bad", "model": {"type": "lstm", "hiden": 4}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try HarnessBinary.run(["run", path, "--db", database, "--data", data])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.standardError.contains("bad.json: $.model.hiden: unknown key; did you mean \"hidden\"?"),
                  result.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: database))
    }

    func testMissingDataSaysWhereToPutTheFiles() throws {
        let spec = try writeSpec(epochs: 1)
        let result = try HarnessBinary.run(["run", spec, "--db", database, "--data", directory.file("nowhere")])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.standardError.contains("nowhere"), result.standardError)
    }

    /// kill -9 in the middle of a grid, then the same command: the grid finishes, every job
    /// has exactly one finished result, and the killed job's run is recorded as interrupted.
    func testKillNineThenRerunFinishesTheGridWithNoJobLostOrRunTwice() throws {
        let spec = try writeSpec(epochs: 60)
        let arguments = ["run", spec, "--db", database, "--data", data, "--jobs", "1", "--threads", "1"]
        let process = try HarnessBinary.start(arguments)
        // Wait until one job is done and the next is running, then kill without warning.
        let deadline = Date().addingTimeInterval(120)
        var states: [JobState] = []
        while Date() < deadline {
            usleep(50_000)
            guard FileManager.default.fileExists(atPath: database),
                  let current = try? Store(path: database).jobStates(experiment: "e2e") else { continue }
            states = Array(current.values)
            if states.contains(.done) && states.contains(.running) { break }
        }
        XCTAssert(states.contains(.done) && states.contains(.running), "never saw a done and a running job: \(states)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        let rerun = try HarnessBinary.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.standardError)
        let results = try Store(path: database).results(experiment: "e2e")
        XCTAssertEqual(results.count, 4)
        XCTAssert(results.allSatisfy { $0.state == .done }, "\(results.map(\.state))")
        let doneRuns = try Store(path: database).runCounts(status: "done")
        XCTAssertEqual(doneRuns.values.sorted(), [1, 1, 1, 1], "each job finished exactly once")
        XCTAssertEqual(try Store(path: database).runCounts(status: "interrupted").values.reduce(0, +), 1)
    }

    /// SIGTERM (as Ctrl-C's SIGINT): the running job is recorded as interrupted, no result
    /// is written for it, and the process exits with 128 + the signal.
    func testSigtermRecordsTheRunningJobAsInterruptedAndExits() throws {
        let spec = try writeSpec(epochs: 1000)
        let process = try HarnessBinary.start(["run", spec, "--db", database, "--data", data, "--jobs", "1"])
        let deadline = Date().addingTimeInterval(60)
        var running = false
        while Date() < deadline && !running {
            usleep(50_000)
            running = (try? Store(path: database).jobStates(experiment: "e2e"))?.values.contains(.running) ?? false
        }
        XCTAssert(running, "never saw a running job")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(try Store(path: database).runCounts(status: "interrupted").values.reduce(0, +), 1)
        XCTAssertEqual(try Store(path: database).runCounts(status: "running").count, 0)
        XCTAssert(try Store(path: database).results(experiment: "e2e").allSatisfy { $0.accuracy == nil })
    }

    /// `--db ""` was blamed on the file system and `--db dir/` made a file named `dir`
    /// (or failed inside SQLite); both are refused by name before anything is opened.
    func testDatabaseOptionNeedsAFilePath() throws {
        let spec = try writeSpec(epochs: 1)
        try FileManager.default.createDirectory(atPath: directory.file("existing"), withIntermediateDirectories: true)
        for (arguments, message) in [
            (["status", "--db", ""], "harness status: --db needs a path"),
            (["run", spec, "--db", "", "--data", data], "harness run: --db needs a path"),
            (["run", spec, "--db", "fresh/", "--data", data],
             "harness run: --db fresh/ is a directory; give a database file such as fresh/harness.sqlite"),
            (["merge", "--db", "existing"],
             "harness merge: --db existing is a directory; give a database file such as existing/harness.sqlite"),
        ] {
            let result = try HarnessBinary.run(arguments, in: directory.path)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            XCTAssertEqual(result.standardError, message + "\n", "\(arguments)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("fresh")))
    }

    /// Two spec files with one name in one database: the second used to replace the first's
    /// job list, so the first's results vanished from status and report. Editing the one
    /// file in place still changes the experiment.
    func testASecondSpecFileWithTheSameNameIsRefused() throws {
        let spec = try writeSpec(epochs: 1, hidden: "[4]")
        let first = try HarnessBinary.run(["run", spec, "--db", database, "--data", data])
        XCTAssertEqual(first.status, 0, first.standardError)

        let other = directory.file("other.json")
        try """
        {"name": "e2e", "description": "another experiment", "model": {"type": "gru", "layers": 1, "hidden": 4},
         "training": {"epochs": 1, "batch_size": 30}, "seeds": [7]}
        """.write(toFile: other, atomically: true, encoding: .utf8)
        let clash = try HarnessBinary.run(["run", other, "--db", database, "--data", data])
        XCTAssertEqual(clash.status, 1, clash.standardOutput)
        // The recorded path is absolute with symbolic links resolved (a temporary directory may be behind one).
        let recorded = URL(fileURLWithPath: spec).resolvingSymlinksInPath().path
        XCTAssert(clash.standardError.contains("experiment e2e in \(database) was registered from \(recorded); \(other) "
                                               + "has the same name: rename one (\"name\") or use another --db"),
                  clash.standardError)
        XCTAssertEqual(try Store(path: database).results(experiment: "e2e").count, 2)

        // The same file, edited: a grid value added, so one more point.
        _ = try writeSpec(epochs: 1, hidden: "[4, 6]")
        let edited = try HarnessBinary.run(["run", spec, "--db", database, "--data", data])
        XCTAssertEqual(edited.status, 0, edited.standardError)
        XCTAssert(edited.standardOutput.contains("4 jobs: 2 already done, 2 completed"), edited.standardOutput)
    }

    /// A submission.json that cannot be read used to be skipped without a word, so its
    /// shards were never merged; merge now names it and fails, status warns.
    func testACorruptSubmissionFileIsNamedByMergeAndStatus() throws {
        let spec = try writeSpec(epochs: 1, hidden: "[4]")
        XCTAssertEqual(try HarnessBinary.run(["run", spec, "--db", database, "--data", data]).status, 0)
        let submission = directory.file("results/slurm/e2e-20250101-120000")
        try FileManager.default.createDirectory(atPath: submission, withIntermediateDirectories: true)
        let manifest = submission + "/submission.json"
        try #"{"experiment": "e2e", "database": "#.write(toFile: manifest, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: database, toPath: submission + "/shard-0.sqlite")

        let merge = try HarnessBinary.run(["merge", "--db", database])
        XCTAssertEqual(merge.status, 1, merge.standardError)
        XCTAssert(merge.standardError.contains("harness merge: cannot read Slurm jobs file \(manifest)"), merge.standardError)
        XCTAssert(merge.standardError.contains("shard-0.sqlite"), merge.standardError)
        let status = try HarnessBinary.run(["status", "--db", database])
        XCTAssertEqual(status.status, 0, status.standardError)
        XCTAssert(status.standardError.contains("harness status: cannot read Slurm jobs file \(manifest)"), status.standardError)
    }
}
