import Foundation

/// Statistics for comparing runs over seeds: pure functions over `[Double]` with no I/O,
/// every result a `Sendable` value type. Nothing here depends on anything outside the
/// toolchain; each function is checked against SciPy (or statsmodels) values in
/// `Tests/HarnessKitTests/StatisticsTests.swift`, printed by `statistics_reference.py`.
///
/// One file per family:
/// - `Special.swift`: log-gamma, log-beta, the regularized incomplete beta function and its
///   inverse, the standard normal CDF and quantile.
/// - `StudentT.swift`: Student's t distribution and the one-sample t interval.
/// - `Summary.swift`: count, mean, standard deviation, standard error, t interval, and a
///   seeded percentile bootstrap interval of the mean.
/// - `Paired.swift`: the paired t-test, the Wilcoxon signed-rank test and Hedges' g for
///   paired data.
/// - `MultipleTesting.swift`: Holm's step-down adjusted p-values.
/// - `McNemar.swift`: the exact McNemar test and the binomial CDF.
/// - `Equivalence.swift`: TOST (two one-sided t-tests) against a reference value.
/// - `Power.swift`: the noncentral t CDF, the power of a paired t-test and the number of
///   seeds that reaches a target power.
///
/// Conventions:
/// - Functions over samples refuse what they cannot summarise by throwing
///   `Statistics.InputError`: an empty sample (or fewer values than the method needs),
///   a NaN or infinite value, paired samples of different lengths, a confidence level
///   outside (0, 1). They never return a NaN for a NaN input.
/// - Functions of one number (distribution functions, special functions) follow SciPy:
///   an argument outside the domain, or a NaN, gives NaN.
/// - Where SciPy's answer is NaN for a degenerate but meaningful sample (zero variance,
///   all differences zero), each function documents what it returns instead, or that it
///   returns the same NaN.
public enum Statistics {
    /// Why a function over samples refused its input.
    public enum InputError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Fewer values than the method needs (an empty sample has 0).
        case tooFewValues(required: Int, actual: Int)
        /// A NaN or infinite value at `index` (of the first sample that has one).
        case nonFinite(index: Int)
        /// Paired samples whose lengths differ.
        case lengthMismatch(Int, Int)
        /// An argument outside its range, named with the range it must lie in.
        case invalidArgument(String)

        public var description: String {
            switch self {
            case let .tooFewValues(required, actual):
                return "needs at least \(required) value\(required == 1 ? "" : "s"), got \(actual)"
            case let .nonFinite(index): return "value \(index) is NaN or infinite"
            case let .lengthMismatch(a, b): return "paired samples differ in length (\(a) and \(b))"
            case let .invalidArgument(text): return text
            }
        }
    }

    /// A closed interval [lower, upper], as a confidence interval.
    public struct Interval: Sendable, Hashable, CustomStringConvertible {
        public let lower: Double
        public let upper: Double

        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }

        public var width: Double { upper - lower }

        public func contains(_ x: Double) -> Bool { lower <= x && x <= upper }

        public var description: String { "[\(lower), \(upper)]" }
    }

    // MARK: input checks shared by the families

    /// Throws unless `values` holds at least `minimum` values, all finite.
    static func check(_ values: [Double], atLeast minimum: Int) throws(InputError) {
        guard values.count >= minimum else { throw .tooFewValues(required: minimum, actual: values.count) }
        if let index = values.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(index: index) }
    }

    /// Throws unless `x` and `y` have the same length, at least `minimum`, all finite.
    static func checkPaired(_ x: [Double], _ y: [Double], atLeast minimum: Int) throws(InputError) {
        guard x.count == y.count else { throw .lengthMismatch(x.count, y.count) }
        try check(x, atLeast: minimum)
        try check(y, atLeast: minimum)
    }

    /// Throws unless 0 < confidence < 1.
    static func check(confidence: Double) throws(InputError) {
        guard confidence > 0, confidence < 1 else {
            throw .invalidArgument("confidence must lie strictly between 0 and 1, got \(confidence)")
        }
    }

    /// The elementwise differences x - y of finite paired samples.
    static func differences(_ x: [Double], _ y: [Double]) -> [Double] {
        zip(x, y).map { $0 - $1 }
    }

    /// The arithmetic mean: the sum in order, divided by the count.
    static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(values.count)
    }

    /// The sample variance (n - 1 in the denominator) by two passes, for n >= 2.
    static func sampleVariance(_ values: [Double], mean: Double) -> Double {
        values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    }
}
