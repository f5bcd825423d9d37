/// LSTM, GRU and vanilla RNN layers.
///
/// Equations (torch.nn.LSTM; gates in PyTorch's order i, f, g, o):
///
///     z_t = x_t · Wx + h_{t-1} · Wh + bx + bh            (B, 4H)
///     i = σ(z_i)   f = σ(z_f)   g = act(z_g)   o = σ(z_o)
///     c_t = f ⊙ c_{t-1} + i ⊙ g
///     h_t = o ⊙ act(c_t)
///
/// with act = tanh (PyTorch) or relu (Keras's LSTM(activation='relu')). The vanilla RNN
/// (torch.nn.RNN) is h_t = act(x_t · Wx + h_{t-1} · Wh + bx + bh).
///
/// The GRU (torch.nn.GRU; gates in PyTorch's order r, z, n) keeps the hidden state's
/// projection of the candidate apart, since the reset gate scales it bias included:
///
///     r = σ(x_t · Wx_r + bx_r + h_{t-1} · Wh_r + bh_r)
///     z = σ(x_t · Wx_z + bx_z + h_{t-1} · Wh_z + bh_z)
///     n = act(x_t · Wx_n + bx_n + r ⊙ (h_{t-1} · Wh_n + bh_n))
///     h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}  =  n + z ⊙ (h_{t-1} - n)    (PyTorch's form)
///
/// act is tanh in PyTorch; relu applies to n as it does to the RNN. Its cells are in
/// GRUCells.swift.
///
/// Layout is time-major: sequences are (T, B, features), so the rows of one time step
/// are contiguous. Hidden states live in (T+1, B, H) with slot 0 = h_{-1} = 0: then
/// h_{t-1} for every (t, b) is the first T·B rows, and the weight gradient
/// dWh = Σ_t h_{t-1}ᵀ · dz_t is one matrix product over all time steps.
///
/// Threads split the batch for the recurrence (rows of different samples never
/// interact) and split the output columns for the weight gradients, so every number is
/// computed the same way for any thread count.
public enum RecurrentActivation: String, Sendable, Codable, CaseIterable {
    case tanh, relu
}

public final class RecurrentLayer: @unchecked Sendable {
    public enum Cell: String, Sendable, CaseIterable {
        case lstm, rnn, gru

        /// Gates per hidden unit: the width of Wx, Wh, bx and bh is gateCount·H.
        public var gateCount: Int {
            switch self {
            case .lstm: 4
            case .gru: 3
            case .rnn: 1
            }
        }
    }

    public let cell: Cell
    public let activation: RecurrentActivation
    public let inputSize: Int
    public let hiddenSize: Int
    /// 4 for the LSTM's i, f, g, o; 3 for the GRU's r, z, n; 1 for the RNN.
    public let gateCount: Int
    public let inputWeight: Parameter       // Wx (I, G·H)
    public let recurrentWeight: Parameter   // Wh (H, G·H)
    public let inputBias: Parameter         // bx (G·H)
    public let recurrentBias: Parameter     // bh (G·H)

