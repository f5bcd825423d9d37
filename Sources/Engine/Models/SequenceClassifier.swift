/// A recurrent classifier: the image as a sequence (28 steps of 28 pixels, rows or
/// columns), a stack of LSTM, GRU or RNN layers, and a dense head on the last time step.
public final class SequenceClassifier: Classifier {
    public let config: ModelConfig
    public let pool: ThreadPool
    public let recurrent: [RecurrentLayer]
    let head: DenseHead
    private var inputSpace = Workspace()   // (T, B, I) pixels / 255
    private var batch = 0

    public var steps: Int { config.sequence == .rows ? config.imageHeight : config.imageWidth }
    public var features: Int { config.sequence == .rows ? config.imageWidth : config.imageHeight }

    public init(config: ModelConfig, seed: UInt64, pool: ThreadPool) {
        guard let cell = config.kind.recurrentCell else {
            preconditionFailure("SequenceClassifier builds LSTM, GRU and RNN models, not \(config.kind)")
        }
        self.config = config
        self.pool = pool
        var generator = SeededGenerator(seed: seed, stream: "init")
        let features = config.sequence == .rows ? config.imageWidth : config.imageHeight
        let widths = config.hiddenSizes
        precondition(widths.count == config.layers && widths.allSatisfy { $0 >= 1 },
                     "layerHidden must give \(config.layers) positive sizes, got \(widths)")
        var layers: [RecurrentLayer] = []
        for index in 0..<config.layers {
            layers.append(RecurrentLayer(cell: cell, activation: config.activation,
                                         inputSize: index == 0 ? features : widths[index - 1], hiddenSize: widths[index],
                                         name: "\(config.kind.rawValue).\(index)", initialization: config.initialization,
                                         generator: &generator))
        }
        recurrent = layers
        head = DenseHead(inputSize: widths.last ?? config.hidden, hidden: config.dense, classes: config.classes,
                         dropout: config.dropout, initialization: config.initialization, seed: seed, generator: &generator)
    }

    public var parameters: [Parameter] { recurrent.flatMap(\.parameters) + head.parameters }

    /// Per step and layer, the products' multiply-adds: (I + H)·G·H, which the GRU's three
    /// products add up to as well ((I + H)·2H + I·H + H·H); the cells' elementwise work is
    /// not counted.
    public var forwardFlopsPerSample: Double {
        let perStep = recurrent.reduce(0.0) { sum, layer in
            sum + 2 * Double((layer.inputSize + layer.hiddenSize) * layer.gateCount * layer.hiddenSize)
        }
        return perStep * Double(steps) + head.flopsPerSample
    }

    /// Writes x (T, B, I) from bytes: x[t, b, i] = pixel / 255 at (row t, col i) for rows,
    /// (row i, col t) for columns. Threads take contiguous shares of the samples.
    func loadBatch(_ images: ImageSet, indices: UnsafeBufferPointer<Int>) -> UnsafeMutablePointer<Float> {
        let (t, f, b) = (steps, features, indices.count)
        let x = inputSpace.reserve(t * b * f)
        let width = images.width, area = images.height * images.width
        let byRows = config.sequence == .rows
        images.pixels.withUnsafeBufferPointer { pixels in
            pool.parallelRanges(b) { slots in
                for slot in slots {
                    let image = pixels.baseAddress! + indices[slot] * area
                    for step in 0..<t {
                        let row = x + (step * b + slot) * f
                        for k in 0..<f {
                            let pixel = byRows ? image[step * width + k] : image[k * width + step]
                            row[k] = Float(pixel) * (1 / 255)
                        }
                    }
                }
            }
        }
        return x
    }

    public func forward(_ images: ImageSet, indices: UnsafeBufferPointer<Int>, training: Bool) -> UnsafePointer<Float> {
        batch = indices.count
        var input = UnsafePointer(loadBatch(images, indices: indices))
        for layer in recurrent {
            layer(input, steps: steps, batch: batch, pool: pool, keepCaches: training)
            input = UnsafePointer(layer.outputs)
        }
        return head.forward(recurrent.last!.lastOutput, batch: batch, training: training, pool: pool)
    }

    public func backward(dLogits: UnsafePointer<Float>) {
        let dLast = head.backward(dLogits: dLogits, pool: pool)
        var dOutputs: UnsafePointer<Float>? = nil
        for index in stride(from: recurrent.count - 1, through: 0, by: -1) {
            let layer = recurrent[index]
            let input = index == 0 ? UnsafePointer(inputSpace.buffer.pointer) : UnsafePointer(recurrent[index - 1].outputs)
            layer.backward(x: input, dOutputs: dOutputs, dLast: index == recurrent.count - 1 ? dLast : nil,
                           needInputGradient: index > 0, pool: pool)
            dOutputs = UnsafePointer(layer.inputGradient)
        }
    }
}
