import Engine
import Foundation

/// Runs one job on the engine: picks its training set, builds its model, trains,
/// evaluates on the test set and returns what the store records.
struct JobRunner {
    let config: JobConfig
    let data: FashionMNIST
    let threads: Int
    /// Called after each epoch of training or retraining.
    var onEpoch: (TrainingPhase, EpochSummary) -> Void = { _, _ in }
    /// Called after each batch.
    var onBatch: (BatchProgress) -> Void = { _ in }
    var shouldStop: () -> Bool = { false }
    /// Its score job's scores, one per training pattern, when the job keeps a fraction by score.
    var patternScores: PatternScores?

    /// The training images this job sees: all of them, its seeded random subset, or the
    /// highest-scoring ones by `scores`.
    static func trainingSet(_ config: JobConfig, data: FashionMNIST, scores: [Float]? = nil) throws -> ImageSet {
        let train = data.train
        let size = config.dataset.keptCount(of: train.count)
        guard size != train.count else { return train.imageSet }
        guard config.dataset.selection.isScored else {
            return try train.sample(count: size, stratified: config.dataset.stratified, seed: UInt64(config.seed)).imageSet
        }
        guard size <= train.count else {
            throw HarnessError("cannot keep \(size) images by score: the training set holds only \(train.count)")
        }
        guard let scores, scores.count == train.count else {
            throw HarnessError("selection \(config.dataset.selection.rawValue) needs one score per training image "
                               + "(\(train.count)), found \(scores.map { String($0.count) } ?? "none")")
        }
        let dropped = Int((config.dataset.dropHardest * Double(train.count)).rounded())
        return train.subset(highestScoring(scores, keep: size, dropHardest: dropped)).imageSet
    }

    /// Where a pruning job finds (or leaves) its trained base model.
    struct PruningContext {
        /// The checkpoint of the base model: read when present, written when the job had to
        /// train the base itself.
        var checkpointPath: String
    }

    /// What a job produced: the outcome to record, and for pruning jobs the weight
    /// distributions before pruning and after retraining.
    struct Output {
        var outcome: JobOutcome
        var histograms: [(stage: HistogramStage, histograms: [WeightHistogram])] = []
    }

