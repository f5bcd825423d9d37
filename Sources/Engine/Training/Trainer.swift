import Foundation

public struct TrainingOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerSettings
    /// Seeds the per-epoch shuffling (the model's weights and dropout have their own streams).
    public var seed: UInt64

    public init(epochs: Int, batchSize: Int, optimizer: OptimizerSettings, seed: UInt64) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.seed = seed
    }
}

/// What the trainer reports after each epoch (and lets the caller stop early).
public struct EpochSummary: Sendable {
    public let epoch: Int        // 1-based
    public let meanLoss: Double
    /// Wall seconds.
    public let seconds: Double
    /// CPU seconds of the model's threads (`ThreadPool.cpuSeconds`).
    public let cpuSeconds: Double
    /// How many training patterns the epoch trained on: all of them, or an active set's.
    public let patterns: Int
}

/// One training pattern as a training batch saw it, before that batch's optimizer step
/// (Toneva et al.'s "presentation"): its index in the training set, its loss and whether
/// the model classified it correctly.
public struct PatternPresentation: Sendable {
    public let index: Int
    public let loss: Float
    public let correct: Bool
}

public struct TrainingHistory: Sendable {
    public var epochs: [EpochSummary]
    /// Mean wall time of one optimizer step (the paper's "average updating time of weights").
    public var meanStepSeconds: Double
    /// Mean CPU time of one optimizer step, over the model's threads.
    public var meanStepCPUSeconds: Double
    public var trainSeconds: Double
    public var trainCPUSeconds: Double
    public var steps: Int
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case nonFiniteLoss(epoch: Int, batch: Int, loss: Double)
    case cancelled
    case emptyTrainingSet

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, batch, loss):
            return "loss became \(loss) at epoch \(epoch), batch \(batch): training diverged (try a lower learning rate)"
        case .cancelled: return "training was cancelled"
        case .emptyTrainingSet: return "the training set is empty"
        }
    }
}

/// Drives a classifier through epochs of shuffled mini-batches with an optimizer.
public final class Trainer {
    public let model: Classifier
    public let options: TrainingOptions
    public let optimizer: Optimizer
    private var shuffleGenerator: SeededGenerator
    private var logProbabilities = Workspace()  // (B, C)
    private var dLogits = Workspace()           // (B, C)
    private var labelSpace: [Int32] = []
    private var completedEpochs = 0

    public init(model: Classifier, options: TrainingOptions) {
        self.model = model
        self.options = options
        optimizer = options.optimizer.make(for: model.parameters)
        shuffleGenerator = SeededGenerator(seed: options.seed, stream: "shuffle")
    }

    /// Trains `epochs` epochs (default: the options' count). `onEpoch` sees each epoch's
    /// summary; `onBatch(epoch, batch, batches, loss)` each batch; `shouldStop` is polled
    /// before every batch and ends training with `TrainingError.cancelled`. `beforeStep(t)`
    /// runs before the forward pass of this call's optimizer step t (0-based), outside the
    /// step timing: where gradual pruning recomputes the masks.
    ///
    /// `patterns(e)`, when given, names the training patterns epoch e (1-based, of this call)
    /// trains on, in any order (they are shuffled; the default is all of them): an active
    /// pattern set. `observe` sees every pattern of every batch as the forward pass scored
    /// it, before the step (forgetting events, the active set's losses).
    public func train(on data: ImageSet, epochs: Int? = nil,
                      patterns: ((Int) -> [Int])? = nil,
                      observe: ((PatternPresentation) -> Void)? = nil,
                      beforeStep: (Int) -> Void = { _ in },
                      onBatch: (Int, Int, Int, Double) -> Void = { _, _, _, _ in },
                      onEpoch: (EpochSummary) -> Void = { _ in },
                      shouldStop: () -> Bool = { false }) throws -> TrainingHistory {
        guard data.count > 0 else { throw TrainingError.emptyTrainingSet }
        let classes = model.config.classes
        let batchSize = min(options.batchSize, data.count)
        if labelSpace.count < batchSize { labelSpace = Array(repeating: 0, count: batchSize) }
        var summaries: [EpochSummary] = []
        var stepSeconds = 0.0, stepCPUSeconds = 0.0, stepCount = 0
        let pool = model.pool
        let trainStart = Clock.now(), trainCPUStart = pool.cpuSeconds()
        for epoch in 0..<(epochs ?? options.epochs) {
            completedEpochs += 1
            let epochStart = Clock.now(), epochCPUStart = pool.cpuSeconds()
            var order = patterns?(epoch + 1) ?? Array(0..<data.count)
            shuffleGenerator.shuffle(&order)
            let batches = (order.count + batchSize - 1) / batchSize
            var lossSum = 0.0
            for batchIndex in 0..<batches {
                if shouldStop() { throw TrainingError.cancelled }
                beforeStep(stepCount)
                let lower = batchIndex * batchSize, upper = min(order.count, lower + batchSize)
                let b = upper - lower
                let loss = order.withUnsafeBufferPointer { all -> Double in
                    let indices = UnsafeBufferPointer(rebasing: all[lower..<upper])
                    let logits = model.forward(data, indices: indices, training: true)
                    return labelSpace.withUnsafeMutableBufferPointer { labels -> Double in
                        for (slot, index) in indices.enumerated() { labels[slot] = Int32(data.labels[index]) }
                        let lp = logProbabilities.reserve(b * classes), dl = dLogits.reserve(b * classes)
                        let loss = CrossEntropy.forward(logits: logits, labels: labels.baseAddress!, batch: b,
                                                        classes: classes, logProbabilities: lp)
                        if let observe {
                            for (slot, index) in indices.enumerated() {
                                let row = lp + slot * classes, label = Int(labels[slot])
                                observe(PatternPresentation(index: index, loss: -row[label],
                                                            correct: argmax(row, count: classes) == label))
                            }
                        }
                        if loss.isFinite {
                            CrossEntropy.backward(logProbabilities: lp, labels: labels.baseAddress!, batch: b,
                                                  classes: classes, dLogits: dl)
                        }
                        return loss
                    }
                }
                guard loss.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: completedEpochs, batch: batchIndex + 1, loss: loss)
                }
                model.backward(dLogits: dLogits.buffer.pointer)
                // The CPU clocks are read outside the wall-clock window, so reading them
                // (a system call per thread) does not count as step time.
                let stepCPUStart = pool.cpuSeconds()
                let stepStart = Clock.now()
                optimizer.step(pool: pool)
                stepSeconds += Clock.now() - stepStart
                stepCPUSeconds += pool.cpuSeconds() - stepCPUStart
                stepCount += 1
                lossSum += loss * Double(b)
                onBatch(completedEpochs, batchIndex + 1, batches, loss)
            }
            let summary = EpochSummary(epoch: completedEpochs, meanLoss: order.isEmpty ? 0 : lossSum / Double(order.count),
                                       seconds: Clock.now() - epochStart, cpuSeconds: pool.cpuSeconds() - epochCPUStart,
                                       patterns: order.count)
            summaries.append(summary)
            onEpoch(summary)
        }
        return TrainingHistory(epochs: summaries, meanStepSeconds: stepCount > 0 ? stepSeconds / Double(stepCount) : 0,
                               meanStepCPUSeconds: stepCount > 0 ? stepCPUSeconds / Double(stepCount) : 0,
                               trainSeconds: Clock.now() - trainStart, trainCPUSeconds: pool.cpuSeconds() - trainCPUStart,
                               steps: stepCount)
    }
}