    // Workspaces for the current batch, grown once to the largest batch.
    private var gatesSpace = Workspace()     // (T, B, Z) pre-activations, then activations; Z = G·H, for the GRU 4H:
                                             // r, z, n and hn = h_{t-1} · Wh_n + bh_n
    private var hiddenSpace = Workspace()    // (T+1, B, H)
    private var cellSpace = Workspace()      // (T+1, B, H) LSTM only
    private var cellActSpace = Workspace()   // (T, B, H) act(c_t), LSTM only
    private var gateGradSpace = Workspace()  // (T, B, G·H) dz; for the GRU the x side's: dr, dz, dn (see backward)
    private var hiddenGateGradSpace = Workspace()  // (T, B, 3H) GRU only, the h side's: dr, dz, d(hn)
    private var carrySpace = Workspace()     // (2, B, H) dh and dc carried backwards in time
    private var inputGradSpace = Workspace() // (T, B, I)
    private var packedSpace = Workspace()    // forward: [Wx; Wh] as panels; backward: Whᵀ, Wxᵀ as panels
    private var inputHiddenSpace = Workspace() // (B, I+H) x_t and h_{t-1} side by side: the A rows of one step
    private var packedGradSpace = Workspace() // dz (T·B, G·H) as panels, for the weight gradients
    private var packedHiddenGradSpace = Workspace() // GRU only: the h side's dz (T·B, 3H) as panels
    private var biasSpace = Workspace()      // (Z) bx + bh; for the GRU bx_r + bh_r, bx_z + bh_z, bx_n, bh_n
    private var biasGradSpace = Workspace()  // (G·H) Σ dz over time and batch: the gradient of bx and of bh
    private var hiddenBiasGradSpace = Workspace()  // (3H) GRU only: Σ of the h side's dz, the gradient of bh
    private(set) var steps = 0
    private(set) var batch = 0

    /// `pytorch`: as torch.nn.LSTM / GRU / RNN, every weight and bias U(-1/√H, 1/√H).
    /// `keras`: as keras.layers.LSTM / GRU / SimpleRNN, Wx Glorot-uniform, Wh orthogonal,
    /// biases zero but the LSTM forget gate's, which is 1 (held in bx; bh stays zero).
    public init(cell: Cell, activation: RecurrentActivation, inputSize: Int, hiddenSize: Int, name: String,
                initialization: WeightInitialization = .pytorch, generator: inout SeededGenerator) {
        self.cell = cell
        self.activation = activation
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        gateCount = cell.gateCount
        let width = gateCount * hiddenSize
        inputWeight = Parameter(name: "\(name).weight_ih", shape: [inputSize, width], isWeightMatrix: true)
        recurrentWeight = Parameter(name: "\(name).weight_hh", shape: [hiddenSize, width], isWeightMatrix: true)
        inputBias = Parameter(name: "\(name).bias_ih", shape: [width], isWeightMatrix: false)
        recurrentBias = Parameter(name: "\(name).bias_hh", shape: [width], isWeightMatrix: false)
        switch initialization {
        case .pytorch:
            let bound = 1 / Float(hiddenSize).squareRoot()
            for p in parameters { p.initializeUniform(bound: bound, using: &generator) }
        case .keras:
            inputWeight.initializeGlorotUniform(fanIn: inputSize, fanOut: width, using: &generator)
            recurrentWeight.initializeOrthogonal(using: &generator)
            inputBias.value.zero()
            recurrentBias.value.zero()
            if cell == .lstm {
                for j in hiddenSize..<2 * hiddenSize { inputBias.value[j] = 1 }   // f, the second gate
            }
        }
    }

    public var parameters: [Parameter] { [inputWeight, recurrentWeight, inputBias, recurrentBias] }

    /// Hidden states of the last forward pass, h_0 ... h_{T-1}: (T, B, H).
    public var outputs: UnsafeMutablePointer<Float> { hiddenSpace.buffer.pointer + batch * hiddenSize }

    /// The last time step's hidden state h_{T-1}: (B, H).
    public var lastOutput: UnsafeMutablePointer<Float> { hiddenSpace.buffer.pointer + steps * batch * hiddenSize }

    /// Gradient with respect to the input of the last backward pass: (T, B, I).
    public var inputGradient: UnsafeMutablePointer<Float> { inputGradSpace.buffer.pointer }

    /// The width Z of one step's gate pre-activations: G·H, and 4H for the GRU, whose
    /// candidate needs x_t · Wx_n and h_{t-1} · Wh_n apart.
    var gateSpaceWidth: Int {
        switch cell {
        case .lstm, .rnn: gateCount * hiddenSize
        case .gru: 4 * hiddenSize
        }
    }

