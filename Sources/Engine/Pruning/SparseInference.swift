/// Inference with a pruned sequence classifier that skips the pruned weights.
///
/// The dense model multiplies (B, K) activations by (K, N) weights, zeros included. Here
/// a tile of up to 64 samples is kept feature-major, (K, lanes), and every weight matrix
/// is compressed by output (`SparseRows`), so each surviving weight costs lanes/16 SIMD16
/// multiply-adds and a pruned one costs nothing. At 80-90% sparsity this is several
/// times less arithmetic than the dense products; the gate nonlinearities, vectorised
/// over the samples of the tile, are the same work as in the dense model (plus the
/// padding lanes of a partial tile) and then take most of the time.
///
/// A tile runs its whole sequence before the next tile starts. Its state is one stacked
/// buffer of rows [x_t (I); h of layer 0 (H_0); h of layer 1 (H_1); ...] (rows, lanes), so
/// the input of layer l, [h of layer l-1 at t; h of layer l at t-1], is a contiguous run
/// of rows and one compressed matrix over [Wx; Wh] serves both products. The layers may
/// differ in width (a unit-pruned model); the per-layer buffers are sized for the widest.

/// One recurrent layer: [Wx; Wh] compressed with rows ordered (unit, gate), so the
/// gates of one unit are produced together and its cell update follows at once. The
/// LSTM's gates come in the order i, f, o, g: the three sigmoid gates are adjacent.
///
/// The GRU's candidate needs x_t · Wx_n and h_{t-1} · Wh_n apart (the reset gate scales
/// the second), so its rows are r, z, n_x, n_h of [Wx_r Wx_z Wx_n 0; Wh_r Wh_z 0 Wh_n]
/// (I + H, 4H): four rows a unit, and the zero blocks cost nothing once compressed.
private struct SparseRecurrentLayer {
    let cell: RecurrentLayer.Cell
    let activation: RecurrentActivation
    let inputs: Int
    let hidden: Int
    /// Rows a unit: G, and 4 for the GRU.
    let gates: Int
    /// The first state row of this layer's input; its own h rows follow the input rows.
    let firstRow: Int
    let weights: SparseRows   // row u·G + slot: column gate(slot)·H + u of [Wx; Wh] (I + H, G·H)
    let bias: [Float]         // (G·H) bx + bh, in the same order as the rows (the GRU's n_x: bx, n_h: bh)

    init(_ layer: RecurrentLayer, firstRow: Int) {
        cell = layer.cell
        activation = layer.activation
        inputs = layer.inputSize
        hidden = layer.hiddenSize
        self.firstRow = firstRow
        let h = hidden, w = layer.gateCount * hidden
        let bx = layer.inputBias.value, bh = layer.recurrentBias.value
        let wx = UnsafePointer(layer.inputWeight.value.pointer), wh = UnsafePointer(layer.recurrentWeight.value.pointer)
        /// [Wx; Wh] as they are, the gates of a unit in the order `gateOfSlot` (indices of
        /// PyTorch's gates), with the bias sum the dense layer forms, so they agree bit for bit.
        func stacked(gateOfSlot: [Int]) -> (gates: Int, weights: SparseRows, bias: [Float]) {
            let g = gateOfSlot.count
            let order = (0..<w).map { r in gateOfSlot[r % g] * h + r / g }
            return (g, SparseRows(blocks: [(wx, layer.inputSize), (wh, h)], columns: w, order: order),
                    order.map { bx[$0] + bh[$0] })
        }
        switch layer.cell {
        case .lstm:
            (gates, weights, bias) = stacked(gateOfSlot: [0, 1, 3, 2])  // PyTorch's gate order is i, f, g, o
        case .rnn:
            (gates, weights, bias) = stacked(gateOfSlot: [0])
        case .gru:
            gates = 4
            // The zero-padded (·, 4H) blocks, built only to be compressed.
            func padded(_ source: UnsafePointer<Float>, rows: Int, candidateColumn: Int) -> [Float] {
                var out = [Float](repeating: 0, count: rows * 4 * h)
                for k in 0..<rows {
                    for j in 0..<(2 * h) { out[k * 4 * h + j] = source[k * w + j] }
                    for j in 0..<h { out[k * 4 * h + candidateColumn + j] = source[k * w + 2 * h + j] }
                }
                return out
            }
            let px = padded(wx, rows: layer.inputSize, candidateColumn: 2 * h), ph = padded(wh, rows: h, candidateColumn: 3 * h)
            let order = (0..<(4 * h)).map { r in (r % 4) * h + r / 4 }
            weights = px.withUnsafeBufferPointer { px in
                ph.withUnsafeBufferPointer { ph in
                    SparseRows(blocks: [(px.baseAddress!, layer.inputSize), (ph.baseAddress!, h)], columns: 4 * h, order: order)
                }
            }
            // r and z: the sum the dense layer forms; the candidate's biases apart, as there.
            bias = order.map { column in
                column < 2 * h ? bx[column] + bh[column] : column < 3 * h ? bx[column] : bh[column - h]
            }
        }
    }
}

