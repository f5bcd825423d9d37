/// A seeded pseudo-random generator (xoshiro256**, state seeded by SplitMix64).
///
/// Everything random in harness (weight initialisation, shuffling, dropout masks,
/// training-subset selection) draws from this generator, and every method here is
/// defined bit-for-bit, so the same seed gives the same numbers on every machine and
/// every Swift version. (The standard library's `random(in:using:)` makes no such
/// promise across versions.)
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// A generator for a named purpose derived from a base seed, so that, say, the
    /// dropout stream does not shift when the initialisation draws one more number.
    public init(seed: UInt64, stream: String) {
        // FNV-1a over the stream name, mixed into the seed.
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        self.init(seed: seed ^ h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every Float in the range is reachable
    /// at the same spacing).
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextUnitFloat()
    }

    /// Uniform integer in 0..<bound (Lemire's unbiased multiply-shift method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Fisher-Yates shuffle with this generator's draws.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shuffle(&indices)
        return indices
    }
}
