import Engine

// The settings of one job, section by section, as a spec names them. Choices are the
// engine's own enums (`ModelConfig.Kind`, `SequenceAxis`, ...): a spec value is an engine
// value, so a model or optimizer the engine gains is one a spec can name. What each
// setting is called in a spec, its range, when it applies and how it enters a job's
// identity is in `SettingField.all` (SettingFields.swift); the defaults are here.

/// How a job chooses the training patterns it trains on.
public enum PatternSelection: String, Sendable, CaseIterable {
    /// A seeded random subset (`train_size` / `train_fraction`), or all patterns.
    case random
    /// A seeded random subset with the full set's class proportions.
    case stratified
    /// The subset with the highest EL2N scores (Paul et al. 2021), averaged over
    /// `scoreModels` probe models trained `scoreEpochs` epochs, after dropping the hardest
    /// `dropHardest` fraction of the whole set.
    case el2n
    /// The subset with the most forgetting events (Toneva et al. 2019) over a probe run of
    /// `scoreEpochs` epochs; never-learned patterns rank first.
    case forgetting
    /// All patterns (or a random subset), but each epoch trains only on those whose last loss
    /// was at least `threshold`, revisiting every pattern at least every `revisit` epochs.
    case active

    /// Whether the selection ranks patterns by scores computed before training.
    public var isScored: Bool { self == .el2n || self == .forgetting }
    /// Whether the subset is a seeded random draw (what `stratified` shapes).
    var isRandomDraw: Bool { self == .random || self == .stratified }
}

public struct DatasetSettings: Sendable, Equatable {
    /// Where the Fashion-MNIST files are; nil means the data layer's default location.
    public var path: String?
    /// How many training images to use; nil means all of them.
    public var trainSize: Int?
    /// Or which share of the training images to use (0 < f <= 1), so that one spec reduces
    /// whatever data it runs on in the same proportions.
    public var trainFraction: Double?
    /// How the training patterns are chosen.
    public var selection: PatternSelection
    /// Probe training for el2n and forgetting scores, in epochs over the whole training set.
    public var scoreEpochs: Int
    /// Probe models whose EL2N scores are averaged (el2n).
    public var scoreModels: Int
    /// The fraction of the whole training set, hardest first, left out before keeping (el2n).
    public var dropHardest: Double
    /// The loss below which a pattern leaves the active set (active).
    public var threshold: Double
    /// Epochs after which a pattern left out is trained on again (active).
    public var revisit: Int
    /// How a recurrent model reads an image: one row (or column) of 28 pixels per time step.
    public var sequence: SequenceAxis

    public init(path: String? = nil, trainSize: Int? = nil, trainFraction: Double? = nil, stratified: Bool = false,
                selection: PatternSelection? = nil, scoreEpochs: Int = 2, scoreModels: Int = 3, dropHardest: Double = 0,
                threshold: Double = 0.1, revisit: Int = 3, sequence: SequenceAxis = .rows) {
        self.path = path
        self.trainSize = trainSize
        self.trainFraction = trainFraction
        self.selection = selection ?? (stratified ? .stratified : .random)
        self.scoreEpochs = scoreEpochs
        self.scoreModels = scoreModels
        self.dropHardest = dropHardest
        self.threshold = threshold
        self.revisit = revisit
        self.sequence = sequence
    }

    /// Whether a subset keeps the class proportions of the full set (selection `stratified`).
    public var stratified: Bool { selection == .stratified }

    /// Whether the job trains on a subset (and so `stratified` shapes it).
    var isSubset: Bool { trainSize != nil || trainFraction != nil }

    /// How many of `available` training patterns the job keeps: `trainSize`, or
    /// `trainFraction` of them rounded (at least 1), or all.
    public func keptCount(of available: Int) -> Int {
        trainSize ?? trainFraction.map { max(1, Int((Double(available) * $0).rounded())) } ?? available
    }
}

