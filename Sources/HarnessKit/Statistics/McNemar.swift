import Foundation

extension Statistics {
    /// The exact McNemar test of two classifiers on the same examples (statsmodels
    /// mcnemar(table, exact=True)): of the discordant pairs, b where only the first is
    /// right and c where only the second is, under the null hypothesis each discordant
    /// pair falls either way with probability 1/2, and
    /// p = min(1, 2·P(Binomial(b + c, 1/2) <= min(b, c))). No discordant pairs give p = 1.
    public struct McNemarTest: Sendable, Hashable {
        /// Pairs where only the first is right.
        public let onlyFirst: Int
        /// Pairs where only the second is right.
        public let onlySecond: Int
        /// Two-sided.
        public let p: Double

        public init(onlyFirst b: Int, onlySecond c: Int) {
            precondition(b >= 0 && c >= 0, "discordant counts cannot be negative")
            onlyFirst = b
            onlySecond = c
            p = min(1, 2 * binomialCDF(min(b, c), trials: b + c, probability: 0.5))
        }
    }

    /// The exact McNemar test from per-example correctness of two classifiers evaluated on
    /// the same examples in the same order. Throws when the lengths differ.
    public static func exactMcNemar(firstCorrect: [Bool], secondCorrect: [Bool]) throws(InputError) -> McNemarTest {
        guard firstCorrect.count == secondCorrect.count else {
            throw .lengthMismatch(firstCorrect.count, secondCorrect.count)
        }
        var b = 0, c = 0
        for (first, second) in zip(firstCorrect, secondCorrect) {
            if first && !second { b += 1 }
            if second && !first { c += 1 }
        }
        return McNemarTest(onlyFirst: b, onlySecond: c)
    }

    /// P(X <= k) for X ~ Binomial(n, p) (scipy.stats.binom.cdf): 0 for k < 0, 1 for
    /// k >= n, otherwise I_{1-p}(n - k, k + 1), the regularized incomplete beta function,
    /// accurate to about 1e-14 relative; NaN for p outside [0, 1] or n < 0.
    public static func binomialCDF(_ k: Int, trials n: Int, probability p: Double) -> Double {
        guard n >= 0, p >= 0, p <= 1 else { return .nan }
        if k < 0 { return 0 }
        if k >= n { return 1 }
        return incompleteBeta(a: Double(n - k), b: Double(k + 1), x: 1 - p, y: p).lower
    }
}
