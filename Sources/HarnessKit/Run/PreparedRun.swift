import Foundation

/// A spec made ready to run by `Scheduler.prepare()`: loaded, expanded into jobs, its data
/// loaded and fingerprinted, and the experiment registered in `store`. `harness run` goes
/// on to run it; `harness submit` only reads which jobs are pending; `harness worker`
/// runs one Slurm task's share of it.
public struct PreparedRun: Sendable {
    public let spec: ExperimentSpec
    /// The spec's jobs in spec order; `jobIDs[i]` is the id of `configs[i]`.
    public let configs: [JobConfig]
    public let jobIDs: [String]
    /// The run's data set: the one read by jobs that name no `dataset.path` of their own
    /// (with a grid over `dataset.path` whose every value names one, the first job's).
    public let data: FashionMNIST
    /// Absolute path of the directory `data` was read from.
    public let dataDirectory: String
    /// Every data set the jobs read, by fingerprint (`data` among them), each loaded once.
    public let datasets: [String: FashionMNIST]
    /// The fingerprint of the data each job (and each pruning base) reads, by job id.
    public let dataOfJob: [String: String]
    public let store: Store
    /// The trained models its pruning jobs start from.
    public let bases: PruningBases

    /// The data set job `jobID` reads.
    public func data(forJob jobID: String) -> FashionMNIST {
        dataOfJob[jobID].flatMap { datasets[$0] } ?? data
    }

    /// The jobs to run: all of them, or those of `selection` in the spec's order. Ids
    /// outside the spec are the caller's to reject (see `harness worker`).
    func select(_ selection: [String]?) -> (configs: [JobConfig], ids: [String]) {
        guard let selection else { return (configs, jobIDs) }
        let wanted = Set(selection)
        let kept = jobIDs.indices.filter { wanted.contains(jobIDs[$0]) }
        return (kept.map { configs[$0] }, kept.map { jobIDs[$0] })
    }
}
