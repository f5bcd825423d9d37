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
    /// `--retry-failed`: run again the jobs whose latest run failed (by default they are
    /// left failed: a diverging loss fails again with the same seed).
    public var retryFailed: Bool
    public var environment: [String: String]

    public init(specPath: String, databasePath: String = Store.defaultPath, dataDirectory: String? = nil,
                workers: Int? = nil, threadsPerJob: Int? = nil, force: Bool = false, retryFailed: Bool = false,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.specPath = specPath
        self.databasePath = databasePath
        self.dataDirectory = dataDirectory
        self.workers = workers
        self.threadsPerJob = threadsPerJob
        self.force = force
        self.retryFailed = retryFailed
        self.environment = environment
    }
}

/// How a run ended, counted over this spec's jobs.
public struct RunSummary: Sendable, Equatable {
    public var total = 0
    /// Done before this run started (skipped).
    public var alreadyDone = 0
    public var completed = 0
    /// Failed in this run.
    public var failed = 0
    /// Failed in an earlier run and not run again (no --retry-failed).
    public var failedBefore = 0
    public var interrupted = 0
    /// Jobs still not done when the run ended.
    public var notDone = 0
    public var stoppedBySignal: Int32?

    /// Every job of the spec is done: the run succeeded, whichever process ran each job.
    public var allDone: Bool { notDone == 0 }
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

    /// Runs the spec's jobs that are not done; with adaptive seeds, then adds seeds in
    /// rounds (`runAdaptiveRounds`).
    public func run() throws -> RunSummary {
        let inputs = try load()
        let prepared = try register(inputs)
        guard prepared.spec.adaptiveSeeds != nil else { return try run(prepared) }
        return try runAdaptiveRounds(inputs, prepared)
    }

    /// Loads the spec and the data, computes the job ids and registers the experiment in
    /// the database: everything before the first claim. `harness submit` stops here.
    /// `adding`: adaptive seeds' jobs to add to the experiment (a round's, or those a Slurm
    /// task runs); the start seeds' jobs and those added before are registered anyway.
    public func prepare(adding: [String] = []) throws -> PreparedRun {
        try register(try load(), adding: adding)
    }

    /// What `prepare` reads before it registers anything: the spec, its data, every job
    /// it can have, and the store.
    struct Inputs {
        let spec: ExperimentSpec
        let data: LoadedData
        let possible: PossibleJobs
        let store: Store
    }

    /// Everything that can be wrong with the input is checked before the database is
    /// touched (the store is opened last), so a bad spec or bad data leaves it as it was.
    func load() throws -> Inputs {
        let spec = try ExperimentSpec.load(path: options.specPath)
        let configs = try spec.jobs()
        let data = try loadData(spec, configs)
        func fingerprint(_ config: JobConfig) -> String { data.fingerprintOf[config.dataset.path] ?? data.primary.fingerprint }
        let fingerprints = configs.map(fingerprint)
        for (fingerprint, set) in data.sets {
            let largest = zip(configs, fingerprints).filter { $0.1 == fingerprint }.compactMap(\.0.dataset.trainSize).max()
            if let largest, largest > set.data.train.count {
                let field = spec.grid.contains { $0.path == "dataset.train_size" } ? "$.grid[\"dataset.train_size\"]" : "$.dataset.train_size"
                throw HarnessError("\(options.specPath): \(field): asks for \(largest) training images, but the data in "
                                   + "\(set.location.directory) holds only \(set.data.train.count)")
            }
        }
        let ids = zip(configs, fingerprints).map { $0.id(dataFingerprint: $1) }
        // Two grid points that differ only in dataset.path, on two copies of the same data
        // (which seed makes no difference, so the plan's jobs are checked).
        var firstWithID: [String: Int] = [:]
        for (index, id) in ids.enumerated() {
            if let earlier = firstWithID[id] {
                throw HarnessError("\(options.specPath): jobs \(earlier + 1) (\(configs[earlier].label)) and \(index + 1) "
                                   + "(\(configs[index].label)) are one job: their data sets hold the same images "
                                   + "(fingerprint \(fingerprints[index])); give dataset.path values with different data")
            }
            firstWithID[id] = index
        }
        let seeds = spec.possibleSeeds
        let possibleConfigs = try spec.gridPoints().flatMap { point in seeds.map(point.job) }
        let possibleFingerprints = possibleConfigs.map(fingerprint)
        let possible = PossibleJobs(seeds: seeds, configs: possibleConfigs,
                                    ids: zip(possibleConfigs, possibleFingerprints).map { $0.id(dataFingerprint: $1) },
                                    fingerprints: possibleFingerprints)
        return Inputs(spec: spec, data: data, possible: possible, store: try Store(path: options.databasePath))
    }

