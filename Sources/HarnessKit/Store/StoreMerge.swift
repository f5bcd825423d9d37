import Foundation

/// What merging one shard database into the main one did.
public struct ShardMergeResult: Sendable, Equatable {
    public let shard: String
    /// Finished runs copied by this merge, by status.
    public var done = 0
    public var failed = 0
    /// Finished runs an earlier merge already copied.
    public var alreadyMerged = 0
    /// Runs left out because they never finished ('running' or 'interrupted').
    public var unfinished = 0

    public init(shard: String) { self.shard = shard }

    public var merged: Int { done + failed }
}

/// Merging shard databases: a Slurm task writes its runs into a database of its own (a full
/// harness schema), because SQLite on a network file system is unsafe with writers on
/// several hosts; these functions fold such a shard into the main database.
///
/// Only finished runs ('done' or 'failed') are copied, each with every row keyed by its
/// run id, so a task that was killed or preempted leaves nothing behind and its job stays
/// pending. A run is recognised across databases by who ran it and when (job, host, pid,
/// process token, start time), which is unique to one claim; a run already present in the
/// main database is skipped, so merging a shard again adds nothing. No bookkeeping table
/// is needed, and the schema is unchanged.
extension Store {
    /// Merges each shard in one transaction of its own, in order; stops at the first error
    /// (shards merged before it stay merged). Use `merge(shard:)` to go on past errors.
    public func merge(shards: [String]) throws -> [ShardMergeResult] {
        guard !shards.isEmpty else { return [] }
        // A connection of its own: ATTACH cannot run inside a transaction, and the store's
        // connection is serialised for other threads' use.
        let db = try SQLiteConnection(path: path)
        return try shards.map { try Store.merge(shard: $0, into: db, mainPath: path) }
    }

    public func merge(shard: String) throws -> ShardMergeResult {
        try merge(shards: [shard])[0]
    }

