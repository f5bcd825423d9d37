/// The classifier head shared by every model: for each hidden size, Dense → ReLU →
/// Dropout (when p > 0); then Dense(classes).
final class DenseHead {
    let layers: [Dense]
    let dropout: Dropout?
    private var dropoutGenerator: SeededGenerator
    // Per hidden layer k: pre-activation (B, n_k), post-ReLU (B, n_k), post-dropout (B, n_k), dropout mask (B, n_k).
    private var preActivations: [Workspace]
    private var activations: [Workspace]
    private var dropped: [Workspace]
    private var masks: [Workspace]
    private var gradientA = Workspace(), gradientB = Workspace()
    private var logits = Workspace()      // (B, classes)
    private var input: UnsafePointer<Float>?
    private var batch = 0
    private var training = false

    init(inputSize: Int, hidden: [Int], classes: Int, dropout: Float, initialization: WeightInitialization, seed: UInt64,
         generator: inout SeededGenerator) {
        let sizes = [inputSize] + hidden + [classes]
        var built: [Dense] = []
        for k in 0..<(sizes.count - 1) {
            built.append(Dense(inputSize: sizes[k], outputSize: sizes[k + 1], name: "head.\(k)", initialization: initialization,
                               generator: &generator))
        }
        layers = built
        self.dropout = dropout > 0 ? Dropout(probability: dropout) : nil
        dropoutGenerator = SeededGenerator(seed: seed, stream: "dropout")
        preActivations = hidden.map { _ in Workspace() }
        activations = hidden.map { _ in Workspace() }
        dropped = hidden.map { _ in Workspace() }
        masks = hidden.map { _ in Workspace() }
    }

    var parameters: [Parameter] { layers.flatMap(\.parameters) }
    var flopsPerSample: Double { layers.reduce(0) { $0 + 2 * Double($1.inputSize * $1.outputSize) } }

    /// x (B, inputSize) -> logits (B, classes). `x` must stay valid until backward.
    func forward(_ x: UnsafePointer<Float>, batch: Int, training: Bool, pool: ThreadPool) -> UnsafePointer<Float> {
        self.input = x
        self.batch = batch
        self.training = training
        var current = x
        for (k, layer) in layers.enumerated() {
            let n = layer.outputSize
            if k == layers.count - 1 {
                let out = logits.reserve(batch * n)
                layer(current, batch: batch, into: out, pool: pool)
                return UnsafePointer(out)
            }
            let pre = preActivations[k].reserve(batch * n), post = activations[k].reserve(batch * n)
            layer(current, batch: batch, into: pre, pool: pool)
            reluForward(pre, post, count: batch * n)
            current = UnsafePointer(post)
            if let dropout, training {
                let out = dropped[k].reserve(batch * n), mask = masks[k].reserve(batch * n)
                dropout.forward(post, out, mask: mask, count: batch * n, generator: &dropoutGenerator)
                current = UnsafePointer(out)
            }
        }
        fatalError("a head has at least one layer")
    }

    /// dLogits (B, classes) -> gradient with respect to the head's input (B, inputSize),
    /// valid until the next call.
    func backward(dLogits: UnsafePointer<Float>, pool: ThreadPool) -> UnsafePointer<Float> {
        var upstream = dLogits
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[k]
            let layerInput: UnsafePointer<Float>
            if k == 0 {
                layerInput = input!
            } else if dropout != nil && training {
                layerInput = UnsafePointer(dropped[k - 1].buffer.pointer)
            } else {
                layerInput = UnsafePointer(activations[k - 1].buffer.pointer)
            }
            // Alternate two buffers: this layer's dx must not overwrite its own dy.
            let dx = k % 2 == 0 ? gradientA.reserve(batch * layer.inputSize) : gradientB.reserve(batch * layer.inputSize)
            layer.backward(x: layerInput, dy: upstream, dx: dx, batch: batch, pool: pool)
            if k > 0 {
                let n = layer.inputSize
                if let dropout, training {
                    dropout.backward(dy: dx, mask: masks[k - 1].buffer.pointer, dx: dx, count: batch * n)
                }
                reluBackward(y: activations[k - 1].buffer.pointer, dy: dx, dx: dx, count: batch * n)
            }
            upstream = UnsafePointer(dx)
        }
        return upstream
    }
}
