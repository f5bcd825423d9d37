import Engine
import Foundation
import XCTest
@testable import HarnessKit

/// Edge cases and properties of Sources/HarnessKit/Statistics: refused inputs, one and two
/// values, zero variance, all differences zero, ties, determinism of the bootstrap. The
/// SciPy known answers are in StatisticsTests.swift.
extension StatisticsTests {
    // MARK: refused inputs

    func testNonFiniteAndMissingValuesAreRefused() {
        XCTAssertThrowsError(try S.Summary([1, .nan, 3])) { XCTAssertEqual($0 as? S.InputError, .nonFinite(index: 1)) }
        XCTAssertThrowsError(try S.Summary([.infinity])) { XCTAssertEqual($0 as? S.InputError, .nonFinite(index: 0)) }
        XCTAssertThrowsError(try S.Summary([])) { XCTAssertEqual($0 as? S.InputError, .tooFewValues(required: 1, actual: 0)) }
        XCTAssertThrowsError(try S.tInterval([1])) { XCTAssertEqual($0 as? S.InputError, .tooFewValues(required: 2, actual: 1)) }
        XCTAssertThrowsError(try S.tInterval([1, 2], confidence: 1)) {
            guard case .invalidArgument = $0 as? S.InputError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try S.percentileBootstrapInterval([], seed: 1))
        XCTAssertThrowsError(try S.percentileBootstrapInterval([1, 2], replicates: 0, seed: 1))
        XCTAssertThrowsError(try S.pairedTTest([1, 2, 3], [1, 2])) { XCTAssertEqual($0 as? S.InputError, .lengthMismatch(3, 2)) }
        XCTAssertThrowsError(try S.pairedTTest([1], [2])) { XCTAssertEqual($0 as? S.InputError, .tooFewValues(required: 2, actual: 1)) }
        XCTAssertThrowsError(try S.pairedTTest([1, 2], [1, .nan])) { XCTAssertEqual($0 as? S.InputError, .nonFinite(index: 1)) }
        // A difference can overflow although both values are finite.
        XCTAssertThrowsError(try S.pairedTTest([1, .greatestFiniteMagnitude], [0, -.greatestFiniteMagnitude])) {
            XCTAssertEqual($0 as? S.InputError, .nonFinite(index: 1))
        }
        XCTAssertThrowsError(try S.wilcoxonSignedRank([], []))
        XCTAssertThrowsError(try S.wilcoxonSignedRank([.nan], [0]))
        XCTAssertThrowsError(try S.pairedEffectSize([1], [0]))
        XCTAssertThrowsError(try S.holmAdjusted([0.1, .nan]))
        XCTAssertThrowsError(try S.holmAdjusted([0.1, 1.5]))
        XCTAssertThrowsError(try S.tost([1, 2], reference: 1, margin: 0))
        XCTAssertThrowsError(try S.tost([1, 2], reference: .nan, margin: 1))
        XCTAssertThrowsError(try S.tost([1], reference: 1, margin: 1))
        XCTAssertThrowsError(try S.exactMcNemar(firstCorrect: [true], secondCorrect: []))
        XCTAssertEqual(S.InputError.tooFewValues(required: 2, actual: 1).description, "needs at least 2 values, got 1")
    }

    func testScalarFunctionsAnswerNaNOutsideTheirDomain() {
        XCTAssert(S.logGamma(0).isNaN && S.logGamma(-1).isNaN && S.logGamma(.nan).isNaN)
        XCTAssert(S.regularizedIncompleteBeta(1.5, a: 1, b: 1).isNaN)
        XCTAssert(S.regularizedIncompleteBeta(0.5, a: 0, b: 1).isNaN)
        XCTAssert(S.inverseRegularizedIncompleteBeta(-0.1, a: 1, b: 1).isNaN)
        XCTAssert(S.normalQuantile(1.5).isNaN && S.normalQuantile(.nan).isNaN)
        XCTAssertEqual(S.normalQuantile(0), -.infinity)
        XCTAssertEqual(S.normalQuantile(1), .infinity)
        let invalid = S.StudentT(degreesOfFreedom: 0)
        XCTAssert(invalid.cdf(1).isNaN && invalid.quantile(0.5).isNaN && invalid.twoSidedP(1).isNaN)
        XCTAssert(S.StudentT(degreesOfFreedom: 3).cdf(.nan).isNaN)
        XCTAssert(S.noncentralTCDF(1, degreesOfFreedom: -1, noncentrality: 1).isNaN)
        XCTAssert(S.binomialCDF(1, trials: 3, probability: 2).isNaN)
        XCTAssert(S.pairedTTestPower(effectSize: 0.5, count: 1).isNaN)
    }

