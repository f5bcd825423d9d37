/// Sparse products for pruned inference, in a feature-major layout.
///
/// Activations are stored feature-major for a tile of `lanes` samples: X (K, lanes),
/// one contiguous row of samples per feature. A weight matrix W (K, N), stored
/// input-major like every layer's weights, is compressed by output: row j of Wᵀ lists
/// the non-zero W[k][j] with their input k. Then
///
///     Z (N, lanes) = Wᵀ · X:   Z[j] = Σ_{(k, w) in row j} w · X[k]
///
/// and each non-zero weight costs lanes/16 SIMD16 fused multiply-adds over a contiguous
/// row of X: the same work per useful multiply-add as the dense kernel, with the
/// pruned ones skipped.

/// Wᵀ in compressed sparse rows.
struct SparseRows: Sendable {
    struct Entry: Sendable {
        var input: Int32
        var weight: Float
    }

    /// Row r's entries are entries[starts[r]..<starts[r + 1]], in increasing input order.
    let starts: [Int]
    let entries: [Entry]
    var rows: Int { starts.count - 1 }

    /// Stacks `blocks` of input-major weights vertically, W = [W_0; W_1; ...] (Σ K_b, N),
    /// and compresses Wᵀ keeping only non-zero weights. Row r of the result is column
    /// `order[r]` of W, so callers choose the order in which outputs are produced.
    init(blocks: [(weights: UnsafePointer<Float>, inputs: Int)], columns: Int, order: [Int]) {
        var starts = [0]
        var entries: [Entry] = []
        for column in order {
            precondition((0..<columns).contains(column), "output \(column) is outside 0..<\(columns)")
            var base = 0
            for block in blocks {
                for k in 0..<block.inputs {
                    let w = block.weights[k * columns + column]
                    if w != 0 { entries.append(Entry(input: Int32(base + k), weight: w)) }
                }
                base += block.inputs
            }
            starts.append(entries.count)
        }
        self.starts = starts
        self.entries = entries
    }
}

/// Lane counts a tile may have: 16, 32, 48 or 64 samples (one to four SIMD16 vectors).
/// Four vectors keep eight AVX2 accumulators busy, enough to hide the FMA latency.
enum TileWidth {
    static let maximum = 64

    /// The width of the next tile for `remaining` samples: 64 while that many remain,
    /// then the multiple of 16 that holds the rest (padding lanes are computed and discarded).
    static func next(remaining: Int) -> Int {
        min(maximum, (remaining + 15) / 16 * 16)
    }
}

/// out (lanes) = bias + Σ_{e in range} entries[e].weight · x[entries[e].input] (lanes),
/// for lanes = 16·vectors; x rows are `lanes` apart.
@inline(__always)
func sparseRowProduct(_ entries: UnsafePointer<SparseRows.Entry>, _ range: Range<Int>, bias: Float,
                      x: UnsafePointer<Float>, vectors: Int, out: UnsafeMutablePointer<Float>) {
    // The vector count is a constant at each call below, so each form keeps exactly its
    // accumulators in registers (the same technique as gemm's kernelRows).
    switch vectors {
    case 4: sparseRowProduct(entries, range, bias: bias, x: x, lanes: 64, out: out)
    case 3: sparseRowProduct(entries, range, bias: bias, x: x, lanes: 48, out: out)
    case 2: sparseRowProduct(entries, range, bias: bias, x: x, lanes: 32, out: out)
    case 1: sparseRowProduct(entries, range, bias: bias, x: x, lanes: 16, out: out)
    default: preconditionFailure("a tile has 1 to 4 vectors, not \(vectors)")
    }
}

@inline(__always)
private func sparseRowProduct(_ entries: UnsafePointer<SparseRows.Entry>, _ range: Range<Int>, bias: Float,
                              x: UnsafePointer<Float>, lanes: Int, out: UnsafeMutablePointer<Float>) {
    var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
    for e in range {
        let entry = entries[e]
        let w = Vector(repeating: entry.weight), p = x + Int(entry.input) &* lanes
        a0 = a0.addingProduct(w, load(p))
        if lanes > 16 { a1 = a1.addingProduct(w, load(p + 16)) }
        if lanes > 32 { a2 = a2.addingProduct(w, load(p + 32)) }
        if lanes > 48 { a3 = a3.addingProduct(w, load(p + 48)) }
    }
    let b = Vector(repeating: bias)
    store(b + a0, out)
    if lanes > 16 { store(b + a1, out + 16) }
    if lanes > 32 { store(b + a2, out + 32) }
    if lanes > 48 { store(b + a3, out + 48) }
}

/// Z (rows, lanes) = bias + Wᵀ · X for all rows of `matrix`, optionally through ReLU.
/// x (K, lanes), z (rows, lanes), bias (rows).
func sparseProduct(_ matrix: SparseRows, bias: UnsafePointer<Float>, x: UnsafePointer<Float>, vectors: Int,
                   relu: Bool, into z: UnsafeMutablePointer<Float>) {
    let lanes = 16 * vectors
    matrix.entries.withUnsafeBufferPointer { entries in
        matrix.starts.withUnsafeBufferPointer { starts in
            for r in 0..<matrix.rows {
                let out = z + r * lanes
                sparseRowProduct(entries.baseAddress!, starts[r]..<starts[r + 1], bias: bias[r], x: x,
                                 vectors: vectors, out: out)
                if relu {
                    for v in stride(from: 0, to: lanes, by: 16) { store(vrelu(load(out + v)), out + v) }
                }
            }
        }
    }
}