    /// Trains (or, for a pruning job, prunes and retrains) and evaluates the job's model.
    /// `saveCheckpoint`: where to save the trained model (base jobs of pruning grids).
    func run(pruning context: PruningContext? = nil, saveCheckpoint: String? = nil) throws -> Output {
        let seed = UInt64(config.seed)
        let model = try makeModel(config.settings.engineModel(imageHeight: data.train.rows, imageWidth: data.train.columns),
                                  seed: seed, threads: threads)
        let train = try Self.trainingSet(config, data: data, scores: patternScores?.scores), test = data.test.imageSet
        // What selecting the patterns cost, charged to the job (only a scored selection has scores).
        let scoring = patternScores.map { ScoringCost(runID: $0.runID, cpuSeconds: $0.cpuSeconds) }
        guard let settings = config.pruning, let context else {
            let history = try self.train(model, on: train, epochs: config.training.epochs, phase: .train)
            if let saveCheckpoint { try Self.writeCheckpoint(model, to: saveCheckpoint) }
            let evaluation = try evaluate(model, on: test, pruned: false)
            return Output(outcome: Self.outcome(evaluation, history: history, parameterCount: model.parameterCount, pruning: nil,
                                                scoring: scoring))
        }

        // The base model: from its checkpoint, or trained here (training is deterministic,
        // so this gives the very model the base job would have saved).
        if let bytes = FileManager.default.contents(atPath: context.checkpointPath) {
            do {
                try loadCheckpoint([UInt8](bytes), into: model)
            } catch {
                throw HarnessError("checkpoint \(context.checkpointPath): \(error)")
            }
        } else {
            _ = try self.train(model, on: train, epochs: config.training.epochs, phase: .train)
            try Self.writeCheckpoint(model, to: context.checkpointPath)
        }
        let before = try evaluate(model, on: test, pruned: false)
        let histogramsBefore = weightHistograms(model, skipZeros: false)
        // The base model's weights, for its side of the cost measurement (pruning changes `model`).
        let baseWeights = checkpointData(model)
        // As the trainer batches: a batch larger than the training set is the whole set.
        let batch = max(1, min(config.training.batchSize, train.count))
        let stepsPerEpoch = (train.count + batch - 1) / batch

        // Cut the base model by the job's method, retrain, and score.
        let pruned: Classifier
        var afterPruning: Double = .nan
        let retrain: TrainingHistory
        switch settings.method {
        case .magnitude:
            pruned = model
            prune(model, settings.criterion)
            afterPruning = try evaluate(model, on: test, pruned: true).accuracy
            // Retraining: a fresh optimizer; the masks keep pruned weights at exactly zero.
            retrain = try self.train(model, on: train, epochs: settings.retrainEpochs, phase: .retrain)
        case .units:
            // A smaller dense model with the surviving units' weights, retrained as it is.
            pruned = pruneUnits(model, settings.unitCriterion, seed: seed).model
            afterPruning = try evaluate(pruned, on: test, pruned: false).accuracy
            retrain = try self.train(pruned, on: train, epochs: settings.retrainEpochs, phase: .retrain)
        case .gradual:
            pruned = model
            let target = settings.sparsity ?? 0
            let schedule = GradualPruning.overRetraining(target: target, frequency: settings.frequency,
                                                         steps: settings.retrainEpochs * stepsPerEpoch,
                                                         stepsPerEpoch: stepsPerEpoch)
            if settings.retrainEpochs == 0 { prune(model, .sparsity(target)) }
            retrain = try self.train(model, on: train, epochs: settings.retrainEpochs, phase: .retrain, beforeStep: { step in
                if schedule.prunes(atStep: step) { prune(model, .sparsity(schedule.sparsity(atStep: step))) }
            })
        }
        let final = try evaluate(pruned, on: test, pruned: true)
        let histogramsAfter = weightHistograms(pruned, skipZeros: true)

        // Dense and pruned costs side by side: the base model again against the retrained
        // pruned model (both are changed by the probe, after scoring).
        let dense = try makeModel(config.settings.engineModel(imageHeight: data.train.rows, imageWidth: data.train.columns),
                                  seed: seed, threads: threads)
        try loadCheckpoint(baseWeights, into: dense)
        let costs = try PairedCostProbe().measure(dense: dense, pruned: pruned, train: train, test: test,
                                                  options: trainingOptions, stepsPerEpoch: stepsPerEpoch)

        // A model rebuilt smaller is counted against the dense one it came from.
        let sparsity = settings.method == .units ? modelSparsity(pruned, relativeTo: dense) : modelSparsity(pruned)
        let outcome = PruningOutcome(accuracyBeforePruning: before.accuracy, accuracyPruned: afterPruning,
                                     sparsity: sparsity.globalSparsity, layerSparsity: sparsity.layerSparsity,
                                     nonzeroParameters: sparsity.nonzeroParameters,
                                     updateSeconds: costs.dense.optimizerStepSeconds,
                                     updateSecondsPruned: costs.pruned.optimizerStepSeconds, costs: costs)
        return Output(outcome: Self.outcome(final, history: retrain, parameterCount: pruned.parameterCount, pruning: outcome,
                                            scoring: scoring),
                      histograms: [(.before, histogramsBefore), (.after, histogramsAfter)])
    }

    private var trainingOptions: TrainingOptions {
        TrainingOptions(epochs: config.training.epochs, batchSize: config.training.batchSize,
                        optimizer: config.training.engineOptimizer, seed: UInt64(config.seed))
    }