    // MARK: special functions and distributions

    func testIncompleteBetaAndDistributionEnds() {
        XCTAssertEqual(S.regularizedIncompleteBeta(0, a: 2, b: 3), 0)
        XCTAssertEqual(S.regularizedIncompleteBeta(1, a: 2, b: 3), 1)
        XCTAssertEqual(S.inverseRegularizedIncompleteBeta(0, a: 2, b: 3), 0)
        XCTAssertEqual(S.inverseRegularizedIncompleteBeta(1, a: 2, b: 3), 1)
        let t = S.StudentT(degreesOfFreedom: 4)
        XCTAssertEqual(t.cdf(-.infinity), 0)
        XCTAssertEqual(t.cdf(.infinity), 1)
        XCTAssertEqual(t.cdf(0), 0.5)
        XCTAssertEqual(t.twoSidedP(0), 1)
        XCTAssertEqual(t.quantile(0), -.infinity)
        XCTAssertEqual(t.quantile(1), .infinity)
        XCTAssertEqual(t.quantile(0.5), 0)
        // |t| beyond 1e150, where t² overflows.
        XCTAssertEqual(t.survival(1e200), 0)
        XCTAssertGreaterThan(S.StudentT(degreesOfFreedom: 0.5).survival(1e200), 0)
    }

    func testQuantilesInvertTheirCDFs() {
        // Round trips across df and tails: the quantile's Newton steps leave the tail
        // within rounding of its target.
        for df in [0.3, 1, 2.5, 7, 40, 300] {
            let t = S.StudentT(degreesOfFreedom: df)
            for p in [1e-30, 1e-9, 0.01, 0.2, 0.4999, 0.5001, 0.7, 0.99] {
                let q = t.quantile(p)
                XCTAssert(isCloseRelative(t.cdf(q), p, 1e-12), "df \(df), p \(p): cdf(quantile) = \(t.cdf(q))")
            }
        }
        for p in [1e-300, 1e-30, 1e-5, 0.2, 0.5, 0.8, 1 - 1e-10] {
            XCTAssert(isCloseRelative(S.normalCDF(S.normalQuantile(p)), p, 1e-13), "Φ(Φ⁻¹(\(p)))")
        }
    }

    func testNoncentralTReducesToStudentTAndTheNormalApproximationTakesOver() {
        let t = S.StudentT(degreesOfFreedom: 6)
        for x in [-3.0, -0.5, 0.0, 1.2, 4.0] {
            XCTAssertEqual(S.noncentralTCDF(x, degreesOfFreedom: 6, noncentrality: 0), t.cdf(x))
        }
        // δ = 2·√400 = 40 > 37.6 takes the normal approximation; the power is 1 to 1e-12.
        XCTAssertEqual(S.pairedTTestPower(effectSize: 2, count: 400), 1, accuracy: 1e-12)
        // At δ just below the switch the series gives the same: power 1.
        XCTAssertEqual(S.pairedTTestPower(effectSize: 2, count: 350), 1, accuracy: 1e-12)
        XCTAssertEqual(S.noncentralTCDF(-.infinity, degreesOfFreedom: 3, noncentrality: 1), 0)
        XCTAssertEqual(S.noncentralTCDF(.infinity, degreesOfFreedom: 3, noncentrality: 1), 1)
    }

    // MARK: summaries

