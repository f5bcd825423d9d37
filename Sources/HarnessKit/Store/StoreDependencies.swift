import Foundation

/// Jobs that other jobs depend on: the trained base model of a pruning grid is itself a
/// plain training job, registered but belonging to no experiment.
extension Store {
    /// Records jobs without adding them to an experiment (idempotent).
    public func registerSupportJobs(_ jobs: [JobRegistration], datasetFingerprint: String) throws {
        try write { db in
            let insert = try db.prepare("""
                INSERT INTO jobs (id, config_json, seed, dataset_fingerprint, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """)
            let now = Store.now()
            for job in jobs {
                try insert.bind([job.id, job.configJSON, job.seed, job.datasetFingerprint ?? datasetFingerprint, now])
                while try insert.step() {}
            }
        }
    }

    /// The state of each of `jobIDs` as the `job_results` view derives it: done if any run
    /// is done (started at or after `doneSince`, when given), else the latest run's status,
    /// else pending.
    public func states(of jobIDs: [String], doneSince: Date? = nil) throws -> [String: JobState] {
        let ids = try Store.jsonArray(jobIDs)
        let since = doneSince.map(Store.timestamp) ?? ""
        let rows = try read { db in
            try db.query("""
                SELECT j.value,
                       CASE WHEN EXISTS (SELECT 1 FROM runs r WHERE r.job_id = j.value AND r.status = 'done'
                                         AND r.started_at >= ?2) THEN 'done'
                            ELSE (SELECT status FROM runs r WHERE r.job_id = j.value AND r.status != 'done'
                                  ORDER BY r.id DESC LIMIT 1) END
                FROM json_each(?1) j
                """, [ids, since]) { ($0.string(0), $0.optionalString(1)) }
        }
        var states: [String: JobState] = [:]
        for (id, status) in rows { states[id] = status.flatMap(JobState.init(rawValue:)) ?? .pending }
        return states
    }

    /// A job's latest done run, if it has one.
    public func latestDoneRunID(jobID: String) throws -> Int64? {
        try read { db in
            try db.query("SELECT id FROM runs WHERE job_id = ? AND status = 'done' ORDER BY id DESC LIMIT 1",
                         [jobID]) { $0.int64(0) }.first
        }
    }
}
