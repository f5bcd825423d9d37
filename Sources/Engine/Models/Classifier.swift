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