/// One head layer: W (I, O) compressed by output.
private struct SparseDenseLayer {
    let weights: SparseRows
    let bias: [Float]
    let outputs: Int

    init(_ layer: Dense) {
        outputs = layer.outputSize
        weights = SparseRows(blocks: [(UnsafePointer(layer.weight.value.pointer), layer.inputSize)],
                             columns: layer.outputSize, order: Array(0..<layer.outputSize))
        bias = layer.bias.value.array
    }
}

/// A snapshot of a trained (typically pruned) `SequenceClassifier` for inference only.
/// It copies the non-zero weights when built: rebuild it after the model changes.
/// Like the models, one instance serves one caller at a time.
public final class SparseSequenceModel: @unchecked Sendable {
    public let config: ModelConfig
    public let pool: ThreadPool
    /// Non-zero weights kept in the compressed matrices, and the weights of the dense ones.
    public let nonzeroWeights: Int
    public let denseWeights: Int
    private let layers: [SparseRecurrentLayer]
    private let head: [SparseDenseLayer]
    private let steps: Int
    private let features: Int
    private let stateRows: Int
    private let headWidth: Int
    private let workspaces: [FloatBuffer]  // one per thread, see `workspaceLayout`

    public init(_ model: SequenceClassifier) {
        config = model.config
        pool = model.pool
        steps = model.steps
        features = model.features
        var built: [SparseRecurrentLayer] = []
        var firstRow = 0
        for layer in model.recurrent {
            built.append(SparseRecurrentLayer(layer, firstRow: firstRow))
            firstRow += layer.inputSize
        }
        layers = built
        stateRows = firstRow + model.recurrent.last!.hiddenSize
        head = model.head.layers.map(SparseDenseLayer.init)
        headWidth = head.map(\.outputs).max()!
        nonzeroWeights = layers.reduce(0) { $0 + $1.weights.entries.count } + head.reduce(0) { $0 + $1.weights.entries.count }
        denseWeights = model.parameters.filter(\.isWeightMatrix).reduce(0) { $0 + $1.count }
        let floats = SparseSequenceModel.workspaceLayout(stateRows: stateRows, layers: layers, headWidth: headWidth).total
        workspaces = (0..<model.pool.threadCount).map { _ in FloatBuffer(count: floats) }
    }

    /// Offsets (in floats) of one thread's buffers, each sized for a 64-lane tile:
    /// state (stateRows, lanes), cells (layers, H, lanes), gates (G, lanes) of one unit,
    /// new hidden state (H, lanes), and two head activations (headWidth, lanes).
    private static func workspaceLayout(stateRows: Int, layers: [SparseRecurrentLayer], headWidth: Int)
        -> (cells: Int, gates: Int, hidden: Int, headA: Int, headB: Int, total: Int) {
        let lanes = TileWidth.maximum
        let hidden = layers.map(\.hidden).max()!
        let cells = stateRows * lanes
        let gates = cells + layers.count * hidden * lanes
        let newHidden = gates + 4 * lanes
        let headA = newHidden + hidden * lanes
        let headB = headA + headWidth * lanes
        return (cells, gates, newHidden, headA, headB, headB + headWidth * lanes)
    }

    /// Logits (B, classes) for `images` at `indices`, the batch split across the pool's threads.
    public func logits(_ images: ImageSet, indices: UnsafeBufferPointer<Int>) -> [Float] {
        precondition(images.height == config.imageHeight && images.width == config.imageWidth,
                     "images are \(images.height)x\(images.width), the model expects \(config.imageHeight)x\(config.imageWidth)")
        let batch = indices.count, classes = config.classes
        var result = [Float](repeating: 0, count: batch * classes)
        guard batch > 0 else { return result }
        result.withUnsafeMutableBufferPointer { out in
            images.pixels.withUnsafeBufferPointer { pixels in
                let output = out.baseAddress!, pixelBase = pixels.baseAddress!
                pool.run { thread in
                    // Whole 64-sample tiles per thread: a padded tile costs as much as a full one.
                    let part = ThreadPool.part(thread, of: pool.threadCount, total: batch, granule: TileWidth.maximum)
                    var lower = part.lowerBound
                    while lower < part.upperBound {
                        let width = TileWidth.next(remaining: part.upperBound - lower)
                        let count = min(width, part.upperBound - lower)
                        runTile(UnsafeBufferPointer(rebasing: indices[lower..<(lower + count)]), lanes: width,
                                images: images, pixels: pixelBase, workspace: workspaces[thread].pointer,
                                logits: output + lower * classes)
                        lower += count
                    }
                }
            }
        }
        return result
    }

