/// Everything that defines a model's architecture.
public struct ModelConfig: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case lstm, rnn, gru, cnn

        /// Built as a `SequenceClassifier` (a stack of recurrent layers over the image's
        /// rows or columns) rather than a `ConvClassifier`.
        public var isRecurrent: Bool {
            switch self {
            case .lstm, .rnn, .gru: true
            case .cnn: false
            }
        }

        /// The recurrent layers' cell, nil for the CNN.
        public var recurrentCell: RecurrentLayer.Cell? {
            switch self {
            case .lstm: .lstm
            case .rnn: .rnn
            case .gru: .gru
            case .cnn: nil
            }
        }
    }

    public var kind: Kind
    // Recurrent models.
    public var layers: Int
    public var hidden: Int
    /// The hidden size of each recurrent layer when they differ (a unit-pruned model keeps
    /// however many units each layer earned, see UnitPruning.swift); nil: every layer has
    /// `hidden`. When set it must hold `layers` sizes, and `hidden` is then the largest
    /// of them (`withHiddenSizes` keeps both so).
    public var layerHidden: [Int]?
    public var activation: RecurrentActivation
    public var sequence: SequenceAxis
    // Classifier head shared by all models: hidden Dense+ReLU(+Dropout) layers, then Dense(classes).
    public var dense: [Int]
    public var dropout: Float
    // Convolutional models.
    public var conv: [Int]
    public var kernel: Int
    public var pool: Int
    // Data shape.
    public var classes: Int
    public var imageHeight: Int
    public var imageWidth: Int
    /// How the weights start (PyTorch's defaults or Keras's).
    public var initialization: WeightInitialization

    public init(kind: Kind, layers: Int = 1, hidden: Int = 64, layerHidden: [Int]? = nil, activation: RecurrentActivation = .tanh,
                sequence: SequenceAxis = .rows, dense: [Int] = [], dropout: Float = 0,
                conv: [Int] = [32], kernel: Int = 3, pool: Int = 2,
                classes: Int = 10, imageHeight: Int = 28, imageWidth: Int = 28,
                initialization: WeightInitialization = .pytorch) {
        self.kind = kind
        self.layers = layers
        self.hidden = hidden
        self.layerHidden = layerHidden
        self.activation = activation
        self.sequence = sequence
        self.dense = dense
        self.dropout = dropout
        self.conv = conv
        self.kernel = kernel
        self.pool = pool
        self.classes = classes
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.initialization = initialization
    }

    /// The hidden size of each recurrent layer, first to last: `layerHidden`, or `hidden`
    /// for each of the `layers`. Layer i's input is layer i-1's width (the image's
    /// features for layer 0) and the head's input is the last width.
    public var hiddenSizes: [Int] { layerHidden ?? Array(repeating: hidden, count: layers) }

    /// This config with recurrent layers of `sizes` units, one size a layer. Equal sizes
    /// give the plain form (`hidden` = the size, `layerHidden` nil), so a model pruned to
    /// 32 units in every layer has the same config, and checkpoint, as one built with
    /// `hidden: 32`; unequal sizes set `layerHidden` and `hidden` = the largest.
    public func withHiddenSizes(_ sizes: [Int]) -> ModelConfig {
        precondition(!sizes.isEmpty && sizes.allSatisfy { $0 >= 1 }, "hidden sizes must be positive, got \(sizes)")
        var config = self
        config.layers = sizes.count
        config.hidden = sizes.max()!
        config.layerHidden = sizes.allSatisfy { $0 == sizes[0] } ? nil : sizes
        return config
    }

    /// The paper's final model: 2-layer LSTM, 64 hidden units, rows as time steps.
    public static let paperLSTM = ModelConfig(kind: .lstm, layers: 2, hidden: 64)
}