    /// A block of a weight matrix packed as panels into a thread's packed weights:
    /// columns `column ..< column+n` of W (rows, G·H), as rows firstRow ..< firstRow+rows
    /// of a packed matrix of `totalRows` rows at `offset` floats.
    private struct PackedBlock {
        let source: UnsafePointer<Float>, rows: Int, column: Int, n: Int
        let offset: Int, firstRow: Int, totalRows: Int
    }

    /// One product of a time step: z_t[:, column ..< column+n] = [x_t | h_{t-1}][:, first ..< first+k]
    /// · B, B (k, n) packed at `offset` floats into a thread's packed weights.
    private struct StepProduct {
        let first: Int, k: Int, column: Int, n: Int, offset: Int
    }

    /// How the forward pass packs the weights, and the products of one step. The LSTM and
    /// the RNN make one product, [x_t | h_{t-1}] · [Wx; Wh] (I+H, G·H). The GRU makes
    /// three: [x_t | h_{t-1}] · [Wx_rz; Wh_rz] (I+H, 2H) for r and z, then x_t · Wx_n
    /// (I, H) and h_{t-1} · Wh_n (H, H) apart, each as long as it must be (one product
    /// over a zero-padded [Wx_n 0; 0 Wh_n] would do a third more multiply-adds).
    private func forwardPlan() -> (blocks: [PackedBlock], products: [StepProduct], floats: Int) {
        let (h, w, i) = (hiddenSize, gateCount * hiddenSize, inputSize)
        let wx = UnsafePointer(inputWeight.value.pointer), wh = UnsafePointer(recurrentWeight.value.pointer)
        switch cell {
        case .lstm, .rnn:
            return ([PackedBlock(source: wx, rows: i, column: 0, n: w, offset: 0, firstRow: 0, totalRows: i + h),
                     PackedBlock(source: wh, rows: h, column: 0, n: w, offset: 0, firstRow: i, totalRows: i + h)],
                    [StepProduct(first: 0, k: i + h, column: 0, n: w, offset: 0)],
                    packedPanelCount(k: i + h, n: w))
        case .gru:
            let rz = packedPanelCount(k: i + h, n: 2 * h), nx = packedPanelCount(k: i, n: h)
            return ([PackedBlock(source: wx, rows: i, column: 0, n: 2 * h, offset: 0, firstRow: 0, totalRows: i + h),
                     PackedBlock(source: wh, rows: h, column: 0, n: 2 * h, offset: 0, firstRow: i, totalRows: i + h),
                     PackedBlock(source: wx, rows: i, column: 2 * h, n: h, offset: rz, firstRow: 0, totalRows: i),
                     PackedBlock(source: wh, rows: h, column: 2 * h, n: h, offset: rz + nx, firstRow: 0, totalRows: h)],
                    [StepProduct(first: 0, k: i + h, column: 0, n: 2 * h, offset: 0),
                     StepProduct(first: 0, k: i, column: 2 * h, n: h, offset: rz),
                     StepProduct(first: i, k: h, column: 3 * h, n: h, offset: rz + nx)],
                    rz + nx + packedPanelCount(k: h, n: h))
        }
    }

