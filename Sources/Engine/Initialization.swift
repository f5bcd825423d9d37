import Foundation

/// How a model's weights start.
///
/// - `pytorch`: torch.nn's defaults. Every weight and bias of a layer is U(-1/√fan_in, 1/√fan_in).
/// - `keras`: Keras's defaults. Kernels are Glorot-uniform, U(±√(6 / (fan_in + fan_out))).
///   Recurrent kernels are orthogonal, and biases are zero, except the LSTM forget gate's,
///   which is 1 (`unit_forget_bias`).
///
/// Why both: a model written for one framework can depend on its defaults. The Keras
/// notebook's LSTM (002) has ReLU activations. With PyTorch's initialisation its recurrence
/// starts out too loud, and training stalls or spikes. With Keras's it trains as the
/// notebook's did.
public enum WeightInitialization: String, Sendable, CaseIterable {
    case pytorch, keras
}

extension SeededGenerator {
    /// A standard normal draw (Box-Muller on two uniform draws, in Double).
    public mutating func standardNormal() -> Double {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1 - Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

extension Parameter {
    /// Fills the value with Glorot-uniform draws, U(±√(6 / (fanIn + fanOut))), in storage order.
    public func initializeGlorotUniform(fanIn: Int, fanOut: Int, using generator: inout SeededGenerator) {
        initializeUniform(bound: (6 / Float(fanIn + fanOut)).squareRoot(), using: &generator)
    }

    /// A (rows, cols) matrix with orthonormal rows (rows ≤ cols) or columns (rows ≥ cols),
    /// as Keras's `Orthogonal` initialiser makes it. A (max, min) matrix of normal draws is
    /// orthonormalised column by column (modified Gram-Schmidt). That is the Q of its QR
    /// factorisation with R's diagonal made positive, as Keras does with its sign
    /// correction. It is transposed when the matrix is wider than tall.
    public func initializeOrthogonal(using generator: inout SeededGenerator) {
        precondition(shape.count == 2, "an orthogonal initialisation needs a matrix, not shape \(shape)")
        let rows = shape[0], cols = shape[1]
        let long = max(rows, cols), short = min(rows, cols)
        // columns[j] is column j of the (long, short) matrix.
        var columns = (0..<short).map { _ in [Double](repeating: 0, count: long) }
        for r in 0..<long {
            for j in 0..<short { columns[j][r] = generator.standardNormal() }   // row-major draw order, as numpy's
        }
        for j in 0..<short {
            for k in 0..<j {
                let projection = zip(columns[j], columns[k]).reduce(0) { $0 + $1.0 * $1.1 }
                for r in 0..<long { columns[j][r] -= projection * columns[k][r] }
            }
            let norm = columns[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
            for r in 0..<long { columns[j][r] /= norm }
        }
        for r in 0..<rows {
            for c in 0..<cols {
                // (long, short) is (rows, cols) when tall, its transpose when wide.
                value[r * cols + c] = Float(rows >= cols ? columns[c][r] : columns[r][c])
            }
        }
    }
}
