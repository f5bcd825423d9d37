/// How a 28x28 image becomes a sequence: the paper reads rows as time steps (28 steps of
/// 28 pixels); `000_*.txt` reads columns.
public enum SequenceAxis: String, Sendable, Codable {
    case rows, columns
}

/// Images and their labels, pixels kept as bytes until a batch is formed.
public struct ImageSet: Sendable {
    public let pixels: [UInt8]   // (N, height·width)
    public let labels: [UInt8]   // (N)
    public let height: Int
    public let width: Int
    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [UInt8], height: Int, width: Int) {
        precondition(pixels.count == labels.count * height * width, "pixel count does not match labels x height x width")
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
    }
}

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

/// A classifier the trainer can drive: forward to logits, backward from their gradient.
public protocol Classifier: AnyObject {
    var config: ModelConfig { get }
    var parameters: [Parameter] { get }
    var pool: ThreadPool { get }
    /// Forms a batch from `images` at `indices` and returns logits (B, classes).
    func forward(_ images: ImageSet, indices: UnsafeBufferPointer<Int>, training: Bool) -> UnsafePointer<Float>
    /// Backward from dLogits (B, classes) of the last forward; accumulates parameter gradients.
    func backward(dLogits: UnsafePointer<Float>)
    /// Multiply-adds x2 of one forward pass per sample (for GFLOP/s figures).
    var forwardFlopsPerSample: Double { get }
}

extension Classifier {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

public enum ModelError: Error, CustomStringConvertible {
    case unsupported(String)
    public var description: String {
        switch self { case .unsupported(let what): return what }
    }
}

/// Builds the model a config describes, its weights drawn from `seed`.
public func makeModel(_ config: ModelConfig, seed: UInt64, threads: Int) throws -> Classifier {
    let pool = ThreadPool(threads: threads)
    switch config.kind {
    case .lstm, .rnn, .gru: return SequenceClassifier(config: config, seed: seed, pool: pool)
    case .cnn: return try ConvClassifier(config: config, seed: seed, pool: pool)
    }
}