    /// x (T, B, I) -> outputs (T, B, H)
    ///
    /// `keepCaches`: whether to keep what `backward` needs, every step's gates, cell states
    /// and tanh(c). Without (inference), the gates and tanh(c) of a step overwrite the last
    /// step's and the cell state alternates between two slabs: 0.2 MB written per step of a
    /// batch of 100 instead of 5 MB over the sequence, which stays in L2. `backward` must
    /// follow a forward that kept them.
    public func callAsFunction(_ x: UnsafePointer<Float>, steps: Int, batch: Int, pool: ThreadPool, keepCaches: Bool = true) {
        self.steps = steps
        self.batch = batch
        let (h, w, i) = (hiddenSize, gateCount * hiddenSize, inputSize)
        let zw = gateSpaceWidth
        // Where step t's gates, cell state c_t (c_{-1} at slab 0) and tanh(c_t) go, as slabs of batch rows.
        let (zSlabs, cSlabs) = keepCaches ? (steps, steps + 1) : (1, 2)
        @inline(__always) func zSlab(_ t: Int) -> Int { keepCaches ? t : 0 }
        @inline(__always) func cSlab(_ t: Int) -> Int { keepCaches ? t : t % 2 }
        let z = gatesSpace.reserve(zSlabs * batch * zw)
        let hs = hiddenSpace.reserve((steps + 1) * batch * h)
        let cs = cell == .lstm ? cellSpace.reserve(cSlabs * batch * h) : hs
        let actC = cell == .lstm ? cellActSpace.reserve(zSlabs * batch * h) : hs
        let bias = biasSpace.reserve(zw)
        switch cell {
        case .lstm, .rnn:
            for j in 0..<w { bias[j] = inputBias.value[j] + recurrentBias.value[j] }
        case .gru:
            // r and z take both biases at once; the candidate's are kept apart (bh_n is inside r ⊙ (...)).
            for j in 0..<(2 * h) { bias[j] = inputBias.value[j] + recurrentBias.value[j] }
            for j in (2 * h)..<(3 * h) { bias[j] = inputBias.value[j]; bias[j + h] = recurrentBias.value[j] }
        }
        hs.update(repeating: 0, count: batch * h)
        if cell == .lstm { cs.update(repeating: 0, count: batch * h) }
        // [Wx; Wh] (I+H, G·H) packed as one stacked matrix (the GRU: three, see
        // `forwardPlan`), by each thread for itself, so that z_t = [x_t | h_{t-1}] · [Wx; Wh]
        // is one product whose micro-kernels stream contiguous B rows and write each z_t
        // element once.
        let kxh = i + h
        let (blocks, products, packedCount) = forwardPlan()
        let packedAll = packedSpace.reserve(packedCount * pool.threadCount)
        let xh = inputHiddenSpace.reserve(batch * kxh)
        let bx = UnsafePointer(bias)

        // One parallel region for the whole sequence: each thread owns samples `rows` and
        // computes everything about them, one step after the other. A thread so only reads
        // what it wrote itself, still in its own caches (z_t is 50 KB for 50 samples).
        // Projecting all steps' inputs at once (one tall product split by rows across the
        // threads) left half of each thread's z on the other core, and one shared packed
        // copy of the weights was rewritten by one core and read by the other at every
        // call: with 2 threads the recurrence took as long as with 1.
        pool.run { thread in
            let rows = ThreadPool.part(thread, of: pool.threadCount, total: batch, granule: 1)
            guard !rows.isEmpty else { return }
            let (b0, nb) = (rows.lowerBound, rows.count)
            let packedW = packedAll + thread * packedCount
            for block in blocks {
                packPanels(block.source + block.column, k: block.rows, n: block.n, kStride: w, nStride: 1,
                           into: packedW + block.offset, firstRow: block.firstRow, totalRows: block.totalRows)
            }
            let xhRows = xh + b0 * kxh  // (nb, I+H): x_t, then h_{t-1}
            for r in 0..<nb { (xhRows + r * kxh + i).update(repeating: 0, count: h) }  // h_{-1} = 0
            for t in 0..<steps {
                let zt = z + (zSlab(t) * batch + b0) * zw  // (nb, Z)
                let xt = x + (t * batch + b0) * i
                for r in 0..<nb { (xhRows + r * kxh).update(from: xt + r * i, count: i) }
                // z_t = [x_t | h_{t-1}] · [Wx; Wh]; the cell adds the bias.
                for product in products {
                    gemm(m: nb, n: product.n, k: product.k, a: xhRows + product.first, aRowStride: kxh, aColStride: 1,
                         b: .packed(packedW + product.offset, n: product.n), c: zt + product.column, ldc: zw,
                         accumulate: false)
                }
                let hNext = hs + ((t + 1) * batch + b0) * h
                switch cell {
                case .lstm:
                    lstmCellForward(z: zt, bias: bx, cPrev: cs + (cSlab(t) * batch + b0) * h,
                                    c: cs + (cSlab(t + 1) * batch + b0) * h, actC: actC + (zSlab(t) * batch + b0) * h,
                                    h: hNext, rows: nb, hidden: h)
                case .rnn:
                    rnnCellForward(z: zt, bias: bx, h: hNext, rows: nb, hidden: h)
                case .gru:
                    gruCellForward(z: zt, bias: bx, hPrev: hs + (t * batch + b0) * h, h: hNext, rows: nb, hidden: h)
                }
                for r in 0..<nb { (xhRows + r * kxh + i).update(from: hNext + r * h, count: h) }
            }
        }
    }

