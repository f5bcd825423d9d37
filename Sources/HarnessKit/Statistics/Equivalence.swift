import Foundation

extension Statistics {
    /// TOST, two one-sided t-tests of equivalence of a sample's mean to a reference value
    /// within ±margin: H₀ |μ - reference| >= margin against H₁ |μ - reference| < margin.
    ///
    /// Lower test: t = (mean - (reference - margin)) / sem, p = P(T >= t)
    /// (scipy.stats.ttest_1samp(values, reference - margin, alternative="greater")).
    /// Upper test: t = (mean - (reference + margin)) / sem, p = P(T <= t)
    /// (ttest_1samp(values, reference + margin, alternative="less")). The TOST p-value is
    /// the larger of the two; equivalence is declared at level α when it is below α, which
    /// is the same as the (1 - 2α) t interval lying inside the margin.
    ///
    /// For paired samples, test the differences against 0.
    public struct EquivalenceTest: Sendable, Hashable {
        public let count: Int
        public let mean: Double
        public let reference: Double
        public let margin: Double
        /// The lower test's statistic and one-sided p.
        public let lowerStatistic: Double
        public let lowerP: Double
        /// The upper test's statistic and one-sided p.
        public let upperStatistic: Double
        public let upperP: Double
        public let degreesOfFreedom: Double

        /// max(lowerP, upperP); NaN when either is NaN.
        public var p: Double { lowerP.isNaN || upperP.isNaN ? .nan : max(lowerP, upperP) }

        /// Whether p < alpha: the mean lies within ±margin of the reference with
        /// confidence 1 - alpha. False when p is NaN.
        public func isEquivalent(alpha: Double = 0.05) -> Bool { p < alpha }
    }

    /// TOST of `values` against `reference` with `margin` > 0: at least 2 finite values.
    ///
    /// With zero variance the statistics are ±inf and each p is 0 or 1, as SciPy's: the
    /// mean strictly inside the margin is equivalent, outside it is not; a mean exactly on
    /// a bound gives 0/0, NaN, and is not equivalent.
    public static func tost(_ values: [Double], reference: Double, margin: Double) throws(InputError) -> EquivalenceTest {
        try check(values, atLeast: 2)
        guard reference.isFinite else { throw .invalidArgument("reference must be finite, got \(reference)") }
        guard margin > 0, margin.isFinite else { throw .invalidArgument("margin must be positive and finite, got \(margin)") }
        let n = values.count, mean = mean(values)
        let sem = (sampleVariance(values, mean: mean) / Double(n)).squareRoot()
        let df = Double(n - 1)
        let distribution = StudentT(degreesOfFreedom: df)
        let lower = (mean - (reference - margin)) / sem
        let upper = (mean - (reference + margin)) / sem
        return EquivalenceTest(count: n, mean: mean, reference: reference, margin: margin,
                               lowerStatistic: lower, lowerP: distribution.survival(lower),
                               upperStatistic: upper, upperP: distribution.cdf(upper), degreesOfFreedom: df)
    }
}
