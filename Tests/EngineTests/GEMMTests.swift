import XCTest
@testable import Engine

/// The matrix multiply against a plain sum, and its bit-exactness across splits and packing.
final class GEMMTests: XCTestCase {
    func testGEMMAgainstNaiveProduct() {
        var g = SeededGenerator(seed: 8)
        // Row tails of 1-5, column tails, K past one depth chunk, M past one row block.
        for (m, n, k) in [(1, 1, 1), (6, 16, 5), (7, 17, 3), (13, 40, 29), (50, 256, 64), (5, 3, 0),
                          (2, 20, 300), (4, 16, 257), (203, 33, 600), (99, 48, 512)] {
            for transposedA in [false, true] {
                let a = (0..<(m * max(k, 1))).map { _ in g.uniform(-1, 1) }
                let b = (0..<(max(k, 1) * n)).map { _ in g.uniform(-1, 1) }
                var c = (0..<(m * n)).map { _ in g.uniform(-1, 1) }
                let c0 = c
                // A (m, k) stored either row-major or as its transpose (k, m).
                let (rs, cs) = transposedA ? (1, m) : (k, 1)
                gemm(m: m, n: n, k: k, a: a, aRowStride: rs, aColStride: cs, b: b, ldb: n, c: &c, ldc: n, accumulate: true)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = Double(c0[i * n + j]), magnitude = abs(sum)
                        for p in 0..<k {
                            let term = Double(a[i * rs + p * cs]) * Double(b[p * n + j])
                            sum += term
                            magnitude += abs(term)
                        }
                        // Float32 rounding grows with the sum of the terms' magnitudes, not with the result.
                        XCTAssertLessThanOrEqual(abs(Double(c[i * n + j]) - sum), 1e-6 * magnitude + 1e-6,
                                  "(\(m),\(n),\(k)) transposed \(transposedA) at (\(i),\(j)): \(c[i * n + j]) vs \(sum)")
                    }
                }
            }
        }
    }

    /// Splitting M across calls (as threads do) and packing B must not change a single bit,
    /// also when K spans several depth chunks and M several row blocks.
    func testGEMMIsBitIdenticalAcrossSplitsAndPacking() {
        var g = SeededGenerator(seed: 9)
        let (m, n, k) = (200, 40, 700)
        let a = (0..<(m * k)).map { _ in Float(g.uniform(-1, 1)) }
        let b = (0..<(k * n)).map { _ in Float(g.uniform(-1, 1)) }
        let start = (0..<(m * n)).map { _ in Float(g.uniform(-1, 1)) }
        var whole = start
        gemm(m: m, n: n, k: k, a: a, aRowStride: k, aColStride: 1, b: b, ldb: n, c: &whole, ldc: n, accumulate: true)
        var packed = [Float](repeating: 0, count: packedPanelCount(k: k, n: n))
        packPanels(b, k: k, n: n, kStride: n, nStride: 1, into: &packed)
        for split in [1, 5, 97, 100, 163] {
            var parts = start
            a.withUnsafeBufferPointer { a in
                packed.withUnsafeBufferPointer { p in
                    parts.withUnsafeMutableBufferPointer { c in
                        let bp = MatrixB.packed(p.baseAddress!, n: n)
                        gemm(m: split, n: n, k: k, a: a.baseAddress!, aRowStride: k, aColStride: 1, b: bp,
                             c: c.baseAddress!, ldc: n, accumulate: true)
                        gemm(m: m - split, n: n, k: k, a: a.baseAddress! + split * k, aRowStride: k, aColStride: 1, b: bp,
                             c: c.baseAddress! + split * n, ldc: n, accumulate: true)
                    }
                }
            }
            XCTAssertEqual(parts.map(\.bitPattern), whole.map(\.bitPattern), "rows split at \(split), B packed")
        }
    }
}
