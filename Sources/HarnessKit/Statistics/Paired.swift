import Foundation

// Tests for paired samples: the same seeds run under two settings, differences x - y.

extension Statistics {
    // MARK: paired t-test

    /// The paired t-test of x against y (scipy.stats.ttest_rel(x, y), two-sided) on the
    /// differences d = x - y.
    public struct PairedTTest: Sendable, Hashable {
        /// The number of pairs.
        public let count: Int
        /// mean(d).
        public let meanDifference: Double
        /// sd(d) with n - 1 in the denominator.
        public let standardDeviation: Double
        /// mean(d) / (sd(d) / √n): ±inf when all differences are equal and non-zero, NaN
        /// when all are zero (as SciPy).
        public let statistic: Double
        /// n - 1.
        public let degreesOfFreedom: Double
        /// The two-sided p-value 2·P(T > |t|): 0 for an infinite statistic, NaN when all
        /// differences are zero (as SciPy).
        public let p: Double

        /// sd(d) / √n.
        public var standardError: Double { standardDeviation / Double(count).squareRoot() }

        /// mean(d) ± t·sem, t the (1 + confidence)/2 quantile with n - 1 degrees of freedom
        /// (TtestResult.confidence_interval(confidence)); [mean(d), mean(d)] when the
        /// differences have zero variance. Nil for a confidence outside (0, 1).
        public func meanDifferenceInterval(confidence: Double = 0.95) -> Interval? {
            guard confidence > 0, confidence < 1 else { return nil }
            return tInterval(mean: meanDifference, standardError: standardError,
                             degreesOfFreedom: degreesOfFreedom, confidence: confidence)
        }
    }

    /// The paired t-test of `x` against `y`: at least 2 pairs, all finite.
    public static func pairedTTest(_ x: [Double], _ y: [Double]) throws(InputError) -> PairedTTest {
        try checkPaired(x, y, atLeast: 2)
        let d = differences(x, y)
        try check(d, atLeast: 2)
        let n = d.count, mean = mean(d)
        let sd = sampleVariance(d, mean: mean).squareRoot()
        let t = mean / (sd / Double(n).squareRoot())
        let df = Double(n - 1)
        return PairedTTest(count: n, meanDifference: mean, standardDeviation: sd, statistic: t,
                           degreesOfFreedom: df, p: StudentT(degreesOfFreedom: df).twoSidedP(t))
    }

    // MARK: Wilcoxon signed-rank test

    /// The Wilcoxon signed-rank test of x against y, two-sided, on the differences
    /// d = x - y with zero differences dropped (zero_method="wilcox") and tied |d| given
    /// their average rank.
    ///
    /// The p-value is exact for up to `WilcoxonSignedRank.exactLimit` non-zero differences:
    /// the null distribution of the positive rank sum over all 2ⁿ sign assignments, by
    /// dynamic programming over doubled ranks (integers even with ties), and
    /// p = min(1, 2·min(P(R⁺ <= r⁺), P(R⁺ >= r⁺))). Without ties this is
    /// scipy.stats.wilcoxon(x, y, method="exact"); with ties it is SciPy's exact
    /// permutation test, wilcoxon(x, y, method=PermutationMethod()) (method="auto" for
    /// n <= 13), whereas SciPy's method="exact" uses the no-ties distribution with the
    /// statistic rounded, a conservative approximation. Beyond the limit: the normal
    /// approximation with the tie correction and no continuity correction
    /// (method="asymptotic", SciPy's default correction=False). SciPy's default
    /// method="auto" is the approximation already above 50 pairs (above 13 with ties or
    /// zeros), so between those counts and 200 its default p differs from this exact one.
    public struct WilcoxonSignedRank: Sendable, Hashable {
        /// How the p-value was computed.
        public enum Method: String, Sendable {
            case exact
            case normalApproximation
        }

        /// Above this many non-zero differences, the normal approximation (the exact
        /// distribution costs n³ operations: 8·10⁶ at the limit).
        public static let exactLimit = 200

        /// The number of non-zero differences, the n of the test.
        public let count: Int
        /// Differences exactly zero, dropped.
        public let zeroCount: Int
        /// Sum of the ranks of |d| over positive d.
        public let positiveRankSum: Double
        /// Sum of the ranks of |d| over negative d.
        public let negativeRankSum: Double
        /// Whether some non-zero |d| are tied.
        public let hasTies: Bool
        /// Two-sided; 1 when every difference is zero.
        public let p: Double
        public let method: Method

        /// min(R⁺, R⁻), the statistic scipy.stats.wilcoxon reports for a two-sided test.
        public var statistic: Double { min(positiveRankSum, negativeRankSum) }

        /// The smallest two-sided p the test can give with this many non-zero differences.
        public var minimumAchievableP: Double { Self.minimumAchievableP(count) }

        /// The smallest two-sided p-value the exact test can reach with n non-zero
        /// differences, 2/2ⁿ (capped at 1), when all signs agree; ties do not change it,
        /// since only one sign assignment gives R⁺ = 0. Below 0.05 only from n = 6
        /// (2/64 = 0.031); n = 5 gives 0.0625.
        public static func minimumAchievableP(_ n: Int) -> Double {
            n <= 1 ? 1 : min(1, 2 * pow(0.5, Double(n)))
        }
    }

