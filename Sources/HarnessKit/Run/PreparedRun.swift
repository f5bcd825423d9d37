import Foundation

/// A spec made ready to run by `Scheduler.prepare()`: loaded, expanded into jobs, its data
/// loaded and fingerprinted, and the experiment registered in `store`. `harness run` goes
/// on to run it; `harness submit` only reads which jobs are pending; `harness worker`
/// runs one Slurm task's share of it.
public struct PreparedRun: Sendable {
    public let spec: ExperimentSpec
    /// The experiment's jobs in spec order; `jobIDs[i]` is the id of `configs[i]`. For a
    /// seed list, every job of the spec; for adaptive seeds, the start seeds' jobs and the
    /// ones rounds have added (`AdaptiveSeedRound`).
    public let configs: [JobConfig]
    public let jobIDs: [String]
    /// Each job's position in the experiment (`ExperimentSpec.possibleSeeds` explains the
    /// numbering), which progress lines and reports show as its number from 1.
    public let positions: [Int]
    /// The run's data set: the one read by jobs that name no `dataset.path` of their own
    /// (with a grid over `dataset.path` whose every value names one, the first job's).
    public let data: FashionMNIST
    /// Absolute path of the directory `data` was read from.
    public let dataDirectory: String
    /// Every data set the jobs read, by fingerprint (`data` among them), each loaded once.
    public let datasets: [String: FashionMNIST]
    /// The fingerprint of the data each job (and each support job) reads, by job id.
    public let dataOfJob: [String: String]
    public let store: Store
    /// What its jobs need done first: the trained models pruning jobs start from, the
    /// scores scored selections rank patterns by.
    public let supports: SupportJobs
    /// Every job the spec can have, of which `jobIDs` are the experiment's.
    let possible: PossibleJobs

    /// The data set job `jobID` reads.
    public func data(forJob jobID: String) -> FashionMNIST {
        dataOfJob[jobID].flatMap { datasets[$0] } ?? data
    }

    /// The jobs to run: all of them, or those of `selection` in the spec's order. Ids
    /// outside the spec are the caller's to reject (see `harness worker`).
    func select(_ selection: [String]?) -> (configs: [JobConfig], ids: [String], positions: [Int]) {
        guard let selection else { return (configs, jobIDs, positions) }
        let wanted = Set(selection)
        let kept = jobIDs.indices.filter { wanted.contains(jobIDs[$0]) }
        return (kept.map { configs[$0] }, kept.map { jobIDs[$0] }, kept.map { positions[$0] })
    }
}

/// Every job a spec can have: each grid point with each of `spec.possibleSeeds`, at
/// position point × that count + the seed's index. The experiment holds all of them for a
/// seed list; for adaptive seeds, the start seeds' and the seeds rounds added.
struct PossibleJobs: Sendable {
    /// `spec.possibleSeeds`.
    let seeds: [Int]
    /// By position.
    let configs: [JobConfig]
    let ids: [String]
    /// The fingerprint of the data each job reads, by position.
    let fingerprints: [String]
    let positionOfID: [String: Int]

    init(seeds: [Int], configs: [JobConfig], ids: [String], fingerprints: [String]) {
        self.seeds = seeds
        self.configs = configs
        self.ids = ids
        self.fingerprints = fingerprints
        positionOfID = Dictionary(zip(ids, ids.indices), uniquingKeysWith: { first, _ in first })
    }

    /// The id of grid point `point`'s job with `seed`; nil for a seed the spec cannot give it.
    func id(point: Int, seed: Int) -> String? {
        guard let index = seeds.firstIndex(of: seed) else { return nil }
        let position = point * seeds.count + index
        return ids.indices.contains(position) ? ids[position] : nil
    }
}