    /// Predicts every image of `data` in batches and scores the predictions, as `Classifier.evaluate`.
    public func predict(_ data: ImageSet, batchSize: Int = 500) -> Evaluation {
        // Without a stop request there is nothing to throw.
        try! predict(data, batchSize: batchSize, shouldStop: { false })
    }

    /// As `predict(_:batchSize:)`, throwing `TrainingError.cancelled` as soon as `shouldStop` says so.
    public func predict(_ data: ImageSet, batchSize: Int, shouldStop: () -> Bool) throws -> Evaluation {
        try Evaluation.predicting(data, classes: config.classes, batchSize: batchSize, shouldStop: shouldStop) { indices, use in
            logits(data, indices: indices).withUnsafeBufferPointer { use($0.baseAddress!) }
        }
    }

    /// Runs the samples `indices` (at most `lanes`) through the whole model; writes logits (count, classes).
    private func runTile(_ indices: UnsafeBufferPointer<Int>, lanes: Int, images: ImageSet, pixels: UnsafePointer<UInt8>,
                         workspace: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        let vectors = lanes / 16
        let layout = SparseSequenceModel.workspaceLayout(stateRows: stateRows, layers: layers, headWidth: headWidth)
        let state = workspace, cells = workspace + layout.cells
        // h_{-1} = 0 and c_{-1} = 0; padding lanes stay 0 so they never produce NaN.
        workspace.update(repeating: 0, count: layout.gates)
        let width = images.width, area = images.height * images.width
        let byRows = config.sequence == .rows
        for t in 0..<steps {
            // x_t (I, lanes): pixel / 255, computed as the dense model's loadBatch does.
            for (lane, index) in indices.enumerated() {
                let image = pixels + index * area
                for k in 0..<features {
                    let pixel = byRows ? image[t * width + k] : image[k * width + t]
                    state[k * lanes + lane] = Float(pixel) * (1 / 255)
                }
            }
            var cellOffset = 0
            for layer in layers {
                step(layer, state: state, cells: cells + cellOffset, gates: workspace + layout.gates,
                     newHidden: workspace + layout.hidden, vectors: vectors)
                cellOffset += layer.hidden * lanes
            }
        }
        let last = layers.last!
        var x = UnsafePointer(state + (last.firstRow + last.inputs) * lanes)  // h_{T-1} (H, lanes)
        for (index, layer) in head.enumerated() {
            let out = workspace + (index % 2 == 0 ? layout.headA : layout.headB)
            layer.bias.withUnsafeBufferPointer { bias in
                sparseProduct(layer.weights, bias: bias.baseAddress!, x: x, vectors: vectors,
                              relu: index < head.count - 1, into: out)
            }
            x = UnsafePointer(out)
        }
        // (classes, lanes) -> (count, classes)
        let classes = config.classes
        for lane in 0..<indices.count {
            for c in 0..<classes { logits[lane * classes + c] = x[c * lanes + lane] }
        }
    }

    /// One time step of one layer for a tile: reads the layer's input rows of `state`,
    /// updates cells (H, lanes) and writes h_t into the layer's own state rows.
    private func step(_ layer: SparseRecurrentLayer, state: UnsafeMutablePointer<Float>, cells: UnsafeMutablePointer<Float>,
                      gates: UnsafeMutablePointer<Float>, newHidden: UnsafeMutablePointer<Float>, vectors: Int) {
        let lanes = 16 * vectors
        let (h, g) = (layer.hidden, layer.gates)
        let x = UnsafePointer(state + layer.firstRow * lanes)
        let relu = layer.activation == .relu
        layer.weights.entries.withUnsafeBufferPointer { entries in
            layer.weights.starts.withUnsafeBufferPointer { starts in
                layer.bias.withUnsafeBufferPointer { bias in
                    for u in 0..<h {
                        // z for the G gates of unit u: (G, lanes). The whole of h_{t-1} is
                        // still in `state`, since h_t goes to `newHidden` until every unit is done.
                        for gate in 0..<g {
                            let r = u * g + gate
                            sparseRowProduct(entries.baseAddress!, starts[r]..<starts[r + 1], bias: bias[r], x: x,
                                             vectors: vectors, out: gates + gate * lanes)
                        }
                        let c = cells + u * lanes, hNew = newHidden + u * lanes
                        switch layer.cell {
                        case .lstm: lstmUnit(gates: gates, c: c, h: hNew, lanes: lanes, relu: relu)
                        case .rnn: rnnUnit(z: gates, h: hNew, lanes: lanes, relu: relu)
                        case .gru: gruUnit(gates: gates, hPrev: x + (layer.inputs + u) * lanes, h: hNew, lanes: lanes,
                                           relu: relu)
                        }
                    }
                }
            }
        }
        (state + (layer.firstRow + layer.inputs) * lanes).update(from: newHidden, count: h * lanes)
    }
}