    /// Trains `model` on `images` for `epochs`; with selection `active`, each epoch only on
    /// the active pattern set (retraining after pruning starts a set of its own).
    private func train(_ model: Classifier, on images: ImageSet, epochs: Int, phase: TrainingPhase,
                       beforeStep: (Int) -> Void = { _ in }) throws -> TrainingHistory {
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: epochs, batchSize: config.training.batchSize,
                                                                     optimizer: config.training.engineOptimizer,
                                                                     seed: UInt64(config.seed)))
        var active = config.dataset.selection == .active
            ? ActivePatternSet(patterns: images.count, threshold: Float(config.dataset.threshold), revisit: config.dataset.revisit)
            : nil
        return try trainer.train(on: images,
                                 patterns: active == nil ? nil : { active!.patterns(forEpoch: $0) },
                                 observe: active == nil ? nil : { active!.record($0) },
                                 beforeStep: beforeStep,
                                 onBatch: { epoch, batch, batches, loss in
                                     onBatch(BatchProgress(phase: phase, epoch: epoch, epochs: epochs, batch: batch,
                                                           batches: batches, loss: loss))
                                 },
                                 onEpoch: { onEpoch(phase, $0) },
                                 shouldStop: shouldStop)
    }

    /// Scores `model` on the test set in batches of the job's own batch size, so evaluating
    /// needs no more memory than training did, and stops within a batch of a stop request.
    private func evaluate(_ model: Classifier, on test: ImageSet, pruned: Bool) throws -> Evaluation {
        let batch = config.training.batchSize
        return pruned ? try evaluatePruned(model, on: test, batchSize: batch, shouldStop: shouldStop)
            : try model.evaluate(on: test, batchSize: batch, shouldStop: shouldStop)
    }

    /// Atomically, so a reader never sees half a checkpoint.
    static func writeCheckpoint(_ model: Classifier, to path: String) throws {
        try writeFileAtomically(Data(checkpointData(model)), to: path, what: "checkpoint")
    }

    static func outcome(_ evaluation: Evaluation, history: TrainingHistory, parameterCount: Int,
                        pruning: PruningOutcome?, scoring: ScoringCost? = nil) -> JobOutcome {
        let matrix = evaluation.confusion
        let classes = (0..<matrix.classes).map { ClassMetrics(matrix, class: $0) }
        let epochSeconds = history.epochs.map(\.seconds)
        return JobOutcome(accuracy: matrix.accuracy, macroF1: matrix.macroF1, classes: classes,
                          confusion: evaluation.confusion, trainSeconds: history.trainSeconds,
                          meanEpochSeconds: epochSeconds.isEmpty ? .nan : epochSeconds.reduce(0, +) / Double(epochSeconds.count),
                          meanStepSeconds: history.meanStepSeconds, inferenceSeconds: evaluation.seconds,
                          parameterCount: parameterCount, pruning: pruning,
                          trainCPUSeconds: history.trainCPUSeconds, meanStepCPUSeconds: history.meanStepCPUSeconds,
                          predictions: evaluation.predictions.map { UInt8(truncatingIfNeeded: $0) },
                          patternEpochs: history.epochs.reduce(0) { $0 + $1.patterns }, scoring: scoring)
    }
}

/// Where a job is in its training, after each batch.
struct BatchProgress: Sendable {
    var phase: TrainingPhase
    /// 1-based, of `epochs`.
    var epoch: Int
    var epochs: Int
    /// 1-based, of `batches` in the epoch.
    var batch: Int
    var batches: Int
    /// The batch's mean loss.
    var loss: Double
}

extension JobConfig {
    /// How many epochs the job trains in `phase`.
    func epochs(of phase: TrainingPhase) -> Int {
        switch phase {
        case .train: training.epochs
        case .retrain: pruning?.retrainEpochs ?? 0
        }
    }
}

extension LabeledImages {
    /// The engine's view of these images (the byte arrays are shared, not copied).
    var imageSet: ImageSet { ImageSet(pixels: pixels, labels: labels, height: rows, width: columns) }
}
