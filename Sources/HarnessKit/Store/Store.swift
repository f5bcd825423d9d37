import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite results database: experiments, their jobs, every run (attempt) of a job and
/// its results. Schema and conventions: StoreSchema.swift.
///
/// Several processes (and threads) share one database file. Each `Store` owns one
/// connection and serialises its use with a lock; across connections, every write that
/// takes more than one statement is one BEGIN IMMEDIATE transaction, so the database is
/// consistent at every commit and a finished result is either fully recorded or not at all.
public final class Store: @unchecked Sendable {
    public static let schemaVersion = StoreSchema.migrations.count
    /// How long a run owned by another host may go without a heartbeat before it is taken
    /// for dead. Liveness on this host is checked directly and needs no heartbeat.
    public static let defaultStaleAfter: TimeInterval = 600

    public let path: String
    /// The staleness limit `claimNextJob` applies when it reclaims dead runs.
    public let staleAfter: TimeInterval

    /// How long a transaction keeps retrying while another process holds the database's
    /// lock past SQLite's busy timeout, before it gives up with the busy error. Long,
    /// because what waits may be the record of hours of training.
    public static let defaultBusyPatience: TimeInterval = 3600

    private let connection: SQLiteConnection
    private let lock = NSLock()
    private let busyPatience: TimeInterval

