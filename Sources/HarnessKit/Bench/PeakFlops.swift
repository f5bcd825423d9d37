import Engine
import Foundation

/// The machine's fused multiply-add peak, measured rather than derived from a clock
/// rate: /proc/cpuinfo shows the base clock, not the boost clock the cores really run
/// at (on the 2-core AMD EPYC machines here it says 2.45 GHz, while the FMA units
/// deliver what 3 GHz would), so a computed peak makes every "% of peak" look better
/// than it is.
///
/// Each thread runs twelve independent chains of vector FMAs, enough to cover the FMA
/// latency on two units, once with 8 lanes (AVX2's ymm registers: all twelve fit) and
/// once with 16 (AVX-512's zmm), and the faster form counts. All threads of the pool
/// run at once, so shared clocks and power limits show.
public enum PeakFlops {
    /// GFLOP/s per core (an FMA counts as two floating-point operations): the median
    /// of `repeats` measurements of about `seconds` each.
    public static func measure(threads: Int, seconds: Double = 0.2, repeats: Int = 3) -> Double {
        let pool = ThreadPool(threads: threads)
        var rates: [Double] = []
        for _ in 0..<repeats {
            let narrow = rate(pool: pool, seconds: seconds, flopsPerIteration: 12 * 8 * 2) {
                fmaChains(SIMD8<Float>.self, iterations: $0)
            }
            let wide = rate(pool: pool, seconds: seconds, flopsPerIteration: 12 * 16 * 2) {
                fmaChains(SIMD16<Float>.self, iterations: $0)
            }
            rates.append(max(narrow, wide))
        }
        return median(rates)
    }

    /// Per-core GFLOP/s of `kernel(iterations)` run on every thread of `pool` at once.
    private static func rate(pool: ThreadPool, seconds: Double, flopsPerIteration: Double,
                             _ kernel: @escaping @Sendable (Int) -> Float) -> Double {
        // Calibrate the iteration count on one thread, then time all threads together.
        var iterations = 1 << 16
        while true {
            let start = Clock.now()
            blackHole(kernel(iterations))
            let elapsed = Clock.now() - start
            if elapsed > seconds / 8 { iterations = Int(Double(iterations) * seconds / elapsed); break }
            iterations *= 4
        }
        let start = Clock.now()
        pool.run { _ in blackHole(kernel(iterations)) }
        let elapsed = Clock.now() - start
        return Double(iterations) * flopsPerIteration / elapsed / 1e9
    }
}

/// Twelve independent chains a = a·b + c of `V` vectors (they converge to c / (1 - b), so
/// no overflow or denormals however long they run).
@inline(never)
private func fmaChains<V: SIMD>(_: V.Type, iterations: Int) -> Float where V.Scalar == Float {
    let b = V(repeating: 0.999_9), c = V(repeating: 1e-4)
    var a0 = V(repeating: 0.1), a1 = V(repeating: 0.2), a2 = V(repeating: 0.3), a3 = V(repeating: 0.4)
    var a4 = V(repeating: 0.5), a5 = V(repeating: 0.6), a6 = V(repeating: 0.7), a7 = V(repeating: 0.8)
    var a8 = V(repeating: 0.9), a9 = V(repeating: 1.1), a10 = V(repeating: 1.2), a11 = V(repeating: 1.3)
    for _ in 0..<iterations {
        a0 = c.addingProduct(a0, b); a1 = c.addingProduct(a1, b); a2 = c.addingProduct(a2, b)
        a3 = c.addingProduct(a3, b); a4 = c.addingProduct(a4, b); a5 = c.addingProduct(a5, b)
        a6 = c.addingProduct(a6, b); a7 = c.addingProduct(a7, b); a8 = c.addingProduct(a8, b)
        a9 = c.addingProduct(a9, b); a10 = c.addingProduct(a10, b); a11 = c.addingProduct(a11, b)
    }
    return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
}

/// Keeps a result alive so the optimiser cannot drop the loop that made it.
@inline(never)
private func blackHole(_ value: Float) {
    if value.bitPattern == 0x7FC0_1234 { StandardStream.output.write("\(value)\n") }
}
