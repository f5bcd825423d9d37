import Foundation

/// The jobs an experiment's jobs need done first, and what each needs: the one place that
/// knows that a pruning job has a base model and a scored selection has pattern scores.
///
/// **Base models.** A pruning job prunes a trained model and retrains it. Every threshold (or
/// sparsity) of one configuration and seed prunes the same model, so it is trained once, by
/// the *base job*: the pruning job's settings without `pruning`, a plain training job with an
/// id of its own (`JobConfig.baseConfigJSON()`). The same id as a plain job of another
/// experiment (pruning.json's bases are final.json's jobs) is the same job. A base job leaves
/// its trained model as a checkpoint beside the database, `checkpoints/<base id>.ckpt`, and
/// its pruning jobs load it. A base can be done without a checkpoint (it ran as a plain job,
/// or its checkpoint was deleted): then the first pruning job claimed trains it again and
/// leaves the checkpoint, and the other pruning jobs of that base wait for it, so it is
/// trained once rather than once per worker.
///
/// **Pattern scores.** A job that keeps a fraction of the training set by EL2N or forgetting
/// scores reads them from the database, where its score job (`PatternScoreJob`) left them;
/// every fraction of one configuration and seed shares it. A base job may itself need scores.
///
/// Support jobs are registered in the store outside any experiment. Claiming order: score
/// jobs, then bases, then the experiment's jobs; a job is claimable once everything it needs
/// is done (and a base's checkpoint is there).
public struct SupportJobs: Sendable {
    public enum Job: Sendable {
        case baseModel(JobConfig)
        case scores(PatternScoreJob)
    }

    /// Job id (the experiment's or a support job's) -> the base job id it starts from.
    private let baseOfJob: [String: String]
    /// Job id -> the score job id whose scores it selects by.
    private let scoresOfJob: [String: String]
    private let jobs: [String: Job]
    /// Support job id -> the fingerprint of the data it reads (its dependents').
    private let data: [String: String]
    /// Support job ids in claiming order: score jobs, then bases, each in the order their
    /// dependents first appear.
    public let ids: [String]
    /// Where checkpoints are kept: `checkpoints/` beside the database.
    public let checkpointDirectory: String

    /// The support jobs of `configs` (`ids[i]` is the id of `configs[i]`, which reads the data
    /// with fingerprint `fingerprints[i]`, `counts[fingerprint]` training patterns).
    public init(configs: [JobConfig], ids jobIDs: [String], fingerprints: [String], trainingCounts: [String: Int],
                databasePath: String) {
        var baseOfJob: [String: String] = [:], scoresOfJob: [String: String] = [:]
        var jobs: [String: Job] = [:], data: [String: String] = [:]
        var scoreOrder: [String] = [], baseOrder: [String] = []
        func needScores(_ config: JobConfig, id: String, fingerprint: String) {
            guard let scoreJob = PatternScoreJob(config, available: trainingCounts[fingerprint] ?? Int.max) else { return }
            let scoreID = scoreJob.id(dataFingerprint: fingerprint)
            scoresOfJob[id] = scoreID
            if jobs[scoreID] == nil { scoreOrder.append(scoreID); jobs[scoreID] = .scores(scoreJob) }
            data[scoreID] = fingerprint
        }
        for ((id, config), fingerprint) in zip(zip(jobIDs, configs), fingerprints) {
            needScores(config, id: id, fingerprint: fingerprint)
            guard let base = config.baseJob else { continue }
            let baseID = base.id(dataFingerprint: fingerprint)
            baseOfJob[id] = baseID
            if jobs[baseID] == nil {
                baseOrder.append(baseID)
                jobs[baseID] = .baseModel(base)
                needScores(base, id: baseID, fingerprint: fingerprint)
            }
            data[baseID] = fingerprint
        }
        self.baseOfJob = baseOfJob
        self.scoresOfJob = scoresOfJob
        self.jobs = jobs
        self.data = data
        ids = scoreOrder + baseOrder
        checkpointDirectory = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
            .appendingPathComponent("checkpoints").path
    }

    /// The base job id of a pruning job; nil for any other job.
    public func base(of jobID: String) -> String? { baseOfJob[jobID] }

    /// The score job id of a job that selects its patterns by score; nil for any other job.
    public func scores(of jobID: String) -> String? { scoresOfJob[jobID] }

    /// Whether `jobID` is a support job (as opposed to a job of the experiment).
    public func isSupport(_ jobID: String) -> Bool { jobs[jobID] != nil }

    /// The support job with this id.
    public func job(_ id: String) -> Job? { jobs[id] }

    /// The base job with this id.
    public func baseJob(_ id: String) -> JobConfig? {
        if case let .baseModel(config)? = jobs[id] { return config }
        return nil
    }

    /// The score job with this id.
    public func scoreJob(_ id: String) -> PatternScoreJob? {
        if case let .scores(job)? = jobs[id] { return job }
        return nil
    }

    /// The fingerprint of the data a support job reads.
    public func dataFingerprint(of id: String) -> String? { data[id] }

    /// The support jobs for `Store.registerSupportJobs`.
    var registrations: [JobRegistration] {
        ids.map { id in
            switch jobs[id]! {
            case let .baseModel(config):
                JobRegistration(id: id, configJSON: config.canonicalJSON(), seed: config.seed, datasetFingerprint: data[id])
            case let .scores(scoreJob):
                JobRegistration(id: id, configJSON: scoreJob.canonicalJSON(), seed: scoreJob.seed, datasetFingerprint: data[id])
            }
        }
    }

    /// Where a base job's trained model is kept.
    public func checkpointPath(baseID: String) -> String {
        URL(fileURLWithPath: checkpointDirectory).appendingPathComponent(baseID + ".ckpt").path
    }

    func hasCheckpoint(_ baseID: String) -> Bool {
        FileManager.default.fileExists(atPath: checkpointPath(baseID: baseID))
    }

    /// What `jobID` needs done first: its score job, its base, or both.
    private func needs(_ jobID: String) -> [String] {
        [scoresOfJob[jobID], baseOfJob[jobID]].compactMap { $0 }
    }

    /// The jobs a worker may claim now, in claiming order: support jobs, then the
    /// experiment's jobs (`jobIDs`), each once everything it needs is done (a base also not
    /// being rebuilt without its checkpoint). `attempted` jobs are never offered again in
    /// this run.
    func claimable(_ jobIDs: [String], supportStates: [String: JobState], attempted: Set<String>,
                   rebuilding: Set<String>) -> [String] {
        let ready = { (support: String) in
            supportStates[support] == .done && (baseJob(support) == nil || !rebuilding.contains(support) || hasCheckpoint(support))
        }
        return (ids + jobIDs).filter { !attempted.contains($0) && needs($0).allSatisfy(ready) }
    }

    /// Whether some of `jobIDs` (or the support jobs they need) still wait for a support job
    /// that another worker or process is running, so a worker with nothing to claim should
    /// wait rather than stop.
    func someJobWaits(_ jobIDs: [String], supportStates: [String: JobState], attempted: Set<String>,
                      rebuilding: Set<String>) -> Bool {
        (ids + jobIDs).contains { id in
            !attempted.contains(id) && needs(id).contains { supportStates[$0] == .running || rebuilding.contains($0) }
        }
    }
}