    func testSummaryOfOneTwoAndEqualValues() throws {
        let one = try S.Summary([0.91])
        XCTAssertEqual(one.count, 1)
        XCTAssertEqual(one.mean, 0.91)
        XCTAssertNil(one.standardDeviation)
        XCTAssertNil(one.standardError)
        XCTAssertNil(one.tInterval())
        let two = try S.Summary([1, 3])
        XCTAssertEqual(two.standardDeviation, 2.0.squareRoot())
        // t(0.975, 1) = 12.706204736174705 (t.ppf, as in testStudentTQuantileMatchesSciPy).
        let interval = try XCTUnwrap(two.tInterval())
        XCTAssertEqual(interval.upper, 2 + 12.706204736174705, accuracy: 1e-11)
        XCTAssertEqual(try S.tInterval([1, 3]), interval)
        let equal = try S.Summary([0.5, 0.5, 0.5])
        XCTAssertEqual(equal.standardDeviation, 0)
        // SciPy's t.interval answers NaN for scale 0; the interval is the point.
        XCTAssertEqual(equal.tInterval(), S.Interval(lower: 0.5, upper: 0.5))
        XCTAssertEqual(try S.tInterval([0.5, 0.5, 0.5]), S.Interval(lower: 0.5, upper: 0.5))
        XCTAssertNil(equal.tInterval(confidence: 0))
    }

    func testBootstrapIsDeterministicAndDegeneratesSensibly() throws {
        let values = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let a = try S.percentileBootstrapInterval(values, replicates: 3000, seed: 11)
        let b = try S.percentileBootstrapInterval(values, replicates: 3000, seed: 11)
        let c = try S.percentileBootstrapInterval(values, replicates: 3000, seed: 12)
        XCTAssertEqual(a, b, "same seed, same interval")
        XCTAssertNotEqual(a, c, "another seed draws other resamples")
        let mean = try S.Summary(values).mean
        XCTAssert(a.contains(mean) && c.contains(mean), "the interval holds the sample mean")
        XCTAssertLessThanOrEqual(a.lower, a.upper)
        XCTAssertEqual(try S.percentileBootstrapInterval([0.7], seed: 1), S.Interval(lower: 0.7, upper: 0.7))
        XCTAssertEqual(try S.percentileBootstrapInterval([2, 2, 2], seed: 1), S.Interval(lower: 2, upper: 2))
        // A narrower confidence gives a nested interval (same draws).
        let narrow = try S.percentileBootstrapInterval(values, confidence: 0.8, replicates: 3000, seed: 11)
        XCTAssert(a.lower <= narrow.lower && narrow.upper <= a.upper)
    }

    func testBootstrapApproachesTheTIntervalForNormalData() throws {
        // 400 normal values (Φ⁻¹ of the generator's uniforms): the percentile interval of
        // the mean approaches mean ± z·sd/√n. The t interval's half-width differs from it by
        // t(0.975, 399)/1.96 - 1 = 0.3 % and by √(n/(n-1)) = 0.1 %; 10,000 replicates put
        // the 2.5 % quantile within ~2 % of the half-width (its standard error). Allow 5 %.
        var generator = SeededGenerator(seed: 2024)
        let values = (0..<400).map { _ in 3 + 0.5 * S.normalQuantile((Double(generator.next() >> 11) + 0.5) / 9_007_199_254_740_992) }
        let t = try XCTUnwrap(try S.Summary(values).tInterval())
        let bootstrap = try S.percentileBootstrapInterval(values, replicates: 10_000, seed: 5)
        let half = t.width / 2
        XCTAssertEqual(bootstrap.lower, t.lower, accuracy: 0.05 * half)
        XCTAssertEqual(bootstrap.upper, t.upper, accuracy: 0.05 * half)
    }

    func testLinearQuantileEnds() {
        XCTAssert(S.linearQuantile(sorted: [], 0.5).isNaN)
        XCTAssert(S.linearQuantile(sorted: [1], 1.5).isNaN)
        XCTAssertEqual(S.linearQuantile(sorted: [4], 0.3), 4)
        XCTAssertEqual(S.linearQuantile(sorted: [1, 2], 0), 1)
        XCTAssertEqual(S.linearQuantile(sorted: [1, 2], 1), 2)
    }