    /// Registers the data sets, the experiment and its jobs (the start seeds', those added
    /// before and `adding`) and the pruning bases those jobs need.
    func register(_ inputs: Inputs, adding: [String] = []) throws -> PreparedRun {
        let (spec, data, possible, store) = (inputs.spec, inputs.data, inputs.possible, inputs.store)
        for (fingerprint, set) in data.sets.sorted(by: { $0.key < $1.key }) {
            try store.registerDataset(fingerprint: fingerprint,
                                      descriptionJSON: try set.data.descriptionJSON(directoryLabel: set.location.label),
                                      testLabels: set.data.test.labels)
        }
        let always = Set(spec.seeds), added = Set(adding)
        let registrations = possible.ids.indices.map { index in
            let config = possible.configs[index], id = possible.ids[index]
            return JobRegistration(id: id, configJSON: config.canonicalJSON(), seed: config.seed,
                                   datasetFingerprint: possible.fingerprints[index],
                                   onlyIfMember: !always.contains(config.seed) && !added.contains(id))
        }
        // Refused (inside the transaction) when another spec file registered this name.
        let members = try store.registerExperiment(name: spec.name, description: spec.description, specJSON: spec.sourceJSON,
                                                   specPath: options.specPath, datasetFingerprint: data.primary.fingerprint,
                                                   jobs: registrations)
        let positions = members.compactMap { possible.positionOfID[$0] }
        let configs = positions.map { possible.configs[$0] }, ids = positions.map { possible.ids[$0] }
        let fingerprints = positions.map { possible.fingerprints[$0] }
        let supports = SupportJobs(configs: configs, ids: ids, fingerprints: fingerprints,
                                   trainingCounts: data.sets.mapValues(\.data.train.count), databasePath: options.databasePath)
        try store.registerSupportJobs(supports.registrations, datasetFingerprint: data.primary.fingerprint)
        var dataOfJob = Dictionary(zip(ids, fingerprints), uniquingKeysWith: { first, _ in first })
        for support in supports.ids { dataOfJob[support] = supports.dataFingerprint(of: support) }
        return PreparedRun(spec: spec, configs: configs, jobIDs: ids, positions: positions, data: data.primary,
                           dataDirectory: data.sets[data.primary.fingerprint]!.location.directory,
                           datasets: data.sets.mapValues(\.data), dataOfJob: dataOfJob, store: store, supports: supports,
                           possible: possible)
    }

    /// Adaptive seeds: after the registered jobs have run, each round reads the results,
    /// lets `AdaptiveSeedRound` choose which grid points get their next seed, registers
    /// and runs those jobs, until a round adds none (or a signal stops the run). The
    /// summary counts every round; `--force` reruns each job once over all of them.
    ///
    /// Another process running the same spec adds the same seeds in the same rounds; one
    /// that is a round ahead has registered jobs this one has not run. Before a round is
    /// decided on jobs that are neither done nor failed, they are run (or waited for), so no
    /// process stops early on another's unfinished round. The same open jobs are not tried
    /// twice in a row: a pruning job whose base failed stays pending, and then its point
    /// simply gets no more seeds.
    private func runAdaptiveRounds(_ inputs: Inputs, _ first: PreparedRun) throws -> RunSummary {
        let rerunBefore = options.force ? Date() : nil
        var prepared = first
        var summary = try run(prepared, rerunBefore: rerunBefore)
        func add(_ next: RunSummary) {
            summary.alreadyDone += next.alreadyDone
            summary.completed += next.completed
            summary.failed += next.failed
            summary.failedBefore += next.failedBefore
            summary.interrupted += next.interrupted
            summary.stoppedBySignal = next.stoppedBySignal
        }
        var round = 1
        var openJobsRun: Set<String> = []
        while !stop.isSet {
            let decision = try AdaptiveSeedRound.next(after: prepared)
            if decision.hasOpenJobs {
                prepared = try register(inputs)
                let states = try prepared.store.jobStates(experiment: prepared.spec.name)
                let open = prepared.jobIDs.filter { states[$0] != .done && states[$0] != .failed }
                if !open.isEmpty && Set(open) != openJobsRun {
                    openJobsRun = Set(open)
                    add(try run(prepared, only: open, rerunBefore: rerunBefore))
                    continue
                }
            }
            guard !decision.jobIDs.isEmpty else {
                log.message(decision.conclusion(rounds: round))
                break
            }
            round += 1
            log.message(decision.announcement(round: round))
            prepared = try register(inputs, adding: decision.jobIDs)
            add(try run(prepared, only: decision.jobIDs, rerunBefore: rerunBefore))
        }
        // Over every job of the experiment, those another process added included.
        let states = try prepared.store.jobStates(experiment: prepared.spec.name)
        summary.total = states.count
        summary.notDone = states.values.filter { $0 != .done }.count
        return summary
    }