    /// Backward through time for the last forward pass.
    ///
    /// dOutputs (T, B, H): gradient with respect to every h_t (from a layer above), or nil.
    /// dLast (B, H): gradient with respect to h_{T-1} only (from a classifier head), or nil.
    /// x (T, B, I): the forward input. Accumulates parameter gradients; when
    /// `needInputGradient`, writes `inputGradient` (T, B, I).
    ///
    /// The LSTM's and the RNN's x_t and h_{t-1} enter through the same pre-activations,
    /// so one dz serves Wx and Wh. The GRU's candidate does not: its x side gets dn (of
    /// n's pre-activation) and its h side r ⊙ dn, so the GRU keeps two dz, dzx (for Wx,
    /// bx, dx) and dzh (for Wh, bh, dh_{t-1}), each r, z, n in PyTorch's order; and h_{t-1}
    /// also reaches h_t directly, as z ⊙ h_{t-1}, which its cell puts into dh before the
    /// product dzh · Whᵀ is added.
    public func backward(x: UnsafePointer<Float>, dOutputs: UnsafePointer<Float>?, dLast: UnsafePointer<Float>?,
                         needInputGradient: Bool, pool: ThreadPool) {
        let (h, w, i, steps, batch) = (hiddenSize, gateCount * hiddenSize, inputSize, steps, batch)
        let zw = gateSpaceWidth
        let z = gatesSpace.buffer.pointer, hs = hiddenSpace.buffer.pointer
        let cs = cellSpace.buffer.pointer, actC = cellActSpace.buffer.pointer
        let dz = gateGradSpace.reserve(steps * batch * w)
        let isGRU = cell == .gru
        let dzh = isGRU ? hiddenGateGradSpace.reserve(steps * batch * w) : dz  // the h side's dz
        let carry = carrySpace.reserve(2 * batch * h)
        let dhCarry = carry, dcCarry = carry + batch * h
        carry.update(repeating: 0, count: 2 * batch * h)
        let dx = needInputGradient ? inputGradSpace.reserve(steps * batch * i) : nil
        // Whᵀ (G·H, H) and Wxᵀ (G·H, I) packed as panels by every thread for itself (see the forward pass).
        let packedCount = packedPanelCount(k: w, n: h) + packedPanelCount(k: w, n: i)
        let packedAll = packedSpace.reserve(packedCount * pool.threadCount)
        let wxWeights = UnsafePointer(inputWeight.value.pointer), whWeights = UnsafePointer(recurrentWeight.value.pointer)
        let rowsTotal = steps * batch
        // dz is also written as panels (each thread its own rows), the B operand of the weight gradients.
        let dzPanels = packedGradSpace.reserve(packedPanelCount(k: rowsTotal, n: w))
        let dzhPanels = isGRU ? packedHiddenGradSpace.reserve(packedPanelCount(k: rowsTotal, n: w)) : dzPanels
        let dzSums = biasGradSpace.reserve(w)
        let dzhSums = isGRU ? hiddenBiasGradSpace.reserve(w) : dzSums

        pool.run { thread in
            let rows = ThreadPool.part(thread, of: pool.threadCount, total: batch, granule: 1)
            guard !rows.isEmpty else { return }
            let (b0, nb) = (rows.lowerBound, rows.count)
            let packedWhT = packedAll + thread * packedCount, packedWxT = packedWhT + packedPanelCount(k: w, n: h)
            packPanels(whWeights, k: w, n: h, kStride: 1, nStride: w, into: packedWhT)
            if needInputGradient { packPanels(wxWeights, k: w, n: i, kStride: 1, nStride: w, into: packedWxT) }
            let whT = MatrixB.packed(packedWhT, n: h), wxT = MatrixB.packed(packedWxT, n: i)
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let dh = dhCarry + b0 * h  // (nb, H): dh_t, accumulated from above and from t+1
                if let dOutputs {
                    let src = dOutputs + (t * batch + b0) * h
                    for j in 0..<(nb * h) { dh[j] += src[j] }
                }
                if t == steps - 1, let dLast {
                    let src = dLast + b0 * h
                    for j in 0..<(nb * h) { dh[j] += src[j] }
                }
                let zt = z + (t * batch + b0) * zw, dzt = dz + (t * batch + b0) * w
                let dzht = dzh + (t * batch + b0) * w
                switch cell {
                case .lstm:
                    lstmCellBackward(gates: zt, cPrev: cs + (t * batch + b0) * h, actC: actC + (t * batch + b0) * h,
                                     dh: dh, dc: dcCarry + b0 * h, dz: dzt, rows: nb, hidden: h)
                case .rnn:
                    rnnCellBackward(h: hs + ((t + 1) * batch + b0) * h, dh: dh, dz: dzt, rows: nb, hidden: h)
                case .gru:
                    gruCellBackward(gates: zt, hPrev: hs + (t * batch + b0) * h, dh: dh, dzx: dzt, dzh: dzht,
                                    rows: nb, hidden: h)
                }
                copyRowsToPanels(dzt, rows: nb, n: w, firstRow: t * batch + b0, totalRows: rowsTotal, panels: dzPanels)
                if isGRU {
                    copyRowsToPanels(dzht, rows: nb, n: w, firstRow: t * batch + b0, totalRows: rowsTotal, panels: dzhPanels)
                }
                // dh_{t-1} = dz_t · Whᵀ (the GRU's cell left z ⊙ dh_t in dh, which this adds to)
                if t > 0 {
                    gemm(m: nb, n: h, k: w, a: dzht, aRowStride: w, aColStride: 1,
                         b: whT, c: dh, ldc: h, accumulate: isGRU)
                }
                // dx_t = dz_t · Wxᵀ, here while dz_t is in this thread's cache
                if let dx {
                    gemm(m: nb, n: i, k: w, a: dzt, aRowStride: w, aColStride: 1,
                         b: wxT, c: dx + (t * batch + b0) * i, ldc: i, accumulate: false)
                }
            }
        }