    // MARK: paired tests

    func testWilcoxonWithAllDifferencesZeroAndTinySamples() throws {
        let zero = try S.wilcoxonSignedRank([1, 2, 3], [1, 2, 3])
        XCTAssertEqual(zero.count, 0)
        XCTAssertEqual(zero.zeroCount, 3)
        XCTAssertEqual(zero.p, 1, "as scipy.stats.wilcoxon([0, 0, 0], method='exact')")
        XCTAssertEqual(zero.statistic, 0)
        let one = try S.wilcoxonSignedRank([2], [1])
        XCTAssertEqual(one.p, 1)
        XCTAssertEqual(one.minimumAchievableP, 1)
        // With [0, 1] SciPy also answers 1: one non-zero difference.
        XCTAssertEqual(try S.wilcoxonSignedRank([0, 1], [0, 0]).p, 1)
        // All equal |d| (one tie group of 4): the exact permutation distribution still
        // reaches 2/2⁴ when all signs agree.
        let tied = try S.wilcoxonSignedRank([1, 1, 1, 1], [0, 0, 0, 0])
        XCTAssertTrue(tied.hasTies)
        XCTAssertEqual(tied.p, 0.125)
        // Swapping x and y leaves the two-sided p unchanged.
        let x = [3.0, 1.5, 2.0, -1.0, 0.0, 2.0, 4.5, -2.0, 1.0, 0.5]
        let zeros = [Double](repeating: 0, count: x.count)
        XCTAssertEqual(try S.wilcoxonSignedRank(x, zeros).p, try S.wilcoxonSignedRank(zeros, x).p)
    }

    func testMinimumAchievableP() {
        XCTAssertEqual((0...7).map(S.WilcoxonSignedRank.minimumAchievableP), [1, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625])
        // The report's question: can n seeds reach 0.05 at all?
        XCTAssertEqual((1...10).first { S.WilcoxonSignedRank.minimumAchievableP($0) < 0.05 }, 6)
    }

    func testEffectSizeEdgesAndLabels() throws {
        let zero = try S.pairedEffectSize([1, 2, 3], [1, 2, 3])
        XCTAssert(zero.dz.isNaN, "0/0 when every difference is zero")
        XCTAssertNil(zero.magnitude)
        let constant = try S.pairedEffectSize([2, 3, 4], [1, 2, 3])
        XCTAssertEqual(constant.dz, .infinity)
        XCTAssertEqual(constant.magnitude, .large)
        XCTAssertEqual(S.EffectMagnitude(0.1999), .negligible)
        XCTAssertEqual(S.EffectMagnitude(0.2), .small)
        XCTAssertEqual(S.EffectMagnitude(-0.49), .small)
        XCTAssertEqual(S.EffectMagnitude(0.5), .medium)
        XCTAssertEqual(S.EffectMagnitude(0.8), .large)
        XCTAssertEqual(S.EffectMagnitude(-3), .large)
        XCTAssertNil(S.EffectMagnitude(.nan))
        XCTAssertLessThan(S.EffectMagnitude.small, S.EffectMagnitude.medium)
        // g shrinks d_z towards zero, most at small n.
        let three = try S.pairedEffectSize([1.0, 2.5, 2.0], [0, 0, 0])
        XCTAssertEqual(three.correction, 1 - 3.0 / 7)
        XCTAssertEqual(try XCTUnwrap(three.hedgesG), three.correction * three.dz)
    }

    // MARK: multiple testing, McNemar, equivalence, power

