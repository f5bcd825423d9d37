import Engine
import Foundation
import TestSupport
import XCTest
@testable import HarnessKit

final class StoreTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var path: String { directory.file("results/results.sqlite") }
    private let dataset = "data-fingerprint-1"

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "store-test")
    }

    override func tearDown() {
        directory.remove()
    }

    // MARK: Helpers

    /// A store with the data set registered and `jobs` (job-0, job-1, ...) in experiment "grid".
    private func makeStore(jobs: Int, experiment: String = "grid") throws -> Store {
        let store = try Store(path: path)
        try store.registerDataset(fingerprint: dataset, descriptionJSON: #"{"directory":"data","train":60000}"#)
        try store.registerExperiment(name: experiment, description: "a grid", specJSON: #"{"grid":{}}"#,
                                     datasetFingerprint: dataset, jobs: registrations(0..<jobs))
        return store
    }

    private func registrations(_ indices: Range<Int>) -> [JobRegistration] {
        indices.map { registration($0) }
    }

    private func registration(_ index: Int) -> JobRegistration {
        JobRegistration(id: "job-\(index)",
                        configJSON: #"{"model":{"hidden":\#(64 * (index + 1)),"activation":"relu"},"seed":\#(index)}"#,
                        seed: index)
    }

    private func ids(_ indices: Range<Int>) -> [String] { indices.map { "job-\($0)" } }

    /// A 10-class outcome whose confusion matrix has `correct` on the diagonal and one
    /// sample of each class predicted as the next class.
    private func outcome(accuracy: Double = 0.875, correct: Int = 7, pruning: PruningOutcome? = nil,
                         confusion: [[Int]]? = nil) -> JobOutcome {
        let matrix = confusion ?? (0..<10).map { row in (0..<10).map { column in
            column == row ? correct : (column == (row + 1) % 10 ? 1 : 0)
        } }
        let classes = (0..<10).map { index in
            ClassMetrics(precision: 0.8 + Double(index) / 100, recall: 0.7, f1: 0.75, support: correct + 1)
        }
        return JobOutcome(accuracy: accuracy, macroF1: 0.74, classes: classes, confusion: ConfusionMatrix(counts: matrix),
                          trainSeconds: 12.5, meanEpochSeconds: 6.25, meanStepSeconds: 0.01,
                          inferenceSeconds: 0.5, parameterCount: 101_770, pruning: pruning)
    }

    private func raw() throws -> SQLiteConnection { try SQLiteConnection(path: path) }

    private func integer(_ sql: String, _ values: [any SQLiteBindable] = []) throws -> Int {
        try XCTUnwrap(try raw().query(sql, values) { $0.int(0) }.first)
    }

    private func text(_ sql: String, _ values: [any SQLiteBindable] = []) throws -> String? {
        try raw().query(sql, values) { $0.optionalString(0) }.first ?? nil
    }

    /// The pid of a process that has exited and been reaped.
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    private var me: WorkerIdentity { WorkerIdentity.current() }

    // MARK: Schema

    func testCreatesSchemaInNewDirectoryAndReopensIdempotently() throws {
        let store = try makeStore(jobs: 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try integer("PRAGMA user_version"), Store.schemaVersion)
        XCTAssertEqual(try text("PRAGMA journal_mode"), "wal")
        let objects = try raw().query("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name") {
            $0.string(0)
        }
        XCTAssertEqual(objects, ["class_metrics", "confusion", "datasets", "epochs", "experiment_jobs", "experiments",
                                 "job_results", "jobs", "pattern_scores", "predictions", "results", "runs", "weight_histograms"])
        let schemaSize = try integer("SELECT count(*) FROM sqlite_schema")
        _ = store

        // Reopening neither re-runs migrations (they would fail on existing tables) nor loses data.
        for _ in 0..<2 {
            let reopened = try Store(path: path)
            XCTAssertEqual(try reopened.experimentNames(), ["grid"])
            XCTAssertEqual(try reopened.jobStates(experiment: "grid").count, 2)
        }
        XCTAssertEqual(try integer("PRAGMA user_version"), Store.schemaVersion)
        XCTAssertEqual(try integer("SELECT count(*) FROM sqlite_schema"), schemaSize)
    }

    /// A lock held by another process past the busy timeout is waited out, not turned into
    /// an error that would abort the workers (and lose their training).
    func testALockHeldPastTheBusyTimeoutIsWaitedOut() throws {
        _ = try makeStore(jobs: 1)
        let store = try Store(path: path, busyTimeout: 0.1)
        nonisolated(unsafe) let holder = try raw()   // used by one thread at a time
        try holder.execute("BEGIN IMMEDIATE")
        let released = expectation(description: "lock released")
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0) {
            try? holder.execute("COMMIT")
            released.fulfill()
        }
        let start = Date()
        try store.registerDataset(fingerprint: "other", descriptionJSON: "{}")
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.5, "it waited for the lock")
        wait(for: [released], timeout: 5)
        XCTAssertEqual(try integer("SELECT count(*) FROM datasets"), 2)

        // With no patience left, the busy error comes through.
        let impatient = try Store(path: path, busyTimeout: 0.05, busyPatience: 0.2)
        let second = try raw()
        try second.execute("BEGIN IMMEDIATE")
        XCTAssertThrowsError(try impatient.registerDataset(fingerprint: "third", descriptionJSON: "{}")) {
            XCTAssert(($0 as? SQLiteError)?.isBusy == true, "\($0)")
        }
        try second.execute("COMMIT")
    }

    /// The view lists every result column by name, and a view of another version (one
    /// column short, as a database written before a metric was added) is replaced on open.
    func testTheJobResultsViewFollowsTheResultColumns() throws {
        _ = try makeStore(jobs: 1)
        func viewColumns() throws -> [String] { try raw().query("PRAGMA table_info(job_results)") { $0.string(1) } }
        XCTAssert(Set(ResultColumn.names).isSubset(of: Set(try viewColumns())))
        try raw().execute("DROP VIEW job_results; CREATE VIEW job_results AS SELECT 1 AS accuracy")
        XCTAssertEqual(try viewColumns(), ["accuracy"])
        let reopened = try Store(path: path)
        XCTAssert(Set(ResultColumn.names).isSubset(of: Set(try viewColumns())))
        XCTAssertEqual(try reopened.results(experiment: "grid").count, 1)
    }

    /// Several stores opening one new file at once: one migrates it, the others wait and
    /// find it migrated. None may read the version before another's migration commits and
    /// the tables after it (that looked like "tables but schema version 0"). Several fresh
    /// files, so the race has chances to show.
    func testStoresOpeningANewDatabaseAtOnceMigrateItOnce() throws {
        for round in 0..<8 {
            let claims = Claims()   // collects errors only
            let path = directory.file("results/new-\(round).sqlite")
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { _ = try Store(path: path) } catch { claims.add(error: error) }
            }
            XCTAssertEqual(claims.failures, [], "round \(round)")
            let db = try SQLiteConnection(path: path)
            XCTAssertEqual(try db.query("PRAGMA user_version") { $0.int(0) }.first, Store.schemaVersion)
            XCTAssertEqual(try db.query("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'") { $0.int(0) }.first, 1)
        }
    }

    func testConnectionsEnforceForeignKeysAndWaitWhenBusy() throws {
        _ = try makeStore(jobs: 1)
        let db = try raw()
        XCTAssertEqual(try db.query("PRAGMA foreign_keys") { $0.int(0) }, [1])
        XCTAssertEqual(try db.query("PRAGMA busy_timeout") { $0.int(0) }, [30_000])
        XCTAssertThrowsError(try db.run("""
            INSERT INTO jobs (id, config_json, seed, dataset_fingerprint, created_at) VALUES ('x', '{}', 1, 'nope', 'now')
            """)) { error in
            XCTAssertTrue("\(error)".contains("FOREIGN KEY"), "\(error)")
            XCTAssertTrue("\(error)".contains(self.path), "\(error)")
        }
    }

    func testRefusesDatabaseWithNewerSchemaVersion() throws {
        _ = try makeStore(jobs: 1)
        try raw().execute("PRAGMA user_version = \(Store.schemaVersion + 1)")
        XCTAssertThrowsError(try Store(path: path)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("schema version \(Store.schemaVersion + 1)"), message)
            XCTAssertTrue(message.contains("newer harness"), message)
            XCTAssertTrue(message.contains(self.path), message)
        }
    }

    func testRefusesADatabaseThatIsNotAHarnessDatabase() throws {
        try raw().execute("CREATE TABLE something_else (x)")
        XCTAssertThrowsError(try Store(path: path)) { error in
            XCTAssertTrue("\(error)".contains("not a harness results database"), "\(error)")
        }
        XCTAssertEqual(try integer("PRAGMA user_version"), 0)
    }

    /// A file that is not a harness database is refused before anything writes to it: it
    /// used to be switched to WAL first (and one with user_version 1 was even migrated).
    func testAForeignFileIsRefusedAndLeftByteForByte() throws {
        func foreign(_ name: String, _ sql: String) throws -> String {
            let file = directory.file(name)
            let db = try SQLiteConnection(path: file)
            try db.execute(sql)
            _ = try db.query("PRAGMA journal_mode=DELETE") { $0.string(0) }
            return file
        }
        let files = [
            try foreign("notes.sqlite", "CREATE TABLE notes (x); INSERT INTO notes VALUES ('keep me')"),
            try foreign("versioned.sqlite", "CREATE TABLE notes (x); PRAGMA user_version = 1"),
            try foreign("future-looking.sqlite", "CREATE TABLE notes (x); PRAGMA user_version = 7"),
        ]
        let text = directory.file("notes.txt")
        try "not a database at all, just some text that is longer than a header".write(toFile: text, atomically: true,
                                                                                       encoding: .utf8)
        for file in files + [text] {
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            XCTAssertThrowsError(try Store(path: file), file) { error in
                let message = "\(error)"
                XCTAssert(message.contains("\(file) is not a harness results database"), message)
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)), before, "\(file) was changed")
            for suffix in ["-wal", "-shm", "-journal"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: file + suffix), file + suffix)
            }
        }
    }

    /// An empty path would open a temporary database, and a directory path made a file
    /// named after the directory (or failed with SQLite's "unable to open").
    func testAnEmptyOrDirectoryPathIsRefused() throws {
        XCTAssertThrowsError(try Store(path: "")) { error in
            XCTAssertEqual("\(error)", "the results database path is empty; give a database file such as results/harness.sqlite")
        }
        let slash = directory.file("new") + "/"
        XCTAssertThrowsError(try Store(path: slash)) { error in
            XCTAssertEqual("\(error)", "results database \(slash) is a directory; give a database file such as \(slash)harness.sqlite")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("new")))
        let existing = directory.file("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Store(path: existing)) { error in
            XCTAssertEqual("\(error)", "results database \(existing) is a directory; give a database file such as \(existing)/harness.sqlite")
        }
    }

    // MARK: Registration

    func testAVersion4DatabaseIsMigratedKeepingItsRows() throws {
        try FileManager.default.createDirectory(atPath: directory.file("results"), withIntermediateDirectories: true)
        let old = try SQLiteConnection(path: path)
        for migration in StoreSchema.migrations.prefix(4) { try old.execute(migration) }
        try old.execute("""
            PRAGMA user_version = 4;
            INSERT INTO datasets (fingerprint, description_json, created_at) VALUES ('fp', '{"directory":"d"}', 'then');
            """)
        let store = try Store(path: path)
        XCTAssertEqual(try integer("PRAGMA user_version"), Store.schemaVersion)
        XCTAssertEqual(try integer("SELECT count(*) FROM datasets WHERE fingerprint = 'fp'"), 1)
        XCTAssertEqual(try store.testLabels(fingerprint: "fp"), [])
        try store.registerDataset(fingerprint: "fp", descriptionJSON: #"{"directory":"d"}"#, testLabels: [1, 2])
        XCTAssertEqual(try store.testLabels(fingerprint: "fp"), [1, 2])
    }

    func testTestLabelsAreKeptWhenADataSetIsRegisteredAgainWithoutThem() throws {
        let store = try Store(path: path)
        XCTAssertEqual(try store.testLabels(fingerprint: "fp"), [])
        try store.registerDataset(fingerprint: "fp", descriptionJSON: "{}")
        XCTAssertEqual(try store.testLabels(fingerprint: "fp"), [])
        try store.registerDataset(fingerprint: "fp", descriptionJSON: "{}", testLabels: [9, 0, 0, 7])
        try store.registerDataset(fingerprint: "fp", descriptionJSON: #"{"directory":"moved"}"#)
        XCTAssertEqual(try store.testLabels(fingerprint: "fp"), [9, 0, 0, 7])
    }

    func testRegisteringTwiceIsIdempotentAndAddingAJobAddsOnlyIt() throws {
        let store = try makeStore(jobs: 3)
        func snapshot() throws -> [String] {
            let db = try raw()
            return try db.query("SELECT id || '|' || config_json || '|' || seed || '|' || created_at FROM jobs ORDER BY id") {
                $0.string(0)
            } + db.query("SELECT experiment || '|' || job_id || '|' || position FROM experiment_jobs ORDER BY 1") {
                $0.string(0)
            } + db.query("SELECT name || '|' || spec_json || '|' || created_at || '|' || updated_at FROM experiments") {
                $0.string(0)
            }
        }
        let before = try snapshot()
        try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                     datasetFingerprint: dataset, jobs: registrations(0..<3))
        XCTAssertEqual(try snapshot(), before)

        let claimed = try XCTUnwrap(store.claimNextJob(among: ids(0..<3), worker: me, rerunStartedBefore: nil))
        let jobRowsBefore = try raw().query("SELECT id || created_at FROM jobs ORDER BY id") { $0.string(0) }
        let updatedBefore = try text("SELECT updated_at FROM experiments")

        try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                     datasetFingerprint: dataset, jobs: registrations(0..<4))
        XCTAssertEqual(try integer("SELECT count(*) FROM jobs"), 4)
        XCTAssertEqual(Array(try raw().query("SELECT id || created_at FROM jobs ORDER BY id") { $0.string(0) }.prefix(3)),
                       jobRowsBefore)
        XCTAssertEqual(try integer("SELECT position FROM experiment_jobs WHERE job_id = 'job-3'"), 3)
        XCTAssertEqual(try integer("SELECT count(*) FROM runs"), 1)
        XCTAssertGreaterThan(try XCTUnwrap(text("SELECT updated_at FROM experiments")), try XCTUnwrap(updatedBefore))
        XCTAssertEqual(try store.jobStates(experiment: "grid"),
                       [claimed.jobID: .running, "job-1": .pending, "job-2": .pending, "job-3": .pending])

        // A second experiment shares the jobs it has in common instead of copying them.
        try store.registerExperiment(name: "other", description: "", specJSON: "{}", datasetFingerprint: dataset,
                                     jobs: [registration(1), registration(5)])
        XCTAssertEqual(try integer("SELECT count(*) FROM jobs"), 5)
        XCTAssertEqual(try store.experimentNames(), ["grid", "other"])

        // A job dropped from the spec leaves the experiment but keeps its row and runs.
        try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                     datasetFingerprint: dataset, jobs: [registration(1), registration(2)])
        XCTAssertEqual(Set(try store.jobStates(experiment: "grid").keys), ["job-1", "job-2"])
        XCTAssertEqual(try integer("SELECT count(*) FROM jobs"), 5)
        XCTAssertEqual(try integer("SELECT count(*) FROM runs WHERE job_id = 'job-0'"), 1)
        XCTAssertEqual(try store.results(experiment: "grid").map(\.jobID), ["job-1", "job-2"])
    }

    /// Adaptive seeds' jobs are listed `onlyIfMember`: they keep a membership they have and
    /// are not added otherwise, leaving gaps in the positions, and the call returns the members.
    func testJobsListedOnlyIfMemberKeepTheirMembershipAndAreNotAdded() throws {
        let store = try makeStore(jobs: 2)
        func listing(_ members: Set<Int>) -> [JobRegistration] {
            (0..<5).map { index in
                let job = registration(index)
                return JobRegistration(id: job.id, configJSON: job.configJSON, seed: job.seed,
                                       onlyIfMember: !members.contains(index))
            }
        }
        func register(_ required: Set<Int>) throws -> [String] {
            try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                         datasetFingerprint: dataset, jobs: listing(required))
        }
        func positions() throws -> [String] {
            try raw().query("SELECT job_id || '@' || position FROM experiment_jobs ORDER BY position") { $0.string(0) }
        }
        // job-0 and job-1 are members; job-3 is added; job-2 and job-4 are not.
        XCTAssertEqual(try register([0, 3]), ["job-0", "job-1", "job-3"])
        XCTAssertEqual(try positions(), ["job-0@0", "job-1@1", "job-3@3"])
        XCTAssertEqual(try integer("SELECT count(*) FROM jobs"), 3, "a job that is not added is not recorded either")
        // Another process, which never asked for job-3, leaves it in the experiment.
        XCTAssertEqual(try register([0]), ["job-0", "job-1", "job-3"])
        XCTAssertEqual(try positions(), ["job-0@0", "job-1@1", "job-3@3"])
        // A job no longer listed at all leaves, as for any spec.
        XCTAssertEqual(try store.registerExperiment(name: "grid", description: "a grid", specJSON: #"{"grid":{}}"#,
                                                    datasetFingerprint: dataset, jobs: Array(listing([0]).prefix(2))),
                       ["job-0", "job-1"])
    }

    /// A second spec file with a registered name used to replace the first's spec and job
    /// list. The experiment belongs to the file it was registered from: that file may change
    /// it, a copy holding the same spec may run it, another spec is refused.
    func testAnExperimentBelongsToTheSpecFileItWasRegisteredFrom() throws {
        let store = try Store(path: path)
        try store.registerDataset(fingerprint: dataset, descriptionJSON: #"{"directory":"data"}"#)
        func file(_ name: String, _ text: String) throws -> String {
            let file = directory.file(name)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }
        let spec = #"{"name": "grid", "seeds": [1]}"#
        let first = try file("first.json", spec)
        let second = try file("second.json", #"{"name": "grid", "seeds": [2]}"#)
        let copy = try file("copy.json", #"{ "seeds": [1], "name": "grid" }"#)
        func register(_ file: String, jobs: Range<Int>) throws {
            try store.registerExperiment(name: "grid", description: "", specJSON: try String(contentsOfFile: file, encoding: .utf8),
                                         specPath: file, datasetFingerprint: dataset, jobs: registrations(jobs))
        }
        func recorded() throws -> String? { try text("SELECT spec_path FROM experiments WHERE name = 'grid'") }

        try register(first, jobs: 0..<2)
        XCTAssertEqual(try recorded(), Store.canonicalSpecPath(first))
        XCTAssertThrowsError(try register(second, jobs: 2..<3)) { error in
            XCTAssertEqual("\(error)", "experiment grid in \(self.path) was registered from \(Store.canonicalSpecPath(first)); "
                           + "\(second) has the same name: rename one (\"name\") or use another --db")
        }
        XCTAssertEqual(Set(try store.jobStates(experiment: "grid").keys), ["job-0", "job-1"], "the refused spec changed nothing")
        XCTAssertEqual(try text("SELECT spec_json FROM experiments"), spec)

        // A copy of the same spec (other layout and key order) runs it, and does not take it over.
        try register(copy, jobs: 0..<2)
        XCTAssertEqual(try recorded(), Store.canonicalSpecPath(first))
        // The file itself, edited: a seed added, so more jobs.
        try #"{"name": "grid", "seeds": [1, 3]}"#.write(toFile: first, atomically: true, encoding: .utf8)
        try register(first, jobs: 0..<4)
        XCTAssertEqual(try store.jobStates(experiment: "grid").count, 4)
        // Once the recorded file is gone (moved, renamed), another file takes the name over.
        try FileManager.default.removeItem(atPath: first)
        try register(second, jobs: 2..<3)
        XCTAssertEqual(try recorded(), Store.canonicalSpecPath(second))

        // Registered without a path (before schema version 3, or by the library): the next path is recorded.
        try store.registerExperiment(name: "old", description: "", specJSON: "{}", datasetFingerprint: dataset,
                                     jobs: registrations(0..<1))
        XCTAssertNil(try text("SELECT spec_path FROM experiments WHERE name = 'old'"))
        try store.registerExperiment(name: "old", description: "", specJSON: #"{"a": 1}"#, specPath: second,
                                     datasetFingerprint: dataset, jobs: registrations(0..<1))
        XCTAssertEqual(try text("SELECT spec_path FROM experiments WHERE name = 'old'"), Store.canonicalSpecPath(second))
    }

    func testRegistrationRejectsDuplicateJobsAndUnknownDataSets() throws {
        let store = try makeStore(jobs: 1)
        XCTAssertThrowsError(try store.registerExperiment(
            name: "dup", description: "", specJSON: "{}", datasetFingerprint: dataset,
            jobs: [registration(0), registration(1), registration(0)])) { error in
            XCTAssertTrue("\(error)".contains("job-0 twice (positions 0 and 2)"), "\(error)")
        }
        XCTAssertThrowsError(try store.registerExperiment(
            name: "nodata", description: "", specJSON: "{}", datasetFingerprint: "missing", jobs: [registration(0)])) { error in
            XCTAssertTrue("\(error)".contains("data set missing is not registered"), "\(error)")
        }
        XCTAssertEqual(try store.experimentNames(), ["grid"])
    }

    // MARK: Claiming

    func testClaimsInTheGivenOrderAndReturnsNilWhenNothingIsEligible() throws {
        let store = try makeStore(jobs: 4)
        let order = ["job-2", "job-0", "job-3", "job-1"]
        var runs: [Int64] = []
        for expected in order {
            let claimed = try XCTUnwrap(store.claimNextJob(among: order, worker: me, rerunStartedBefore: nil))
            XCTAssertEqual(claimed.jobID, expected)
            XCTAssertEqual(claimed.seed, Int(expected.dropFirst(4)))
            XCTAssertTrue(claimed.configJSON.contains("hidden"))
            runs.append(claimed.runID)
        }
        // All four are running, owned by this live process.
        XCTAssertNil(try store.claimNextJob(among: order, worker: me, rerunStartedBefore: nil))
        for run in runs { try store.finish(runID: run, engineVersion: "test", outcome: outcome()) }
        XCTAssertNil(try store.claimNextJob(among: order, worker: me, rerunStartedBefore: nil))
        XCTAssertNil(try store.claimNextJob(among: [], worker: me, rerunStartedBefore: nil))
        XCTAssertEqual(try integer("SELECT count(*) FROM runs"), 4)

        XCTAssertThrowsError(try store.claimNextJob(among: ["job-0", "job-x"], worker: me, rerunStartedBefore: nil)) {
            XCTAssertTrue("\($0)".contains("job-x"), "\($0)")
        }
    }

    func testForceRerunsEachJobOnceAndKeepsEarlierResults() throws {
        let store = try makeStore(jobs: 3)
        let all = ids(0..<3)
        var firstRuns: [String: Int64] = [:]
        while let claimed = try store.claimNextJob(among: all, worker: me, rerunStartedBefore: nil) {
            try store.finish(runID: claimed.runID, engineVersion: "v1", outcome: outcome(accuracy: 0.5))
            firstRuns[claimed.jobID] = claimed.runID
        }
        XCTAssertEqual(firstRuns.count, 3)

        let force = Date()
        var reruns: [String] = []
        while let claimed = try store.claimNextJob(among: all, worker: me, rerunStartedBefore: force) {
            reruns.append(claimed.jobID)
            try store.finish(runID: claimed.runID, engineVersion: "v2", outcome: outcome(accuracy: 0.75))
        }
        XCTAssertEqual(reruns, all)
        XCTAssertNil(try store.claimNextJob(among: all, worker: me, rerunStartedBefore: nil))
        XCTAssertEqual(try integer("SELECT count(*) FROM runs WHERE status = 'done'"), 6)
        XCTAssertEqual(try integer("SELECT count(*) FROM results"), 6)
        XCTAssertEqual(try store.results(experiment: "grid").map(\.accuracy), [0.75, 0.75, 0.75])
        XCTAssertEqual(try store.results(experiment: "grid").map(\.attempts), [2, 2, 2])

        // A forced rerun that is interrupted leaves the latest finished result in the view.
        let secondForce = Date()
        let rerun = try XCTUnwrap(store.claimNextJob(among: all, worker: me, rerunStartedBefore: secondForce))
        try store.interrupt(runID: rerun.runID, reason: "SIGINT")
        let row = try XCTUnwrap(store.results(experiment: "grid").first)
        XCTAssertEqual(row.state, .done)
        XCTAssertEqual(row.accuracy, 0.75)
        XCTAssertEqual(row.engineVersion, "v2")
        XCTAssertNotEqual(row.runID, rerun.runID)
        XCTAssertEqual(try text("SELECT status FROM runs WHERE id = ?", [rerun.runID]), "interrupted")
        XCTAssertEqual(try integer("SELECT count(*) FROM results WHERE run_id = ?", [firstRuns["job-0"]!]), 1)
        // ... and, having no done run since that --force started, the job is claimed again.
        XCTAssertEqual(try store.claimNextJob(among: all, worker: me, rerunStartedBefore: secondForce)?.jobID, "job-0")
    }

    // MARK: Finishing

    func testFinishWritesTheViewRow() throws {
        let store = try makeStore(jobs: 2)
        let pruning = PruningOutcome(accuracyBeforePruning: 0.9, accuracyPruned: 0.8, sparsity: 0.6,
                                     layerSparsity: ["dense2": 0.5, "dense1": 0.7], nonzeroParameters: 40_708,
                                     updateSeconds: 0.002, updateSecondsPruned: 0.001)
        let pruned = try XCTUnwrap(store.claimNextJob(among: ["job-1"], worker: me, rerunStartedBefore: nil))
        try store.recordEpoch(runID: pruned.runID, phase: .train, epoch: 1, loss: 0.9, seconds: 6)
        try store.recordEpoch(runID: pruned.runID, phase: .train, epoch: 2, loss: .nan, seconds: 6.5)
        try store.recordEpoch(runID: pruned.runID, phase: .retrain, epoch: 1, loss: 0.4, seconds: 3)
        try store.finish(runID: pruned.runID, engineVersion: "0.1.0", outcome: outcome(pruning: pruning))
        let plain = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: me, rerunStartedBefore: nil))
        try store.finish(runID: plain.runID, engineVersion: "0.1.0", outcome: outcome(accuracy: 0.625))

        let rows = try raw().query("""
            SELECT job_id, run_id, status, json_extract(config, '$.model.hidden'), seed, accuracy, macro_f1,
                   train_seconds, mean_epoch_seconds, mean_step_seconds, inference_seconds, parameter_count,
                   accuracy_before_pruning, accuracy_pruned, sparsity, update_seconds, update_seconds_pruned,
                   host, engine_version, started_at IS NULL, finished_at IS NULL, error IS NULL,
                   json_extract(layer_sparsity, '$.dense1')
            FROM job_results WHERE experiment = 'grid' AND json_extract(config, '$.model.hidden') = 128
            """) { row in
            [row.string(0), "\(row.int64(1))", row.string(2), "\(row.int(3))", "\(row.int(4))",
             "\(row.double(5))", "\(row.double(6))", "\(row.double(7))", "\(row.double(8))", "\(row.double(9))",
             "\(row.double(10))", "\(row.int(11))", "\(row.double(12))", "\(row.double(13))", "\(row.double(14))",
             "\(row.double(15))", "\(row.double(16))", row.string(17), row.string(18),
             "\(row.int(19))", "\(row.int(20))", "\(row.int(21))", "\(row.double(22))"]
        }
        XCTAssertEqual(rows.count, 1)
        let row = try XCTUnwrap(rows.first)
        XCTAssertEqual(row, ["job-1", "\(pruned.runID)", "done", "128", "1", "0.875", "0.74", "12.5", "6.25", "0.01",
                             "0.5", "101770", "0.9", "0.8", "0.6", "0.002", "0.001", me.host, "0.1.0",
                             "0", "0", "1", "0.7"])

        // Without pruning the pruning columns are NULL.
        XCTAssertEqual(try integer("""
            SELECT count(*) FROM job_results WHERE job_id = 'job-0' AND accuracy = 0.625 AND accuracy_pruned IS NULL
              AND sparsity IS NULL AND update_seconds IS NULL AND layer_sparsity IS NULL
            """), 1)
        // The full matrix, zeros included.
        XCTAssertEqual(try integer("SELECT count(*) FROM confusion WHERE run_id = ?", [pruned.runID]), 100)
        XCTAssertEqual(try integer("SELECT sum(count) FROM confusion WHERE run_id = ?", [pruned.runID]), 80)
        XCTAssertEqual(try store.confusion(runID: pruned.runID), outcome().confusion)
        XCTAssertEqual(try store.classMetrics(runID: pruned.runID), outcome().classes)
        let epochs = try store.epochs(runID: pruned.runID)
        XCTAssertEqual(epochs.map(\.phase), [.train, .train, .retrain])
        XCTAssertEqual(epochs.map(\.loss), [0.9, nil, 0.4])

        XCTAssertThrowsError(try store.finish(runID: pruned.runID, engineVersion: "0.1.0", outcome: outcome())) {
            XCTAssertTrue("\($0)".contains("already done"), "\($0)")
        }
        XCTAssertThrowsError(try store.heartbeat(runID: 9_999)) {
            XCTAssertTrue("\($0)".contains("no run with id 9999"), "\($0)")
        }
    }

    func testFinishWithBadShapeThrowsBeforeWritingAnything() throws {
        let store = try makeStore(jobs: 1)
        let claimed = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: me, rerunStartedBefore: nil))
        var ragged = outcome().confusion.counts
        ragged[3].removeLast()
        XCTAssertThrowsError(try store.finish(runID: claimed.runID, engineVersion: "v",
                                              outcome: outcome(confusion: ragged))) {
            XCTAssertTrue("\($0)".contains("row 3 has 9 entries, expected 10"), "\($0)")
        }
        let nineByNine = Array(outcome().confusion.counts.prefix(9).map { Array($0.prefix(9)) })
        XCTAssertThrowsError(try store.finish(runID: claimed.runID, engineVersion: "v",
                                              outcome: outcome(confusion: nineByNine))) {
            XCTAssertTrue("\($0)".contains("10 per-class metrics for a 9x9"), "\($0)")
        }
        XCTAssertThrowsError(try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome(accuracy: .nan)))
        for table in ["results", "class_metrics", "confusion"] {
            XCTAssertEqual(try integer("SELECT count(*) FROM \(table)"), 0, table)
        }
        XCTAssertEqual(try store.jobStates(experiment: "grid"), ["job-0": .running])
        try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome())
        XCTAssertEqual(try store.jobStates(experiment: "grid"), ["job-0": .done])
    }

    func testFinishFailingHalfwayRollsBackEveryRow() throws {
        let store = try makeStore(jobs: 1)
        let claimed = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: me, rerunStartedBefore: nil))
        // Fails after the results row, all class rows and 70 confusion cells are written.
        try raw().execute("""
            CREATE TRIGGER inject_failure BEFORE INSERT ON confusion WHEN NEW.true_class = 7
            BEGIN SELECT RAISE(ABORT, 'injected failure'); END
            """)
        XCTAssertThrowsError(try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome())) {
            XCTAssertTrue("\($0)".contains("injected failure"), "\($0)")
        }
        for table in ["results", "class_metrics", "confusion"] {
            XCTAssertEqual(try integer("SELECT count(*) FROM \(table)"), 0, table)
        }
        XCTAssertEqual(try text("SELECT status FROM runs"), "running")

        try raw().execute("DROP TRIGGER inject_failure")
        try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome())
        XCTAssertEqual(try integer("SELECT count(*) FROM confusion"), 100)
    }

    func testFailAndInterruptSetTheirStates() throws {
        let store = try makeStore(jobs: 3)
        let all = ids(0..<3)
        let failed = try XCTUnwrap(store.claimNextJob(among: all, worker: me, rerunStartedBefore: nil))
        try store.fail(runID: failed.runID, error: "loss is NaN")
        let interrupted = try XCTUnwrap(store.claimNextJob(among: ["job-1"], worker: me, rerunStartedBefore: nil))
        try store.interrupt(runID: interrupted.runID, reason: "SIGINT")

        XCTAssertEqual(try store.jobStates(experiment: "grid"),
                       ["job-0": .failed, "job-1": .interrupted, "job-2": .pending])
        let rows = try store.results(experiment: "grid")
        XCTAssertEqual(rows.map(\.error), ["loss is NaN", "SIGINT", nil])
        XCTAssertEqual(rows.map { $0.finishedAt == nil }, [false, false, true])
        XCTAssertEqual(try text("SELECT status FROM job_results WHERE job_id = 'job-0'"), "failed")
        XCTAssertEqual(try store.statusSummary(), [
            Store.StatusRow(experiment: "grid", state: .pending, count: 1),
            Store.StatusRow(experiment: "grid", state: .failed, count: 1),
            Store.StatusRow(experiment: "grid", state: .interrupted, count: 1),
        ])

        // An ended run cannot be failed or finished again; interrupting it changes nothing.
        XCTAssertThrowsError(try store.fail(runID: failed.runID, error: "again"))
        XCTAssertThrowsError(try store.finish(runID: failed.runID, engineVersion: "v", outcome: outcome()))
        try store.interrupt(runID: failed.runID, reason: "late SIGINT")
        XCTAssertEqual(try text("SELECT error FROM runs WHERE id = ?", [failed.runID]), "loss is NaN")

        // Without retryFailed a failed job is left failed.
        XCTAssertEqual(try store.claimNextJob(among: ["job-0"], worker: me, rerunStartedBefore: nil, retryFailed: false)?.jobID, nil)

        // Failed and interrupted jobs are retried, as new runs.
        let retry = try XCTUnwrap(store.claimNextJob(among: all, worker: me, rerunStartedBefore: nil))
        XCTAssertEqual(retry.jobID, "job-0")
        XCTAssertNotEqual(retry.runID, failed.runID)
        XCTAssertEqual(try store.claimNextJob(among: all, worker: me, rerunStartedBefore: nil)?.jobID, "job-1")
    }

    // MARK: Dead owners

    func testRunOfADeadProcessIsReclaimedByTheNextClaimButALiveOneIsNot() throws {
        let store = try makeStore(jobs: 3)
        let deadPID = try deadPID()
        let dead = WorkerIdentity(host: me.host, pid: deadPID, token: "irrelevant")
        let orphan = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: dead, rerunStartedBefore: nil))
        let live = try XCTUnwrap(store.claimNextJob(among: ["job-1"], worker: me, rerunStartedBefore: nil))

        let next = try XCTUnwrap(store.claimNextJob(among: ids(0..<3), worker: me, rerunStartedBefore: nil))
        XCTAssertEqual(next.jobID, "job-0")
        XCTAssertEqual(try text("SELECT status FROM runs WHERE id = ?", [orphan.runID]), "interrupted")
        XCTAssertEqual(try text("SELECT error FROM runs WHERE id = ?", [orphan.runID]),
                       "process \(deadPID) on \(me.host) died")
        XCTAssertEqual(try text("SELECT status FROM runs WHERE id = ?", [live.runID]), "running")
        XCTAssertEqual(try store.reclaimDeadRuns(staleAfter: 0), 0)
    }

    /// `status` shows how many 'running' jobs have lost their process, without changing them.
    func testStatusMarksRunningJobsWhoseProcessIsGone() throws {
        let store = try makeStore(jobs: 3)
        let dead = WorkerIdentity(host: me.host, pid: try deadPID(), token: "irrelevant")
        _ = try XCTUnwrap(store.claimNextJob(among: ["job-1"], worker: me, rerunStartedBefore: nil))
        // (Claimed last: a claim reclaims dead owners' runs first.)
        let orphan = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: dead, rerunStartedBefore: nil))
        XCTAssertEqual(try store.runningJobsWhoseProcessIsGone(), ["grid": 1])
        XCTAssertEqual(try text("SELECT status FROM runs WHERE id = ?", [orphan.runID]), "running", "status changes nothing")
        let table = StatusTable.render(try store.statusSummary(), gone: try store.runningJobsWhoseProcessIsGone())
        XCTAssert(table.contains("process gone"), table)
        XCTAssertEqual(table.split(separator: "\n")[1].split(separator: " ").last, "1", table)
        XCTAssertFalse(StatusTable.render(try store.statusSummary()).contains("process gone"))
    }

    func testRunWhosePIDWasReusedIsReclaimed() throws {
        try XCTSkipIf(WorkerIdentity.processToken(pid: getpid()) == nil, "needs /proc to read process start times")
        let store = try makeStore(jobs: 1)
        // Same host and pid as this process, but another start time: an earlier process
        // with this pid died.
        let earlier = WorkerIdentity(host: me.host, pid: me.pid, token: "some-boot/1")
        let claimed = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: earlier, rerunStartedBefore: nil))
        XCTAssertEqual(try store.reclaimDeadRuns(staleAfter: 3600), 1)
        XCTAssertEqual(try text("SELECT status FROM runs WHERE id = ?", [claimed.runID]), "interrupted")
    }

    func testRunOnAnotherHostIsReclaimedOnlyWhenItsHeartbeatIsStale() throws {
        let store = try makeStore(jobs: 2)
        let remote = WorkerIdentity(host: "some-other-host.invalid", pid: 4242, token: "t")
        let stale = try XCTUnwrap(store.claimNextJob(among: ["job-0"], worker: remote, rerunStartedBefore: nil))
        let fresh = try XCTUnwrap(store.claimNextJob(among: ["job-1"], worker: remote, rerunStartedBefore: nil))
        try raw().run("UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00.000000Z' WHERE id IN (?, ?)",
                      [stale.runID, fresh.runID])
        try store.heartbeat(runID: fresh.runID)
        XCTAssertGreaterThan(try XCTUnwrap(text("SELECT heartbeat_at FROM runs WHERE id = ?", [fresh.runID])), "2020")

        XCTAssertEqual(try store.reclaimDeadRuns(staleAfter: 600), 1)
        XCTAssertEqual(try store.jobStates(experiment: "grid"), ["job-0": .interrupted, "job-1": .running])
        XCTAssertEqual(try text("SELECT error FROM runs WHERE id = ?", [stale.runID]),
                       "process 4242 on some-other-host.invalid died (no heartbeat since 2000-01-01T00:00:00.000000Z)")

        // The owner was alive after all: its result is still accepted.
        try store.finish(runID: stale.runID, engineVersion: "v", outcome: outcome())
        XCTAssertEqual(try store.jobStates(experiment: "grid")["job-0"], .done)
        XCTAssertNil(try text("SELECT error FROM runs WHERE id = ?", [stale.runID]))
    }

    func testWorkerIdentityTellsALiveProcessFromAReusedPID() throws {
        try XCTSkipIf(WorkerIdentity.processToken(pid: getpid()) == nil, "needs /proc to read process start times")
        XCTAssertEqual(me.pid, getpid())
        XCTAssertEqual(me.token, WorkerIdentity.processToken(pid: getpid()))

        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { if sleeper.isRunning { sleeper.terminate(); sleeper.waitUntilExit() } }
        let pid = sleeper.processIdentifier
        let token = try XCTUnwrap(WorkerIdentity.processToken(pid: pid))
        XCTAssertNotEqual(token, me.token)
        XCTAssertTrue(WorkerIdentity(host: me.host, pid: pid, token: token).isAliveOnThisHost())
        XCTAssertFalse(WorkerIdentity(host: me.host, pid: pid, token: token + "0").isAliveOnThisHost())
        sleeper.terminate()
        sleeper.waitUntilExit()
        XCTAssertFalse(WorkerIdentity(host: me.host, pid: pid, token: token).isAliveOnThisHost())
    }

    // MARK: Concurrency

    /// Claimed job ids, appended from several threads.
    private final class Claims: @unchecked Sendable {
        private let lock = NSLock()
        private var ids: [String] = []
        private var errors: [String] = []
        func add(_ id: String) { lock.withLock { ids.append(id) } }
        func add(error: Error) { lock.withLock { errors.append("\(error)") } }
        var all: [String] { lock.withLock { ids } }
        var failures: [String] { lock.withLock { errors } }
    }

    /// Each worker claims until nothing is left, finishing every other job it claims and
    /// leaving the rest running (they stay unclaimable: their owner, this process, is alive).
    private func claimConcurrently(stores: [Store], workers: Int, jobs: [String]) -> Claims {
        let claims = Claims()
        let outcome = outcome()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let store = stores[worker % stores.count]
            do {
                var count = 0
                while let claimed = try store.claimNextJob(among: jobs, worker: .current(), rerunStartedBefore: nil) {
                    claims.add(claimed.jobID)
                    count += 1
                    if count % 2 == 0 {
                        try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome)
                    } else {
                        try store.heartbeat(runID: claimed.runID)
                    }
                }
            } catch {
                claims.add(error: error)
            }
        }
        return claims
    }

    func testTwoStoresOnOneFileClaimConcurrentlyWithoutDuplicates() throws {
        let first = try makeStore(jobs: 30)
        let second = try Store(path: path)
        let jobs = ids(0..<30)
        let claims = claimConcurrently(stores: [first, second], workers: 2, jobs: jobs)
        XCTAssertEqual(claims.failures, [])
        XCTAssertEqual(claims.all.count, 30)
        XCTAssertEqual(Set(claims.all), Set(jobs))
        XCTAssertEqual(try integer("SELECT count(*) FROM runs"), 30)
        XCTAssertEqual(try integer("SELECT count(DISTINCT job_id) FROM runs"), 30)
    }

    func testThreadsSharingOneStoreClaimConcurrentlyWithoutDuplicates() throws {
        let store = try makeStore(jobs: 30)
        let jobs = ids(0..<30)
        let claims = claimConcurrently(stores: [store], workers: 4, jobs: jobs)
        XCTAssertEqual(claims.failures, [])
        XCTAssertEqual(claims.all.count, 30)
        XCTAssertEqual(Set(claims.all), Set(jobs))
        XCTAssertEqual(try integer("SELECT count(*) FROM runs"), 30)
    }

    // MARK: Reading

    func testViewShowsPendingForJobsWithoutRuns() throws {
        let store = try makeStore(jobs: 3)
        try store.registerExperiment(name: "another", description: "", specJSON: "{}", datasetFingerprint: dataset,
                                     jobs: [registration(7)])
        let pending = try raw().query("""
            SELECT job_id, status, run_id IS NULL, accuracy IS NULL, host IS NULL, json_extract(config, '$.seed')
            FROM job_results WHERE experiment = 'grid' ORDER BY position
            """) { "\($0.string(0)) \($0.string(1)) \($0.int(2)) \($0.int(3)) \($0.int(4)) \($0.int(5))" }
        XCTAssertEqual(pending, ["job-0 pending 1 1 1 0", "job-1 pending 1 1 1 1", "job-2 pending 1 1 1 2"])
        XCTAssertEqual(try store.results(experiment: "grid").map(\.attempts), [0, 0, 0])

        let claimed = try XCTUnwrap(store.claimNextJob(among: ids(0..<3), worker: me, rerunStartedBefore: nil))
        try store.finish(runID: claimed.runID, engineVersion: "v", outcome: outcome())
        _ = try store.claimNextJob(among: ids(0..<3), worker: me, rerunStartedBefore: nil)
        XCTAssertEqual(try store.statusSummary(), [
            Store.StatusRow(experiment: "another", state: .pending, count: 1),
            Store.StatusRow(experiment: "grid", state: .pending, count: 1),
            Store.StatusRow(experiment: "grid", state: .running, count: 1),
            Store.StatusRow(experiment: "grid", state: .done, count: 1),
        ])
        XCTAssertThrowsError(try store.jobStates(experiment: "missing")) {
            XCTAssertTrue("\($0)".contains("no experiment named missing"), "\($0)")
        }
    }

    // MARK: Low level

    func testTimestampsAreFixedWidthUTCAndSortInTimeOrder() {
        XCTAssertEqual(Store.timestamp(Date(timeIntervalSince1970: 0.5)), "1970-01-01T00:00:00.500000Z")
        XCTAssertEqual(Store.timestamp(Date(timeIntervalSince1970: 1_700_000_000.25)), "2023-11-14T22:13:20.250000Z")
        let earlier = Date(timeIntervalSince1970: 1_699_999_999.999_999)
        XCTAssertLessThan(Store.timestamp(earlier), Store.timestamp(Date(timeIntervalSince1970: 1_700_000_000)))
    }

    func testTransactionRollsBackWhenItsBodyThrows() throws {
        let db = try raw()
        try db.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        XCTAssertThrowsError(try db.transaction(immediate: true) {
            try db.run("INSERT INTO t VALUES (?)", [1])
            try db.run("INSERT INTO t VALUES (?)", [Int?.none])
        }) { error in
            XCTAssertTrue("\(error)".contains("NOT NULL"), "\(error)")
            XCTAssertTrue("\(error)".contains(self.path), "\(error)")
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM t") { $0.int(0) }, [0])
        XCTAssertThrowsError(try db.prepare("SELECT 1; SELECT 2"))
        XCTAssertThrowsError(try db.run("SELECT ?", [])) // one parameter, none bound
    }
}