    /// The data sets a spec's jobs read, each loaded once.
    struct LoadedData {
        /// The data of jobs without a `dataset.path` of their own (or of the first job).
        var primary: FashionMNIST
        /// By fingerprint: the data and where it was found.
        var sets: [String: (data: FashionMNIST, location: DataLocator.Location)] = [:]
        /// A job's `dataset.path` -> the fingerprint of the data found there.
        var fingerprintOf: [String?: String] = [:]
    }

    /// Finds and loads each job's data. A job reads the data at its own `dataset.path` when
    /// the spec varies that path (a grid comparing data sets), else the run's data: `--data`,
    /// HARNESS_DATA, the spec's path or the download cache, in that order (`DataLocator`).
    private func loadData(_ spec: ExperimentSpec, _ configs: [JobConfig]) throws -> LoadedData {
        var paths: [String?] = []
        for config in configs where !paths.contains(config.dataset.path) { paths.append(config.dataset.path) }
        let perJob = paths.count > 1
        if perJob && options.dataDirectory != nil && paths.contains(where: { $0 != nil }) {
            log.message("--data applies only to the jobs without a dataset.path of their own: the spec varies it")
        }
        var loaded: LoadedData?
        var byDirectory: [String: FashionMNIST] = [:]
        for path in paths {
            let own = perJob && path != nil
            var environment = options.environment
            if own { environment["HARNESS_DATA"] = nil }
            let locator = DataLocator(commandLine: own ? nil : options.dataDirectory, environment: environment,
                                      specPath: options.specPath, specDatasetPath: path)
            let location = try locator.resolve()
            for file in location.downloaded { log.message("downloaded and verified \(file)") }
            let data: FashionMNIST
            if let known = byDirectory[location.directory] {
                data = known
            } else {
                data = try FashionMNIST.load(directory: location.directory)
                byDirectory[location.directory] = data
                log.message("data: \(data.train.count) training and \(data.test.count) test images from \(location.directory)")
            }
            if loaded == nil { loaded = LoadedData(primary: data) }
            if path == nil || !perJob { loaded!.primary = data }
            if loaded!.sets[data.fingerprint] == nil { loaded!.sets[data.fingerprint] = (data, location) }
            loaded!.fingerprintOf[path] = data.fingerprint
        }
        return loaded!
    }

    /// What the workers of one run share, under one lock.
    private struct SharedState {
        /// Jobs claimed by this run: a job that fails is not claimed again (the next run retries it).
        var attempted: Set<String> = []
        /// Bases being trained again by a pruning job because they were done without a checkpoint.
        var rebuilding: Set<String> = []
        var counts = RunSummary()
        /// The first store error, which stops every worker.
        var fatal: Error?
        /// How many jobs were last reported as running in other processes.
        var reportedElsewhere = 0
        /// Jobs known to need no claim: done (before this run, or by another process since)
        /// or failed and not to be retried. Left out of the claims, so a claim's cost does
        /// not grow with the grid.
        var settled: Set<String> = []
    }

    /// Runs the prepared spec's jobs that are not done, or only those of `selection` (a
    /// subset of `prepared.jobIDs`, as `harness worker` runs one Slurm task's jobs), on
    /// `workers` threads that each claim and run jobs until none is left.
    public func run(_ prepared: PreparedRun, only selection: [String]? = nil) throws -> RunSummary {
        try run(prepared, only: selection, rerunBefore: options.force ? Date() : nil)
    }

