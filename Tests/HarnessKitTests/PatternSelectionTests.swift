import Engine
import Foundation
import XCTest
@testable import HarnessKit
import TestSupport

/// `dataset.selection` end to end: how specs say it (and keep the ids of random and
/// stratified jobs), score jobs that run once and are reused across jobs and processes,
/// selection from the stored scores, the active set's epochs, and the report's section.
final class PatternSelectionTests: XCTestCase {
    var directory: TemporaryDirectory!
    var dataDirectory: String { directory.file("data") }
    var database: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        try IDXFiles.writeDataset(in: dataDirectory, trainCount: 200, testCount: 60)
    }

    override func tearDown() { directory.remove() }

    func writeSpec(name: String, grid: String, dataset: String = #"{"score_epochs": 1, "score_models": 2}"#,
                   seeds: String = "[1, 2]", extra: String = "") throws -> String {
        let path = directory.file("\(name).json")
        try """
            {"name": "\(name)", "dataset": \(dataset), "model": {"type": "lstm", "layers": 1, "hidden": 4},
             "training": {"epochs": 2, "batch_size": 50, "learning_rate": 0.01}, \(extra)
             "seeds": \(seeds), "grid": \(grid)}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ spec: String, workers: Int = 2) throws -> RunSummary {
        let options = RunOptions(specPath: spec, databasePath: database, dataDirectory: dataDirectory, workers: workers,
                                 threadsPerJob: 1, environment: [:])
        return try Scheduler(options: options, stop: StopFlag(), log: ProgressLog(live: false, write: { _ in })).run()
    }

    func query(_ sql: String) throws -> [String] {
        try SQLiteConnection(path: database).query(sql) { $0.optionalString(0) ?? "NULL" }
    }

    func ids(_ text: String) throws -> [String] {
        try ExperimentSpec.parse(text: text, filePath: "x.json").jobs().map {
            JobIdentity.jobID(canonicalConfig: $0.canonicalJSON(), dataFingerprint: "f")
        }
    }

    func specError(_ text: String) -> String {
        do {
            _ = try ExperimentSpec.parse(text: text, filePath: "x.json").jobs()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    /// Random and stratified jobs keep the ids they had before `selection` existed, however
    /// the spec says them; the new selections are jobs of their own.
    func testRandomAndStratifiedKeepTheirIDs() throws {
        let head = #"{"name": "x", "model": {"type": "lstm"}, "dataset": {"train_size": 100"#
        let stratified = try ids(head + #", "stratified": true}}"#)
        XCTAssertEqual(try ids(head + #", "selection": "stratified"}}"#), stratified)
        let random = try ids(head + "}}")
        XCTAssertEqual(try ids(head + #", "selection": "random"}}"#), random)
        XCTAssertEqual(try ids(head + #", "stratified": false}}"#), random)
        XCTAssertNotEqual(random, stratified)
        let el2n = try ids(head + #", "selection": "el2n"}}"#)
        let active = try ids(head + #", "selection": "active"}}"#)
        XCTAssertEqual(Set([random, stratified, el2n, active].map { $0[0] }).count, 4)
        // A grid over selection drops the base's "stratified" where it does not apply.
        let grid = try ids(#"{"name": "x", "model": {"type": "lstm"}, "dataset": {"train_size": 100, "stratified": true}, "#
                           + #""grid": {"dataset.selection": ["stratified", "el2n"]}}"#)
        XCTAssertEqual(grid, stratified + el2n)
        // Frozen: the first el2n and active jobs' ids on fingerprint "f".
        XCTAssertEqual(el2n + active, ["9405c0ef1274b9ad", "8d05c7dda20bad69"])
    }

    /// Settings that cannot work are refused, naming the setting and what was expected.
    func testSelectionSettingsThatCannotWorkAreRefused() {
        let model = #""model": {"type": "lstm"}"#
        XCTAssertEqual(specError(#"{"name": "x", \#(model), "dataset": {"selection": "el2n"}}"#),
                       "x.json: $.dataset.selection: el2n keeps the highest-scoring patterns of the training set: "
                        + "give dataset.train_size or dataset.train_fraction to say how many")
        XCTAssertEqual(specError(#"{"name": "x", \#(model), "dataset": {"train_size": 10, "selection": "el2n", "stratified": true}}"#),
                       "x.json: $.dataset.stratified: dataset.stratified applies to dataset.selection random or stratified, not el2n")
        XCTAssertEqual(specError(#"{"name": "x", \#(model), "dataset": {"train_size": 10, "score_models": 2}}"#),
                       "x.json: $.dataset.score_models: dataset.score_models applies to dataset.selection el2n, not random")
        XCTAssertEqual(specError(#"{"name": "x", \#(model), "dataset": {"selection": "active", "revisit": 0}}"#),
                       "x.json: $.dataset.revisit: 0 is out of range 1...1000")
        XCTAssertEqual(specError(#"{"name": "x", \#(model), "dataset": {"selection": "loss"}}"#),
                       #"x.json: $.dataset.selection: expected one of "random", "stratified", "el2n", "forgetting", "active", found "loss""#)
    }

    /// One score job per method and seed, run once before the jobs that need it; every
    /// fraction reads its scores, a job that keeps everything needs none, a second spec in
    /// another scheduler (another process's view) reuses them, and selection follows the
    /// stored scores exactly.
    func testScoresAreComputedOnceAndReusedAcrossJobsAndProcesses() throws {
        let spec = try writeSpec(name: "select", grid: #"{"dataset.train_fraction": [1.0, 0.5, 0.25], "#
                                 + #""dataset.selection": ["random", "el2n", "forgetting"]}"#)
        let summary = try run(spec)
        XCTAssertEqual(summary.completed, 18)
        XCTAssertTrue(summary.allDone)
        // 2 methods x 2 seeds score jobs, outside the experiment, one done run each.
        XCTAssertEqual(try query("""
            SELECT p.method || ':' || count(*) FROM pattern_scores p JOIN runs r ON r.id = p.run_id
            WHERE r.job_id NOT IN (SELECT job_id FROM experiment_jobs) GROUP BY p.method ORDER BY p.method
            """), ["el2n:2", "forgetting:2"])
        XCTAssertEqual(try query("SELECT count(DISTINCT job_id) FROM runs WHERE job_id NOT IN (SELECT job_id FROM experiment_jobs)"),
                       ["4"])
        // Every job below the full set that selects by score read a score run; at 1.0 none did.
        XCTAssertEqual(try query("""
            SELECT json_extract(config, '$.dataset.train_fraction') || ':' || count(scores_run_id) || ':' || count(*)
            FROM job_results WHERE experiment = 'select' AND json_extract(config, '$.dataset.selection') IS NOT NULL
            GROUP BY json_extract(config, '$.dataset.train_fraction') ORDER BY 1
            """), ["0.25:4:4", "0.5:4:4", "1.0:0:4"])
        XCTAssertEqual(try query("""
            SELECT count(*) FROM job_results WHERE scores_run_id IS NOT NULL
            AND scoring_cpu_seconds != (SELECT cpu_seconds FROM pattern_scores WHERE run_id = scores_run_id)
            """), ["0"])
        // Selecting all patterns by score is training on all of them: the random job's result.
        XCTAssertEqual(try query("""
            SELECT count(DISTINCT accuracy) FROM job_results WHERE experiment = 'select'
            AND json_extract(config, '$.dataset.train_fraction') = 1.0 GROUP BY seed
            """), ["1", "1"])

        // The kept patterns are the top of the stored scores: the 0.25 el2n job of seed 1.
        let store = try Store(path: database)
        let prepared = try Scheduler(options: RunOptions(specPath: spec, databasePath: database, dataDirectory: dataDirectory,
                                                         environment: [:]), stop: StopFlag(), log: ProgressLog(live: false, write: { _ in }))
            .prepare()
        let position = prepared.configs.firstIndex { $0.dataset.trainFraction == 0.25 && $0.dataset.selection == .el2n && $0.seed == 1 }!
        let config = prepared.configs[position]
        let scoreID = try XCTUnwrap(prepared.supports.scores(of: prepared.jobIDs[position]))
        let stored = try XCTUnwrap(try store.patternScores(jobID: scoreID))
        XCTAssertEqual(stored.scores.count, 200)
        let kept = highestScoring(stored.scores, keep: 50)
        let chosen = try JobRunner.trainingSet(config, data: prepared.data, scores: stored.scores)
        XCTAssertEqual(chosen.labels, kept.map { prepared.data.train.labels[$0] })
        XCTAssertEqual(chosen.count, 50)
        // The same scores again, bit for bit: scoring is deterministic for a seed.
        let scoreJob = try XCTUnwrap(prepared.supports.scoreJob(scoreID), "not a score job")
        XCTAssertEqual(try scoreJob.compute(on: prepared.data, threads: 2).scores.map(\.bitPattern), stored.scores.map(\.bitPattern))

        // Another spec (another scheduler, as another process would be) keeping 0.75 reuses the scores.
        let scoreRuns = try query("SELECT count(*) FROM pattern_scores")
        let other = try writeSpec(name: "more", grid: #"{"dataset.train_fraction": [0.75], "dataset.selection": ["el2n", "forgetting"]}"#)
        XCTAssertEqual(try run(other).completed, 4)
        XCTAssertEqual(try query("SELECT count(*) FROM pattern_scores"), scoreRuns)
        XCTAssertEqual(try query("SELECT count(*) FROM job_results WHERE experiment = 'more' AND scores_run_id IS NOT NULL"), ["4"])

        // The report charges each score run's CPU time in equal shares to this experiment's jobs that used it (2 each).
        let data = try ReportData.load(store: store, subject: .specFile(spec))
        let shares = data.scoringShares
        for job in data.jobs where job.isDone {
            let expected = job.result.metric("scoring_cpu_seconds").map { $0 / 2 } ?? 0
            XCTAssertEqual(shares[job.result.jobID]!, expected, accuracy: 1e-12)
        }
        let markdown = try Report.render(data, figureStem: "select").markdown
        XCTAssertTrue(markdown.contains("## Pattern selection"), markdown)
        XCTAssertTrue(markdown.contains("| dataset.train_fraction | dataset.selection |   n | patterns / epoch |"), markdown)
    }

    /// The active set trains on fewer patterns as they are learned, records each epoch's
    /// count, and sums them into the result.
    func testActiveSelectionRecordsThePatternsOfEachEpoch() throws {
        let spec = try writeSpec(name: "active", grid: #"{"dataset.selection": ["random", "active"]}"#,
                                 dataset: #"{"threshold": 3.0, "revisit": 2}"#, seeds: "[1]",
                                 extra: "")
        // A loose threshold (loss 3, above ln 10 = 2.3 of a uniform guess on these random images), over 6 epochs.
        try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: #""epochs": 2"#, with: #""epochs": 6"#)
            .write(toFile: spec, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(spec).completed, 2)
        let counts = try query("""
            SELECT e.patterns FROM epochs e JOIN job_results j ON j.run_id = e.run_id
            WHERE j.experiment = 'active' AND json_extract(j.config, '$.dataset.selection') = 'active' ORDER BY e.epoch
            """).map { Int($0)! }
        XCTAssertEqual(counts.count, 6)
        XCTAssertEqual(counts.first, 200, "every pattern starts active")
        XCTAssert(counts.contains { $0 < 200 }, "some patterns were set aside: \(counts)")
        // Each pattern comes back within `revisit` (2) epochs, so two epochs in a row cover them all.
        XCTAssert(zip(counts, counts.dropFirst()).allSatisfy { $0 + $1 >= 200 }, "\(counts)")
        XCTAssertEqual(try query("""
            SELECT pattern_epochs FROM job_results WHERE experiment = 'active' ORDER BY position
            """), ["1200", String(counts.reduce(0, +))])
        XCTAssertEqual(try query("""
            SELECT count(*) FROM epochs e JOIN job_results j ON j.run_id = e.run_id
            WHERE j.experiment = 'active' AND e.patterns IS NULL
            """), ["6"], "a random job's epochs train on all its patterns (NULL)")
    }
}