    /// Turns a finished shard into a single self-contained file: the WAL is folded in and
    /// the journal switched to rollback mode, so readers on other hosts need neither the
    /// `-wal` nor the `-shm` file (WAL's shared memory does not work across hosts). Call it
    /// once nothing else has the shard open.
    public static func sealShard(at path: String, timeout: TimeInterval = 10) throws {
        let db = try SQLiteConnection(path: path)
        // Leaving WAL needs the only connection, and a connection just released by another
        // thread may take a moment to close; SQLite does not wait for that by itself.
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var mode: String?
            do {
                _ = try db.query("PRAGMA wal_checkpoint(TRUNCATE)") { _ in () }
                mode = try db.query("PRAGMA journal_mode=DELETE") { $0.string(0) }.first
                if mode?.lowercased() == "delete" { return }
            } catch let error as SQLiteError where error.isBusy && Date() < deadline {
            }
            guard Date() < deadline else {
                throw HarnessError("cannot seal shard \(path): its journal mode stayed \(mode ?? "unknown") for "
                                   + "\(Int(timeout)) s (another process still has it open?)")
            }
            usleep(20_000)
        }
    }

    private static func merge(shard: String, into db: SQLiteConnection, mainPath: String) throws -> ShardMergeResult {
        // ATTACH would create a missing file, leaving an empty database behind.
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: shard, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw HarnessError("cannot merge shard \(shard): no such file")
        }
        try db.run("ATTACH DATABASE ? AS shard", [shard])
        defer { try? db.execute("DETACH DATABASE shard") }
        return try db.transaction(immediate: true) {
            try checkShard(db, shard: shard)
            var result = ShardMergeResult(shard: shard)
            result.unfinished = try db.query("""
                SELECT count(*) FROM shard.runs WHERE status NOT IN ('done', 'failed')
                """) { $0.int(0) }.first ?? 0

            // The main database may not know the experiment (a shard merged into a fresh
            // file); then it takes the shard's. Known experiments keep the main's job list.
            try db.run("""
                INSERT INTO main.datasets (fingerprint, description_json, created_at)
                SELECT fingerprint, description_json, created_at FROM shard.datasets WHERE true
                ON CONFLICT (fingerprint) DO NOTHING
                """)
            // Test labels arrived in schema version 5; an older shard has none to give.
            if try copiedColumns(db, table: "datasets", shard: shard).contains("test_labels") {
                try db.run("""
                    UPDATE main.datasets SET test_labels = (SELECT s.test_labels FROM shard.datasets s
                                                            WHERE s.fingerprint = main.datasets.fingerprint)
                    WHERE test_labels IS NULL
                      AND fingerprint IN (SELECT fingerprint FROM shard.datasets WHERE test_labels IS NOT NULL)
                    """)
            }
            try db.run("""
                INSERT INTO main.jobs (id, config_json, seed, dataset_fingerprint, created_at)
                SELECT id, config_json, seed, dataset_fingerprint, created_at FROM shard.jobs WHERE true
                ON CONFLICT (id) DO NOTHING
                """)
            let newExperiments = try db.query("""
                SELECT name FROM shard.experiments WHERE name NOT IN (SELECT name FROM main.experiments)
                """) { $0.string(0) }
            for name in newExperiments {
                try db.run("""
                    INSERT INTO main.experiments (name, description, spec_json, created_at, updated_at)
                    SELECT name, description, spec_json, created_at, updated_at FROM shard.experiments WHERE name = ?
                    """, [name])
                try db.run("""
                    INSERT INTO main.experiment_jobs (experiment, job_id, position)
                    SELECT experiment, job_id, position FROM shard.experiment_jobs WHERE experiment = ?
                    """, [name])
            }

            let finished = try db.query("""
                SELECT s.id, s.status,
                       EXISTS (SELECT 1 FROM main.runs m
                               WHERE m.job_id = s.job_id AND m.started_at = s.started_at AND m.host = s.host
                                 AND m.pid = s.pid AND m.process_token = s.process_token)
                FROM shard.runs s WHERE s.status IN ('done', 'failed') ORDER BY s.id
                """) { (id: $0.int64(0), status: $0.string(1), known: $0.int(2) != 0) }
            result.alreadyMerged = finished.filter(\.known).count
            let toCopy = finished.filter { !$0.known }
            guard !toCopy.isEmpty else { return result }

            // Copied runs get fresh ids in the main database; merge_map translates.
            try db.execute("""
                CREATE TEMP TABLE IF NOT EXISTS merge_map (shard_run_id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL);
                DELETE FROM temp.merge_map;
                """)
            let runColumns = try copiedColumns(db, table: "runs", shard: shard).filter { $0 != "id" }
            let columnList = runColumns.map(quote).joined(separator: ", ")
            let copyRun = try db.prepare("INSERT INTO main.runs (\(columnList)) SELECT \(columnList) FROM shard.runs WHERE id = ?")
            let mapRun = try db.prepare("INSERT INTO temp.merge_map (shard_run_id, run_id) VALUES (?, ?)")
            for run in toCopy {
                try copyRun.bind([run.id])
                while try copyRun.step() {}
                try mapRun.bind([run.id, db.lastInsertRowID])
                while try mapRun.step() {}
                if run.status == "done" { result.done += 1 } else { result.failed += 1 }
            }
            for table in try runKeyedTables(db) {
                try copyRunRows(db, table: table, shard: shard)
            }
            // A copied result's scores_run_id names the shard's score run: point it at that run
            // in the main database (copied now or merged before), found as runs are, by who ran
            // it and when; NULL if the main database lacks it.
            try db.run("""
                UPDATE main.results SET scores_run_id = (
                    SELECT m.id FROM shard.runs s JOIN main.runs m
                      ON m.job_id = s.job_id AND m.started_at = s.started_at AND m.host = s.host
                     AND m.pid = s.pid AND m.process_token = s.process_token
                    WHERE s.id = main.results.scores_run_id)
                WHERE run_id IN (SELECT run_id FROM temp.merge_map) AND scores_run_id IS NOT NULL
                """)
            try db.execute("DROP TABLE temp.merge_map")
            return result
        }
    }

    private static func checkShard(_ db: SQLiteConnection, shard: String) throws {
        let version = try db.query("PRAGMA shard.user_version") { $0.int(0) }.first ?? 0
        guard version <= schemaVersion else {
            throw HarnessError("cannot merge shard \(shard): it has schema version \(version), but this harness knows "
                               + "versions up to \(schemaVersion); use the harness that wrote it")
        }
        let tables = Set(try db.query("SELECT name FROM shard.sqlite_schema WHERE type = 'table'") { $0.string(0) })
        let required = StoreSchema.coreTables
        guard version >= 1, required.allSatisfy(tables.contains) else {
            throw HarnessError("cannot merge \(shard): it is not a harness results database (schema version \(version), "
                               + "expected tables \(required.joined(separator: ", ")))")
        }
    }

    /// Every table of the shard besides `runs` that has a `run_id` column: results,
    /// epochs, class metrics, confusion cells, and whatever later schemas add.
    private static func runKeyedTables(_ db: SQLiteConnection) throws -> [String] {
        try db.query("""
            SELECT t.name FROM pragma_table_list AS t
            WHERE t.schema = 'shard' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND t.name != 'runs'
              AND EXISTS (SELECT 1 FROM pragma_table_info(t.name, 'shard') AS c WHERE c.name = 'run_id')
            ORDER BY t.name
            """) { $0.string(0) }
    }

    /// The shard's columns of `table`, all of which the main database's table must have
    /// (else data would be lost); a column the shard lacks (an older schema) gets its default.
    private static func copiedColumns(_ db: SQLiteConnection, table: String, shard: String) throws -> [String] {
        func columns(_ schema: String) throws -> [String] {
            try db.query("SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", [table, schema]) { $0.string(0) }
        }
        let shardColumns = try columns("shard")
        let mainColumns = Set(try columns("main"))
        guard !mainColumns.isEmpty else {
            throw HarnessError("cannot merge shard \(shard): its table \(table) does not exist in the main database "
                               + "(open the main database with the harness that wrote the shard, which adds it)")
        }
        if let missing = shardColumns.first(where: { !mainColumns.contains($0) }) {
            throw HarnessError("cannot merge shard \(shard): column \(table).\(missing) does not exist in the main "
                               + "database (open it with the harness that wrote the shard, which adds it)")
        }
        return shardColumns
    }

    /// Copies the rows of `table` that belong to the runs in `temp.merge_map`, with
    /// `run_id` translated. An INTEGER PRIMARY KEY other than `run_id` is a row id local to
    /// the shard, so the main database assigns its own. Rows keep their order (rowid
    /// order is meaningful, e.g. the layer order of weight histograms).
    private static func copyRunRows(_ db: SQLiteConnection, table: String, shard: String) throws {
        let columns = try copiedColumns(db, table: table, shard: shard)
        let info = try db.query("SELECT name, upper(type), pk FROM pragma_table_info(?, 'shard')", [table]) {
            (name: $0.string(0), type: $0.string(1), pk: $0.int(2))
        }
        let keyColumns = info.filter { $0.pk > 0 }
        let withoutRowID = try db.query("SELECT wr FROM pragma_table_list WHERE schema = 'shard' AND name = ?", [table]) {
            $0.int(0) != 0
        }.first ?? false
        let localRowID: String? = !withoutRowID && keyColumns.count == 1 && keyColumns[0].type == "INTEGER"
            && keyColumns[0].name != "run_id" ? keyColumns[0].name : nil
        let copied = columns.filter { $0 != localRowID }
        let targets = copied.map(quote).joined(separator: ", ")
        let sources = copied.map { $0 == "run_id" ? "m.run_id" : "s.\(quote($0))" }.joined(separator: ", ")
        let order = withoutRowID ? "m.run_id" : "m.run_id, s.rowid"
        try db.run("""
            INSERT INTO main.\(quote(table)) (\(targets))
            SELECT \(sources) FROM shard.\(quote(table)) AS s JOIN temp.merge_map AS m ON m.shard_run_id = s.run_id
            ORDER BY \(order)
            """)
    }

    private static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
