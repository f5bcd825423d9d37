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

    public init(kind: Kind, layers: Int = 1, hidden: Int = 64, activation: RecurrentActivation = .tanh,
                sequence: SequenceAxis = .rows, dense: [Int] = [], dropout: Float = 0,
                conv: [Int] = [32], kernel: Int = 3, pool: Int = 2,
                classes: Int = 10, imageHeight: Int = 28, imageWidth: Int = 28,
                initialization: WeightInitialization = .pytorch) {
        self.kind = kind
        self.layers = layers
        self.hidden = hidden
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

    /// The paper's final model: 2-layer LSTM, 64 hidden units, rows as time steps.
    public static let paperLSTM = ModelConfig(kind: .lstm, layers: 2, hidden: 64)
}
