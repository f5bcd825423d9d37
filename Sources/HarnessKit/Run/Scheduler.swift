import Engine
import Foundation
import Synchronization

/// What `harness run` was asked to do.
public struct RunOptions: Sendable {
    public var specPath: String
    public var databasePath: String
    /// `--data DIR`
    public var dataDirectory: String?
    /// `--jobs N`: concurrent jobs (nil: chosen from the cores and the pending jobs).
    public var workers: Int?
    /// `--threads N`: engine threads per job (nil: the spec's `training.threads`, else chosen).
    public var threadsPerJob: Int?
    /// `--force`: rerun jobs that are already done (each once).
    public var force: Bool
    public var environment: [String: String]

    public init(specPath: String, databasePath: String = Store.defaultPath, dataDirectory: String? = nil,
                workers: Int? = nil, threadsPerJob: Int? = nil, force: Bool = false,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.specPath = specPath
        self.databasePath = databasePath
        self.dataDirectory = dataDirectory
        self.workers = workers
        self.threadsPerJob = threadsPerJob
        self.force = force
        self.environment = environment
    }
}

/// How a run ended, counted over this spec's jobs.
public struct RunSummary: Sendable, Equatable {
    public var total = 0
    /// Done before this run started (skipped).
    public var alreadyDone = 0
    public var completed = 0
    public var failed = 0
    public var interrupted = 0
    /// Jobs still not done when the run ended (another process may hold them).
    public var notDone = 0
    public var stoppedBySignal: Int32?

    public var allDone: Bool { notDone == 0 && failed == 0 }
}

/// A stop request shared by the workers and the signal handlers.
public final class StopFlag: Sendable {
    private let flag = Atomic<Int32>(0)
    public init() {}
    /// The signal that asked to stop, or 0.
    public var signal: Int32 { flag.load(ordering: .relaxed) }
    public var isSet: Bool { signal != 0 }
    public func set(signal: Int32) { flag.store(signal, ordering: .relaxed) }
}

/// Expands a spec into jobs, registers them, and runs the ones not yet done on a pool of
/// workers that claim jobs from the database (so several processes can share a grid).
public final class Scheduler: @unchecked Sendable {
    public let options: RunOptions
    public let stop: StopFlag
    private let log: ProgressLog

    public init(options: RunOptions, stop: StopFlag = StopFlag(), log: ProgressLog) {
        self.options = options
        self.stop = stop
        self.log = log
    }

    /// The job id: a hash of the job's canonical config and the data's fingerprint.
    public static func jobID(canonicalConfig: String, dataFingerprint: String) -> String {
        String(Digest.sha256Hex(Data((canonicalConfig + "\ndata:" + dataFingerprint).utf8)).prefix(16))
    }

    /// Chooses workers x threads for `pending` jobs on `cores` cores: one job per core while
    /// there are enough jobs (no synchronisation inside a job is cheaper than none), and
    /// the spare cores given to each job's threads when there are fewer jobs than cores.
    public static func layout(pending: Int, cores: Int, workers: Int?, threads: Int?) -> (workers: Int, threads: Int) {
        let cores = max(1, cores)
        switch (workers, threads) {
        case let (w?, t?): return (w, t)
        case let (w?, nil): return (w, max(1, cores / w))
        case let (nil, t?): return (max(1, min(max(1, pending), cores / t)), t)
        case (nil, nil):
            let w = max(1, min(pending, cores))
            return (w, max(1, cores / w))
        }
    }

    public func run() throws -> RunSummary {
        try run(try prepare())
    }

