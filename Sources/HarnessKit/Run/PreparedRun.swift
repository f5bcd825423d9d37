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
    public let data: FashionMNIST
    /// Absolute path of the directory the data was read from.
    public let dataDirectory: String
    public let store: Store
    /// The trained models its pruning jobs start from.
    public let bases: PruningBases

    /// The jobs to run: all of them, or those of `selection` in the spec's order. Ids
    /// outside the spec are the caller's to reject (see `harness worker`).
    func select(_ selection: [String]?) -> (configs: [JobConfig], ids: [String]) {
        guard let selection else { return (configs, jobIDs) }
        let wanted = Set(selection)
        let kept = jobIDs.indices.filter { wanted.contains(jobIDs[$0]) }
        return (kept.map { configs[$0] }, kept.map { jobIDs[$0] })
    }
}