    /// The Wilcoxon signed-rank test of `x` against `y`: at least 1 pair, all finite.
    public static func wilcoxonSignedRank(_ x: [Double], _ y: [Double]) throws(InputError) -> WilcoxonSignedRank {
        try checkPaired(x, y, atLeast: 1)
        let all = differences(x, y)
        try check(all, atLeast: 1)
        let d = all.filter { $0 != 0 }
        let n = d.count
        guard n > 0 else {
            return WilcoxonSignedRank(count: 0, zeroCount: all.count, positiveRankSum: 0, negativeRankSum: 0,
                                      hasTies: false, p: 1, method: .exact)
        }
        let (doubledRanks, tieSizes) = doubledAverageRanks(d.map(abs))
        var doubledPositive = 0
        for (value, rank) in zip(d, doubledRanks) where value > 0 { doubledPositive += rank }
        let doubledTotal = n * (n + 1)
        let positive = Double(doubledPositive) / 2, negative = Double(doubledTotal - doubledPositive) / 2
        let hasTies = tieSizes.contains { $0 > 1 }
        let p: Double, method: WilcoxonSignedRank.Method
        if n <= WilcoxonSignedRank.exactLimit {
            let distribution = signedRankDistribution(doubledRanks: doubledRanks)
            var atMost = 0.0, atLeast = 0.0
            for (sum, probability) in distribution.enumerated() {
                if sum <= doubledPositive { atMost += probability }
                if sum >= doubledPositive { atLeast += probability }
            }
            p = min(1, 2 * min(atMost, atLeast))
            method = .exact
        } else {
            let nn = Double(n)
            let mean = nn * (nn + 1) / 4
            let tieCorrection = tieSizes.reduce(0.0) { $0 + Double($1) * Double($1) * Double($1) - Double($1) }
            let se = ((nn * (nn + 1) * (2 * nn + 1) - tieCorrection / 2) / 24).squareRoot()
            let z = (positive - mean) / se
            p = min(1, 2 * normalCDF(-abs(z)))
            method = .normalApproximation
        }
        return WilcoxonSignedRank(count: n, zeroCount: all.count - n, positiveRankSum: positive,
                                  negativeRankSum: negative, hasTies: hasTies, p: p, method: method)
    }

    /// Twice the average ranks (1-based) of `values`, as integers, and the size of each
    /// group of equal values.
    static func doubledAverageRanks(_ values: [Double]) -> (ranks: [Int], tieSizes: [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Int](repeating: 0, count: values.count), tieSizes: [Int] = []
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
            // Ranks start+1 ... end average to (start + 1 + end) / 2; doubled, start + 1 + end.
            for k in start..<end { ranks[order[k]] = start + 1 + end }
            tieSizes.append(end - start)
            start = end
        }
        return (ranks, tieSizes)
    }

    /// P(2R⁺ = s) for s = 0 ... Σ ranks, each sign + or - with probability 1/2.
    static func signedRankDistribution(doubledRanks: [Int]) -> [Double] {
        let total = doubledRanks.reduce(0, +)
        var distribution = [Double](repeating: 0, count: total + 1)
        distribution[0] = 1
        var reach = 0
        for rank in doubledRanks {
            reach += rank
            // In place from the top: new[s] = (old[s] + old[s - rank]) / 2.
            for s in stride(from: reach, through: 0, by: -1) {
                let shifted = s >= rank ? distribution[s - rank] : 0
                distribution[s] = 0.5 * (distribution[s] + shifted)
            }
        }
        return distribution
    }

    // MARK: effect size

    /// Cohen's thresholds on the absolute value of a standardized effect, as autorank
    /// labels Cohen's d: below 0.2 negligible, below 0.5 small, below 0.8 medium, else large.
    public enum EffectMagnitude: String, Sendable, CaseIterable, Comparable {
        case negligible, small, medium, large

        /// The label of |effect|; nil for NaN.
        public init?(_ effect: Double) {
            let size = abs(effect)
            if size.isNaN { return nil }
            self = size < 0.2 ? .negligible : size < 0.5 ? .small : size < 0.8 ? .medium : .large
        }

        public static func < (a: Self, b: Self) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The standardized mean difference of paired samples.
    ///
    /// d_z = mean(d) / sd(d) for d = x - y (the effect size of the paired t-test, whose
    /// statistic is d_z·√n), and Hedges' g = J·d_z with the small-sample correction
    /// J = 1 - 3 / (4·df - 1), df = n - 1 (Hedges' approximation to
    /// Γ(df/2) / (√(df/2)·Γ((df-1)/2))). Autorank labels Cohen's d for independent
    /// samples with the pooled sd and no correction; for seeds shared between two settings
    /// the differences are the unit, hence d_z.
    public struct PairedEffectSize: Sendable, Hashable {
        public let count: Int
        /// mean(d) / sd(d): ±inf when the differences are equal and non-zero, NaN when all
        /// are zero.
        public let dz: Double
        /// J·d_z; nil for n = 2, where J = 0 (the exact correction is 0 too: with one
        /// degree of freedom 1/sd has no finite mean), so g would read 0 whatever the data.
        public let hedgesG: Double?

        /// J = 1 - 3/(4(n - 1) - 1).
        public var correction: Double { 1 - 3 / (4 * Double(count - 1) - 1) }

        /// Cohen's label of |g|; nil for n = 2 (no g) or when all differences are zero.
        public var magnitude: EffectMagnitude? { hedgesG.flatMap { EffectMagnitude($0) } }
    }

    /// d_z and Hedges' g of `x` against `y`: at least 2 pairs, all finite.
    public static func pairedEffectSize(_ x: [Double], _ y: [Double]) throws(InputError) -> PairedEffectSize {
        try checkPaired(x, y, atLeast: 2)
        let d = differences(x, y)
        try check(d, atLeast: 2)
        let mean = mean(d)
        let dz = mean / sampleVariance(d, mean: mean).squareRoot()
        let n = d.count
        let j = 1 - 3 / (4 * Double(n - 1) - 1)
        return PairedEffectSize(count: n, dz: dz, hedgesG: n >= 3 ? j * dz : nil)
    }
}