    /// Loads the spec and the data, computes the job ids and registers the experiment in
    /// the database: everything before the first claim. `harness submit` stops here.
    public func prepare() throws -> PreparedRun {
        // Everything that can be wrong with the input is checked before the database is
        // touched, so a bad spec or bad data leaves it as it was.
        let spec = try ExperimentSpec.load(path: options.specPath)
        let configs = try spec.jobs()
        let locator = DataLocator(commandLine: options.dataDirectory, environment: options.environment,
                                  specPath: options.specPath, specDatasetPath: spec.dataset.path)
        let location = try locator.resolve()
        for file in location.downloaded { log.message("downloaded and verified \(file)") }
        let data = try FashionMNIST.load(directory: location.directory)
        log.message("data: \(data.train.count) training and \(data.test.count) test images from \(location.directory)")
        if let largest = configs.compactMap(\.dataset.trainSize).max(), largest > data.train.count {
            let field = spec.grid.contains { $0.path == "dataset.train_size" } ? "$.grid[\"dataset.train_size\"]" : "$.dataset.train_size"
            throw HarnessError("\(options.specPath): \(field): asks for \(largest) training images, but the data in "
                               + "\(location.directory) holds only \(data.train.count)")
        }
        let ids = configs.map { Self.jobID(canonicalConfig: $0.canonicalJSON(), dataFingerprint: data.fingerprint) }

        // All thresholds of one configuration and seed prune the same trained base model.
        var baseOf: [String: String] = [:], baseConfigs: [String: JobConfig] = [:]
        for (id, config) in zip(ids, configs) where config.pruning != nil {
            let baseID = Self.jobID(canonicalConfig: config.baseConfigJSON(), dataFingerprint: data.fingerprint)
            var base = config
            base.pruning = nil
            base.gridPoint = config.gridPoint.filter { !$0.path.hasPrefix("pruning.") }
            baseOf[id] = baseID
            baseConfigs[baseID] = base
        }

        let store = try Store(path: options.databasePath)
        try store.registerDataset(fingerprint: data.fingerprint, descriptionJSON: try data.descriptionJSON(directoryLabel: location.label))
        try store.registerSupportJobs(baseConfigs.keys.sorted().map {
            JobRegistration(id: $0, configJSON: baseConfigs[$0]!.canonicalJSON(), seed: baseConfigs[$0]!.seed)
        }, datasetFingerprint: data.fingerprint)
        try store.registerExperiment(name: spec.name, description: spec.description, specJSON: spec.sourceJSON,
                                     datasetFingerprint: data.fingerprint,
                                     jobs: zip(ids, configs).map { JobRegistration(id: $0, configJSON: $1.canonicalJSON(), seed: $1.seed) })
        return PreparedRun(spec: spec, configs: configs, jobIDs: ids, data: data, dataDirectory: location.directory,
                           store: store, baseOf: baseOf, baseConfigs: baseConfigs)
    }

