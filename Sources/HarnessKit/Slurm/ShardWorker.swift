import Foundation

/// What `harness worker` was asked to do: run array task `index` of a submission.
public struct WorkerOptions: Sendable {
    /// The submission's `submission.json`.
    public var jobsFile: String
    public var index: Int
    /// Where the finished shard goes (see `SlurmShards` for the naming).
    public var shardPath: String
    /// `--jobs N` / `--threads N`, as for `harness run`.
    public var workers: Int?
    public var threadsPerJob: Int?
    public var environment: [String: String]

    public init(jobsFile: String, index: Int, shardPath: String, workers: Int? = nil, threadsPerJob: Int? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.jobsFile = jobsFile
        self.index = index
        self.shardPath = shardPath
        self.workers = workers
        self.threadsPerJob = threadsPerJob
        self.environment = environment
    }
}

/// Runs one array task's jobs into a shard database of its own, then publishes it.
///
/// The shard is written as `<shard>.partial` and, once the task has stopped (all jobs
/// ended, or a SIGTERM from scancel, the time limit or preemption was handled by marking
/// the running job interrupted), sealed into one file and renamed to its final name.
/// A task killed outright never renames it, so `harness merge` never sees it.
public enum ShardWorker {
    public struct Outcome: Sendable {
        public let summary: RunSummary
        /// The published shard.
        public let shard: String
    }

    public static func run(_ options: WorkerOptions, stop: StopFlag, log: ProgressLog) throws -> Outcome {
        let manifest = try SlurmManifest.load(path: options.jobsFile)
        guard manifest.tasks.indices.contains(options.index) else {
            throw HarnessError("Slurm jobs file \(options.jobsFile) has tasks 0...\(manifest.tasks.count - 1), "
                               + "no task \(options.index) (--index)")
        }
        let jobs = manifest.tasks[options.index]
        let directory = URL(fileURLWithPath: options.jobsFile).deletingLastPathComponent().path
        let partial = options.shardPath + ".partial"
        // Leftovers of an earlier attempt of this task that was killed: never merged, and
        // a stale -wal beside a new file would be read as part of it.
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: partial + suffix)
        }

        let runOptions = RunOptions(specPath: manifest.specPath(in: directory), databasePath: partial,
                                    dataDirectory: manifest.dataDirectory, workers: options.workers,
                                    threadsPerJob: options.threadsPerJob, environment: options.environment)
        let result = Result(catching: { try runJobs(jobs, manifest: manifest, jobsFile: options.jobsFile, options: runOptions,
                                                    stop: stop, log: log) })
        // Published whatever happened, as long as the shard was created: runs that
        // finished before an error are results too, and unfinished ones are not merged.
        guard FileManager.default.fileExists(atPath: partial) else { return Outcome(summary: try result.get(), shard: partial) }
        try Store.sealShard(at: partial)
        let published = SlurmShards.publicationPath(for: options.shardPath)
        do {
            try FileManager.default.moveItem(atPath: partial, toPath: published)
        } catch {
            throw HarnessError("cannot publish shard \(partial) as \(published): \(error.localizedDescription)")
        }
        log.message("shard: \(published)")
        return Outcome(summary: try result.get(), shard: published)
    }

    /// The store and the data live only inside this call, so the shard is closed when it returns.
    private static func runJobs(_ jobs: [String], manifest: SlurmManifest, jobsFile: String, options: RunOptions,
                                stop: StopFlag, log: ProgressLog) throws -> RunSummary {
        let scheduler = Scheduler(options: options, stop: stop, log: log)
        // A task may run adaptive seeds a round added; they are registered in its shard too.
        let prepared = try scheduler.prepare(adding: jobs)
        guard prepared.data.fingerprint == manifest.dataFingerprint else {
            throw HarnessError("the data in \(prepared.dataDirectory) has fingerprint \(prepared.data.fingerprint), but "
                               + "\(jobsFile) was submitted for data \(manifest.dataFingerprint); submit again")
        }
        let known = Set(prepared.jobIDs)
        if let unknown = jobs.first(where: { !known.contains($0) }) {
            throw HarnessError("\(jobsFile): job \(unknown) is not a job of spec \(options.specPath) on this data "
                               + "(expected the ids harness submit computed)")
        }
        return try scheduler.run(prepared, only: jobs)
    }
}
