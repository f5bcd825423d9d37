import Engine
import Foundation
import TestSupport
import XCTest
@testable import HarnessKit

/// Merging Slurm shard databases into the main one (StoreMerge.swift, SlurmShards.swift).
final class MergeTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var mainPath: String { directory.file("results/harness.sqlite") }
    private let dataset = "data-fingerprint-1"

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "merge-test")
    }

    override func tearDown() {
        directory.remove()
    }

    // MARK: Helpers

    /// A database with the data set and experiment "grid" of jobs job-0 ... job-(n-1).
    private func makeStore(_ path: String, jobs: Int = 4) throws -> Store {
        let store = try Store(path: path)
        try store.registerDataset(fingerprint: dataset, descriptionJSON: #"{"directory":"data"}"#)
        try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                     datasetFingerprint: dataset,
                                     jobs: (0..<jobs).map { JobRegistration(id: "job-\($0)", configJSON: #"{"seed":\#($0)}"#, seed: $0) })
        return store
    }

    private func outcome(accuracy: Double, correct: Int) -> JobOutcome {
        let matrix = (0..<10).map { row in (0..<10).map { column in column == row ? correct : (column == (row + 1) % 10 ? 1 : 0) } }
        let classes = (0..<10).map { ClassMetrics(precision: 0.5 + Double($0) / 100, recall: 0.7, f1: .nan, support: correct + 1) }
        return JobOutcome(accuracy: accuracy, macroF1: 0.6, classes: classes, confusion: ConfusionMatrix(counts: matrix), trainSeconds: 3,
                          meanEpochSeconds: 1.5, meanStepSeconds: 0.01, inferenceSeconds: 0.2, parameterCount: 1234,
                          pruning: nil)
    }

    private func claim(_ store: Store, _ job: String) throws -> Int64 {
        try XCTUnwrap(try store.claimNextJob(among: [job], worker: WorkerIdentity.current(), rerunStartedBefore: nil)).runID
    }

    /// A shard as a task leaves it: job-0 done (two epochs), job-1 failed, job-2 still
    /// running with one epoch, job-3 interrupted with one epoch.
    private func makeTaskShard(_ path: String) throws {
        let shard = try makeStore(path)
        let done = try claim(shard, "job-0")
        try shard.recordEpoch(runID: done, phase: .train, epoch: 1, loss: 0.9, seconds: 1)
        try shard.recordEpoch(runID: done, phase: .train, epoch: 2, loss: 0.5, seconds: 2)
        try shard.finish(runID: done, engineVersion: "engine-test", outcome: outcome(accuracy: 0.7, correct: 7))
        try shard.fail(runID: try claim(shard, "job-1"), error: "loss became NaN at epoch 1")
        try shard.recordEpoch(runID: try claim(shard, "job-2"), phase: .train, epoch: 1, loss: 1.1, seconds: 1)
        let interrupted = try claim(shard, "job-3")
        try shard.recordEpoch(runID: interrupted, phase: .train, epoch: 1, loss: 1.2, seconds: 1)
        try shard.interrupt(runID: interrupted, reason: "interrupted by SIGTERM")
    }

    private func count(_ path: String, _ table: String) throws -> Int {
        try XCTUnwrap(try SQLiteConnection(path: path).query("SELECT count(*) FROM \(table)") { $0.int(0) }.first)
    }

    private let perRunTables = ["runs", "results", "epochs", "class_metrics", "confusion"]

    private func counts(_ path: String) throws -> [Int] { try perRunTables.map { try count(path, $0) } }

    // MARK: Merging

    func testFinishedRunsAreCopiedWithTheirRowsAndFreshIds() throws {
        let main = try makeStore(mainPath)
        // A run of the main database's own, so shard run ids collide with main ones.
        let local = try claim(main, "job-3")
        try main.finish(runID: local, engineVersion: "engine-test", outcome: outcome(accuracy: 0.9, correct: 9))
        let shardPath = directory.file("shard-0.sqlite")
        try makeTaskShard(shardPath)
        let shard = try Store(path: shardPath)
        let shardDone = try XCTUnwrap(try shard.results(experiment: "grid")[0].runID)

        let result = try main.merge(shard: shardPath)
        XCTAssertEqual(result.done, 1)
        XCTAssertEqual(result.failed, 1)
        XCTAssertEqual(result.unfinished, 2)
        XCTAssertEqual(result.alreadyMerged, 0)

        let rows = try main.results(experiment: "grid")
        XCTAssertEqual(rows.map(\.state), [.done, .failed, .pending, .done])
        XCTAssertEqual(rows.map(\.attempts), [1, 1, 0, 1])
        XCTAssertEqual(rows[3].runID, local, "the main database's own run is untouched")
        XCTAssertEqual(rows[3].accuracy, 0.9)
        let merged = try XCTUnwrap(rows[0].runID)
        XCTAssertNotEqual(merged, local)
        XCTAssertEqual(rows[0].accuracy, 0.7)
        XCTAssertEqual(rows[0].engineVersion, "engine-test")
        XCTAssertEqual(try main.epochs(runID: merged), try shard.epochs(runID: shardDone))
        XCTAssertEqual(try main.confusion(runID: merged), try shard.confusion(runID: shardDone))
        XCTAssertEqual(try main.classMetrics(runID: merged).map(\.precision), try shard.classMetrics(runID: shardDone).map(\.precision))
        XCTAssertEqual(try main.classMetrics(runID: merged).map(\.f1.isNaN), Array(repeating: true, count: 10))
        XCTAssertEqual(rows[1].error, "loss became NaN at epoch 1")
        XCTAssertNil(rows[1].accuracy)
        // Only the merged run's rows arrived: 2 epochs of job-0, nothing of jobs 2 and 3.
        XCTAssertEqual(try counts(mainPath), [3, 2, 2, 20, 200])
    }

    /// A score job's scores travel with its run, and a result that used them names that run's
    /// id in the main database afterwards, not the shard's.
    func testPatternScoresAndTheRunsThatUsedThemAreMergedTogether() throws {
        let main = try makeStore(mainPath)
        // Main runs of its own first, so shard run ids collide with main ones.
        for job in ["job-2", "job-3"] {
            try main.finish(runID: try claim(main, job), engineVersion: "engine-test", outcome: outcome(accuracy: 0.9, correct: 9))
        }
        let shardPath = directory.file("shard-0.sqlite")
        let shard = try makeStore(shardPath)
        let scoreRun = try claim(shard, "job-0")
        let scores = PatternScores(runID: nil, method: .el2n, scores: [0.5, -1, .greatestFiniteMagnitude], seconds: 2, cpuSeconds: 1.5)
        try shard.finish(runID: scoreRun, engineVersion: "engine-test", scores: scores)
        var used = outcome(accuracy: 0.7, correct: 7)
        used.scoring = ScoringCost(runID: scoreRun, cpuSeconds: 1.5)
        try shard.finish(runID: try claim(shard, "job-1"), engineVersion: "engine-test", outcome: used)

        XCTAssertEqual(try main.merge(shard: shardPath).done, 2)
        let merged = try XCTUnwrap(try main.patternScores(jobID: "job-0"))
        XCTAssertEqual(merged.scores, scores.scores)
        XCTAssertEqual([merged.seconds, merged.cpuSeconds], [2, 1.5])
        XCTAssertNotEqual(merged.runID, scoreRun, "the main database gave the run an id of its own")
        let result = try XCTUnwrap(try main.results(experiment: "grid").first { $0.jobID == "job-1" })
        XCTAssertEqual(result.metric("scores_run_id"), merged.runID.map(Double.init))
        XCTAssertEqual(result.metric("scoring_cpu_seconds"), 1.5)
    }

    func testTestLabelsComeFromTheShardWhenTheMainDatabaseLacksThem() throws {
        let main = try makeStore(mainPath)
        let shardPath = directory.file("shard-0.sqlite")
        try makeTaskShard(shardPath)
        try Store(path: shardPath).registerDataset(fingerprint: dataset, descriptionJSON: #"{"directory":"data"}"#,
                                                   testLabels: [3, 1, 4, 1, 5])
        XCTAssertEqual(try main.testLabels(fingerprint: dataset), [])
        _ = try main.merge(shard: shardPath)
        XCTAssertEqual(try main.testLabels(fingerprint: dataset), [3, 1, 4, 1, 5])
    }

    func testMergingTheSameShardAgainAddsNothing() throws {
        let main = try makeStore(mainPath)
        let shardPath = directory.file("shard-0.sqlite")
        try makeTaskShard(shardPath)
        XCTAssertEqual(try main.merge(shard: shardPath).merged, 2)
        let after = try counts(mainPath)

        let again = try main.merge(shards: [shardPath, shardPath])
        XCTAssertEqual(again.map(\.merged), [0, 0])
        XCTAssertEqual(again.map(\.alreadyMerged), [2, 2])
        XCTAssertEqual(try counts(mainPath), after)
        // A copy of the shard elsewhere is still the same runs.
        let copy = directory.file("copy/shard-0.sqlite")
        try FileManager.default.createDirectory(atPath: directory.file("copy"), withIntermediateDirectories: true)
        try Store.sealShard(at: shardPath)
        try FileManager.default.copyItem(atPath: shardPath, toPath: copy)
        XCTAssertEqual(try main.merge(shard: copy).merged, 0)
        XCTAssertEqual(try counts(mainPath), after)
    }

    func testRunningAndInterruptedRunsAreLeftOutAndTheirJobsStayPending() throws {
        let main = try makeStore(mainPath)
        let shardPath = directory.file("shard-0.sqlite")
        let shard = try makeStore(shardPath)
        try shard.recordEpoch(runID: try claim(shard, "job-0"), phase: .train, epoch: 1, loss: 1, seconds: 1)
        let stopped = try claim(shard, "job-1")
        try shard.recordEpoch(runID: stopped, phase: .train, epoch: 1, loss: 1, seconds: 1)
        try shard.interrupt(runID: stopped, reason: "interrupted by SIGTERM")

        let result = try main.merge(shard: shardPath)
        XCTAssertEqual(result.merged, 0)
        XCTAssertEqual(result.unfinished, 2)
        XCTAssertEqual(try main.jobStates(experiment: "grid"),
                       ["job-0": .pending, "job-1": .pending, "job-2": .pending, "job-3": .pending])
        XCTAssertEqual(try counts(mainPath), [0, 0, 0, 0, 0])
    }

    func testFailedRunIsMergedAsFailedAndADoneRunStillWins() throws {
        let main = try makeStore(mainPath)
        let first = directory.file("a/shard-0.sqlite"), second = directory.file("b/shard-0.sqlite")
        let shardA = try makeStore(first)
        try shardA.finish(runID: try claim(shardA, "job-0"), engineVersion: "e", outcome: outcome(accuracy: 0.6, correct: 6))
        let shardB = try makeStore(second)
        try shardB.fail(runID: try claim(shardB, "job-0"), error: "out of memory")

        XCTAssertEqual(try main.merge(shards: [first, second]).map(\.failed), [0, 1])
        let row = try main.results(experiment: "grid")[0]
        XCTAssertEqual(row.state, .done)
        XCTAssertEqual(row.attempts, 2)
        XCTAssertEqual(try SQLiteConnection(path: mainPath).query("SELECT status, error FROM runs ORDER BY id") {
            "\($0.string(0)) \($0.optionalString(1) ?? "-")"
        }, ["done -", "failed out of memory"])
    }

    /// Tables later schemas add (like weight_histograms) are copied without the merge
    /// knowing them: every table with a run_id column, rows in their original order.
    func testTablesKeyedByRunIDAreCopiedGenerically() throws {
        let extraTables = """
            CREATE TABLE histograms (
                run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                layer TEXT NOT NULL, counts BLOB NOT NULL, PRIMARY KEY (run_id, layer));
            CREATE TABLE notes (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), text TEXT);
            """
        let main = try makeStore(mainPath)
        try SQLiteConnection(path: mainPath).execute(extraTables)
        let local = try claim(main, "job-1")
        try main.finish(runID: local, engineVersion: "e", outcome: outcome(accuracy: 0.5, correct: 5))
        try SQLiteConnection(path: mainPath).run("INSERT INTO notes (id, run_id, text) VALUES (1, ?, 'local')", [local])

        let shardPath = directory.file("shard-0.sqlite")
        let shard = try makeStore(shardPath)
        let run = try claim(shard, "job-0")
        try shard.finish(runID: run, engineVersion: "e", outcome: outcome(accuracy: 0.7, correct: 7))
        let raw = try SQLiteConnection(path: shardPath)
        try raw.execute(extraTables)
        // Not in key order: the copy must keep rowid order.
        try raw.run("INSERT INTO histograms (run_id, layer, counts) VALUES (?, 'z-last', x'0102'), (?, 'a-first', x'03')", [run, run])
        try raw.run("INSERT INTO notes (id, run_id, text) VALUES (1, ?, 'from the shard')", [run])

        XCTAssertEqual(try main.merge(shard: shardPath).done, 1)
        let merged = try XCTUnwrap(try main.results(experiment: "grid")[0].runID)
        let db = try SQLiteConnection(path: mainPath)
        XCTAssertEqual(try db.query("SELECT run_id, layer, hex(counts) FROM histograms ORDER BY rowid") {
            "\($0.int64(0)) \($0.string(1)) \($0.string(2))"
        }, ["\(merged) z-last 0102", "\(merged) a-first 03"])
        XCTAssertEqual(try db.query("SELECT run_id, text FROM notes ORDER BY id") { "\($0.int64(0)) \($0.string(1))" },
                       ["\(local) local", "\(merged) from the shard"])
    }

    func testShardWithATableTheMainDatabaseLacksIsRefusedWithoutWritingAnything() throws {
        let main = try makeStore(mainPath)
        let shardPath = directory.file("shard-0.sqlite")
        let shard = try makeStore(shardPath)
        try shard.finish(runID: try claim(shard, "job-0"), engineVersion: "e", outcome: outcome(accuracy: 0.7, correct: 7))
        try SQLiteConnection(path: shardPath).execute("CREATE TABLE histograms (run_id INTEGER NOT NULL, layer TEXT)")

        XCTAssertThrowsError(try main.merge(shard: shardPath)) { error in
            XCTAssert("\(error)".contains("histograms"), "\(error)")
            XCTAssert("\(error)".contains(shardPath), "\(error)")
        }
        XCTAssertEqual(try counts(mainPath), [0, 0, 0, 0, 0])
    }

    func testExperimentUnknownToTheMainDatabaseIsTakenFromTheShard() throws {
        let main = try Store(path: mainPath)
        let shardPath = directory.file("shard-0.sqlite")
        try makeTaskShard(shardPath)
        XCTAssertEqual(try main.merge(shard: shardPath).merged, 2)
        XCTAssertEqual(try main.experimentNames(), ["grid"])
        XCTAssertEqual(try main.results(experiment: "grid").map(\.state), [.done, .failed, .pending, .pending])
    }

    func testMissingNewerOrForeignShardsAreRefused() throws {
        let main = try makeStore(mainPath)
        let missing = directory.file("nothing.sqlite")
        XCTAssertThrowsError(try main.merge(shard: missing)) { XCTAssert("\($0)".contains("no such file"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "a missing shard must not be created")

        let newer = directory.file("newer.sqlite")
        _ = try makeStore(newer)
        try SQLiteConnection(path: newer).execute("PRAGMA user_version = \(Store.schemaVersion + 1)")
        XCTAssertThrowsError(try main.merge(shard: newer)) { XCTAssert("\($0)".contains("schema version"), "\($0)") }

        let foreign = directory.file("foreign.sqlite")
        try SQLiteConnection(path: foreign).execute("CREATE TABLE t (x); PRAGMA user_version = 1")
        XCTAssertThrowsError(try main.merge(shard: foreign)) {
            XCTAssert("\($0)".contains("not a harness results database"), "\($0)")
        }
    }

    func testSealedShardIsOneFileInRollbackModeAndStillMerges() throws {
        let shardPath = directory.file("shard-0.sqlite")
        try makeTaskShard(shardPath)
        try Store.sealShard(at: shardPath)
        XCTAssertFalse(FileManager.default.fileExists(atPath: shardPath + "-wal"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: shardPath + "-shm"))
        // Header bytes 18 and 19 are 1 for rollback journal mode, 2 for WAL.
        let header = try Data(contentsOf: URL(fileURLWithPath: shardPath)).prefix(20)
        XCTAssertEqual(Array(header.suffix(2)), [1, 1])
        let main = try makeStore(mainPath)
        XCTAssertEqual(try main.merge(shard: shardPath).merged, 2)
    }

    // MARK: Finding shards

    func testShardFileNames() {
        XCTAssertEqual(SlurmShards.taskIndex(ofShardFile: "shard-0.sqlite"), 0)
        XCTAssertEqual(SlurmShards.taskIndex(ofShardFile: "shard-12.sqlite"), 12)
        XCTAssertEqual(SlurmShards.taskIndex(ofShardFile: "shard-12-2.sqlite"), 12)
        for name in ["shard-3.sqlite.partial", "shard-3.sqlite-wal", "shard-.sqlite", "shard-x.sqlite", "shard-1-a.sqlite",
                     "shard--1.sqlite", "task-1.sqlite", "shard-1-2-3.sqlite"] {
            XCTAssertNil(SlurmShards.taskIndex(ofShardFile: name), name)
        }
        let shard = directory.file("shard-4.sqlite")
        XCTAssertEqual(SlurmShards.publicationPath(for: shard), shard)
        XCTAssert(FileManager.default.createFile(atPath: shard, contents: Data()))
        XCTAssertEqual(SlurmShards.publicationPath(for: shard), directory.file("shard-4-2.sqlite"))
        XCTAssert(FileManager.default.createFile(atPath: directory.file("shard-4-2.sqlite"), contents: Data()))
        XCTAssertEqual(SlurmShards.publicationPath(for: shard), directory.file("shard-4-3.sqlite"))
    }

    func testMergeAllTakesPublishedShardsOfThisDatabaseOnly() throws {
        let main = try makeStore(mainPath)
        let root = SlurmShards.root(forDatabase: mainPath)
        func submission(_ name: String, database: String, tasks: [[String]]) throws -> String {
            let dir = URL(fileURLWithPath: root).appendingPathComponent(name).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try SlurmManifest(experiment: "grid", database: database, spec: "spec.json", dataDirectory: "/data",
                              dataFingerprint: dataset, createdAt: name, tasks: tasks)
                .write(to: dir + "/" + SlurmManifest.fileName)
            return dir
        }
        let ours = try submission("grid-1", database: mainPath, tasks: [["job-0"], ["job-1"], ["job-2"]])
        let other = try submission("grid-2", database: directory.file("results/other.sqlite"), tasks: [["job-1"]])
        // Task 0 published; task 1 is still writing (.partial, a finished run inside);
        // task 2 has nothing yet. The other database's shard must not be merged here.
        for (path, job) in [(ours + "/shard-0.sqlite", "job-0"), (ours + "/shard-1.sqlite.partial", "job-1"),
                            (other + "/shard-0.sqlite", "job-1")] {
            let shard = try makeStore(path)
            try shard.finish(runID: try claim(shard, job), engineVersion: "e", outcome: outcome(accuracy: 0.7, correct: 7))
        }

        let report = SlurmShards.mergeAll(into: main)
        XCTAssertEqual(report.errors, [])
        XCTAssertEqual(report.results.map(\.shard), [ours + "/shard-0.sqlite"])
        XCTAssertEqual(report.mergedRuns, 1)
        XCTAssertEqual(report.waitingTasks, [ours + "/shard-1", ours + "/shard-2"])
        XCTAssertEqual(try main.results(experiment: "grid").map(\.state), [.done, .pending, .pending, .pending])
        XCTAssert(report.summary().contains("merged 1 run(s) (1 done, 0 failed) from 1 shard(s)"), report.summary())

        // Once its jobs are done (here: by a local run), a task without a shard is no longer mentioned.
        for job in ["job-1", "job-2"] {
            try main.finish(runID: try claim(main, job), engineVersion: "e", outcome: outcome(accuracy: 0.7, correct: 7))
        }
        let later = SlurmShards.mergeAll(into: main)
        XCTAssertEqual(later.waitingTasks, [])
        XCTAssertEqual(later.mergedRuns, 0)
    }

    /// A submission whose jobs file cannot be read used to be skipped without a word, so its
    /// shards were never merged. Each such directory is reported, naming the file and what is
    /// wrong; a directory with neither a jobs file nor shards (being set up) stays silent.
    func testSubmissionsWhoseJobsFileCannotBeReadAreReported() throws {
        let main = try makeStore(mainPath)
        let root = SlurmShards.root(forDatabase: mainPath)
        func directory(_ name: String, manifest: String?, shard: Bool) throws -> String {
            let dir = URL(fileURLWithPath: root).appendingPathComponent(name).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if let manifest { try manifest.write(toFile: dir + "/" + SlurmManifest.fileName, atomically: true, encoding: .utf8) }
            if shard {
                let store = try makeStore(dir + "/shard-0.sqlite")
                try store.finish(runID: try claim(store, "job-0"), engineVersion: "e", outcome: outcome(accuracy: 0.7, correct: 7))
            }
            return dir
        }
        let cut = try directory("grid-1", manifest: #"{"experiment": "grid", "database": "#, shard: true)
        let partial = try directory("grid-2", manifest: #"{"experiment": "grid"}"#, shard: false)
        let bare = try directory("grid-3", manifest: nil, shard: true)
        _ = try directory("grid-4", manifest: nil, shard: false)

        let report = SlurmShards.mergeAll(into: main)
        XCTAssertEqual(report.results, [])
        XCTAssertEqual(report.unreadableSubmissions, 3)
        XCTAssertEqual(report.errors, [
            "cannot read Slurm jobs file \(cut)/submission.json: 1:36: unexpected end of input; expected a value "
                + "(expected a submission.json written by harness submit); its 1 shard(s) (shard-0.sqlite) are not "
                + "merged until it is fixed",
            "cannot read Slurm jobs file \(partial)/submission.json: missing field \"database\" "
                + "(expected a submission.json written by harness submit)",
            "Slurm submission directory \(bare) has no submission.json, which names the database its shards belong to; "
                + "its 1 shard(s) (shard-0.sqlite) are not merged until it is fixed",
        ])
        XCTAssert(report.summary().contains("3 submission(s) could not be read (their shards were not merged)"),
                  report.summary())
        XCTAssertFalse(report.summary().contains("shard(s) could not be merged"), report.summary())
    }
}