    /// Runs the prepared spec's jobs that are not done, or only those of `selection` (a
    /// subset of `prepared.jobIDs`, as `harness worker` runs one Slurm task's jobs).
    public func run(_ prepared: PreparedRun, only selection: [String]? = nil) throws -> RunSummary {
        let (spec, data, store) = (prepared.spec, prepared.data, prepared.store)
        let (configs, ids) = prepared.select(selection)
        let statesBefore = try store.jobStates(experiment: spec.name)
        var summary = RunSummary()
        summary.total = ids.count
        summary.alreadyDone = options.force ? 0 : ids.filter { statesBefore[$0] == .done }.count
        let pending = ids.count - summary.alreadyDone
        let (workers, threads) = Self.layout(pending: pending, cores: ProcessInfo.processInfo.activeProcessorCount,
                                             workers: options.workers, threads: options.threadsPerJob ?? spec.training.threads)
        log.start(experiment: spec.name, total: ids.count, alreadyDone: summary.alreadyDone, workers: workers, threads: threads)

        // Base models first: the pruning jobs that need one become claimable once it is done.
        var bases: [String] = []
        for id in ids { if let base = prepared.baseOf[id], !bases.contains(base) { bases.append(base) } }
        let baseIDs = bases
        let byID = Dictionary(zip(ids, configs), uniquingKeysWith: { first, _ in first })
            .merging(baseIDs.map { ($0, prepared.baseConfigs[$0]!) }, uniquingKeysWith: { first, _ in first })
        let indexOf = Dictionary(zip(ids + baseIDs, (ids + baseIDs).indices), uniquingKeysWith: { first, _ in first })
        let rerunBefore: Date? = options.force ? Date() : nil
        let worker = WorkerIdentity.current()
        let counts = Mutex(RunSummary())
        // A job that fails is not claimed again by this run (the next run retries it).
        let attempted = Mutex(Set<String>())
        let fatal = Mutex<Error?>(nil)
        // A base can be done without a checkpoint: its job ran as a plain job, in another
        // experiment (pruning.json's bases are final.json's jobs) or before its checkpoint was
        // deleted. The first pruning job that needs it trains it again and leaves the
        // checkpoint; until the checkpoint is there, the other pruning jobs of that base wait,
        // so it is trained once and not once per worker. These are the bases being rebuilt.
        let rebuilding = Mutex(Set<String>())
        let hasCheckpoint: @Sendable (String) -> Bool = { FileManager.default.fileExists(atPath: prepared.checkpointPath(baseID: $0)) }
        let group = DispatchGroup()
        for _ in 0..<min(workers, max(pending, 1)) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                do {
                    while !stop.isSet, fatal.withLock({ $0 == nil }) {
                        let baseStates = try baseIDs.isEmpty ? [:] : store.states(of: baseIDs, doneSince: rerunBefore)
                        // Choosing and claiming under one lock, so two workers cannot both set out
                        // to rebuild the same base. (The lock order is rebuilding, then attempted.)
                        let (claim, rebuilds): (ClaimedJob?, String?) = try rebuilding.withLock { building in
                            let beingRebuilt = building
                            let ready = { (base: String) in
                                baseStates[base] == .done && (!beingRebuilt.contains(base) || hasCheckpoint(base))
                            }
                            let candidates = attempted.withLock { seen in
                                baseIDs.filter { !seen.contains($0) }
                                    + ids.filter { !seen.contains($0) && prepared.baseOf[$0].map(ready) ?? true }
                            }
                            guard let claimed = try store.claimNextJob(among: candidates, worker: worker,
                                                                       rerunStartedBefore: rerunBefore) else { return (nil, nil) }
                            guard let base = prepared.baseOf[claimed.jobID], !hasCheckpoint(base) else { return (claimed, nil) }
                            building.insert(base)
                            return (claimed, base)
                        }
                        guard let claimed = claim else {
                            // Pruning jobs whose base another worker (or process) is training: wait for it.
                            let building = rebuilding.withLock { $0 }
                            let waiting = attempted.withLock { seen in
                                ids.contains { id in
                                    guard !seen.contains(id), let base = prepared.baseOf[id] else { return false }
                                    return baseStates[base] == .running || building.contains(base)
                                }
                            }
                            if waiting { Thread.sleep(forTimeInterval: 0.2); continue }
                            break
                        }
                        defer { if let rebuilds { rebuilding.withLock { _ = $0.remove(rebuilds) } } }
                        attempted.withLock { _ = $0.insert(claimed.jobID) }
                        let isBase = prepared.baseConfigs[claimed.jobID] != nil
                        let state = try runClaimed(claimed, config: byID[claimed.jobID]!, index: indexOf[claimed.jobID]!,
                                                   total: ids.count, data: data, threads: threads, store: store,
                                                   prepared: prepared, isBase: isBase)
                        if isBase { continue }  // counted through the jobs that need it
                        counts.withLock {
                            switch state {
                            case .done: $0.completed += 1
                            case .failed: $0.failed += 1
                            default: $0.interrupted += 1
                            }
                        }
                    }
                } catch {
                    fatal.withLock { if $0 == nil { $0 = error } }
                    stop.set(signal: SIGTERM)
                }
            }
            thread.start()
        }
        group.wait()
        log.finish()
        if let error = fatal.withLock({ $0 }) { throw error }

        let finished = counts.withLock { $0 }
        summary.completed = finished.completed
        summary.failed = finished.failed
        summary.interrupted = finished.interrupted
        let statesAfter = try store.jobStates(experiment: spec.name)
        summary.notDone = ids.filter { statesAfter[$0] != .done }.count
        summary.stoppedBySignal = stop.isSet ? stop.signal : nil
        return summary
    }

    /// Runs one claimed job and records its end: done, failed (an error, a NaN loss
    /// included) or interrupted (a stop request). Store errors propagate.
    private func runClaimed(_ claimed: ClaimedJob, config: JobConfig, index: Int, total: Int, data: FashionMNIST,
                            threads: Int, store: Store, prepared: PreparedRun, isBase: Bool) throws -> JobState {
        let label = (isBase ? "base model of " : "") + Self.describe(config)
        log.jobStarted(runID: claimed.runID, index: index, label: label, epochs: config.training.epochs)
        var lastHeartbeat = Clock.now()
        var runner = JobRunner(config: config, data: data, threads: threads)
        runner.shouldStop = { [stop] in stop.isSet }
        runner.onBatch = { [log] phase, epoch, epochs, batch, batches, loss in
            log.jobProgress(runID: claimed.runID, phase: phase, epoch: epoch, epochs: epochs, batch: batch, batches: batches, loss: loss)
            if Clock.now() - lastHeartbeat > 30 {
                try? store.heartbeat(runID: claimed.runID)
                lastHeartbeat = Clock.now()
            }
        }
        var storeError: Error?
        runner.onEpoch = { [log] phase, summary in
            do { try store.recordEpoch(runID: claimed.runID, phase: phase, epoch: summary.epoch, loss: summary.meanLoss,
                                       seconds: summary.seconds) } catch { storeError = storeError ?? error }
            lastHeartbeat = Clock.now()
            log.epochFinished(runID: claimed.runID, index: index, label: label, phase: phase, summary: summary,
                              epochs: phase == "train" ? config.training.epochs : config.pruning?.retrainEpochs ?? 0)
        }
        do {
            let context = prepared.baseOf[claimed.jobID].map { baseID in
                JobRunner.PruningContext(checkpointPath: prepared.checkpointPath(baseID: baseID),
                                         baseStepSeconds: { (try? store.meanStepSeconds(jobID: baseID)) ?? nil })
            }
            let result = try runner.run(pruning: context,
                                        saveCheckpoint: isBase ? prepared.checkpointPath(baseID: claimed.jobID) : nil)
            if let storeError { throw storeError }
            try store.finish(runID: claimed.runID, engineVersion: EngineInfo.version, outcome: result.outcome)
            for (stage, histograms) in result.histograms {
                try store.recordWeightHistograms(runID: claimed.runID, stage: stage, histograms: histograms)
            }
            log.jobFinished(runID: claimed.runID, index: index, label: label, result: .done(result.outcome.accuracy))
            return .done
        } catch TrainingError.cancelled {
            let reason = "interrupted by \(Self.signalName(stop.signal))"
            try store.interrupt(runID: claimed.runID, reason: reason)
            log.jobFinished(runID: claimed.runID, index: index, label: label, result: .interrupted(reason))
            return .interrupted
        } catch let error as SQLiteError {
            throw error
        } catch {
            try store.fail(runID: claimed.runID, error: "\(error)")
            log.jobFinished(runID: claimed.runID, index: index, label: label, result: .failed("\(error)"))
            return .failed
        }
    }

    static func describe(_ config: JobConfig) -> String {
        (config.gridPoint.map { "\($0.path)=\($0.value.canonicalText())" } + ["seed=\(config.seed)"]).joined(separator: " ")
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}