/// One model. Recurrent models (lstm, rnn, ...) use `layers`, `hidden` and `activation`; cnn
/// models use `conv`, `kernel` and `pool`; both end in `dense` hidden ReLU layers, each
/// followed by dropout `dropout`, then a 10-way output. Fields of the other kind hold their
/// defaults and mean nothing. `initialization` chooses PyTorch's default weight
/// initialisation or Keras's.
public struct ModelSettings: Sendable, Equatable {
    public var type: ModelConfig.Kind
    public var layers: Int
    public var hidden: Int
    public var activation: RecurrentActivation
    public var dense: [Int]
    public var dropout: Double
    public var conv: [Int]
    public var kernel: Int
    public var pool: Int
    public var initialization: WeightInitialization

    /// The defaults for `type`, the one definition of what a spec (or `harness bench`) means
    /// when it leaves a model setting out. The cnn defaults are the Keras notebook's model:
    /// Conv2D 32 3x3 ReLU, MaxPool 2, Dense 128 ReLU, Dropout 0.2, Dense 32 ReLU, Dropout 0.2,
    /// Dense 10; a recurrent model goes straight from its last hidden state to the output.
    public init(type: ModelConfig.Kind) {
        self.type = type
        layers = 1
        hidden = 64
        activation = .tanh
        conv = [32]
        kernel = 3
        pool = 2
        initialization = .pytorch
        if type.isRecurrent {
            dense = []
            dropout = 0
        } else {
            dense = [128, 32]
            dropout = 0.2
        }
    }

    /// The engine's description of this model for images of `height` x `width` read along
    /// `sequence`.
    public func engineConfig(sequence: SequenceAxis, imageHeight: Int = 28, imageWidth: Int = 28) -> ModelConfig {
        ModelConfig(kind: type, layers: layers, hidden: hidden, activation: activation, sequence: sequence,
                    dense: dense, dropout: Float(dropout), conv: conv, kernel: kernel, pool: pool,
                    classes: 10, imageHeight: imageHeight, imageWidth: imageWidth, initialization: initialization)
    }
}

public struct TrainingSettings: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Double
    /// Used by sgd only.
    public var momentum: Double
    /// PyTorch's `weight_decay`: an L2 term added to the gradient for adam and sgd, the
    /// decoupled decay for adamw. Nil means the optimizer's default (`defaultWeightDecay`).
    public var weightDecay: Double?
    /// A threads-per-job hint for the scheduler; not part of a job's identity.
    public var threads: Int?

    public init(epochs: Int = 10, batchSize: Int = 100, optimizer: OptimizerKind = .adam,
                learningRate: Double = 0.001, momentum: Double = 0.9, weightDecay: Double? = nil, threads: Int? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.threads = threads
    }

    /// PyTorch's defaults: `torch.optim.AdamW` decays by 0.01, Adam and SGD not at all.
    public var defaultWeightDecay: Double {
        switch optimizer {
        case .adamw: 0.01
        case .adam, .sgd: 0
        }
    }

    /// The engine's optimizer for these settings.
    public var engineOptimizer: OptimizerSettings {
        OptimizerSettings(kind: optimizer, learningRate: Float(learningRate), momentum: Float(momentum),
                          weightDecay: Float(weightDecay ?? defaultWeightDecay))
    }
}

/// How a pruning job cuts its trained base model.
public enum PruningMethod: String, Sendable, CaseIterable {
    /// Unstructured: weights of small magnitude, by `threshold` or `sparsity`, held at zero
    /// through retraining (the paper's method).
    case magnitude
    /// Structured: whole hidden units of each recurrent and dense hidden layer, by `units`
    /// (the fraction removed) or a norm `threshold`; the model is rebuilt smaller.
    case units
    /// Magnitude pruning raised from 0 to `sparsity` over the retraining on Zhu & Gupta's
    /// cubic schedule, every `frequency` optimizer steps.
    case gradual
}