        pool.run { thread in
            let parts = pool.threadCount
            let cols = ThreadPool.part(thread, of: parts, total: w, granule: 16)
            guard !cols.isEmpty else { return }
            let c0 = cols.lowerBound, n = cols.count
            // c0 is a multiple of 16: whole panels
            let dzCols = MatrixB.packed(dzPanels + c0 * rowsTotal, n: n)
            let dzhCols = MatrixB.packed(dzhPanels + c0 * rowsTotal, n: n)
            // dWx[:, cols] += xᵀ (I, T·B) · dz[:, cols]
            gemm(m: i, n: n, k: rowsTotal, a: x, aRowStride: 1, aColStride: i,
                 b: dzCols, c: inputWeight.gradient.pointer + c0, ldc: w, accumulate: true)
            // dWh[:, cols] += h_{t-1}ᵀ (H, T·B) · dz[:, cols]: the first T·B rows of hs
            gemm(m: h, n: n, k: rowsTotal, a: hs, aRowStride: 1, aColStride: h,
                 b: dzhCols, c: recurrentWeight.gradient.pointer + c0, ldc: w, accumulate: true)
            // bx and bh enter z the same way, so both gradients are the one column sum of dz
            // (the GRU's differ in the candidate's columns: one sum for each side).
            columnSums(rows: rowsTotal, n: n, x: dz + c0, ldx: w, out: dzSums + c0, accumulate: false)
            if isGRU { columnSums(rows: rowsTotal, n: n, x: dzh + c0, ldx: w, out: dzhSums + c0, accumulate: false) }
            let dbx = inputBias.gradient.pointer, dbh = recurrentBias.gradient.pointer
            for j in c0..<(c0 + n) {
                dbx[j] += dzSums[j]
                dbh[j] += dzhSums[j]
            }
        }
    }

    // MARK: Cells, vectorised across H (16 lanes; a partial vector for the tail)
    //
    // Each cell loop is generic over the activation and calls its per-vector body from
    // two places, whole vectors (a constant 16 lanes) and the tail, so the hot path has
    // no branch on the activation or on the lane count.

    private func lstmCellForward(z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                 c: UnsafeMutablePointer<Float>, actC: UnsafeMutablePointer<Float>,
                                 h: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        switch activation {
        case .tanh: lstmCellForward(TanhActivation.self, z: z, bias: bias, cPrev: cPrev, c: c, actC: actC, h: h,
                                    rows: rows, hidden: hidden)
        case .relu: lstmCellForward(ReLUActivation.self, z: z, bias: bias, cPrev: cPrev, c: c, actC: actC, h: h,
                                    rows: rows, hidden: hidden)
        }
    }

    /// z (rows, 4H) pre-activations less the bias (4H) in, gate activations i, f, g, o
    /// out (in place); cPrev, c, actC, h: (rows, H).
    private func lstmCellForward<A: CellActivation>(_: A.Type, z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                                                    cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                                    actC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                                                    rows: Int, hidden: Int) {
        @_transparent func unit(_ zr: UnsafeMutablePointer<Float>, _ off: Int, _ j: Int, _ n: Int) {
            let iv = vsigmoid(get(zr + j, n) + get(bias + j, n))
            let fv = vsigmoid(get(zr + hidden + j, n) + get(bias + hidden + j, n))
            let gv = A.apply(get(zr + 2 * hidden + j, n) + get(bias + 2 * hidden + j, n))
            let ov = vsigmoid(get(zr + 3 * hidden + j, n) + get(bias + 3 * hidden + j, n))
            let cv = (fv * get(cPrev + off + j, n)).addingProduct(iv, gv)
            let av = A.apply(cv)
            put(iv, zr + j, n); put(fv, zr + hidden + j, n); put(gv, zr + 2 * hidden + j, n); put(ov, zr + 3 * hidden + j, n)
            put(cv, c + off + j, n); put(av, actC + off + j, n); put(ov * av, h + off + j, n)
        }
        let whole = hidden / 16 * 16
        for r in 0..<rows {
            let zr = z + r * 4 * hidden, off = r * hidden
            var j = 0
            while j < whole { unit(zr, off, j, 16); j += 16 }
            if whole < hidden { unit(zr, off, whole, hidden - whole) }
        }
    }

    private func lstmCellBackward(gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, actC: UnsafePointer<Float>,
                                  dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>,
                                  dz: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        switch activation {
        case .tanh: lstmCellBackward(TanhActivation.self, gates: gates, cPrev: cPrev, actC: actC, dh: dh, dc: dc, dz: dz,
                                     rows: rows, hidden: hidden)
        case .relu: lstmCellBackward(ReLUActivation.self, gates: gates, cPrev: cPrev, actC: actC, dh: dh, dc: dc, dz: dz,
                                     rows: rows, hidden: hidden)
        }
    }

    /// gates (rows, 4H) = i, f, g, o; cPrev, actC (rows, H); dh (rows, H) in;
    /// dc (rows, H): dc_{t+1}·f_{t+1} in, dc_t·f_t out; dz (rows, 4H) out.
    private func lstmCellBackward<A: CellActivation>(_: A.Type, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                                     actC: UnsafePointer<Float>, dh: UnsafePointer<Float>,
                                                     dc: UnsafeMutablePointer<Float>, dz: UnsafeMutablePointer<Float>,
                                                     rows: Int, hidden: Int) {
        @_transparent func unit(_ gr: UnsafePointer<Float>, _ dzr: UnsafeMutablePointer<Float>, _ off: Int, _ j: Int, _ n: Int) {
            let iv = get(gr + j, n), fv = get(gr + hidden + j, n)
            let gv = get(gr + 2 * hidden + j, n), ov = get(gr + 3 * hidden + j, n)
            let av = get(actC + off + j, n), dhv = get(dh + off + j, n)
            let dcv = get(dc + off + j, n) + dhv * ov * A.derivative(output: av)
            let dzi = dcv * gv * iv * (1 - iv)
            let dzf = dcv * get(cPrev + off + j, n) * fv * (1 - fv)
            let dzg = dcv * iv * A.derivative(output: gv)
            let dzo = dhv * av * ov * (1 - ov)
            put(dzi, dzr + j, n); put(dzf, dzr + hidden + j, n); put(dzg, dzr + 2 * hidden + j, n); put(dzo, dzr + 3 * hidden + j, n)
            put(dcv * fv, dc + off + j, n)
        }
        let whole = hidden / 16 * 16
        for r in 0..<rows {
            let gr = gates + r * 4 * hidden, dzr = dz + r * 4 * hidden, off = r * hidden
            var j = 0
            while j < whole { unit(gr, dzr, off, j, 16); j += 16 }
            if whole < hidden { unit(gr, dzr, off, whole, hidden - whole) }
        }
    }

    /// h (rows, H) = act(z (rows, H) + bias (H))
    private func rnnCellForward(z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                rows: Int, hidden: Int) {
        let whole = hidden / 16 * 16, tail = hidden - whole
        for r in 0..<rows {
            let zr = z + r * hidden, hr = h + r * hidden
            switch activation {
            case .tanh:
                for j in stride(from: 0, to: whole, by: 16) { store(vtanh(load(zr + j) + load(bias + j)), hr + j) }
                if tail > 0 { put(vtanh(get(zr + whole, tail) + get(bias + whole, tail)), hr + whole, tail) }
            case .relu:
                for j in stride(from: 0, to: whole, by: 16) { store(vrelu(load(zr + j) + load(bias + j)), hr + j) }
                if tail > 0 { put(vrelu(get(zr + whole, tail) + get(bias + whole, tail)), hr + whole, tail) }
            }
        }
    }

    /// dz (rows, H) = dh · act'(z), from the outputs h (rows, H)
    private func rnnCellBackward(h: UnsafePointer<Float>, dh: UnsafePointer<Float>, dz: UnsafeMutablePointer<Float>,
                                 rows: Int, hidden: Int) {
        let count = rows * hidden
        switch activation {
        case .tanh: for j in 0..<count { dz[j] = dh[j] * (1 - h[j] * h[j]) }
        case .relu: for j in 0..<count { dz[j] = h[j] > 0 ? dh[j] : 0 }
        }
    }
}

/// The recurrent activation as a type: cell loops are specialised for it.
protocol CellActivation {
    static func apply(_ v: Vector) -> Vector
    /// act'(x) written in terms of y = act(x).
    static func derivative(output y: Vector) -> Vector
}

enum TanhActivation: CellActivation {
    @_transparent static func apply(_ v: Vector) -> Vector { vtanh(v) }
    @_transparent static func derivative(output y: Vector) -> Vector { 1 - y * y }
}

enum ReLUActivation: CellActivation {
    @_transparent static func apply(_ v: Vector) -> Vector { vrelu(v) }
    @_transparent static func derivative(output y: Vector) -> Vector {
        Vector(repeating: 0).replacing(with: 1, where: y .> 0)
    }
}