    func testHolmKeepsInputOrderAndIsMonotone() throws {
        XCTAssertEqual(try S.holmAdjusted([]), [])
        XCTAssertEqual(try S.holmAdjusted([0.03]), [0.03])
        XCTAssertEqual(try S.holmAdjusted([0.6, 0.7]), [1, 1], "capped at 1")
        let p = [0.2, 0.001, 0.04, 0.04, 0.013, 0.5]
        let adjusted = try S.holmAdjusted(p)
        // Any permutation of the input permutes the output the same way.
        let order = [3, 0, 5, 1, 4, 2]
        XCTAssertEqual(try S.holmAdjusted(order.map { p[$0] }), order.map { adjusted[$0] })
        // Monotone in p, never below p, equal p equal adjusted.
        let sorted = p.indices.sorted { p[$0] < p[$1] }
        for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertLessThanOrEqual(adjusted[a], adjusted[b]) }
        for (raw, corrected) in zip(p, adjusted) { XCTAssertGreaterThanOrEqual(corrected, raw) }
        XCTAssertEqual(adjusted[2], adjusted[3])
    }

    func testMcNemarFromCorrectnessAndEnds() throws {
        let first: [Bool] = [true, true, false, true, false, true, true, false]
        let second: [Bool] = [true, false, false, false, true, false, true, false]
        let test = try S.exactMcNemar(firstCorrect: first, secondCorrect: second)
        XCTAssertEqual(test.onlyFirst, 3)
        XCTAssertEqual(test.onlySecond, 1)
        // 2·P(Binomial(4, 1/2) <= 1) = 2·5/16.
        XCTAssertEqual(test.p, 0.625, accuracy: 1e-15)
        XCTAssertEqual(S.McNemarTest(onlyFirst: 0, onlySecond: 0).p, 1)
        XCTAssertEqual(S.McNemarTest(onlyFirst: 7, onlySecond: 7).p, 1, "capped at 1")
        XCTAssertEqual(S.binomialCDF(-1, trials: 5, probability: 0.3), 0)
        XCTAssertEqual(S.binomialCDF(5, trials: 5, probability: 0.3), 1)
        XCTAssertEqual(S.binomialCDF(0, trials: 0, probability: 0.3), 1)
    }

    func testTOSTAgreesWithTheIntervalAtTwiceAlpha() throws {
        // Equivalent at α exactly when the (1 - 2α) t interval lies inside the margin.
        let values = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let interval = try S.tInterval(values, confidence: 0.9)
        for margin in stride(from: 0.001, through: 0.006, by: 0.0005) {
            let test = try S.tost(values, reference: 0.912, margin: margin)
            let inside = 0.912 - margin < interval.lower && interval.upper < 0.912 + margin
            XCTAssertEqual(test.isEquivalent(alpha: 0.05), inside, "margin \(margin)")
        }
        // A mean exactly on a bound with zero variance: 0/0, not equivalent.
        let onBound = try S.tost([1.5, 1.5], reference: 1, margin: 0.5)
        XCTAssert(onBound.upperStatistic.isNaN)
        XCTAssertFalse(onBound.isEquivalent())
    }

    func testSeedsForPowerEnds() {
        XCTAssertNil(S.seedsFor80PercentPower(0), "no effect: the power stays at α")
        XCTAssertNil(S.seedsFor80PercentPower(0.05), "needs about 3,100 pairs, beyond 1000")
        XCTAssertNil(S.seedsFor80PercentPower(.nan))
        XCTAssertEqual(S.seedsFor80PercentPower(0.1), 787)
        XCTAssertNil(S.seedsFor80PercentPower(0.1, maximum: 786))
        XCTAssertEqual(S.seedsForPower(effectSize: 10, power: 0.5), 2, "never below 2")
        // Stricter α or higher power needs more seeds.
        XCTAssertGreaterThan(S.seedsFor80PercentPower(0.8, alpha: 0.01)!, S.seedsFor80PercentPower(0.8)!)
        XCTAssertGreaterThan(S.seedsForPower(effectSize: 0.8, power: 0.9)!, S.seedsFor80PercentPower(0.8)!)
        // Power rises with n.
        let powers = (2...40).map { S.pairedTTestPower(effectSize: 0.6, count: $0) }
        for (a, b) in zip(powers, powers.dropFirst()) { XCTAssertLessThan(a, b) }
    }
}
