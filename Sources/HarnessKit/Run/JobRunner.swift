import Engine
import Foundation

/// Runs one job on the engine: picks its training set, builds its model, trains,
/// evaluates on the test set and returns what the store records.
struct JobRunner {
    let config: JobConfig
    let data: FashionMNIST
    let threads: Int
    /// Called after each epoch (phase "train" or "retrain").
    var onEpoch: (String, EpochSummary) -> Void = { _, _ in }
    /// Called after each batch: (phase, epoch, epochs, batch, batches, loss).
    var onBatch: (String, Int, Int, Int, Int, Double) -> Void = { _, _, _, _, _, _ in }
    var shouldStop: () -> Bool = { false }

    /// The engine's description of the job's model.
    static func modelConfig(_ config: JobConfig, imageHeight: Int, imageWidth: Int) -> ModelConfig {
        let model = config.model
        let kind: ModelConfig.Kind = switch model.type {
        case .lstm: .lstm
        case .rnn: .rnn
        case .cnn: .cnn
        }
        return ModelConfig(kind: kind, layers: model.layers, hidden: model.hidden,
                           activation: model.activation == .relu ? .relu : .tanh,
                           sequence: config.dataset.sequence == .columns ? .columns : .rows,
                           dense: model.dense, dropout: Float(model.dropout),
                           conv: model.conv, kernel: model.kernel, pool: model.pool,
                           classes: 10, imageHeight: imageHeight, imageWidth: imageWidth)
    }

    static func optimizer(_ training: TrainingSettings) -> OptimizerSettings {
        switch training.optimizer {
        case .adam: .adam(learningRate: Float(training.learningRate))
        case .sgd: .sgd(learningRate: Float(training.learningRate), momentum: Float(training.momentum))
        }
    }

    /// The training images this job sees: all of them, or its seeded subset.
    static func trainingSet(_ config: JobConfig, data: FashionMNIST) throws -> ImageSet {
        var train = data.train
        if let size = config.dataset.trainSize, size != train.count {
            train = try train.sample(count: size, stratified: config.dataset.stratified, seed: UInt64(config.seed))
        }
        return train.imageSet
    }

    func run() throws -> JobOutcome {
        let seed = UInt64(config.seed)
        let train = try Self.trainingSet(config, data: data)
        let test = data.test.imageSet
        let model = try makeModel(Self.modelConfig(config, imageHeight: data.train.rows, imageWidth: data.train.columns),
                                  seed: seed, threads: threads)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: config.training.epochs,
                                                                     batchSize: config.training.batchSize,
                                                                     optimizer: Self.optimizer(config.training), seed: seed))
        let report = try trainer.train(on: train,
                                       onBatch: { epoch, batch, batches, loss in
                                           onBatch("train", epoch, config.training.epochs, batch, batches, loss)
                                       },
                                       onEpoch: { onEpoch("train", $0) },
                                       shouldStop: shouldStop)
        let evaluation = model.evaluate(on: test)
        return Self.outcome(evaluation, report: report, parameterCount: model.parameterCount, pruning: nil)
    }

    static func outcome(_ evaluation: Evaluation, report: TrainingReport, parameterCount: Int,
                        pruning: PruningOutcome?) -> JobOutcome {
        let classes = (0..<evaluation.classes).map {
            ClassMetrics(precision: evaluation.precision($0), recall: evaluation.recall($0), f1: evaluation.f1($0),
                         support: evaluation.support($0))
        }
        let epochSeconds = report.epochs.map(\.seconds)
        return JobOutcome(accuracy: evaluation.accuracy, macroF1: evaluation.macroF1, classes: classes,
                          confusion: evaluation.confusion, trainSeconds: report.trainSeconds,
                          meanEpochSeconds: epochSeconds.isEmpty ? 0 : epochSeconds.reduce(0, +) / Double(epochSeconds.count),
                          meanStepSeconds: report.meanStepSeconds, inferenceSeconds: evaluation.seconds,
                          parameterCount: parameterCount, pruning: pruning)
    }
}

extension LabeledImages {
    /// The engine's view of these images (the byte arrays are shared, not copied).
    var imageSet: ImageSet { ImageSet(pixels: pixels, labels: labels, height: rows, width: columns) }
}