/// Pruning after training: the base model is cut by `method`, then retrained for
/// `retrainEpochs`. Which of `threshold`, `sparsity` and `units` a job needs depends on the
/// method (`missingCriterion`).
public struct PruningSettings: Sendable, Equatable {
    public var method: PruningMethod
    public var threshold: Double?
    public var sparsity: Double?
    /// The fraction of hidden units removed (method `units`).
    public var units: Double?
    /// Optimizer steps between pruning steps (method `gradual`).
    public var frequency: Int
    public var retrainEpochs: Int

    public static let defaultFrequency = 10

    public init(method: PruningMethod = .magnitude, threshold: Double? = nil, sparsity: Double? = nil,
                units: Double? = nil, frequency: Int = PruningSettings.defaultFrequency, retrainEpochs: Int = 10) {
        self.method = method
        self.threshold = threshold
        self.sparsity = sparsity
        self.units = units
        self.frequency = frequency
        self.retrainEpochs = retrainEpochs
    }

    /// The engine's unit criterion (method `units`).
    var unitCriterion: UnitPruningCriterion { units.map { .fraction($0) } ?? .threshold(threshold ?? 0) }

    /// The engine's magnitude criterion (methods `magnitude` and, for its target, `gradual`).
    var criterion: PruningCriterion { threshold.map { .threshold(Float($0)) } ?? .sparsity(sparsity ?? 0) }

    /// Why these settings do not say how much to prune, or nil when they do: magnitude needs
    /// exactly one of threshold and sparsity, units exactly one of units and threshold,
    /// gradual a sparsity (its target).
    var missingCriterion: String? {
        switch method {
        case .magnitude:
            if threshold == nil && sparsity == nil {
                return "give a \"threshold\" (prune weights with |w| below it) or a \"sparsity\" (fraction of weights to prune)"
            }
            if threshold != nil && sparsity != nil { return "pruning takes either a threshold or a sparsity, not both" }
            if units != nil { return "\"units\" applies to the units method; magnitude pruning takes a threshold or a sparsity" }
        case .units:
            if units == nil && threshold == nil {
                return "the units method needs \"units\" (the fraction of hidden units to remove) or a \"threshold\" "
                    + "(remove units whose weights' L2 norm is below it)"
            }
            if units != nil && threshold != nil { return "the units method takes either units or a threshold, not both" }
            if sparsity != nil { return "\"sparsity\" applies to magnitude and gradual pruning; the units method takes units or a threshold" }
        case .gradual:
            if sparsity == nil { return "gradual pruning needs a \"sparsity\": the fraction of weights pruned at the end" }
            if threshold != nil { return "gradual pruning ranks by magnitude up to a sparsity; it takes no threshold" }
            if units != nil { return "\"units\" applies to the units method; gradual pruning takes a sparsity" }
        }
        return nil
    }
}

/// A job's settings apart from its seed: the sections of a spec, resolved.
public struct JobSettings: Sendable, Equatable {
    public var dataset = DatasetSettings()
    public var model: ModelSettings
    public var training = TrainingSettings()
    /// Nil for a plain training job.
    public var pruning: PruningSettings?

    public init(dataset: DatasetSettings = DatasetSettings(), model: ModelSettings,
                training: TrainingSettings = TrainingSettings(), pruning: PruningSettings? = nil) {
        self.dataset = dataset
        self.model = model
        self.training = training
        self.pruning = pruning
    }

    /// Every section at its defaults for a model of `type`, with a pruning section or not.
    init(type: ModelConfig.Kind, pruning: Bool) {
        self.init(model: ModelSettings(type: type), pruning: pruning ? PruningSettings() : nil)
    }

    /// Lets a pruning field be set whether or not the section exists yet.
    var editablePruning: PruningSettings {
        get { pruning ?? PruningSettings() }
        set { pruning = newValue }
    }

    /// The engine's description of the job's model for images of `height` x `width`.
    public func engineModel(imageHeight: Int, imageWidth: Int) -> ModelConfig {
        model.engineConfig(sequence: dataset.sequence, imageHeight: imageHeight, imageWidth: imageWidth)
    }
}