    /// `rerunBefore` (with `--force`): a job counts as done only if a run started at or
    /// after it is done, so each job reruns once, however many rounds ask for it.
    private func run(_ prepared: PreparedRun, only selection: [String]? = nil, rerunBefore: Date?) throws -> RunSummary {
        let (spec, store) = (prepared.spec, prepared.store)
        let (configs, ids, positions) = prepared.select(selection)
        let force = rerunBefore != nil
        let statesBefore = try store.jobStates(experiment: spec.name)
        var summary = RunSummary()
        summary.total = ids.count
        summary.alreadyDone = force ? 0 : ids.filter { statesBefore[$0] == .done }.count
        let pending = ids.count - summary.alreadyDone
        let (workers, threads) = Self.layout(pending: pending, cores: ProcessInfo.processInfo.activeProcessorCount,
                                             workers: options.workers, threads: options.threadsPerJob ?? spec.training.threads)
        // Longest first, by predicted cost (JobCost): the grid's last jobs are short ones, so
        // the workers run out of work at about the same time.
        var costModel = JobCost()
        var cost: [String: Double] = [:]
        for (id, config) in zip(ids, configs) { cost[id] = costModel.predicted(config, data: prepared.data(forJob: id)) }
        for support in prepared.supports.ids {
            cost[support] = costModel.predicted(prepared.supports.job(support)!, data: prepared.data(forJob: support))
        }
        let order = ids.indices.sorted { (-(cost[ids[$0]] ?? 0), $0) < (-(cost[ids[$1]] ?? 0), $1) }
        let pendingCost = ids.filter { force || statesBefore[$0] != .done }.reduce(0) { $0 + (cost[$1] ?? 0) }
            + prepared.supports.ids.reduce(0) { $0 + (cost[$1] ?? 0) }
        log.start(experiment: spec.name, total: ids.count, alreadyDone: summary.alreadyDone, workers: workers, threads: threads,
                  pendingCost: pendingCost)

        let jobs = RunJobs(ids: order.map { ids[$0] }, configs: order.map { configs[$0] }, indices: order.map { positions[$0] },
                           firstSupportIndex: prepared.possible.ids.count, supports: prepared.supports, threads: threads,
                           rerunBefore: rerunBefore, cost: cost)
        var initial = SharedState()
        if !force {
            initial.settled = Set(ids.filter { statesBefore[$0] == .done || (!options.retryFailed && statesBefore[$0] == .failed) })
        }
        let shared = Mutex(initial)
        let group = DispatchGroup()
        for _ in 0..<min(workers, max(pending, 1)) {
            group.enter()
            Thread { [self] in
                defer { group.leave() }
                do {
                    try workerLoop(jobs, prepared, shared)
                } catch {
                    shared.withLock { if $0.fatal == nil { $0.fatal = error } }
                    stop.set(signal: SIGTERM)
                }
            }.start()
        }
        group.wait()
        log.finish()
        let finished = shared.withLock { $0 }
        if let error = finished.fatal { throw error }

        summary.completed = finished.counts.completed
        summary.failed = finished.counts.failed
        summary.interrupted = finished.counts.interrupted
        let statesAfter = try store.jobStates(experiment: spec.name)
        summary.notDone = ids.filter { statesAfter[$0] != .done }.count
        summary.failedBefore = ids.filter { statesAfter[$0] == .failed && !finished.attempted.contains($0) }.count
        summary.stoppedBySignal = stop.isSet ? stop.signal : nil
        return summary
    }

    /// The jobs one run offers its workers: the experiment's in claiming order, by id, and
    /// the support jobs they need.
    private struct RunJobs {
        /// In claiming order (longest first).
        let ids: [String]
        let byID: [String: JobConfig]
        /// A job's position in the experiment (0-based), as progress lines show it; support
        /// jobs follow every position the spec can fill, so no round reuses their numbers.
        let index: [String: Int]
        let supports: SupportJobs
        let threads: Int
        /// With `--force`: a job counts as done only if it was done by this run.
        let rerunBefore: Date?
        /// Predicted cost by job id (`JobCost`).
        let cost: [String: Double]

        init(ids: [String], configs: [JobConfig], indices: [Int], firstSupportIndex: Int, supports: SupportJobs, threads: Int,
             rerunBefore: Date?, cost: [String: Double]) {
            self.ids = ids
            var byID = Dictionary(zip(ids, configs), uniquingKeysWith: { first, _ in first })
            for base in supports.ids { byID[base] = byID[base] ?? supports.baseJob(base) }
            self.byID = byID
            var index = Dictionary(zip(ids, indices), uniquingKeysWith: { first, _ in first })
            for (k, support) in supports.ids.enumerated() where index[support] == nil { index[support] = firstSupportIndex + k }
            self.index = index
            self.supports = supports
            self.threads = threads
            self.rerunBefore = rerunBefore
            self.cost = cost
        }
    }

