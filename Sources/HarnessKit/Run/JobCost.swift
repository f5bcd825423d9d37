import Engine

/// What a job is predicted to cost, in floating-point operations: the order in which a run
/// starts its jobs (longest first, so the last job to start is a short one and the cores
/// finish together) and the ETA of the live line (scaled by the seconds per operation that
/// finished jobs measured).
///
///     training       3 · F · N_train · epochs      (backward ≈ 2 forward passes)
///     retraining     3 · F · N_train · retrain_epochs
///     evaluations    F · N_test · (1, or 3 for a pruning job: before, right after, after retraining)
///     score job      models · (3 · F · N_all · score_epochs + F · N_all)   (probe training, then EL2N)
///
/// F is the model's forward FLOPs per sample (`Classifier.forwardFlopsPerSample`), N_train
/// the job's training images (its subset's size), N_test the test images.
struct JobCost {
    private var flopsOfModel: [(model: ModelSettings, sequence: SequenceAxis, flops: Double)] = []

    /// A support job's cost on `data`.
    mutating func predicted(_ job: SupportJobs.Job, data: FashionMNIST) -> Double {
        switch job {
        case let .baseModel(config):
            return predicted(config, data: data)
        case let .scores(scoreJob):
            let probe = JobConfig(dataset: scoreJob.probe.dataset, model: scoreJob.probe.model, training: scoreJob.probe.training,
                                  seed: scoreJob.seed)
            let all = Double(data.train.count)
            return Double(scoreJob.models) * forwardFlops(probe, data: data) * (3 * all * Double(scoreJob.probe.training.epochs) + all)
        }
    }

    /// `config`'s cost on `data`.
    mutating func predicted(_ config: JobConfig, data: FashionMNIST) -> Double {
        let forward = forwardFlops(config, data: data)
        let train = Double(config.dataset.keptCount(of: data.train.count))
        let test = Double(data.test.count)
        let epochs = Double(config.training.epochs + (config.pruning?.retrainEpochs ?? 0))
        let evaluations: Double = config.pruning == nil ? 1 : 3
        return forward * (3 * train * epochs + test * evaluations)
    }

    /// The forward FLOPs per sample of the job's model, built once per architecture.
    private mutating func forwardFlops(_ config: JobConfig, data: FashionMNIST) -> Double {
        let sequence = config.dataset.sequence
        if let known = flopsOfModel.first(where: { $0.model == config.model && $0.sequence == sequence }) {
            return known.flops
        }
        let engineConfig = config.settings.engineModel(imageHeight: data.train.rows, imageWidth: data.train.columns)
        // A model that cannot be built fails as its job; for the order it costs nothing.
        let flops = (try? makeModel(engineConfig, seed: 0, threads: 1))?.forwardFlopsPerSample ?? 0
        flopsOfModel.append((config.model, sequence, flops))
        return flops
    }
}
