import Engine
import Foundation
import Synchronization
import XCTest
@testable import HarnessKit
import TestSupport

/// `harness run` with adaptive seeds, end to end on tiny generated data.
///
/// The grid makes the verdicts certain rather than lucky: pruning thresholds 0 and 1e-9
/// prune nothing, so those two points score the same on every seed (all paired differences
/// zero: undecided however many seeds they get), while threshold 100 prunes every weight and
/// guesses one class, 10% on the balanced test set, far below the trained model on every
/// seed: decided at the start seeds. `retrain_epochs` 0 keeps each pruning job to an
/// evaluation of its seed's base model.
final class AdaptiveSeedRunTests: XCTestCase {
    var directory: TemporaryDirectory!
    var dataDirectory: String { directory.file("data") }
    var database: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: dataDirectory, trainCount: 200, testCount: 100)
    }

    override func tearDown() { directory.remove() }

    func writeSpec(seeds: String = #"{"start": 3, "max": 5}"#) throws -> String {
        let path = directory.file("adaptive.json")
        try """
        {"name": "adaptive", "model": {"type": "lstm", "layers": 1, "hidden": 8},
         "training": {"epochs": 3, "batch_size": 50, "learning_rate": 0.01},
         "pruning": {"retrain_epochs": 0}, "seeds": \(seeds),
         "grid": {"pruning.threshold": [0, 1e-9, 100]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs the spec; returns the summary and the progress log's lines.
    func run(_ spec: String, force: Bool = false, retryFailed: Bool = false) throws -> (RunSummary, [String]) {
        try Self.run(spec, database: database, dataDirectory: dataDirectory, force: force, retryFailed: retryFailed)
    }

    static func run(_ spec: String, database: String, dataDirectory: String, force: Bool = false,
                    retryFailed: Bool = false) throws -> (RunSummary, [String]) {
        let lines = Mutex<[String]>([])
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: dataDirectory, workers: 2,
                                 threadsPerJob: 1, force: force, retryFailed: retryFailed, environment: [:])
        let log = ProgressLog(live: false, write: { text in lines.withLock { $0.append(text) } })
        let summary = try Scheduler(options: options, log: log).run()
        return (summary, lines.withLock { $0 }.flatMap { $0.split(separator: "\n").map(String.init) })
    }

    func query(_ sql: String) throws -> [String] {
        try SQLiteConnection(path: database).query(sql) { $0.optionalString(0) ?? "NULL" }
    }

    /// "threshold: seeds" per grid point, from the experiment's registered jobs.
    func seedsPerPoint() throws -> [String] {
        try query("""
            SELECT json_extract(config, '$.pruning.threshold') || ': ' || group_concat(seed, ',')
            FROM (SELECT config, seed, position FROM job_results WHERE experiment = 'adaptive' ORDER BY position)
            GROUP BY json_extract(config, '$.pruning.threshold') ORDER BY min(position)
            """)
    }

    func testSeedsAreAddedOnlyToGridPointsUndecidedAgainstTheBest() throws {
        let spec = try writeSpec()
        let (summary, log) = try run(spec)
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3,4,5", "1.0e-09: 1,2,3,4,5", "100.0: 1,2,3"], log.joined(separator: "\n"))
        XCTAssertEqual(summary.total, 13)
        XCTAssertEqual(summary.completed, 13)
        XCTAssertTrue(summary.allDone)
        let rounds = log.filter { $0.hasPrefix("adaptive seeds:") }
        XCTAssertEqual(rounds, [
            "adaptive seeds: round 2 adds seed 4 to 2 grid points (undecided against the best: pruning.threshold = 1e-09; "
                + "and the best, pruning.threshold = 0)",
            "adaptive seeds: round 3 adds seed 5 to 2 grid points (undecided against the best: pruning.threshold = 1e-09; "
                + "and the best, pruning.threshold = 0)",
            "adaptive seeds: finished after round 3: best pruning.threshold = 0 (5 seeds); decided against it: 1 below "
                + "(3 seeds); undecided at the maximum of 5 seeds: pruning.threshold = 1e-09",
        ])
        // Positions leave room for every seed up to max (5 per point), so none moves when a
        // point gets a seed, and the base of each seed was trained once.
        XCTAssertEqual(try query("SELECT group_concat(position, ',') FROM (SELECT position FROM experiment_jobs ORDER BY position)"),
                       ["0,1,2,3,4,5,6,7,8,9,10,11,12"])
        XCTAssertEqual(try query("SELECT count(*) FROM runs WHERE job_id NOT IN (SELECT job_id FROM experiment_jobs)"), ["5"])

        // Rerunning finds every job done and the same verdicts: nothing is added or run.
        let runsBefore = try query("SELECT count(*) FROM runs")
        let (again, againLog) = try run(spec)
        XCTAssertEqual(again.total, 13)
        XCTAssertEqual(again.alreadyDone, 13)
        XCTAssertEqual(again.completed, 0)
        XCTAssertEqual(try query("SELECT count(*) FROM runs"), runsBefore)
        XCTAssertEqual(againLog.filter { $0.hasPrefix("adaptive seeds:") }, [
            "adaptive seeds: finished after round 1: best pruning.threshold = 0 (5 seeds); decided against it: 1 below "
                + "(3 seeds); undecided at the maximum of 5 seeds: pruning.threshold = 1e-09",
        ])

        // Raising max continues where the rounds stopped; the earlier seeds are reused.
        let raised = try writeSpec(seeds: #"{"start": 3, "max": 6}"#)
        let (more, _) = try run(raised)
        XCTAssertEqual(more.alreadyDone, 13)
        XCTAssertEqual(more.completed, 2)
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3,4,5,6", "1.0e-09: 1,2,3,4,5,6", "100.0: 1,2,3"])

        // A seed list of the start seeds is the same experiment's jobs: the added ones leave it.
        let list = try writeSpec(seeds: "[1, 2, 3]")
        let (listed, _) = try run(list)
        XCTAssertEqual(listed.total, 9)
        XCTAssertEqual(listed.alreadyDone, 9)
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3", "1.0e-09: 1,2,3", "100.0: 1,2,3"])
    }

    /// Two processes on one spec decide the same rounds and share their jobs: each job runs
    /// once, and both end with every job done, whichever of them is a round ahead.
    func testTwoSchedulersShareTheRounds() throws {
        let spec = try writeSpec()
        let summaries = Mutex<[RunSummary]>([])
        let (db, data) = (database, dataDirectory)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            if let (summary, _) = try? Self.run(spec, database: db, dataDirectory: data) {
                summaries.withLock { $0.append(summary) }
            }
        }
        let all = summaries.withLock { $0 }
        XCTAssertEqual(all.count, 2)
        XCTAssertEqual(all.map(\.allDone), [true, true])
        XCTAssertEqual(all.map(\.total), [13, 13])
        XCTAssertEqual(all.reduce(0) { $0 + $1.completed }, 13, "together they ran each job")
        XCTAssertEqual(try query("SELECT count(*) FROM runs GROUP BY job_id HAVING count(*) > 1"), [], "and none twice")
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3,4,5", "1.0e-09: 1,2,3,4,5", "100.0: 1,2,3"])
    }

    /// --force reruns each job once over all the rounds (the rounds' verdicts are the same,
    /// since the same seed gives the same result), and never a job twice.
    func testForceRerunsEveryJobOnceAcrossTheRounds() throws {
        let spec = try writeSpec()
        _ = try run(spec)
        let (forced, _) = try run(spec, force: true)
        XCTAssertEqual(forced.alreadyDone, 0)
        XCTAssertEqual(forced.completed, 13)
        XCTAssertEqual(try query("SELECT count(*) FROM runs WHERE status = 'done' GROUP BY job_id HAVING count(*) != 2"), [])
        XCTAssertEqual(try query("SELECT count(DISTINCT job_id) FROM runs"), ["18"], "13 jobs and 5 bases")
    }

    /// A failed job is not run again without --retry-failed, so the rounds stop instead of
    /// adding seeds that cannot pair, and say so. The twin whose seed 4 failed keeps the
    /// mean of seeds 1–3, above its twin's mean of 1–4 here, so it is the best: a blocked best
    /// stops every point (a blocked other point is `AdaptiveSeedRoundTests`'s).
    func testAFailedJobStopsTheRounds() throws {
        let spec = try writeSpec()
        // The 1e-9 point's seed 4 job failed in some earlier run.
        let parsed = try ExperimentSpec.load(path: spec)
        let fingerprint = try FashionMNIST.load(directory: dataDirectory).fingerprint
        let job = try parsed.gridPoints()[1].job(seed: 4)
        let id = job.id(dataFingerprint: fingerprint)
        let store = try Store(path: database)
        try store.registerDataset(fingerprint: fingerprint, descriptionJSON: "{}")
        try store.registerSupportJobs([JobRegistration(id: id, configJSON: job.canonicalJSON(), seed: 4)],
                                      datasetFingerprint: fingerprint)
        let claimed = try XCTUnwrap(try store.claimNextJob(among: [id], worker: .current(), rerunStartedBefore: nil))
        try store.fail(runID: claimed.runID, error: "loss is NaN")

        let (summary, log) = try run(spec)
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3,4", "1.0e-09: 1,2,3,4", "100.0: 1,2,3"])
        XCTAssertEqual(summary.total, 11)
        XCTAssertEqual(summary.notDone, 1)
        XCTAssertEqual(summary.failedBefore, 1)
        XCTAssertFalse(summary.allDone)
        XCTAssertEqual(log.filter { $0.hasPrefix("adaptive seeds:") }.last,
                       "adaptive seeds: finished after round 2: best pruning.threshold = 1e-09 (4 seeds); its seed 4 job "
                       + "failed, so no grid point gets more seeds until it is done (harness run --retry-failed runs "
                       + "failed jobs again); decided against it: 1 below (3 seeds); undecided: pruning.threshold = 0")

        // --retry-failed runs it, and the rounds go on from there.
        let (retried, _) = try run(spec, retryFailed: true)
        XCTAssertTrue(retried.allDone)
        XCTAssertEqual(try seedsPerPoint(), ["0.0: 1,2,3,4,5", "1.0e-09: 1,2,3,4,5", "100.0: 1,2,3"])
    }

    func testTheReportShowsTheSeedsEachPointGotAndWarnsAboutTheStopping() throws {
        let spec = try writeSpec()
        _ = try run(spec)
        let data = try ReportData.load(store: try Store(path: database), subject: .specFile(spec))
        XCTAssertEqual(data.points.map { $0.doneJobs.map(\.result.seed) }, [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5], [1, 2, 3]])
        XCTAssertTrue(data.unmatchedJobs.isEmpty)
        XCTAssertEqual(data.points.map { data.missingSeeds($0) }, [[], [], []])
        let markdown = try Report.render(data, figureStem: nil).markdown
        for expected in [
            "| seeds                  | 1–3, adaptive up to 5 (grid points have 3–5 done seeds) |",
            "= 3 grid points × 3 seeds, more (up to 5) where the comparison with the best was undecided.",
            "| 5/5 done |", "| 3/3 done |",
            "> Seeds were added adaptively: a grid point got more seeds only while its comparison with the best was "
                + "undecided, and stopped once it was decided. The p-values are not corrected for that data-dependent "
                + "stopping (optional stopping inflates false positives a little), so verdicts whose Holm p is near 0.05 "
                + "deserve caution.",
        ] {
            XCTAssert(markdown.contains(expected), "the report lacks \"\(expected)\":\n\(markdown)")
        }

        // The same jobs under the list of start seeds: nothing was added, no warning.
        let list = try writeSpec(seeds: "[1, 2, 3]")
        _ = try run(list)
        let listed = try Report.render(try ReportData.load(store: try Store(path: database), subject: .specFile(list)),
                                       figureStem: nil).markdown
        XCTAssertFalse(listed.contains("Seeds were added adaptively"), listed)
        XCTAssert(listed.contains("| seeds                  | 1, 2, 3 |"), listed)
    }
}