/// One LSTM unit over a tile, as RecurrentLayer's lstmCellForward lane for lane:
/// gates (4, lanes) pre-activations i, f, o, g, overwritten by activations;
/// c (lanes) c_{t-1} in, c_t out; h (lanes) out.
///
/// Each loop calls one nonlinearity from one place: the compiler then inlines it
/// (with several call sites in one loop it emits calls, which made this ~2x slower).
private func lstmUnit(gates: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                      lanes: Int, relu: Bool) {
    let f = gates + lanes, o = gates + 2 * lanes, g = gates + 3 * lanes
    for v in stride(from: 0, to: 3 * lanes, by: 16) { store(vsigmoid(load(gates + v)), gates + v) }  // i, f, o
    activate(g, count: lanes, relu: relu)
    for v in stride(from: 0, to: lanes, by: 16) {
        let cv = (load(f + v) * load(c + v)).addingProduct(load(gates + v), load(g + v))
        store(cv, c + v)
        store(cv, h + v)
    }
    activate(h, count: lanes, relu: relu)
    for v in stride(from: 0, to: lanes, by: 16) { store(load(o + v) * load(h + v), h + v) }
}

/// One GRU unit over a tile, as RecurrentLayer's gruCellForward lane for lane:
/// gates (4, lanes) pre-activations r, z, n_x, n_h (biases included), r and z overwritten
/// by their activations; hPrev (lanes) h_{t-1}; h (lanes) out.
private func gruUnit(gates: UnsafeMutablePointer<Float>, hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                     lanes: Int, relu: Bool) {
    let z = gates + lanes, nx = gates + 2 * lanes, nh = gates + 3 * lanes
    for v in stride(from: 0, to: 2 * lanes, by: 16) { store(vsigmoid(load(gates + v)), gates + v) }  // r, z
    for v in stride(from: 0, to: lanes, by: 16) { store(load(nx + v).addingProduct(load(gates + v), load(nh + v)), h + v) }
    activate(h, count: lanes, relu: relu)
    for v in stride(from: 0, to: lanes, by: 16) {
        let n = load(h + v)
        store(n.addingProduct(load(z + v), load(hPrev + v) - n), h + v)
    }
}

/// One RNN unit over a tile: h (lanes) = act(z (lanes)).
private func rnnUnit(z: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, lanes: Int, relu: Bool) {
    h.update(from: z, count: lanes)
    activate(h, count: lanes, relu: relu)
}

/// x = act(x) in place for `count` (a multiple of 16) values.
private func activate(_ x: UnsafeMutablePointer<Float>, count: Int, relu: Bool) {
    if relu {
        for v in stride(from: 0, to: count, by: 16) { store(vrelu(load(x + v)), x + v) }
    } else {
        for v in stride(from: 0, to: count, by: 16) { store(vtanh(load(x + v)), x + v) }
    }
}

/// Evaluates `model` with sparse inference when it pays: a `SequenceClassifier` (LSTM, GRU or RNN) whose
/// weight matrices carry masks (a pruned model) is run through `SparseSequenceModel`;
/// any other model through the dense `evaluate`. Predictions are the same either way.
/// The seconds reported cover prediction only, not building the sparse copy.
public func evaluatePruned(_ model: Classifier, on data: ImageSet, batchSize: Int = 500) -> Evaluation {
    // Without a stop request there is nothing to throw.
    try! evaluatePruned(model, on: data, batchSize: batchSize, shouldStop: { false })
}

/// As `evaluatePruned(_:on:batchSize:)`, throwing `TrainingError.cancelled` as soon as `shouldStop` says so.
public func evaluatePruned(_ model: Classifier, on data: ImageSet, batchSize: Int,
                           shouldStop: () -> Bool) throws -> Evaluation {
    if let sequence = model as? SequenceClassifier, sequence.parameters.contains(where: { $0.mask != nil }) {
        return try SparseSequenceModel(sequence).predict(data, batchSize: batchSize, shouldStop: shouldStop)
    }
    return try model.evaluate(on: data, batchSize: batchSize, shouldStop: shouldStop)
}
