import Engine
import Foundation

/// The scores a scored selection (`el2n`, `forgetting`) ranks the training patterns by,
/// computed once by a support job of their own and stored in the database
/// (`pattern_scores`), then read by every job that keeps a fraction by them.
///
/// A score job is the selecting job's model and training settings run as probes on the
/// whole training set for `score_epochs` epochs, with seeds derived from the job's seed. So
/// every fraction of one configuration and seed shares one score job, and so do jobs that
/// differ only in how long they train afterwards. Its id is hashed like a job's from its
/// canonical JSON: the probe's settings, the seed and a `scores` member (method, probe
/// models, epochs).
public struct PatternScoreJob: Sendable, Equatable {
    public let method: PatternSelection
    /// The probe models' settings: the job's, on the whole training set, for `score_epochs` epochs.
    public let probe: JobSettings
    /// Probe models whose scores are averaged (el2n; forgetting uses one run).
    public let models: Int
    public let seed: Int

    /// The score job `config` needs when it trains on `available` patterns, or nil: it does
    /// not select by score, or keeps every pattern (nothing to rank).
    init?(_ config: JobConfig, available: Int) {
        let dataset = config.dataset
        guard dataset.selection.isScored, dataset.keptCount(of: available) < available else { return nil }
        method = dataset.selection
        var probe = config.settings
        probe.pruning = nil
        probe.training.epochs = dataset.scoreEpochs
        probe.dataset = DatasetSettings(path: dataset.path, sequence: dataset.sequence)
        self.probe = probe
        models = method == .el2n ? dataset.scoreModels : 1
        seed = config.seed
    }

    public func canonicalJSON() -> String {
        guard case var .object(members) = SettingField.identity(probe, seed: seed) else { preconditionFailure("identity is an object") }
        members.append(("scores", .object([("method", .string(method.rawValue)), ("models", .int(models)),
                                           ("epochs", .int(probe.training.epochs))])))
        return JSONValue.object(members).canonicalText()
    }

    public func id(dataFingerprint: String) -> String {
        JobIdentity.jobID(canonicalConfig: canonicalJSON(), dataFingerprint: dataFingerprint)
    }

    /// "el2n scores (3 probe models x 2 epochs), seed 1".
    public var label: String {
        let probes = method == .el2n ? "\(models) probe model\(models == 1 ? "" : "s") x " : "a probe run of "
        return "\(method.rawValue) scores (\(probes)\(probe.training.epochs) epoch\(probe.training.epochs == 1 ? "" : "s")), seed \(seed)"
    }

    /// The seed of probe model `k`: drawn from the job's seed, so probes neither share the
    /// selecting job's initial weights nor each other's.
    func probeSeed(_ k: Int) -> UInt64 {
        var generator = SeededGenerator(seed: UInt64(seed), stream: "pattern score probe \(k)")
        return generator.next()
    }

    /// Trains the probes and scores every training pattern of `data`, higher = keep first.
    /// `onBatch` is called after each probe training batch (the scheduler's heartbeat).
    func compute(on data: FashionMNIST, threads: Int, shouldStop: @escaping () -> Bool = { false },
                 onBatch: @escaping () -> Void = {}) throws -> PatternScores {
        let train = data.train.imageSet
        let wallStart = Clock.now()
        var cpuSeconds = 0.0
        var sum = [Double](repeating: 0, count: train.count)
        for k in 0..<models {
            let seed = probeSeed(k)
            let model = try makeModel(probe.engineModel(imageHeight: train.height, imageWidth: train.width), seed: seed,
                                      threads: threads)
            let trainer = Trainer(model: model, options: TrainingOptions(epochs: probe.training.epochs,
                                                                         batchSize: probe.training.batchSize,
                                                                         optimizer: probe.training.engineOptimizer, seed: seed))
            let cpuStart = model.pool.cpuSeconds()
            switch method {
            case .el2n:
                _ = try trainer.train(on: train, onBatch: { _, _, _, _ in onBatch() }, shouldStop: shouldStop)
                for (i, score) in el2nScores(model, on: train, batchSize: probe.training.batchSize).enumerated() {
                    sum[i] += Double(score)
                }
            default:
                var counter = ForgettingCounter(patterns: train.count)
                _ = try trainer.train(on: train, observe: { counter.record($0) }, onBatch: { _, _, _, _ in onBatch() },
                                      shouldStop: shouldStop)
                for (i, score) in counter.scores.enumerated() { sum[i] += Double(score) }
            }
            cpuSeconds += model.pool.cpuSeconds() - cpuStart
        }
        return PatternScores(runID: nil, method: method, scores: sum.map { Float($0 / Double(models)) },
                             seconds: Clock.now() - wallStart, cpuSeconds: cpuSeconds)
    }
}

/// One score per training pattern, in the data's order, and what computing them cost.
public struct PatternScores: Sendable, Equatable {
    /// The score job's run that stored them; nil while not stored.
    public var runID: Int64?
    public let method: PatternSelection
    public let scores: [Float]
    /// Wall and CPU seconds of the probes' training and scoring.
    public let seconds: Double
    public let cpuSeconds: Double
}
