/// Fully connected layer, ReLU, dropout: the classifier heads of every model.
///
/// Conventions shared by all layers: buffers are flat Float32, row-major, with their
/// shape in a comment; forward writes its output; backward *accumulates* (`+=`) into
/// parameter gradients and *writes* the gradient with respect to its input.

/// y (B, O) = x (B, I) · W (I, O) + b (O)
///
/// W is stored input-major, the transpose of torch.nn.Linear's (O, I) weight, so the
/// forward product streams rows of W through the vector micro-kernel.
public final class Dense: @unchecked Sendable {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter  // (I, O)
    public let bias: Parameter    // (O)
    private var weightTransposed = Workspace()  // Wᵀ (O, I) as panels, packed each backward

    /// `pytorch`: as torch.nn.Linear, kaiming_uniform(a=√5) weights and bias, both
    /// U(-1/√I, 1/√I). `keras`: as keras.layers.Dense, Glorot-uniform weights, zero bias.
    public init(inputSize: Int, outputSize: Int, name: String, initialization: WeightInitialization = .pytorch,
                generator: inout SeededGenerator) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Parameter(name: "\(name).weight", shape: [inputSize, outputSize], isWeightMatrix: true)
        bias = Parameter(name: "\(name).bias", shape: [outputSize], isWeightMatrix: false)
        switch initialization {
        case .pytorch:
            let bound = 1 / Float(inputSize).squareRoot()
            weight.initializeUniform(bound: bound, using: &generator)
            bias.initializeUniform(bound: bound, using: &generator)
        case .keras:
            weight.initializeGlorotUniform(fanIn: inputSize, fanOut: outputSize, using: &generator)
            bias.value.zero()
        }
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// x (B, I) -> y (B, O)
    public func callAsFunction(_ x: UnsafePointer<Float>, batch: Int, into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (i, o) = (inputSize, outputSize)
        pool.parallelRanges(batch, granule: 6) { rows in
            for r in rows { (y + r * o).update(from: bias.value.pointer, count: o) }
            gemm(m: rows.count, n: o, k: i, a: x + rows.lowerBound * i, aRowStride: i, aColStride: 1,
                 b: weight.value.pointer, ldb: o, c: y + rows.lowerBound * o, ldc: o, accumulate: true)
        }
    }

    /// dW (I, O) += xᵀ · dy; db (O) += Σ_B dy; dx (B, I) = dy · Wᵀ (when dx is given).
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                         batch: Int, pool: ThreadPool) {
        let (i, o) = (inputSize, outputSize)
        let packed = dx == nil ? nil : weightTransposed.reserve(packedPanelCount(k: o, n: i))
        pool.run { thread in
            let parts = pool.threadCount
            if let dx, let packed {
                // dx[:, inputs] = dy (B, O) · Wᵀ[:, inputs], split by input columns: each thread
                // packs only the panels of Wᵀ it multiplies by, the rows `inputs` of W.
                let inputs = ThreadPool.part(thread, of: parts, total: i, granule: 16)
                if !inputs.isEmpty {
                    let panels = packed + inputs.lowerBound * o  // whole panels: the bound is a multiple of 16
                    packPanels(weight.value.pointer + inputs.lowerBound * o, k: o, n: inputs.count, kStride: 1, nStride: o,
                               into: panels)
                    gemm(m: batch, n: inputs.count, k: o, a: dy, aRowStride: o, aColStride: 1,
                         b: .packed(panels, n: inputs.count), c: dx + inputs.lowerBound, ldc: i, accumulate: false)
                }
            }
            let cols = ThreadPool.part(thread, of: parts, total: o, granule: 16)
            guard !cols.isEmpty else { return }
            // dW[:, cols] += xᵀ (I, B) · dy[:, cols] (B, cols)
            gemm(m: i, n: cols.count, k: batch, a: x, aRowStride: 1, aColStride: i,
                 b: dy + cols.lowerBound, ldb: o, c: weight.gradient.pointer + cols.lowerBound, ldc: o, accumulate: true)
            columnSums(rows: batch, n: cols.count, x: dy + cols.lowerBound, ldx: o,
                       out: bias.gradient.pointer + cols.lowerBound, accumulate: true)
        }
    }
}

/// y = max(x, 0), elementwise over `count` values.
public func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = max(x[i], 0) }
}

/// dx = dy where y > 0, else 0.
public func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { dx[i] = y[i] > 0 ? dy[i] : 0 }
}

/// Inverted dropout: in training, each value is kept with probability 1 - p and scaled
/// by 1 / (1 - p), so evaluation needs no rescaling. Masks come from the model's own
/// seeded dropout stream.
public struct Dropout: Sendable {
    public let probability: Float

    public init(probability: Float) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
    }

    /// Fills mask (count) with 0 or 1/(1-p) and writes y = x · mask.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                        count: Int, generator: inout SeededGenerator) {
        let scale = 1 / (1 - probability)
        for i in 0..<count {
            mask[i] = generator.nextUnitFloat() < probability ? 0 : scale
            y[i] = x[i] * mask[i]
        }
    }

    /// dx = dy · mask
    public func backward(dy: UnsafePointer<Float>, mask: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dx[i] = dy[i] * mask[i] }
    }
}