    /// One worker: claim a job, run it, until nothing is left to claim (or a stop). Waits
    /// while jobs it could run wait for a support job another worker is running.
    private func workerLoop(_ jobs: RunJobs, _ prepared: PreparedRun, _ shared: borrowing Mutex<SharedState>) throws {
        let store = prepared.store, supports = jobs.supports, worker = WorkerIdentity.current()
        while !stop.isSet, shared.withLock({ $0.fatal == nil }) {
            let supportStates = try supports.ids.isEmpty ? [:] : store.states(of: supports.ids, doneSince: jobs.rerunBefore)
            // Choosing and claiming under the lock, so two workers cannot both set out to
            // rebuild the same base.
            let (claimed, rebuilds, waits) = try shared.withLock { state -> (ClaimedJob?, String?, Bool) in
                let candidates = supports.claimable(jobs.ids, supportStates: supportStates, attempted: state.attempted,
                                                    rebuilding: state.rebuilding).filter { !state.settled.contains($0) }
                guard let claimed = try claimInWindows(candidates, store: store, worker: worker, jobs: jobs,
                                                       settled: &state.settled) else {
                    return (nil, nil, supports.someJobWaits(jobs.ids, supportStates: supportStates, attempted: state.attempted,
                                                            rebuilding: state.rebuilding))
                }
                state.attempted.insert(claimed.jobID)
                guard let base = supports.base(of: claimed.jobID), !supports.hasCheckpoint(base) else { return (claimed, nil, false) }
                state.rebuilding.insert(base)
                return (claimed, base, false)
            }
            guard let claimed else {
                if waits { Thread.sleep(forTimeInterval: 0.2); continue }
                // Jobs another process is running: wait for them (a job whose process dies
                // is reclaimed by the next claim and run here), so that this run ends when
                // every job is done, not as soon as it has nothing to claim.
                let states = try store.states(of: jobs.ids)
                let elsewhere = shared.withLock { state -> Int in
                    let count = jobs.ids.filter { states[$0] == .running && !state.attempted.contains($0) }.count
                    if count > 0 && count != state.reportedElsewhere {
                        log.message("waiting for \(count) job\(count == 1 ? "" : "s") running in another process")
                    }
                    state.reportedElsewhere = count
                    return count
                }
                if elsewhere > 0 { Thread.sleep(forTimeInterval: 1); continue }
                return
            }
            defer { if let rebuilds { shared.withLock { _ = $0.rebuilding.remove(rebuilds) } } }
            let state = try runClaimed(claimed, config: jobs.byID[claimed.jobID], index: jobs.index[claimed.jobID]!,
                                       cost: jobs.cost[claimed.jobID] ?? 0, threads: jobs.threads, prepared: prepared)
            if supports.isSupport(claimed.jobID) { continue }  // counted through the jobs that need it
            shared.withLock {
                switch state {
                case .done: $0.counts.completed += 1
                case .failed: $0.counts.failed += 1
                default: $0.counts.interrupted += 1
                }
            }
        }
    }

    /// The first claimable job of `candidates`, asked for in windows of 128 (a claim checks
    /// each candidate it is given, under the write lock, so a 100,000-job grid asked in one
    /// piece would cost a full scan per claim). A window that yields nothing has its done
    /// and left-failed jobs added to `settled`, so later claims skip them.
    private func claimInWindows(_ candidates: [String], store: Store, worker: WorkerIdentity, jobs: RunJobs,
                                settled: inout Set<String>) throws -> ClaimedJob? {
        var start = 0
        while start < candidates.count {
            let window = Array(candidates[start..<min(candidates.count, start + 128)])
            if let claimed = try store.claimNextJob(among: window, worker: worker, rerunStartedBefore: jobs.rerunBefore,
                                                    retryFailed: options.retryFailed) {
                return claimed
            }
            for (id, state) in try store.states(of: window, doneSince: jobs.rerunBefore)
            where state == .done || (state == .failed && !options.retryFailed) {
                settled.insert(id)
            }
            start += window.count
        }
        return nil
    }

