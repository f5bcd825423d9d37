import Foundation

/// Pruning jobs and the trained models they start from: the one place that knows that a
/// pruning job has a base.
///
/// A pruning job prunes a trained model and retrains it. Every threshold (or sparsity) of
/// one configuration and seed prunes the same model, so it is trained once, by the *base
/// job*: the pruning job's settings without `pruning`, a plain training job with an id of
/// its own (`JobConfig.baseConfigJSON()`). Base jobs are registered in the store outside any
/// experiment; the same id as a plain job of another experiment (pruning.json's bases are
/// final.json's jobs) is the same job. A base job leaves its trained model as a checkpoint
/// beside the database, `checkpoints/<base id>.ckpt`, and its pruning jobs load it.
///
/// Claiming order: bases first; a pruning job is claimable once its base is done and its
/// checkpoint is there. A base can be done without a checkpoint (it ran as a plain job, or
/// its checkpoint was deleted): then the first pruning job claimed trains it again and
/// leaves the checkpoint, and the other pruning jobs of that base wait for it, so it is
/// trained once rather than once per worker.
public struct PruningBases: Sendable {
    /// Pruning job id -> its base job id.
    private let baseOfJob: [String: String]
    /// Base job id -> the base job.
    private let baseJobs: [String: JobConfig]
    /// Base job id -> the fingerprint of the data it trains on (its pruning jobs').
    private let baseData: [String: String]
    /// Base job ids, in the order their pruning jobs first appear.
    public let ids: [String]
    /// Where checkpoints are kept: `checkpoints/` beside the database.
    public let checkpointDirectory: String

    /// The bases of the pruning jobs among `configs` (`ids[i]` is the id of `configs[i]`,
    /// which reads the data with fingerprint `fingerprints[i]`).
    public init(configs: [JobConfig], ids jobIDs: [String], fingerprints: [String], databasePath: String) {
        var baseOfJob: [String: String] = [:], baseJobs: [String: JobConfig] = [:], baseData: [String: String] = [:]
        var order: [String] = []
        for ((id, config), fingerprint) in zip(zip(jobIDs, configs), fingerprints) {
            guard let base = config.baseJob else { continue }
            let baseID = base.id(dataFingerprint: fingerprint)
            baseOfJob[id] = baseID
            if baseJobs[baseID] == nil { order.append(baseID) }
            baseJobs[baseID] = baseJobs[baseID] ?? base
            baseData[baseID] = fingerprint
        }
        self.baseOfJob = baseOfJob
        self.baseJobs = baseJobs
        self.baseData = baseData
        ids = order
        checkpointDirectory = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
            .appendingPathComponent("checkpoints").path
    }

    /// The base job id of a pruning job; nil for any other job.
    public func base(of jobID: String) -> String? { baseOfJob[jobID] }

    /// Whether `jobID` is a base job (as opposed to a job of the experiment).
    public func isBase(_ jobID: String) -> Bool { baseJobs[jobID] != nil }

    /// The base job with this id.
    public func job(_ baseID: String) -> JobConfig? { baseJobs[baseID] }

    /// The fingerprint of the data a base job trains on.
    public func dataFingerprint(of baseID: String) -> String? { baseData[baseID] }

    /// The base jobs for `Store.registerSupportJobs`.
    var registrations: [JobRegistration] {
        ids.map {
            JobRegistration(id: $0, configJSON: baseJobs[$0]!.canonicalJSON(), seed: baseJobs[$0]!.seed,
                            datasetFingerprint: baseData[$0])
        }
    }

    /// Where a base job's trained model is kept.
    public func checkpointPath(baseID: String) -> String {
        URL(fileURLWithPath: checkpointDirectory).appendingPathComponent(baseID + ".ckpt").path
    }

    func hasCheckpoint(_ baseID: String) -> Bool {
        FileManager.default.fileExists(atPath: checkpointPath(baseID: baseID))
    }

    /// The jobs a worker may claim now, in claiming order: bases, then the experiment's
    /// jobs (`jobIDs`) whose base, if any, is done and not being rebuilt without its
    /// checkpoint. `attempted` jobs are never offered again in this run.
    func claimable(_ jobIDs: [String], baseStates: [String: JobState], attempted: Set<String>,
                   rebuilding: Set<String>) -> [String] {
        let ready = { (base: String) in baseStates[base] == .done && (!rebuilding.contains(base) || hasCheckpoint(base)) }
        return ids.filter { !attempted.contains($0) }
            + jobIDs.filter { !attempted.contains($0) && (base(of: $0).map(ready) ?? true) }
    }

    /// Whether some of `jobIDs` still wait for a base that another worker or process is
    /// training, so a worker with nothing to claim should wait rather than stop.
    func someJobWaits(_ jobIDs: [String], baseStates: [String: JobState], attempted: Set<String>,
                      rebuilding: Set<String>) -> Bool {
        jobIDs.contains { id in
            guard !attempted.contains(id), let base = base(of: id) else { return false }
            return baseStates[base] == .running || rebuilding.contains(base)
        }
    }
}
