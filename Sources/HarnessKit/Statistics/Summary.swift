import Engine
import Foundation

extension Statistics {
    /// Count, mean, sample standard deviation (n - 1 in the denominator), standard error
    /// of the mean and its t interval, of finite values.
    public struct Summary: Sendable, Hashable {
        public let count: Int
        /// The sum in order divided by the count (numpy sums pairwise; the two agree to
        /// about 1e-15 relative for the sample sizes of seeds).
        public let mean: Double
        /// √(Σ(x - mean)² / (n - 1)) (numpy.std(ddof=1)), by two passes; nil for one
        /// value; 0 for values all equal.
        public let standardDeviation: Double?

        /// Throws `InputError` for an empty sample or a NaN or infinite value.
        public init(_ values: [Double]) throws(InputError) {
            try check(values, atLeast: 1)
            count = values.count
            let mean = Statistics.mean(values)
            self.mean = mean
            standardDeviation = values.count >= 2 ? sampleVariance(values, mean: mean).squareRoot() : nil
        }

        /// sd / √n (scipy.stats.sem); nil for one value.
        public var standardError: Double? {
            standardDeviation.map { $0 / Double(count).squareRoot() }
        }

        /// mean ± t·sem with n - 1 degrees of freedom (scipy.stats.t.interval); nil for
        /// one value, [mean, mean] for zero variance (SciPy answers NaN there), nil for a
        /// confidence outside (0, 1).
        public func tInterval(confidence: Double = 0.95) -> Interval? {
            guard let standardError, confidence > 0, confidence < 1 else { return nil }
            return Statistics.tInterval(mean: mean, standardError: standardError,
                                        degreesOfFreedom: Double(count - 1), confidence: confidence)
        }
    }

    /// The percentile bootstrap interval of the mean: `replicates` resamples of the
    /// values with replacement, each of the same size, their means sorted, and the
    /// (1 - confidence)/2 and (1 + confidence)/2 quantiles of those means by
    /// `linearQuantile` (numpy.quantile's default, method="linear").
    ///
    /// Deterministic: resample i, position j draws index `nextInt(below: n)` from one
    /// `SeededGenerator(seed: seed)`, resample after resample, so the same values, seed and
    /// replicate count give the same interval on every machine (the reference script
    /// reimplements the generator and reproduces the interval digit for digit). A
    /// replicate's mean is its sum in draw order divided by n.
    ///
    /// One value gives [value, value]. Throws for an empty sample, a non-finite value, a
    /// confidence outside (0, 1) or fewer than 1 replicate. Costs n × replicates draws.
    public static func percentileBootstrapInterval(_ values: [Double], confidence: Double = 0.95,
                                                   replicates: Int = 10_000, seed: UInt64) throws(InputError) -> Interval {
        try check(values, atLeast: 1)
        try check(confidence: confidence)
        guard replicates >= 1 else { throw .invalidArgument("replicates must be at least 1, got \(replicates)") }
        let means = bootstrapMeans(values, replicates: replicates, seed: seed).sorted()
        let lowerLevel = (1 - confidence) / 2
        return Interval(lower: linearQuantile(sorted: means, lowerLevel),
                        upper: linearQuantile(sorted: means, 1 - lowerLevel))
    }

    /// The means of `replicates` resamples with replacement, in the order drawn.
    static func bootstrapMeans(_ values: [Double], replicates: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let n = values.count
        var means = [Double](repeating: 0, count: replicates)
        values.withUnsafeBufferPointer { values in
            for replicate in 0..<replicates {
                var sum = 0.0
                for _ in 0..<n { sum += values[generator.nextInt(below: n)] }
                means[replicate] = sum / Double(n)
            }
        }
        return means
    }

    /// The q-quantile (0 <= q <= 1) of ascending `sorted` values by linear interpolation
    /// between order statistics, operation for operation as numpy.quantile's default
    /// (method="linear"): h = (n - 1)·q, i = ⌊h⌋, g = h - i, and with a = x[i],
    /// b = x[i+1], a + (b - a)·g when g < 1/2, else b - (b - a)·(1 - g); x[n-1] when
    /// h >= n - 1. NaN for an empty array or q outside [0, 1].
    public static func linearQuantile(sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty, q >= 0, q <= 1 else { return .nan }
        let h = Double(sorted.count - 1) * q
        if h >= Double(sorted.count - 1) { return sorted[sorted.count - 1] }
        let i = h.rounded(.down)
        let g = h - i
        let a = sorted[Int(i)], b = sorted[Int(i) + 1]
        let difference = b - a
        return g >= 0.5 ? b - difference * (1 - g) : a + difference * g
    }
}