    /// Runs one claimed job and records its end: done, failed (an error, a NaN loss
    /// included) or interrupted (a stop request). Store errors propagate.
    private func runClaimed(_ claimed: ClaimedJob, config: JobConfig?, index: Int, cost: Double, threads: Int,
                            prepared: PreparedRun) throws -> JobState {
        let store = prepared.store, supports = prepared.supports
        let scoreJob = supports.scoreJob(claimed.jobID)
        let isBase = supports.baseJob(claimed.jobID) != nil
        let support: String? = scoreJob != nil ? "scores" : isBase ? "base" : nil
        let label = scoreJob?.label ?? ((isBase ? "base model of " : "") + config!.label)
        log.jobStarted(runID: claimed.runID, index: index, label: label, epochs: scoreJob.map { $0.models * $0.probe.training.epochs }
                       ?? config!.training.epochs, cost: cost)
        let data = prepared.data(forJob: claimed.jobID)
        // A heartbeat at most every 30 s while the job runs, so that another host does not
        // take it for dead (`Store.reclaimDeadRuns`); an epoch's record is one too.
        var lastHeartbeat = Clock.now()
        let heartbeat = {
            if Clock.now() - lastHeartbeat > 30 {
                try? store.heartbeat(runID: claimed.runID)
                lastHeartbeat = Clock.now()
            }
        }
        do {
            if let scoreJob {
                let scores = try scoreJob.compute(on: data, threads: threads, shouldStop: { [stop] in stop.isSet },
                                                  onBatch: heartbeat)
                try store.finish(runID: claimed.runID, engineVersion: EngineInfo.version, scores: scores)
                log.jobFinished(runID: claimed.runID, index: index, label: label, end: .done(nil), support: support)
                return .done
            }
            let config = config!
            var runner = JobRunner(config: config, data: data, threads: threads)
            runner.shouldStop = { [stop] in stop.isSet }
            runner.onBatch = { [log] progress in
                log.jobProgress(runID: claimed.runID, progress)
                heartbeat()
            }
            var storeError: Error?
            runner.onEpoch = { [log] phase, summary in
                do {
                    try store.recordEpoch(runID: claimed.runID, phase: phase, epoch: summary.epoch, loss: summary.meanLoss,
                                          seconds: summary.seconds, cpuSeconds: summary.cpuSeconds,
                                          patterns: config.dataset.selection == .active ? summary.patterns : nil)
                } catch { storeError = storeError ?? error }
                lastHeartbeat = Clock.now()
                log.epochFinished(runID: claimed.runID, index: index, label: label, phase: phase, summary: summary,
                                  epochs: config.epochs(of: phase))
            }
            // Scores its selection ranks by: from the database, where its score job left them
            // (computed here, the same numbers, if a merge or a hand lost them).
            if let scoreID = supports.scores(of: claimed.jobID), let scoreJob = supports.scoreJob(scoreID) {
                runner.patternScores = try store.patternScores(jobID: scoreID)
                    ?? scoreJob.compute(on: data, threads: threads, shouldStop: { [stop] in stop.isSet }, onBatch: heartbeat)
            }
            let pruning = supports.base(of: claimed.jobID).map { baseID in
                JobRunner.PruningContext(checkpointPath: supports.checkpointPath(baseID: baseID))
            }
            let output = try runner.run(pruning: pruning,
                                        saveCheckpoint: isBase ? supports.checkpointPath(baseID: claimed.jobID) : nil)
            if let storeError { throw storeError }
            try store.finish(runID: claimed.runID, engineVersion: EngineInfo.version, outcome: output.outcome)
            for (stage, histograms) in output.histograms {
                try store.recordWeightHistograms(runID: claimed.runID, stage: stage, histograms: histograms)
            }
            log.jobFinished(runID: claimed.runID, index: index, label: label, end: .done(output.outcome.accuracy), support: support)
            return .done
        } catch TrainingError.cancelled {
            let reason = "interrupted by \(Self.signalName(stop.signal))"
            try store.interrupt(runID: claimed.runID, reason: reason)
            log.jobFinished(runID: claimed.runID, index: index, label: label, end: .interrupted(reason), support: support)
            return .interrupted
        } catch let error as SQLiteError {
            throw error
        } catch {
            try store.fail(runID: claimed.runID, error: "\(error)")
            log.jobFinished(runID: claimed.runID, index: index, label: label, end: .failed("\(error)"), support: support)
            return .failed
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}
