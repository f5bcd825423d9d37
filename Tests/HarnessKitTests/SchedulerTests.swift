import Engine
import Foundation
import Synchronization
import XCTest
@testable import HarnessKit
import TestSupport

final class SchedulerTests: XCTestCase {
    var directory: TemporaryDirectory!
    var dataDirectory: String { directory.file("data") }
    var database: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: dataDirectory, trainCount: 200, testCount: 100)
    }

    override func tearDown() { directory.remove() }

    /// A small spec: `grid` JSON text inserted as the grid.
    func writeSpec(name: String = "tiny", grid: String = #"{"model.hidden": [4, 6]}"#, seeds: String = "[1, 2]",
                   epochs: Int = 2, extra: String = "") throws -> String {
        let path = directory.file("\(name).json")
        let text = """
        {"name": "\(name)", "model": {"type": "lstm", "layers": 1, "hidden": 4},
         "training": {"epochs": \(epochs), "batch_size": 50, "learning_rate": 0.01}, \(extra)
         "seeds": \(seeds), "grid": \(grid)}
        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ spec: String, force: Bool = false, workers: Int? = 1, stop: StopFlag = StopFlag()) throws -> RunSummary {
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: dataDirectory, workers: workers,
                                 threadsPerJob: 1, force: force, environment: [:])
        return try Scheduler(options: options, stop: stop, log: ProgressLog(live: false, write: { _ in })).run()
    }

    func runCount(_ sql: String = "SELECT count(*) FROM runs") throws -> Int {
        let output = try sqlite(sql)
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func sqlite(_ sql: String) throws -> String {
        let rows = try SQLiteConnection(path: database).query(sql) { $0.optionalString(0) }
        return (rows.first ?? nil) ?? ""
    }

    /// Every row of every table, as text: the database's logical content.
    func snapshot() throws -> [String] {
        let connection = try SQLiteConnection(path: database)
        let tables = try connection.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.string(0) }
        return try tables.flatMap { table in
            try connection.query("SELECT * FROM \"\(table)\"") { row in
                table + ": " + (0..<row.columnCount).map { row.optionalString($0) ?? "NULL" }.joined(separator: "|")
            }
        }
    }

    func testRunRecordsEveryJobAndResumeSkipsDoneJobs() throws {
        let spec = try writeSpec()
        let first = try run(spec)
        XCTAssertEqual(first.total, 4)
        XCTAssertEqual(first.completed, 4)
        XCTAssertTrue(first.allDone)
        XCTAssertEqual(try runCount(), 4)
        XCTAssertEqual(try runCount("SELECT count(*) FROM epochs"), 8, "2 epochs per job")
        XCTAssertEqual(try runCount("SELECT count(*) FROM confusion"), 400, "10x10 per job")

        let second = try run(spec)
        XCTAssertEqual(second.alreadyDone, 4)
        XCTAssertEqual(second.completed, 0)
        XCTAssertEqual(try runCount(), 4, "nothing reran")

        // Adding a value to the grid runs only the new jobs.
        let grown = try writeSpec(grid: #"{"model.hidden": [4, 6, 8]}"#)
        let third = try run(grown)
        XCTAssertEqual(third.alreadyDone, 4)
        XCTAssertEqual(third.completed, 2)
        XCTAssertEqual(try runCount(), 6)
    }

    func testForceRerunsEachJobOnceAndKeepsEarlierResults() throws {
        let spec = try writeSpec(seeds: "[1]")
        _ = try run(spec)
        let forced = try run(spec, force: true)
        XCTAssertEqual(forced.completed, 2)
        XCTAssertEqual(try runCount("SELECT count(*) FROM runs WHERE status = 'done'"), 4)
    }

    func testSameSeedGivesSameResultAndThreadsDoNotMatter() throws {
        let spec = try writeSpec(seeds: "[7]")
        _ = try run(spec)
        let before = try sqlite("SELECT group_concat(accuracy || ':' || macro_f1, ',') FROM job_results ORDER BY job_id")
        let losses = try sqlite("SELECT group_concat(loss, ',') FROM (SELECT loss FROM epochs ORDER BY run_id, epoch)")
        // Rerun with 2 threads per job: results must be identical to the bit.
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: dataDirectory, workers: 1,
                                 threadsPerJob: 2, force: true, environment: [:])
        _ = try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
        let lossesAgain = try sqlite("SELECT group_concat(loss, ',') FROM (SELECT loss FROM epochs WHERE run_id > 2 ORDER BY run_id, epoch)")
        XCTAssertEqual(losses, lossesAgain)
        XCTAssertFalse(before.isEmpty)
    }

    func testTwoSchedulersOnOneDatabaseRunEachJobOnce() throws {
        let spec = try writeSpec(grid: #"{"model.hidden": [3, 4, 5, 6]}"#)
        // Two schedulers, as two `harness run` processes would be, each with its own Store.
        let summaries = Mutex<[RunSummary]>([])
        let (db, data) = (database, dataDirectory)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let options = RunOptions(specPath: spec, databasePath: db, dataDirectory: data, workers: 1, threadsPerJob: 1,
                                     environment: [:])
            if let summary = try? Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run() {
                summaries.withLock { $0.append(summary) }
            }
        }
        let all = summaries.withLock { $0 }
        XCTAssertEqual(all.count, 2)
        XCTAssertEqual(all.reduce(0) { $0 + $1.completed }, 8, "together they ran each of the 8 jobs")
        XCTAssertEqual(try runCount(), 8, "and none twice")
        XCTAssertEqual(try runCount("SELECT count(DISTINCT job_id) FROM runs"), 8)
    }

    func testJobOfADeadProcessIsReclaimed() throws {
        let spec = try writeSpec(seeds: "[1]")
        // Register the experiment, then fake a claim by a process that has since died.
        _ = try run(spec, stop: { let s = StopFlag(); s.set(signal: SIGINT); return s }())
        let store = try Store(path: database)
        let ids = try store.jobStates(experiment: "tiny").keys.sorted()
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let ghost = WorkerIdentity(host: WorkerIdentity.current().host, pid: dead.processIdentifier, token: "gone")
        let claimed = try XCTUnwrap(store.claimNextJob(among: ids, worker: ghost, rerunStartedBefore: nil))
        XCTAssertEqual(try store.jobStates(experiment: "tiny")[claimed.jobID], .running)

        let summary = try run(spec)
        XCTAssertEqual(summary.completed, 2, "the dead process's job was reclaimed and run")
        XCTAssertTrue(summary.allDone)
        XCTAssertEqual(try runCount("SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1)
    }

    func testStopRequestRecordsRunningJobsAsInterrupted() throws {
        let spec = try writeSpec(seeds: "[1]", epochs: 1000)
        let stop = StopFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { stop.set(signal: SIGINT) }
        let summary = try run(spec, stop: stop)
        XCTAssertEqual(summary.stoppedBySignal, SIGINT)
        XCTAssertEqual(summary.interrupted, 1)
        XCTAssertEqual(try sqlite("SELECT error FROM runs WHERE status = 'interrupted'"), "interrupted by SIGINT")
        XCTAssertEqual(try runCount("SELECT count(*) FROM results"), 0, "no partial result")
    }

    /// Data whose class 9 has 3 training images, and a spec drawing a subset of 100 from it
    /// stratified and plain: the stratified job cannot draw 10 per class and fails.
    func writeUnbalancedStrataSpec() throws -> (data: String, spec: String) {
        let unbalanced = directory.file("unbalanced")
        let labels = (0..<200).map { UInt8($0 < 197 ? $0 % 9 : 9) }
        try IDXFiles.writeDataset(in: unbalanced, trainLabels: labels, testLabels: IDXFiles.cyclingLabels(count: 50))
        let path = try writeSpec(name: "strata", grid: #"{"dataset.stratified": [true, false]}"#, seeds: "[1]",
                                 extra: #""dataset": {"train_size": 100},"#)
        return (unbalanced, path)
    }

    func testFailingJobIsRecordedAndOthersGoOn() throws {
        // Class 9 has 3 training images, so a stratified subset of 100 (10 per class) cannot
        // be drawn: that job fails with its error recorded, the plain subset runs.
        let (unbalanced, path) = try writeUnbalancedStrataSpec()
        let options = RunOptions(specPath: path, databasePath: database, dataDirectory: unbalanced, workers: 1,
                                 threadsPerJob: 1, environment: [:])
        let summary = try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
        XCTAssertEqual(summary.completed, 1)
        XCTAssertEqual(summary.failed, 1)
        XCTAssertFalse(summary.allDone)
        let error = try sqlite("SELECT error FROM runs WHERE status = 'failed'")
        XCTAssert(error.contains("class 9"), error)
    }

    /// A failed job stays failed on the next run (its failure would repeat with the same
    /// seed) and the run says so; --retry-failed runs it again.
    func testFailedJobsAreRunAgainOnlyWithRetryFailed() throws {
        let (unbalanced, path) = try writeUnbalancedStrataSpec()
        func run(retryFailed: Bool) throws -> RunSummary {
            let options = RunOptions(specPath: path, databasePath: database, dataDirectory: unbalanced, workers: 1,
                                     threadsPerJob: 1, retryFailed: retryFailed, environment: [:])
            return try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
        }
        XCTAssertEqual(try run(retryFailed: false).failed, 1)
        let again = try run(retryFailed: false)
        XCTAssertEqual(again.failed, 0)
        XCTAssertEqual(again.failedBefore, 1)
        XCTAssertEqual(again.notDone, 1)
        XCTAssertEqual(try runCount(), 2, "the failed job was not run again")
        let retried = try run(retryFailed: true)
        XCTAssertEqual(retried.failed, 1)
        XCTAssertEqual(retried.failedBefore, 0)
        XCTAssertEqual(try runCount(), 3)
    }

    /// Jobs start longest first by predicted cost, and the cost is the documented formula.
    func testJobsStartLongestFirst() throws {
        let spec = try writeSpec(name: "order", grid: #"{"model.hidden": [4, 16, 8]}"#, seeds: "[1]", epochs: 1)
        _ = try run(spec)
        let started = try SQLiteConnection(path: database).query("""
            SELECT json_extract(j.config_json, '$.model.hidden') FROM runs r JOIN jobs j ON j.id = r.job_id ORDER BY r.id
            """) { $0.string(0) }
        XCTAssertEqual(started, ["16", "8", "4"])
        // CPU seconds are recorded beside wall seconds, per job and per epoch.
        let store = try Store(path: database)
        let data = try FashionMNIST.load(directory: dataDirectory)
        // The data set's test labels are stored once, so reports can score the predictions.
        XCTAssertEqual(try store.testLabels(fingerprint: data.fingerprint), data.test.labels)
        for result in try store.results(experiment: "order") {
            let cpu = try XCTUnwrap(result.metric("train_cpu_seconds")), wall = try XCTUnwrap(result.metric("train_seconds"))
            XCTAssert(cpu > 0 && cpu < wall * 1.5 + 0.05, "cpu \(cpu) s, wall \(wall) s")
            XCTAssertGreaterThan(try XCTUnwrap(result.metric("mean_step_cpu_seconds")), 0)
            let epochs = try store.epochs(runID: try XCTUnwrap(result.runID))
            XCTAssert(epochs.allSatisfy { ($0.cpuSeconds ?? 0) > 0 }, "\(epochs)")
            // The test-set predictions are kept, one byte per test image, and are the confusion matrix's.
            let predictions = try store.predictions(runID: try XCTUnwrap(result.runID))
            XCTAssertEqual(predictions.count, data.test.count)
            let matrix = ConfusionMatrix(predictions: predictions.map(Int.init), labels: data.test.labels, classes: 10)
            XCTAssertEqual(matrix, try store.confusion(runID: try XCTUnwrap(result.runID)))
        }

        let job = try ExperimentSpec.load(path: spec).jobs()[1]
        var cost = JobCost()
        let flops = try makeModel(job.settings.engineModel(imageHeight: 28, imageWidth: 28), seed: 0, threads: 1)
            .forwardFlopsPerSample
        XCTAssertEqual(cost.predicted(job, data: data), flops * (3 * 200 * 1 + 100), accuracy: 1e-6 * flops)
    }

    func testBadInputLeavesTheDatabaseAsItWas() throws {
        let spec = try writeSpec(seeds: "[1]")
        _ = try run(spec)
        let before = try snapshot()
        let tooMany = try writeSpec(name: "big", extra: #""dataset": {"train_size": 5000},"#)
        XCTAssertThrowsError(try run(tooMany)) { error in
            XCTAssert("\(error)".contains("$.dataset.train_size: asks for 5000 training images"), "\(error)")
        }
        let typo = try writeSpec(name: "typo", extra: #""dataset": {"trian_size": 50},"#)
        XCTAssertThrowsError(try run(typo)) { XCTAssert("\($0)".contains("did you mean \"train_size\""), "\($0)") }
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try sqlite("SELECT group_concat(name) FROM experiments"), "tiny")
    }

    func testLayoutUsesTheCores() {
        XCTAssertEqual(Scheduler.layout(pending: 4, cores: 2, workers: nil, threads: nil).workers, 2)
        XCTAssertEqual(Scheduler.layout(pending: 4, cores: 2, workers: nil, threads: nil).threads, 1)
        XCTAssertEqual(Scheduler.layout(pending: 1, cores: 2, workers: nil, threads: nil).threads, 2)
        XCTAssertEqual(Scheduler.layout(pending: 9, cores: 8, workers: nil, threads: 2).workers, 4)
        XCTAssertEqual(Scheduler.layout(pending: 9, cores: 8, workers: 2, threads: nil).threads, 4)
    }
}

/// Pruning grids: the base model is trained once per configuration and seed, saved as a
/// checkpoint, and every threshold prunes it.
final class PruningSchedulerTests: XCTestCase {
    var directory: TemporaryDirectory!
    var database: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: directory.file("data"), trainCount: 200, testCount: 100)
    }

    override func tearDown() { directory.remove() }

    func run(workers: Int) throws -> RunSummary {
        let spec = directory.file("prune.json")
        try """
        {"name": "prune", "model": {"type": "lstm", "layers": 2, "hidden": 8},
         "training": {"epochs": 3, "batch_size": 50, "learning_rate": 0.01},
         "pruning": {"retrain_epochs": 2}, "seeds": [1, 2],
         "grid": {"pruning.threshold": [0.05, 0.1, 0.2, 0.4]}}
        """.write(toFile: spec, atomically: true, encoding: .utf8)
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: directory.file("data"),
                                 workers: workers, threadsPerJob: 1, environment: [:])
        return try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
    }

    func query(_ sql: String) throws -> [String] {
        try SQLiteConnection(path: database).query(sql) { $0.optionalString(0) ?? "NULL" }
    }

    /// The three methods on one base model per seed: units rebuilds a smaller model (hidden 8
    /// -> 4 removes (8+8)·32 - (8+4)·16 + ... weight entries), gradual ends at its target
    /// sparsity, magnitude as the paper; every job measures dense and pruned costs side by side.
    func testUnitsAndGradualMethodsPruneTheSharedBaseAndMeasureTheirCosts() throws {
        let spec = directory.file("methods.json")
        try """
        {"name": "methods", "model": {"type": "lstm", "layers": 2, "hidden": 8},
         "training": {"epochs": 2, "batch_size": 50, "learning_rate": 0.01},
         "pruning": {"retrain_epochs": 2}, "seeds": [1],
         "grid": {"pruning": [{"label": "magnitude", "method": "magnitude", "sparsity": 0.6},
                              {"label": "gradual", "method": "gradual", "sparsity": 0.6, "frequency": 2},
                              {"label": "units", "method": "units", "units": 0.5}]}}
        """.write(toFile: spec, atomically: true, encoding: .utf8)
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: directory.file("data"),
                                 workers: 1, threadsPerJob: 1, environment: [:])
        let summary = try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
        XCTAssertEqual(summary.completed, 3)
        XCTAssertTrue(summary.allDone)
        XCTAssertEqual(try query("SELECT count(*) FROM runs WHERE job_id NOT IN (SELECT job_id FROM experiment_jobs)"), ["1"],
                       "one base model for the three methods")
        func value(_ column: String, _ method: String) throws -> Double? {
            let rows = try query("""
                SELECT \(column) FROM job_results WHERE experiment = 'methods'
                  AND coalesce(json_extract(config, '$.pruning.method'), 'magnitude') = '\(method)'
                """)
            return rows.first.flatMap(Double.init)
        }
        // Weight-matrix entries of the dense model: (1 + ... ) the data is 28x28 rows, so layer 0
        // has (28 + 8)·32, layer 1 (8 + 8)·32, the head 8·10; halved units: (28 + 4)·16, (4 + 4)·16, 4·10.
        let dense = Double((28 + 8) * 32 + (8 + 8) * 32 + 8 * 10), halved = Double((28 + 4) * 16 + (4 + 4) * 16 + 4 * 10)
        XCTAssertEqual(try XCTUnwrap(value("sparsity", "units")), 1 - halved / dense, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(value("parameter_count", "units")),
                       halved + Double(2 * 16 * 2 + 10), "weights plus both layers' two bias vectors and the head's")
        XCTAssertEqual(try XCTUnwrap(value("sparsity", "magnitude")), 0.6, accuracy: 1e-3)
        XCTAssertEqual(try XCTUnwrap(value("sparsity", "gradual")), 0.6, accuracy: 1e-3)
        XCTAssertNil(try value("accuracy_pruned", "gradual"), "gradual pruning has no 'right after'")
        XCTAssertNotNil(try value("accuracy_pruned", "units"))
        for method in ["magnitude", "gradual", "units"] {
            for column in ["update_seconds", "update_seconds_pruned", "train_step_seconds", "train_step_seconds_pruned",
                           "epoch_cpu_seconds", "epoch_cpu_seconds_pruned", "inference_sample_seconds",
                           "inference_sample_seconds_pruned", "accuracy"] {
                XCTAssertGreaterThan(try XCTUnwrap(value(column, method), "\(method) \(column)"), 0, "\(method) \(column)")
            }
            let flops = try XCTUnwrap(value("flops_per_sample", method)), pruned = try XCTUnwrap(value("flops_per_sample_pruned", method))
            XCTAssertLessThan(pruned, flops * 0.6, method)
        }
        // Halving the units cuts a step's multiply-adds about 3.6 times: (36·32 + 16·32)·28 + 80 against (32·16 + 8·16)·28 + 40.
        XCTAssertEqual(try XCTUnwrap(value("flops_per_sample_pruned", "units")),
                       2 * Double((28 + 4) * 16 + (4 + 4) * 16) * 28 + 2 * 40, accuracy: 1e-6)

        let data = try ReportData.load(store: try Store(path: database), subject: .experiment("methods"))
        let markdown = try Report.render(data, figureStem: nil).markdown
        XCTAssertTrue(markdown.contains("### Cost"), markdown)
        XCTAssertTrue(markdown.contains("| pruning   | method    |"), markdown)
        XCTAssertTrue(markdown.contains("Each job measured the dense base model's update and the pruned model's side by side"))
    }

    func testEachBaseIsTrainedOnceAndEveryThresholdPrunesIt() throws {
        let summary = try run(workers: 2)
        XCTAssertEqual(summary.completed, 8)
        XCTAssertTrue(summary.allDone)
        // 2 seeds -> 2 base jobs, outside the experiment, each with exactly one run.
        let baseRuns = try query("""
            SELECT count(*) FROM runs WHERE job_id NOT IN (SELECT job_id FROM experiment_jobs) GROUP BY job_id
            """)
        XCTAssertEqual(baseRuns, ["1", "1"])
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: directory.file("results/checkpoints"))
        XCTAssertEqual(checkpoints.filter { $0.hasSuffix(".ckpt") }.count, 2)

        // Every pruning job records accuracy before, right after and after retraining, and its sparsity.
        let rows = try query("""
            SELECT json_extract(config, '$.pruning.threshold') || ':' || (accuracy_before_pruning IS NOT NULL)
                   || (accuracy_pruned IS NOT NULL) || (accuracy IS NOT NULL) || (update_seconds > 0)
                   || (update_seconds_pruned > 0) || ':' || sparsity
            FROM job_results WHERE experiment = 'prune' ORDER BY seed, position
            """)
        XCTAssertEqual(rows.count, 8)
        XCTAssert(rows.allSatisfy { $0.contains(":11111:") }, "\(rows)")
        // A larger threshold prunes more; the same seed's jobs started from one model.
        let sparsities = rows.prefix(4).map { Double($0.split(separator: ":").last!)! }
        XCTAssertEqual(sparsities, sparsities.sorted())
        XCTAssertGreaterThan(sparsities.last!, sparsities.first!)
        let before = try query("""
            SELECT count(DISTINCT accuracy_before_pruning) FROM job_results WHERE experiment = 'prune' GROUP BY seed
            """)
        XCTAssertEqual(before, ["1", "1"], "all thresholds of a seed evaluate the same base model")
        XCTAssertEqual(try query("SELECT count(*) FROM epochs WHERE phase = 'retrain'"), ["16"])
        XCTAssertEqual(try query("SELECT count(DISTINCT run_id) FROM weight_histograms WHERE stage = 'after'"), ["8"])

        // Running again trains nothing.
        let again = try run(workers: 2)
        XCTAssertEqual(again.completed, 0)
        XCTAssertEqual(try query("SELECT count(*) FROM runs"), ["10"])
    }

    func testABaseThatIsDoneWithoutACheckpointIsTrainedOnceMoreNotOncePerWorker() throws {
        // The bases' own jobs ran first as a plain experiment, as final.json's do before pruning.json.
        let plain = directory.file("plain.json")
        try """
        {"name": "plain", "model": {"type": "lstm", "layers": 2, "hidden": 8},
         "training": {"epochs": 3, "batch_size": 50, "learning_rate": 0.01}, "seeds": [1, 2]}
        """.write(toFile: plain, atomically: true, encoding: .utf8)
        let options = RunOptions(specPath: plain, databasePath: database, dataDirectory: directory.file("data"),
                                 workers: 2, threadsPerJob: 1, environment: [:])
        XCTAssertEqual(try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run().completed, 2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("results/checkpoints")))

        // 4 workers could start all four jobs of the first two thresholds at once.
        let summary = try run(workers: 4)
        XCTAssertEqual(summary.completed, 8)
        // The plain jobs are the bases: no new base runs, and one pruning job per seed trained
        // its base again and left the checkpoint for the other three.
        XCTAssertEqual(try query("SELECT count(*) FROM runs WHERE job_id IN (SELECT job_id FROM experiment_jobs WHERE experiment = 'plain')"),
                       ["2"])
        XCTAssertEqual(try query("""
            SELECT count(DISTINCT e.run_id) FROM epochs e JOIN job_results j ON j.run_id = e.run_id
            WHERE j.experiment = 'prune' AND e.phase = 'train' GROUP BY j.seed
            """), ["1", "1"])
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: directory.file("results/checkpoints"))
        XCTAssertEqual(checkpoints.filter { $0.hasSuffix(".ckpt") }.count, 2)
        // Every pruning job measured its dense and pruned costs side by side.
        XCTAssertEqual(try query("""
            SELECT count(*) FROM job_results WHERE experiment = 'prune' AND update_seconds > 0 AND update_seconds_pruned > 0
              AND train_step_seconds > 0 AND train_step_seconds_pruned > 0 AND epoch_cpu_seconds > 0
              AND inference_sample_seconds > 0 AND flops_per_sample > 0 AND flops_per_sample_pruned <= flops_per_sample
            """), ["8"])
        XCTAssertEqual(try query("""
            SELECT count(DISTINCT accuracy_before_pruning) FROM job_results WHERE experiment = 'prune' GROUP BY seed
            """), ["1", "1"])
    }

    func testAMissingCheckpointIsRebuiltIdentically() throws {
        _ = try run(workers: 1)
        let first = try query("SELECT accuracy_before_pruning FROM job_results ORDER BY job_id")
        try FileManager.default.removeItem(atPath: directory.file("results/checkpoints"))
        let options = RunOptions(specPath: directory.file("prune.json"), databasePath: database,
                                 dataDirectory: directory.file("data"), workers: 1, threadsPerJob: 2, force: true,
                                 environment: [:])
        _ = try Scheduler(options: options, log: ProgressLog(live: false, write: { _ in })).run()
        let again = try query("""
            SELECT r.accuracy_before_pruning FROM job_results r ORDER BY r.job_id
            """)
        XCTAssertEqual(first, again, "retraining the base (with 2 threads) gives the very same model")
    }
}

final class TrainingSubsetTests: XCTestCase {
    func testTrainFractionTakesThatShareOfWhateverDataIsThere() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try IDXFiles.writeDataset(in: directory.path, trainCount: 300, testCount: 10)
        let data = try FashionMNIST.load(directory: directory.path)
        var config = JobConfig(model: ModelSettings(type: .lstm), seed: 4)
        config.dataset.trainFraction = 1.0 / 3
        XCTAssertEqual(try JobRunner.trainingSet(config, data: data).count, 100)
        config.dataset.trainFraction = 1
        XCTAssertEqual(try JobRunner.trainingSet(config, data: data).count, 300)
        config.dataset.trainFraction = nil
        config.dataset.trainSize = 120
        XCTAssertEqual(try JobRunner.trainingSet(config, data: data).count, 120)
    }

    func testTrainSizeAndFractionTogetherAreRejected() throws {
        let text = #"{"name": "x", "model": {"type": "lstm"}, "dataset": {"train_size": 100, "train_fraction": 0.5}}"#
        XCTAssertThrowsError(try ExperimentSpec.parse(text: text, filePath: "x.json")) { error in
            XCTAssert("\(error)".contains("x.json: $.dataset.train_fraction: give dataset.train_size (a count) or dataset.train_fraction"),
                      "\(error)")
        }
        let fraction = #"{"name": "x", "model": {"type": "lstm"}, "dataset": {"train_fraction": 0.5}}"#
        XCTAssert(try ExperimentSpec.parse(text: fraction, filePath: "x.json").jobs()[0].canonicalJSON()
                    .contains(#""train_fraction":0.5"#))
    }
}

final class EvaluationStopTests: XCTestCase {
    var directory: TemporaryDirectory!
    var dataDirectory: String { directory.file("data") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: dataDirectory, trainCount: 50, testCount: 100)
    }

    override func tearDown() { directory.remove() }

    /// A stop request that arrives once training has ended is honoured by the evaluation
    /// (it used to run the whole test set and record the job done), which also runs in
    /// batches of the job's batch size.
    func testAStopDuringEvaluationInterruptsTheJob() throws {
        let spec = try ExperimentSpec.parse(text: """
            {"name": "e", "model": {"type": "lstm", "hidden": 4}, "training": {"epochs": 1, "batch_size": 10}}
            """, filePath: "e.json")
        let data = try FashionMNIST.load(directory: dataDirectory)
        let stop = Mutex(false)
        var evaluated = 0
        var runner = JobRunner(config: try spec.jobs()[0], data: data, threads: 1)
        runner.onEpoch = { (_: TrainingPhase, _: EpochSummary) in stop.withLock { $0 = true } }
        runner.shouldStop = {
            let stopping = stop.withLock { $0 }
            if stopping { evaluated += 1 }
            return stopping
        }
        XCTAssertThrowsError(try runner.run()) { XCTAssertEqual($0 as? TrainingError, .cancelled, "\($0)") }
        XCTAssertEqual(evaluated, 1, "the evaluation stops at its first batch")
    }
}