    /// Opens or creates the database at `path` (and its directory) and brings its schema
    /// up to `schemaVersion`. Refuses, before writing anything to it, a file that is not a
    /// harness results database and one written by a newer harness; refuses an empty path
    /// and a directory. `busyTimeout` is SQLite's wait for a lock; a transaction that still
    /// finds it busy is retried with backoff for up to `busyPatience` seconds.
    public init(path: String, staleAfter: TimeInterval = Store.defaultStaleAfter, busyTimeout: TimeInterval = 30,
                busyPatience: TimeInterval = Store.defaultBusyPatience) throws {
        if let problem = DatabasePath.problem(path) { throw HarnessError(problem.message(subject: "results database")) }
        self.path = path
        self.staleAfter = staleAfter
        self.busyPatience = busyPatience
        connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout, beforeWriting: Store.requireHarnessDatabase)
        try Store.migrate(connection)
    }

    // MARK: Registration

    /// Records where a data set came from and, when given, its test labels; a fingerprint
    /// seen before gets the new description and keeps its labels when none are given.
    public func registerDataset(fingerprint: String, descriptionJSON: String, testLabels: [UInt8]? = nil) throws {
        try write { db in
            try db.run("""
                INSERT INTO datasets (fingerprint, description_json, created_at, test_labels) VALUES (?, ?, ?, ?)
                ON CONFLICT (fingerprint) DO UPDATE SET description_json = excluded.description_json,
                    test_labels = coalesce(excluded.test_labels, datasets.test_labels)
                """, [fingerprint, descriptionJSON, Store.now(), testLabels.map { Data($0) }])
        }
    }

    /// The test labels of a data set, one byte per test image; empty when they were not recorded.
    public func testLabels(fingerprint: String) throws -> [UInt8] {
        try read { db in
            try db.query("SELECT test_labels FROM datasets WHERE fingerprint = ? AND test_labels IS NOT NULL",
                         [fingerprint]) { $0.blob(0) }.first ?? []
        }
    }

    /// Records an experiment and its complete, ordered job list, and returns the ids of the
    /// jobs that are its members now, in order. Idempotent: jobs already known are left as
    /// they are (with their runs), new ones are added, and a job no longer listed leaves the
    /// experiment (its runs and results stay in the database and come back if the job is
    /// listed again). `updated_at` changes only when something did.
    ///
    /// A job's position is its index in `jobs`. A job marked `onlyIfMember` (an adaptive
    /// seed no round may have added yet) keeps its membership if it has one and is skipped
    /// otherwise, leaving a gap in the positions. Deciding that inside the transaction means
    /// two processes adding seeds to one experiment never drop each other's.
    ///
    /// With `specPath`, the spec file the text was read from, a name registered from another
    /// spec file is refused (see `requireSpecOrigin`): editing the one file changes the
    /// experiment, a second file with the same name does not replace it.
    @discardableResult
    public func registerExperiment(name: String, description: String, specJSON: String, specPath: String? = nil,
                                   datasetFingerprint: String, jobs: [JobRegistration]) throws -> [String] {
        var firstPosition: [String: Int] = [:]
        for (position, job) in jobs.enumerated() {
            if let earlier = firstPosition[job.id] {
                throw HarnessError("experiment \(name) lists job \(job.id) twice (positions \(earlier) and \(position)); "
                                   + "expected every resolved configuration to be distinct")
            }
            firstPosition[job.id] = position
        }
        return try write { db in
            let known = try db.query("SELECT 1 FROM datasets WHERE fingerprint = ?", [datasetFingerprint]) { _ in true }
            guard !known.isEmpty else {
                throw HarnessError("cannot register experiment \(name): data set \(datasetFingerprint) is not registered "
                                   + "in \(path) (register the data set first)")
            }
            let recordPath = try specPath.map { try requireSpecOrigin(db, name: name, specJSON: specJSON, specPath: $0) }
            let members = jobs.contains(where: \.onlyIfMember)
                ? Set(try db.query("SELECT job_id FROM experiment_jobs WHERE experiment = ?", [name]) { $0.string(0) }) : []
            let listed = jobs.enumerated().filter { !$0.element.onlyIfMember || members.contains($0.element.id) }
            let now = Store.now()
            let changed = try db.run("""
                INSERT INTO experiments (name, description, spec_json, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
                ON CONFLICT (name) DO UPDATE
                SET description = excluded.description, spec_json = excluded.spec_json, updated_at = excluded.updated_at
                WHERE description IS NOT excluded.description OR spec_json IS NOT excluded.spec_json
                """, [name, description, specJSON, now]) > 0

            let insertJob = try db.prepare("""
                INSERT INTO jobs (id, config_json, seed, dataset_fingerprint, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """)
            let addMember = try db.prepare("""
                INSERT INTO experiment_jobs (experiment, job_id, position) VALUES (?, ?, ?)
                ON CONFLICT (experiment, job_id) DO UPDATE SET position = excluded.position
                WHERE position != excluded.position
                """)
            var membershipChanges = 0
            for (position, job) in listed {
                try insertJob.bind([job.id, job.configJSON, job.seed, job.datasetFingerprint ?? datasetFingerprint, now])
                while try insertJob.step() {}
                try addMember.bind([name, job.id, position])
                while try addMember.step() {}
                membershipChanges += db.changes
            }
            membershipChanges += try db.run("""
                DELETE FROM experiment_jobs WHERE experiment = ? AND job_id NOT IN (SELECT value FROM json_each(?))
                """, [name, try Store.jsonArray(listed.map(\.element.id))])
            if membershipChanges > 0 && !changed {
                try db.run("UPDATE experiments SET updated_at = ? WHERE name = ?", [now, name])
            }
            if let specPath, recordPath == true {
                try db.run("UPDATE experiments SET spec_path = ? WHERE name = ?", [Store.canonicalSpecPath(specPath), name])
            }
            return listed.map(\.element.id)
        }
    }

    // MARK: Claiming and reclaiming

    /// Claims the first eligible job of `jobIDs` (in that order) inside one BEGIN IMMEDIATE
    /// transaction, inserting a 'running' run owned by `worker`. Eligible: no 'done' run
    /// (or, when `rerunStartedBefore` is non-nil, no 'done' run started at/after that date:
    /// that is how --force reruns each job once), no live 'running' run, and, unless
    /// `retryFailed`, a latest run that is not 'failed' (a failure such as a diverging loss
    /// repeats with the same seed, so failed jobs wait for --retry-failed). Dead owners'
    /// runs are reclaimed first (see `reclaimDeadRuns`). Returns nil when nothing is eligible.
    public func claimNextJob(among jobIDs: [String], worker: WorkerIdentity, rerunStartedBefore: Date?,
                             retryFailed: Bool = true) throws -> ClaimedJob? {
        guard !jobIDs.isEmpty else { return nil }
        let ids = try Store.jsonArray(jobIDs)
        let cutoff = rerunStartedBefore.map(Store.timestamp)
        return try write { db in
            let unknown = try db.query("SELECT value FROM json_each(?) WHERE value NOT IN (SELECT id FROM jobs) LIMIT 1",
                                       [ids]) { $0.string(0) }
            if let id = unknown.first {
                throw HarnessError("cannot claim job \(id): it is not registered in \(path)")
            }
            try reclaimDeadRuns(db, staleAfter: staleAfter)

            // json_each's key is the array index, which keeps the caller's order.
            let next = try db.query("""
                SELECT j.id, j.config_json, j.seed
                FROM json_each(?1) AS c JOIN jobs j ON j.id = c.value
                WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND r.status = 'running')
                  AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.id AND r.status = 'done'
                                                        AND (?2 IS NULL OR r.started_at >= ?2))
                  AND (?3 OR COALESCE((SELECT r.status FROM runs r WHERE r.job_id = j.id
                                       AND (?2 IS NULL OR r.started_at >= ?2) ORDER BY r.id DESC LIMIT 1), '') != 'failed')
                ORDER BY c.key
                LIMIT 1
                """, [ids, cutoff, retryFailed ? 1 : 0]) { (id: $0.string(0), config: $0.string(1), seed: $0.int(2)) }.first
            guard let next else { return nil }

            let now = Store.now()
            try db.run("""
                INSERT INTO runs (job_id, status, host, pid, process_token, heartbeat_at, started_at)
                VALUES (?, 'running', ?, ?, ?, ?, ?)
                """, [next.id, worker.host, worker.pid, worker.token, now, now])
            return ClaimedJob(runID: db.lastInsertRowID, jobID: next.id, configJSON: next.config, seed: next.seed)
        }
    }

    /// Marks 'running' runs whose owner is dead as 'interrupted' (error "process N on HOST
    /// died"). On this host an owner is dead when its pid is gone or now belongs to a
    /// process with another token; on another host, when its heartbeat is older than
    /// `staleAfter` (this compares the two hosts' clocks). Returns how many were reclaimed.
    @discardableResult
    public func reclaimDeadRuns(staleAfter: TimeInterval) throws -> Int {
        try write { db in try reclaimDeadRuns(db, staleAfter: staleAfter) }
    }

    @discardableResult
    private func reclaimDeadRuns(_ db: SQLiteConnection, staleAfter: TimeInterval) throws -> Int {
        var reclaimed = 0
        for run in try deadRuns(db, staleAfter: staleAfter) {
            reclaimed += try db.run("""
                UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND status = 'running'
                """, [Store.now(), run.reason, run.id])
        }
        return reclaimed
    }

    /// The 'running' runs whose owner is dead, with why: on this host, its pid is gone or
    /// belongs to another process now; on another host, its heartbeat is older than `staleAfter`.
    private func deadRuns(_ db: SQLiteConnection, staleAfter: TimeInterval) throws -> [(id: Int64, jobID: String, reason: String)] {
        let thisHost = WorkerIdentity.current().host
        let staleBefore = Store.timestamp(Date().addingTimeInterval(-staleAfter))
        let running = try db.query("""
            SELECT id, job_id, host, pid, process_token, heartbeat_at FROM runs WHERE status = 'running'
            """) { row in
            (id: row.int64(0), jobID: row.string(1),
             owner: WorkerIdentity(host: row.string(2), pid: Int32(truncatingIfNeeded: row.int64(3)), token: row.string(4)),
             heartbeat: row.string(5))
        }
        return running.compactMap { run in
            if run.owner.host == thisHost {
                guard !run.owner.isAliveOnThisHost() else { return nil }
                return (run.id, run.jobID, "process \(run.owner.pid) on \(run.owner.host) died")
            }
            guard run.heartbeat < staleBefore else { return nil }
            return (run.id, run.jobID, "process \(run.owner.pid) on \(run.owner.host) died (no heartbeat since \(run.heartbeat))")
        }
    }

    /// Per experiment, how many of its jobs are shown 'running' although the process
    /// running them is gone (the next `harness run` reclaims them). Nothing is changed.
    public func runningJobsWhoseProcessIsGone() throws -> [String: Int] {
        try read { db in
            let dead = try Store.jsonArray(try deadRuns(db, staleAfter: staleAfter).map(\.jobID))
            let rows = try db.query("""
                SELECT ej.experiment, count(*) FROM experiment_jobs ej JOIN json_each(?) d ON d.value = ej.job_id
                WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.job_id = ej.job_id AND r.status = 'done')
                GROUP BY ej.experiment
                """, [dead]) { ($0.string(0), $0.int(1)) }
            return Dictionary(rows, uniquingKeysWith: +)
        }
    }

    // MARK: Progress of a run

    /// Tells other hosts the run's owner is alive. A run that is no longer 'running' (it
    /// was reclaimed, or has ended) is left as it is: `finish` still accepts a reclaimed run.
    public func heartbeat(runID: Int64) throws {
        try write { db in
            _ = try runState(db, runID)
            try db.run("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", [Store.now(), runID])
        }
    }

    /// Records (or re-records) one epoch; also a heartbeat.
    /// `patterns`: how many training patterns the epoch trained on, when not all (active set).
    public func recordEpoch(runID: Int64, phase: TrainingPhase, epoch: Int, loss: Double, seconds: Double,
                            cpuSeconds: Double? = nil, patterns: Int? = nil) throws {
        try write { db in
            _ = try runState(db, runID)
            try db.run("""
                INSERT INTO epochs (run_id, phase, epoch, loss, seconds, cpu_seconds, patterns) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, phase, epoch) DO UPDATE
                SET loss = excluded.loss, seconds = excluded.seconds, cpu_seconds = excluded.cpu_seconds,
                    patterns = excluded.patterns
                """, [runID, phase.rawValue, epoch, loss, seconds, cpuSeconds, patterns])
            try db.run("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'", [Store.now(), runID])
        }
    }

    // MARK: Ending a run

    /// Records the outcome (results, per-class metrics, the full confusion matrix) and marks
    /// the run 'done', all in one transaction. The outcome is checked before anything is
    /// written. A run reclaimed as 'interrupted' whose owner was in fact alive is accepted.
    public func finish(runID: Int64, engineVersion: String, outcome: JobOutcome) throws {
        try Store.validate(outcome, runID: runID)
        let pruning = outcome.pruning
        let layerSparsity = try pruning.map { try Store.jsonObject($0.layerSparsity) }
        try write { db in
            try checkFinishable(db, runID)
            let columns = ResultColumn.all
            try db.run("""
                INSERT INTO results (run_id, \(columns.map(\.name).joined(separator: ", ")), layer_sparsity_json)
                VALUES (?\(String(repeating: ", ?", count: columns.count + 1)))
                """, [runID] + columns.map { $0.binding(outcome) } + [layerSparsity])

            if !outcome.predictions.isEmpty {
                try db.run("INSERT INTO predictions (run_id, predicted) VALUES (?, ?)", [runID, Data(outcome.predictions)])
            }

            let insertClass = try db.prepare("""
                INSERT INTO class_metrics (run_id, class_index, precision, recall, f1, support) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for (index, metrics) in outcome.classes.enumerated() {
                try insertClass.bind([runID, index, metrics.precision, metrics.recall, metrics.f1, metrics.support])
                while try insertClass.step() {}
            }
            let insertCell = try db.prepare("""
                INSERT INTO confusion (run_id, true_class, predicted_class, count) VALUES (?, ?, ?, ?)
                """)
            for (trueClass, row) in outcome.confusion.counts.enumerated() {
                for (predictedClass, count) in row.enumerated() {
                    try insertCell.bind([runID, trueClass, predictedClass, count])
                    while try insertCell.step() {}
                }
            }
            try markDone(db, runID, engineVersion: engineVersion)
        }
    }

    /// Throws unless run `runID` can be finished: it is running, or was reclaimed as
    /// interrupted while its owner was in fact alive.
    private func checkFinishable(_ db: SQLiteConnection, _ runID: Int64) throws {
        let state = try runState(db, runID)
        guard state.status == .running || state.status == .interrupted else {
            throw HarnessError("cannot finish run \(runID) of job \(state.jobID): it is already \(state.status.rawValue)")
        }
    }

    /// Marks run `runID` 'done' now. A reclaimed run that finished after all no longer
    /// carries the "died" message.
    private func markDone(_ db: SQLiteConnection, _ runID: Int64, engineVersion: String) throws {
        let now = Store.now()
        try db.run("""
            UPDATE runs SET status = 'done', finished_at = ?, heartbeat_at = ?, engine_version = ?, error = NULL
            WHERE id = ?
            """, [now, now, engineVersion, runID])
    }

    /// Records a score job's scores and marks its run 'done', in one transaction.
    public func finish(runID: Int64, engineVersion: String, scores: PatternScores) throws {
        guard scores.scores.allSatisfy(\.isFinite), scores.seconds.isFinite, scores.cpuSeconds.isFinite else {
            throw HarnessError("run \(runID): pattern scores must be finite numbers")
        }
        try write { db in
            try checkFinishable(db, runID)
            var bytes = Data(capacity: scores.scores.count * 4)
            for score in scores.scores { withUnsafeBytes(of: score.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            try db.run("INSERT INTO pattern_scores (run_id, method, scores, seconds, cpu_seconds) VALUES (?, ?, ?, ?, ?)",
                       [runID, scores.method.rawValue, bytes, scores.seconds, scores.cpuSeconds])
            try markDone(db, runID, engineVersion: engineVersion)
        }
    }

    /// The scores of score job `jobID`'s latest done run, or nil when it has none.
    public func patternScores(jobID: String) throws -> PatternScores? {
        try read { db in
            try db.query("""
                SELECT p.method, p.scores, p.seconds, p.cpu_seconds, p.run_id FROM pattern_scores p
                WHERE p.run_id = (SELECT max(r.id) FROM runs r WHERE r.job_id = ? AND r.status = 'done'
                                  AND EXISTS (SELECT 1 FROM pattern_scores q WHERE q.run_id = r.id))
                """, [jobID]) { row -> PatternScores? in
                guard let method = PatternSelection(rawValue: row.string(0)) else { return nil }
                let bytes = row.blob(1)
                let scores = stride(from: 0, to: bytes.count - 3, by: 4).map { offset in
                    Float(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                                      | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
                }
                return PatternScores(runID: row.int64(4), method: method, scores: scores, seconds: row.double(2),
                                     cpuSeconds: row.double(3))
            }.first ?? nil
        }
    }

    /// Marks a running (or reclaimed) run 'failed' with `error`.
    public func fail(runID: Int64, error: String) throws {
        try write { db in
            let state = try runState(db, runID)
            guard state.status == .running || state.status == .interrupted else {
                throw HarnessError("cannot mark run \(runID) of job \(state.jobID) failed: it is already \(state.status.rawValue)")
            }
            try db.run("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                       [Store.now(), error, runID])
        }
    }

    /// Marks a running run 'interrupted' (e.g. on SIGINT) with `reason`. A run that has
    /// already ended, or was reclaimed, is left as it is, since interruption can race with
    /// the end of a run.
    public func interrupt(runID: Int64, reason: String) throws {
        try write { db in
            _ = try runState(db, runID)
            try db.run("""
                UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ? AND status = 'running'
                """, [Store.now(), reason, runID])
        }
    }

    // MARK: Weight histograms

    /// Records the weight histograms of run `runID` at `stage` (before pruning or after
    /// retraining), replacing whatever that stage held, so a retried recording leaves no
    /// stale layers. Readers get the layers back in the order given here.
    public func recordWeightHistograms(runID: Int64, stage: HistogramStage, histograms: [WeightHistogram]) throws {
        let context = "cannot record weight histograms of run \(runID)"
        guard !histograms.isEmpty else { throw HarnessError("\(context) (\(stage)): no histograms, expected one per layer") }
        var seen: Set<String> = []
        var rows: [(layer: String, lower: Double, upper: Double, counts: String)] = []
        for histogram in histograms {
            let layer = histogram.layer
            guard !layer.isEmpty else { throw HarnessError("\(context) (\(stage)): a histogram has an empty layer name") }
            guard seen.insert(layer).inserted else {
                throw HarnessError("\(context) (\(stage)): layer \(layer) is given twice, expected one histogram per layer")
            }
            guard histogram.lower.isFinite, histogram.upper.isFinite, histogram.upper > histogram.lower else {
                throw HarnessError("\(context) (\(stage)): layer \(layer) has range [\(histogram.lower), \(histogram.upper)], "
                                   + "expected finite bounds with lower < upper")
            }
            guard !histogram.counts.isEmpty else { throw HarnessError("\(context) (\(stage)): layer \(layer) has no bins") }
            if let bin = histogram.counts.firstIndex(where: { $0 < 0 }) {
                throw HarnessError("\(context) (\(stage)): layer \(layer) bin \(bin) has count \(histogram.counts[bin]), expected >= 0")
            }
            rows.append((layer, histogram.lower, histogram.upper,
                         String(decoding: try JSONEncoder().encode(histogram.counts), as: UTF8.self)))
        }
        try write { db in
            _ = try runState(db, runID)
            try db.run("DELETE FROM weight_histograms WHERE run_id = ? AND stage = ?", [runID, stage.rawValue])
            let insert = try db.prepare("""
                INSERT INTO weight_histograms (run_id, stage, layer, lower, upper, counts) VALUES (?, ?, ?, ?, ?, ?)
                """)
            for row in rows {
                try insert.bind([runID, stage.rawValue, row.layer, row.lower, row.upper, row.counts])
                while try insert.step() {}
            }
        }
    }

    /// A run's histograms at `stage`, in the order they were recorded; empty if none were.
    public func weightHistograms(runID: Int64, stage: HistogramStage) throws -> [WeightHistogram] {
        let rows = try read { db in
            try db.query("""
                SELECT layer, lower, upper, counts FROM weight_histograms WHERE run_id = ? AND stage = ? ORDER BY rowid
                """, [runID, stage.rawValue]) { (layer: $0.string(0), lower: $0.double(1), upper: $0.double(2), counts: $0.string(3)) }
        }
        return try rows.map { row in
            guard let counts = try? JSONDecoder().decode([Int].self, from: Data(row.counts.utf8)) else {
                throw HarnessError("weight histogram of run \(runID), stage \(stage), layer \(row.layer) in \(path): "
                                   + "counts are not a JSON array of integers")
            }
            return WeightHistogram(layer: row.layer, lower: row.lower, upper: row.upper, counts: counts)
        }
    }

    // MARK: Reading

    /// Job id -> state (see `JobState`) for every job of `experiment`.
    public func jobStates(experiment: String) throws -> [String: JobState] {
        try read { db in
            try requireExperiment(db, experiment)
            let rows = try db.query("SELECT job_id, status FROM job_results WHERE experiment = ?", [experiment]) {
                ($0.string(0), try Store.jobState($0.string(1)))
            }
            return Dictionary(uniqueKeysWithValues: rows)
        }
    }

    public struct StatusRow: Sendable, Equatable {
        public let experiment: String
        public let state: JobState
        public let count: Int

        public init(experiment: String, state: JobState, count: Int) {
            self.experiment = experiment
            self.state = state
            self.count = count
        }
    }

    /// Job counts per experiment and state (states with no jobs left out), sorted by
    /// experiment name and then in `JobState` order: pending, running, done, failed, interrupted.
    public func statusSummary() throws -> [StatusRow] {
        let rows = try read { db in
            try db.query("SELECT experiment, status, count(*) FROM job_results GROUP BY experiment, status") {
                StatusRow(experiment: $0.string(0), state: try Store.jobState($0.string(1)), count: $0.int(2))
            }
        }
        let order = Dictionary(uniqueKeysWithValues: JobState.allCases.enumerated().map { ($1, $0) })
        return rows.sorted { ($0.experiment, order[$0.state]!) < ($1.experiment, order[$1.state]!) }
    }

    public func experimentNames() throws -> [String] {
        try read { db in try db.query("SELECT name FROM experiments ORDER BY name") { $0.string(0) } }
    }

    /// The `job_results` rows of `experiment`, in the experiment's job order.
    public func results(experiment: String) throws -> [JobResult] {
        try read { db in
            try requireExperiment(db, experiment)
            return try db.query("""
                SELECT experiment, position, job_id, run_id, status, config, seed, dataset_fingerprint, attempts,
                       \(ResultColumn.names.joined(separator: ", ")),
                       host, engine_version, started_at, finished_at, error
                FROM job_results WHERE experiment = ? ORDER BY position
                """, [experiment]) { row in
                func text(_ name: String) throws -> String? { row.optionalString(try row.column(name)) }
                var metrics: [String: Double] = [:]
                for name in ResultColumn.names { metrics[name] = row.optionalDouble(try row.column(name)) }
                return JobResult(experiment: try text("experiment")!, position: row.int(try row.column("position")),
                                 jobID: try text("job_id")!, runID: row.optionalInt64(try row.column("run_id")),
                                 state: try Store.jobState(try text("status")!), configJSON: try text("config")!,
                                 seed: row.int(try row.column("seed")), datasetFingerprint: try text("dataset_fingerprint")!,
                                 attempts: row.int(try row.column("attempts")), metrics: metrics,
                                 host: try text("host"), engineVersion: try text("engine_version"),
                                 startedAt: try text("started_at"), finishedAt: try text("finished_at"), error: try text("error"))
            }
        }
    }

    /// The experiment's description, spec text and spec file as registered.
    public func experiment(name: String) throws -> ExperimentRecord {
        try read { db in
            try requireExperiment(db, name)
            return try db.query("SELECT name, description, spec_json, spec_path FROM experiments WHERE name = ?", [name]) {
                ExperimentRecord(name: $0.string(0), description: $0.string(1), specJSON: $0.string(2),
                                 specPath: $0.optionalString(3))
            }[0]
        }
    }

    /// The data sets the experiment's jobs use, by fingerprint.
    public func datasets(experiment: String) throws -> [DatasetRecord] {
        try read { db in
            try requireExperiment(db, experiment)
            return try db.query("""
                SELECT d.fingerprint, d.description_json, count(*)
                FROM experiment_jobs ej JOIN jobs j ON j.id = ej.job_id JOIN datasets d ON d.fingerprint = j.dataset_fingerprint
                WHERE ej.experiment = ? GROUP BY d.fingerprint ORDER BY d.fingerprint
                """, [experiment]) {
                DatasetRecord(fingerprint: $0.string(0), descriptionJSON: $0.string(1), jobCount: $0.int(2))
            }
        }
    }

    /// Per-class metrics of a run, by class index (NaN where undefined); empty until it is done.
    public func classMetrics(runID: Int64) throws -> [ClassMetrics] {
        try read { db in
            try db.query("""
                SELECT precision, recall, f1, support FROM class_metrics WHERE run_id = ? ORDER BY class_index
                """, [runID]) {
                ClassMetrics(precision: $0.optionalDouble(0) ?? .nan, recall: $0.optionalDouble(1) ?? .nan,
                             f1: $0.optionalDouble(2) ?? .nan, support: $0.int(3))
            }
        }
    }

    /// A done run's test-set predictions (the predicted class of each test image, in the
    /// test set's order); empty when it has none (not done, or recorded before they were kept).
    public func predictions(runID: Int64) throws -> [UInt8] {
        try read { db in
            try db.query("SELECT predicted FROM predictions WHERE run_id = ?", [runID]) { $0.blob(0) }.first ?? []
        }
    }

    /// A run's confusion matrix; empty (0 classes) until it is done.
    public func confusion(runID: Int64) throws -> ConfusionMatrix {
        let cells = try read { db in
            try db.query("""
                SELECT true_class, predicted_class, count FROM confusion WHERE run_id = ?
                ORDER BY true_class, predicted_class
                """, [runID]) { (row: $0.int(0), column: $0.int(1), count: $0.int(2)) }
        }
        let classes = (cells.map(\.row).max() ?? -1) + 1
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for cell in cells { matrix[cell.row][cell.column] = cell.count }
        return ConfusionMatrix(counts: matrix)
    }

    /// A run's epochs: training first, then retraining, each by epoch.
    public func epochs(runID: Int64) throws -> [EpochRecord] {
        try read { db in
            try db.query("""
                SELECT phase, epoch, loss, seconds, cpu_seconds FROM epochs WHERE run_id = ?
                ORDER BY phase = 'retrain', epoch
                """, [runID]) {
                let phase = $0.string(0)
                guard let known = TrainingPhase(rawValue: phase) else {
                    throw HarnessError("run \(runID) in \(path): epoch of unknown phase \"\(phase)\"")
                }
                return EpochRecord(phase: known, epoch: $0.int(1), loss: $0.optionalDouble(2), seconds: $0.double(3),
                                   cpuSeconds: $0.optionalDouble(4))
            }
        }
    }

    /// Job id -> how many of its runs have `status` (jobs with none left out).
    public func runCounts(status: String) throws -> [String: Int] {
        let rows = try read { db in
            try db.query("SELECT job_id, count(*) FROM runs WHERE status = ? GROUP BY job_id", [status]) {
                ($0.string(0), $0.int(1))
            }
        }
        return Dictionary(uniqueKeysWithValues: rows)
    }

    // MARK: Internals

    /// Runs `body` under the lock in one BEGIN IMMEDIATE transaction.
    @discardableResult
    func write<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try transaction(immediate: true, body)
    }

    /// Runs `body` under the lock in one read transaction, so its queries see one snapshot.
    func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try transaction(immediate: false, body)
    }

    /// One transaction, run again (it was rolled back) while another process holds the
    /// database's lock past the busy timeout: waits of 0.1 s doubling to 5 s, for up to
    /// `busyPatience`. So a long write elsewhere (a merge, a backup, a sqlite3 shell left in
    /// a transaction) delays the workers instead of aborting them with their training lost.
    private func transaction<T>(immediate: Bool, _ body: (SQLiteConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        let giveUp = Date().addingTimeInterval(busyPatience)
        var wait: TimeInterval = 0.1
        while true {
            do {
                return try connection.transaction(immediate: immediate) { try body(connection) }
            } catch let error as SQLiteError where error.isBusy && Date() < giveUp {
                Thread.sleep(forTimeInterval: min(wait, max(0, giveUp.timeIntervalSinceNow)))
                wait = min(wait * 2, 5)
            }
        }
    }

    private func runState(_ db: SQLiteConnection, _ runID: Int64) throws -> (status: JobState, jobID: String) {
        let rows = try db.query("SELECT status, job_id FROM runs WHERE id = ?", [runID]) {
            (try Store.jobState($0.string(0)), $0.string(1))
        }
        guard let state = rows.first else { throw HarnessError("no run with id \(runID) in \(path)") }
        return state
    }

    private func requireExperiment(_ db: SQLiteConnection, _ name: String) throws {
        let found = try db.query("SELECT 1 FROM experiments WHERE name = ?", [name]) { _ in true }
        guard !found.isEmpty else { throw HarnessError("no experiment named \(name) in \(path)") }
    }

    private static func jobState(_ text: String) throws -> JobState {
        guard let state = JobState(rawValue: text) else {
            throw HarnessError("unknown run status \"\(text)\" in the results database")
        }
        return state
    }

    /// Refuses a file that is not a harness results database, or is one of a newer harness,
    /// by reads alone (the connection calls it before its first write): a new or empty file,
    /// or `user_version` 1...`schemaVersion` with the core tables, passes. `migrate` checks
    /// again under the write lock, since another process may create the file meanwhile.
    static func requireHarnessDatabase(_ db: SQLiteConnection) throws {
        let notHarness = "\(db.path) is not a harness results database"
        let version: Int
        let tables: Set<String>
        // One read transaction, so the version and the tables come from one state of the file:
        // read one by one, another process's migration could commit in between, and a new
        // database would look like tables without a version.
        try db.execute("BEGIN DEFERRED")
        defer { _ = try? db.execute("ROLLBACK") }
        do {
            version = try db.query("PRAGMA user_version") { $0.int(0) }.first ?? 0
            tables = Set(try db.query("SELECT name FROM sqlite_schema WHERE type = 'table'") { $0.string(0) })
        } catch let error as SQLiteError where error.isNotADatabase {
            throw HarnessError("\(notHarness): it is not an SQLite database at all (\(error.message)); "
                               + "give the path of a harness database, or of a new one")
        }
        if version == 0 {
            let objects = try db.query("SELECT count(*) FROM sqlite_schema") { $0.int(0) }.first ?? 0
            guard objects == 0 else {
                throw HarnessError("\(notHarness): it has tables but schema version 0 (its tables: "
                                   + "\(tables.sorted().joined(separator: ", ")))")
            }
            return
        }
        let missing = StoreSchema.coreTables.filter { !tables.contains($0) }
        guard missing.isEmpty else {
            throw HarnessError("\(notHarness): it has schema version \(version) but lacks the tables "
                               + "\(missing.joined(separator: ", ")) that every harness database has")
        }
        guard version <= schemaVersion else {
            throw HarnessError("results database \(db.path) has schema version \(version), but this harness knows "
                               + "versions up to \(schemaVersion); use a newer harness to open it")
        }
    }

    /// Brings the schema from the database's `user_version` to `schemaVersion` in one
    /// transaction. The version is read again under the write lock because another process
    /// may have migrated the file in between.
    private static func migrate(_ db: SQLiteConnection) throws {
        func version() throws -> Int { try db.query("PRAGMA user_version") { $0.int(0) }.first ?? 0 }
        func refuseNewer(_ found: Int) throws {
            guard found <= schemaVersion else {
                throw HarnessError("results database \(db.path) has schema version \(found), but this harness knows "
                                   + "versions up to \(schemaVersion); use a newer harness to open it")
            }
        }
        let found = try version()
        try refuseNewer(found)
        guard found < schemaVersion else { try refreshViews(db); return }
        try db.transaction(immediate: true) {
            let current = try version()
            try refuseNewer(current)
            if current == 0 {
                let objects = try db.query("SELECT count(*) FROM sqlite_schema") { $0.int(0) }.first ?? 0
                guard objects == 0 else {
                    throw HarnessError("\(db.path) is not a harness results database: it has tables but schema version 0")
                }
            }
            for migration in StoreSchema.migrations[current...] {
                try db.execute(migration)
            }
            try db.execute("PRAGMA user_version = \(schemaVersion)")
            try replaceStaleViews(db)
        }
    }

    /// Replaces the `job_results` view when its stored text is not this version's
    /// (`StoreSchema.jobResultsView`): it holds no data, and its columns follow `ResultColumn.all`.
    private static func refreshViews(_ db: SQLiteConnection) throws {
        guard try storedView(db) != StoreSchema.jobResultsView else { return }
        try db.transaction(immediate: true) { try replaceStaleViews(db) }
    }

    private static func replaceStaleViews(_ db: SQLiteConnection) throws {
        guard try storedView(db) != StoreSchema.jobResultsView else { return }
        try db.execute("DROP VIEW IF EXISTS job_results")
        try db.execute(StoreSchema.jobResultsView)
    }

    private static func storedView(_ db: SQLiteConnection) throws -> String? {
        try db.query("SELECT sql FROM sqlite_schema WHERE type = 'view' AND name = 'job_results'") { $0.string(0) }.first
    }

    /// Checks the shapes and values that the tables cannot hold, before anything is written.
    private static func validate(_ outcome: JobOutcome, runID: Int64) throws {
        let context = "cannot record the outcome of run \(runID)"
        let classes = outcome.confusion.classes
        guard classes > 0 else { throw HarnessError("\(context): the confusion matrix is empty") }
        for (index, row) in outcome.confusion.counts.enumerated() {
            guard row.count == classes else {
                throw HarnessError("\(context): confusion matrix row \(index) has \(row.count) entries, expected "
                                   + "\(classes) (a square matrix, one row and column per class)")
            }
            if let column = row.firstIndex(where: { $0 < 0 }) {
                throw HarnessError("\(context): confusion matrix cell [\(index)][\(column)] is \(row[column]), expected >= 0")
            }
        }
        if !outcome.predictions.isEmpty {
            let total = outcome.confusion.total
            guard outcome.predictions.count == total else {
                throw HarnessError("\(context): \(outcome.predictions.count) test predictions for a confusion matrix of "
                                   + "\(total), expected one per test image")
            }
            if let bad = outcome.predictions.firstIndex(where: { Int($0) >= classes }) {
                throw HarnessError("\(context): test prediction \(bad) is class \(outcome.predictions[bad]), expected < \(classes)")
            }
        }
        guard outcome.classes.count == classes else {
            throw HarnessError("\(context): \(outcome.classes.count) per-class metrics for a \(classes)x\(classes) "
                               + "confusion matrix, expected one per class")
        }
        if let index = outcome.classes.firstIndex(where: { $0.support < 0 }) {
            throw HarnessError("\(context): class \(index) has support \(outcome.classes[index].support), expected >= 0")
        }
        guard (0...1).contains(outcome.accuracy) else {
            throw HarnessError("\(context): accuracy is \(outcome.accuracy), expected a fraction in [0, 1]")
        }
        guard outcome.parameterCount >= 0 else {
            throw HarnessError("\(context): parameter count is \(outcome.parameterCount), expected >= 0")
        }
        if let layer = outcome.pruning?.layerSparsity.first(where: { !$0.value.isFinite }) {
            throw HarnessError("\(context): sparsity of layer \(layer.key) is \(layer.value), expected a finite fraction")
        }
    }

    static func jsonArray(_ strings: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(strings), as: UTF8.self)
    }

    private static func jsonObject(_ values: [String: Double]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(values), as: UTF8.self)
    }

    static func now() -> String { timestamp(Date()) }

    /// UTC ISO-8601 with microseconds, "2024-05-01T12:00:00.123456Z". Rounded down, so a
    /// run started after a date never formats as earlier than it (--force compares them).
    static func timestamp(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded(.down)
        let seconds = (micros / 1_000_000).rounded(.down)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: some BinaryInteger, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int(micros - seconds * 1_000_000), 6))Z"
    }
}
