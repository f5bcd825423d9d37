import Engine
import Foundation
import XCTest
@testable import HarnessKit

/// Known answers for Sources/HarnessKit/Statistics: SciPy, numpy and statsmodels values
/// pasted as literals, each printed by the function of `statistics_reference.py` (in this
/// folder) named at its test, inputs first, in the order printed
/// (`python3 statistics_reference.py --check` verifies the pasting).
///
/// Tolerances are relative unless stated. 1e-12 to 1e-14 where both sides compute the same
/// quantity to near machine precision (the residue is rounding in different algorithms:
/// ours are continued fractions and series, SciPy's mostly Boost's); looser, with the
/// reason at the assertion, where an algorithm here or in SciPy is an approximation.
/// Edge cases and properties are in StatisticsEdgeCaseTests.swift.
final class StatisticsTests: XCTestCase {
    typealias S = Statistics

    /// Asserts ours[i] ≈ expected[i] for every i: |a - b| <= max(absolute, relative·|b|);
    /// equal infinities and two NaNs count as equal.
    func assertClose(_ ours: [Double], _ expected: [Double], relative: Double, absolute: Double = 0,
                     _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, expected.count, "\(label): count", file: file, line: line)
        for (index, (a, b)) in zip(ours, expected).enumerated() {
            if a == b || (a.isNaN && b.isNaN) { continue }
            let tolerance = max(absolute, relative * abs(b))
            XCTAssert(abs(a - b) <= tolerance, "\(label)[\(index)]: \(a) vs reference \(b) (relative error \(abs(a - b) / abs(b)))",
                      file: file, line: line)
        }
    }

    // MARK: special functions

    /// statistics_reference.py: log_gamma
    func testLogGammaMatchesSciPy() {
        let x = [1e-300, 1e-08, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.7, 9.99, 10.0, 10.5, 57.3, 1000.0, 1000000.0, 1000000000000000.0]
        let expected = [690.7755278982137, 18.42068073818021, 2.252712651734206, 0.5723649429247, 0.0, -0.12078223763524526,
                        0.0, 0.2846828704729192, 1.428072326665388, 12.779315214350195, 12.801827480081469, 13.940625219403763,
                        173.56386827969146, 5905.220423209181, 12815504.569147611, 3.3538776394910668e+16]
        // Stirling's series is truncated below 2e-18 and the recurrence adds a few ulp:
        // 1e-14 relative; near the zeros at 1 and 2 the error is absolute (about 4e-15
        // from subtracting two logarithms near 12.8), hence the 1e-14 floor.
        assertClose(x.map(S.logGamma), expected, relative: 1e-14, absolute: 1e-14)
    }

    /// statistics_reference.py: log_beta
    func testLogBetaMatchesMPMath() {
        let a = [0.5, 1.0, 0.1, 2.5, 9.0, 0.5, 0.5, 30.0, 250.0, 3.0]
        let b = [0.5, 1.0, 3.0, 7.5, 12.0, 10.0, 500000.0, 400.0, 750.0, 100000000.0]
        let exact = [1.1447298858494002, 0.0, 2.158484749020289, -4.982780372849818, -14.22870571213435, -0.5664327963975939,
                     -5.988816495777464, -109.54860705964562, -564.0327343973794, -54.56889508129715]
        let scipy = [1.1447298858494, 0.0, 2.1584847490202885, -4.982780372849818, -14.22870571213435, -0.566432796397594,
                     -5.988816495984793, -109.54860705964552, -564.0327343973795, -54.56889508129716]
        let ours = zip(a, b).map { S.logBeta($0, $1) }
        // Against 50-digit values: below 10 a sum of three log-gammas (a few ulp of terms
        // up to ~40), above it Stirling's difference without cancellation; (250, 750) sums
        // terms near 3000 for a result of 564, whose rounding is ~1e-15 relative. 1e-14
        // relative, 1e-14 absolute for B(1, 1) = 1.
        assertClose(ours, exact, relative: 1e-14, absolute: 1e-14, "mpmath")
        // SciPy's betaln subtracts log-gammas near 6e6 at (0.5, 5e5) and is off by 3.5e-11
        // there; elsewhere it agrees to 1e-13.
        for index in a.indices where index != 6 {
            assertClose([ours[index]], [scipy[index]], relative: 1e-13, absolute: 1e-14, "SciPy")
        }
        XCTAssertGreaterThan(abs(scipy[6] - exact[6]), 1e-10)
    }

    /// statistics_reference.py: incomplete_beta
    func testIncompleteBetaMatchesSciPy() {
        let a = [0.5, 0.5, 4.5, 1.0, 2.0, 0.1, 5.0, 15.0, 15.0, 0.5, 60.0, 50.0, 200.0, 1000.0, 3.7]
        let b = [0.5, 4.5, 0.5, 1.0, 3.0, 0.2, 2.0, 15.0, 15.0, 60.0, 0.5, 1000.0, 300.0, 2.5, 0.9]
        let x = [0.3, 0.01, 0.99, 0.42, 0.4, 0.7, 0.0001, 0.5, 0.9, 0.001, 0.99, 0.5, 0.4, 0.999, 1e-08]
        let lower = [0.36901011956554536, 0.2301250001078634, 0.7698749998921366, 0.42, 0.5247999999999999, 0.7163269829958612,
                     5.999500000000002e-20, 0.5, 0.9999999803738682, 0.27048875855232624, 0.27311594048106835, 1.0,
                     0.5024286163199315, 0.8487988867813241, 2.0382871156722148e-30]
        let upper = [0.6309898804344546, 0.7698749998921366, 0.23012500010786346, 0.5800000000000001, 0.47519999999999996,
                     0.2836730170041388, 1.0, 0.5, 1.962613179418448e-08, 0.7295112414476735, 0.7268840595189316,
                     9.564137681425163e-232, 0.497571383680068, 0.15120111321867588, 1.0]
        let cases = (0..<a.count).map { (a[$0], b[$0], x[$0]) }
        // For a, b <= 1000 the continued fraction converges to 1e-15 and the prefactor
        // x^a (1-x)^b / B(a, b) has an exponent of at most a few hundred: observed error
        // 1.5e-13 (for (50, 1000, 0.5), a value of 1e-232), hence 1e-12. The smaller tail
        // keeps that relative accuracy however small it is.
        assertClose(cases.map { S.regularizedIncompleteBeta($0.2, a: $0.0, b: $0.1) }, lower, relative: 1e-12, "I")
        assertClose(cases.map { S.complementedRegularizedIncompleteBeta($0.2, a: $0.0, b: $0.1) }, upper, relative: 1e-12, "1 - I")
    }

    /// statistics_reference.py: incomplete_beta_large
    func testIncompleteBetaWithLargeParameters() {
        let a = [50000.0, 500000.0, 5000000.0, 0.5]
        let b = [100000.0, 0.5, 2.5, 500000.0]
        let x = [0.3, 0.99999, 0.999999, 2e-06]
        let expected = [1.652768758743964e-171, 0.0015653640065981895, 0.07523506196385454, 0.8427008967267663]
        // Documented loss: with a large parameter and x near the continued fraction's
        // switch point, its first terms cancel (1 + aₘ dₘ₋₁ with aₘ dₘ₋₁ ≈ -1), costing
        // about log10(max(a, b)) digits; observed 3.7e-10 for a = 5e6. SciPy (Boost)
        // switches to DiDonato & Morris's asymptotic expansions here. Hence 1e-9.
        assertClose((0..<a.count).map { S.regularizedIncompleteBeta(x[$0], a: a[$0], b: b[$0]) }, expected, relative: 1e-9)
    }

    /// statistics_reference.py: inverse_incomplete_beta
    func testInverseIncompleteBetaMatchesSciPy() {
        let a = [0.5, 2.0, 0.1, 3.7, 1000.0, 15.0, 0.5, 4.5, 1.0, 0.2, 50.0, 0.5, 7.0]
        let b = [0.5, 3.0, 1000.0, 1000.0, 3.7, 15.0, 4.5, 0.5, 1.0, 0.3, 0.5, 50.0, 2.0]
        let p = [0.3, 0.5, 0.7, 0.999, 0.001, 1e-10, 0.975, 0.025, 0.25, 0.5, 0.05, 0.95, 0.999999999]
        let expected = [0.2061073738537634, 0.3857275681323895, 1.743546968852999e-05, 0.012430022882559245, 0.9875699771174408,
                        0.06825135176696778, 0.4447626176576396, 0.5552373823423603, 0.25, 0.23913503614798193,
                        0.9621292182563385, 0.037870781743661576, 0.999994023785608]
        // The inverse inherits I's relative error divided by the local exponent: near 0,
        // I ∝ x^a, so for a = 0.1 an error of 1e-13 in I is 1e-12 in x (observed 2.6e-12).
        // Hence 1e-11.
        assertClose((0..<a.count).map { S.inverseRegularizedIncompleteBeta(p[$0], a: a[$0], b: b[$0]) }, expected, relative: 1e-11)
        // And I(inverse(p)) = p.
        for index in a.indices {
            let x = S.inverseRegularizedIncompleteBeta(p[index], a: a[index], b: b[index])
            let back = p[index] > 0.5
                ? 1 - S.complementedRegularizedIncompleteBeta(x, a: a[index], b: b[index])
                : S.regularizedIncompleteBeta(x, a: a[index], b: b[index])
            XCTAssert(isCloseRelative(back, p[index], 1e-12), "I(inverse(\(p[index]))) = \(back)")
        }
    }

    func isCloseRelative(_ a: Double, _ b: Double, _ relative: Double) -> Bool {
        abs(a - b) <= relative * abs(b)
    }

    /// statistics_reference.py: normal_cdf
    func testNormalCDFMatchesSciPy() {
        let x = [-37.0, -20.0, -8.5, -3.0, -1.959963984540054, -0.5, -1e-10, 0.0, 0.3, 1.0, 2.5, 6.0, 8.5]
        let cdf = [5.7255712225239266e-300, 2.7536241186061556e-89, 9.47953482220325e-18, 0.0013498980316300933, 0.025,
                   0.3085375387259869, 0.49999999996010575, 0.5, 0.6179114221889526, 0.8413447460685429, 0.9937903346742238,
                   0.9999999990134123, 1.0]
        let sf = [1.0, 1.0, 1.0, 0.9986501019683699, 0.975, 0.6914624612740131, 0.5000000000398942, 0.5, 0.3820885778110474,
                  0.15865525393145707, 0.006209665325776132, 9.865876450376946e-10, 9.47953482220325e-18]
        // erfc(-x/√2)/2: the rounding of x/√2 (up to half an ulp, 1.1e-16) becomes a
        // relative error of up to x²·1.1e-16 in the tail (d ln erfc(z)/dz ≈ -2z), 1.5e-13
        // at x = -37 (SciPy's ndtr is more careful there), on top of erfc's own few ulp:
        // 1e-14 + 2e-16·x².
        for (index, value) in x.enumerated() {
            let tolerance = 1e-14 + 2e-16 * value * value
            assertClose([S.normalCDF(value)], [cdf[index]], relative: tolerance, "Φ(\(value))")
            assertClose([S.normalSurvival(value)], [sf[index]], relative: tolerance, "1 - Φ(\(value))")
        }
    }

    /// statistics_reference.py: normal_quantile
    func testNormalQuantileMatchesSciPy() {
        let p = [1e-300, 1e-100, 1e-20, 1e-12, 1e-05, 0.001, 0.025, 0.075, 0.1, 0.3, 0.5, 0.58, 0.9, 0.975, 0.999, 0.999999999999]
        let expected = [-37.0470962993612, -21.273453560965322, -9.262340089798409, -7.034483825301131, -4.264890793922825,
                        -3.090232306167813, -1.9599639845400545, -1.4395314709384563, -1.2815515655446004, -0.5244005127080409,
                        0.0, 0.20189347914185074, 1.2815515655446004, 1.959963984540054, 3.090232306167813, 7.0344869100478356]
        // AS 241 is accurate to about 1e-16 (observed 2.6e-15 against ndtri); 1e-14.
        assertClose(p.map(S.normalQuantile), expected, relative: 1e-14)
    }

    // MARK: Student's t

    /// statistics_reference.py: student_t_cdf
    func testStudentTCDFMatchesSciPy() {
        let t = [-40.0, -6.0, -2.2, -1.0, -0.25, 0.1, 0.7, 1.5, 2.9, 12.0, 10000.0]
        let table: [(df: Double, cdf: [Double], sf: [Double])] = [
            (0.5,
             [0.050704899964747176, 0.13065468873499939, 0.2130240706318619, 0.30112161084132205, 0.43455988484242536,
              0.5268341894356968, 0.6572996687396166, 0.7460491046759459, 0.8133105700734188, 0.907469739465399, 0.9967929902482631],
             [0.9492951000352529, 0.8693453112650006, 0.7869759293681381, 0.698878389158678, 0.5654401151575746,
              0.4731658105643032, 0.3427003312603833, 0.2539508953240542, 0.1866894299265812, 0.09253026053460106,
              0.0032070097517369715]),
            (1.0,
             [0.007956089912025812, 0.05256845671125344, 0.13579974878009188, 0.25000000000000006, 0.42202086962263063,
              0.5317255174305535, 0.6944001122142147, 0.8128329581890011, 0.894302188680174, 0.9735353239404101, 0.9999681690114878],
             [0.9920439100879742, 0.9474315432887466, 0.8642002512199081, 0.75, 0.5779791303773694, 0.4682744825694465,
              0.30559988778578523, 0.18716704181099886, 0.105697811319826, 0.026464676059589878, 3.183098851227577e-05]),
            (2.0,
             [0.0003122073360923703, 0.013335736607712385, 0.07940448790397009, 0.2113248654051871, 0.4129611720221511,
              0.53526728079293, 0.7218034876835673, 0.8638034375544994, 0.9494099023459641, 0.9965635331614208, 0.999999995],
             [0.9996877926639076, 0.9866642633922876, 0.9205955120960299, 0.7886751345948129, 0.5870388279778489,
              0.4647327192070701, 0.2781965123164327, 0.13619656244550055, 0.050590097654035854, 0.00343646683857923,
              4.9999999250000005e-09]),
            (3.0,
             [1.7190340394579253e-05, 0.004636357446142333, 0.05758597598823534, 0.19550110947788524, 0.4093646112144148,
              0.5366738255995971, 0.7328365008476182, 0.8847080673775886, 0.9687488790016773, 0.9993774920996054,
              0.9999999999988973],
             [0.9999828096596054, 0.9953636425538577, 0.9424140240117647, 0.8044988905221148, 0.5906353887855852,
              0.46332617440040297, 0.2671634991523818, 0.11529193262241147, 0.03125112099832271, 0.0006225079003946681,
              1.102657751147905e-12]),
            (4.5,
             [3.224782606460499e-07, 0.0013207379027757914, 0.04255765951183327, 0.18400254194009424, 0.40679649151218317,
              0.5376779661846572, 0.7407801988441911, 0.8998904571719233, 0.9808516322592462, 0.9999310840117336, 1.0],
             [0.9999996775217393, 0.9986792620972242, 0.9574423404881667, 0.8159974580599058, 0.5932035084878169,
              0.46232203381534276, 0.25921980115580895, 0.10010954282807676, 0.019148367740753847, 6.891598826636523e-05,
              5.249194673928764e-18]),
            (9.0,
             [9.491499224669911e-12, 0.00010124966103382039, 0.027670286399305823, 0.1717181980689568, 0.40410018485245147,
              0.5387317760216594, 0.7491904803919275, 0.9160746719714625, 0.9912023132456841, 0.9999996150056889, 1.0],
             [0.9999999999905085, 0.9998987503389661, 0.9723297136006942, 0.8282818019310432, 0.5958998151475485,
              0.4612682239783406, 0.2508095196080725, 0.08392532802853753, 0.008797686754315871, 3.8499431114928265e-07,
              2.545896099754232e-33]),
            (30.0,
             [6.863022597203209e-28, 6.971384383602382e-07, 0.017824219998417892, 0.1626543077130151, 0.4021457045402876,
              0.5394951941048645, 0.7553397782501642, 0.927967035435677, 0.9965400448674723, 0.999999999999721, 1.0],
             [1.0, 0.9999993028615617, 0.9821757800015821, 0.8373456922869849, 0.5978542954597124, 0.4605048058951356,
              0.24466022174983582, 0.072032964564323, 0.003459955132527755, 2.7900927075996303e-13, 1.0364489469774057e-99]),
            (1000.0,
             [5.239426077586636e-210, 1.3776845866887376e-09, 0.014017512663348957, 0.15877620904233627, 0.40131934813058007,
              0.539817815488198, 0.7579549430036988, 0.9330349805889568, 0.9980933534778595, 1.0, 1.0],
             [1.0, 0.9999999986223154, 0.9859824873366511, 0.8412237909576638, 0.5986806518694199, 0.46018218451180204,
              0.24204505699630122, 0.06696501941104313, 0.0019066465221405002, 2.1620286933872145e-31, 0.0]),
        ]
        // Both tails from the incomplete beta function at (df/2, 1/2) without subtraction:
        // 1e-12 covers its error at df <= 1000 (the continued fraction's cancellation grows
        // with df; see testStudentTWithLargeDegreesOfFreedom), down to 1e-210.
        for (df, cdf, sf) in table {
            let distribution = S.StudentT(degreesOfFreedom: df)
            assertClose(t.map(distribution.cdf), cdf, relative: 1e-12, "cdf df=\(df)")
            assertClose(t.map(distribution.survival), sf, relative: 1e-12, "sf df=\(df)")
            assertClose(t.map(distribution.twoSidedP), t.map { 2 * distribution.survival(abs($0)) }, relative: 1e-15, "p df=\(df)")
        }
    }

    /// statistics_reference.py: student_t_near_zero
    func testStudentTCDFNearZero() {
        let df = [1.0, 1.0, 2.0, 5.0, 0.5]
        let t = [1e-08, -3e-07, 1e-08, 1e-05, 2e-06]
        let exact = [0.5000000031830989, 0.49999990450703413, 0.5000000035355339, 0.5000037960668982, 0.5000005393526011]
        let scipy = [0.500000004743187, 0.49999990442743175, 0.5000000035355339, 0.5000037960668982, 0.5000005393526012]
        // Against 50-digit mpmath values: near t = 0 the tail 1/2 - P is computed from
        // 1 - x = t²/(df + t²) directly, so it keeps full precision; 1e-15.
        let ours = (0..<df.count).map { S.StudentT(degreesOfFreedom: df[$0]).cdf(t[$0]) }
        assertClose(ours, exact, relative: 1e-15)
        // SciPy is off by 1.6e-9 at (1, 1e-8) and 8e-11 at (1, -3e-7); fine elsewhere.
        assertClose(Array(ours[2...]), Array(scipy[2...]), relative: 1e-15, "SciPy")
        XCTAssertGreaterThan(abs(scipy[0] - exact[0]), 1e-9)
    }

    /// statistics_reference.py: student_t_far_tail
    func testStudentTFarTail() {
        let df = [0.5, 0.5, 1.0, 2.0]
        let t = [1e+200, 1e+149, 1e+160, 3e+151]
        let exact = [3.207009754142229e-101, 1.0141455301466057e-75, 3.1830988618379067e-161, 5.555555555555556e-304]
        let scipy = [0.0, 1.0141455301466056e-75, 0.0, 5.555555555555557e-304]
        // Beyond |t| = 1e150 the first term of the series in logarithms, whose neglected
        // O(df/t²) is below 1e-300; below it the incomplete beta function. The exponent
        // a·ln(df/t²) reaches -230 at (0.5, 1e200), whose rounding is 1e-16·230 relative:
        // 1e-13 against mpmath. SciPy underflows to 0 at (0.5, 1e200) and (1, 1e160).
        let ours = (0..<df.count).map { S.StudentT(degreesOfFreedom: df[$0]).survival(t[$0]) }
        assertClose(ours, exact, relative: 1e-13)
        assertClose([ours[1], ours[3]], [scipy[1], scipy[3]], relative: 1e-13, "SciPy")
        XCTAssertEqual([scipy[0], scipy[2]], [0, 0])
    }

    /// statistics_reference.py: densities
    func testDensitiesMatchSciPy() {
        let df = [0.5, 1.0, 2.0, 9.0, 30.0, 1000.0, 4.5]
        let t = [-3.0, 0.0, 1.5, -0.4, 6.0, 2.0, 40.0]
        let exact = [0.029633133748884072, 0.3183098861837907, 0.11413441178180375, 0.3553088105255298, 1.9486779083978797e-06,
                     0.05408517400975593, 3.6192701130697924e-08]
        let scipy = [0.02963313374888408, 0.31830988618379075, 0.11413441178180372, 0.35530881052552976, 1.9486779083978755e-06,
                     0.05408517400973541, 3.6192701130697964e-08]
        let normal = [0.0044318484119380075, 0.3989422804014327, 0.12951759566589174, 0.36827014030332333, 6.075882849823286e-09,
                      0.05399096651318806, 0.0]
        // exp(-(df+1)/2·log1p(t²/df) - ln(df)/2 - ln B(df/2, 1/2)): an exponent of at most
        // ~40 whose terms are each good to a few ulp: 1e-14 against 50-digit values. SciPy's
        // t.pdf is off by 3.8e-13 at df = 1000, so against it 1e-12. The normal density is
        // one exp: 1e-14 (at t = 40 both underflow to 0).
        let ours = (0..<df.count).map { S.StudentT(degreesOfFreedom: df[$0]).density(t[$0]) }
        assertClose(ours, exact, relative: 1e-14, "t")
        assertClose(ours, scipy, relative: 1e-12, "t, SciPy")
        assertClose(t.map(S.normalDensity), normal, relative: 1e-14, "normal")
    }

    /// statistics_reference.py: student_t_quantile
    func testStudentTQuantileMatchesSciPy() {
        let p = [1e-12, 1e-06, 0.001, 0.025, 0.05, 0.2, 0.45, 0.55, 0.8, 0.95, 0.975, 0.999, 0.999999999]
        let table: [(df: Double, quantiles: [Double])] = [
            (0.5, [-1.0284911563163399e+23, -102849115631.63399, -102849.11563017554, -164.55767348048846, -41.13600009287826,
                   -2.5127179536659185, -0.18864420884630667, 0.18864420884630692, 2.5127179536659203, 41.13600009287819,
                   164.55767348048818, 102849.11563017538, 1.028491214491775e+17]),
            (1.0, [-318309886183.7907, -318309.8861827435, -318.30883898555044, -12.706204736174705, -6.313751514675044,
                   -1.3763819204711736, -0.15838444032453633, 0.15838444032453658, 1.3763819204711738, 6.313751514675037,
                   12.706204736174694, 318.30883898555015, 318309895.1862093]),
            (2.0, [-707106.7811854869, -707.1057205259339, -22.327124770119873, -4.302652729749464, -2.9199855803537256,
                   -1.060660171779821, -0.14213381090374025, 0.14213381090374042, 1.0606601717798214, 2.9199855803537242,
                   4.302652729749462, 22.327124770119866, 22360.68005765849]),
            (3.0, [-10331.108244292487, -103.29946778041935, -10.214531852407385, -3.1824463052837086, -2.353363434801824,
                   -0.9784723123633038, -0.1365981993536989, 0.13659819935369905, 0.9784723123633042, 2.3533634348018233,
                   3.1824463052837078, 10.214531852407383, 1033.1096842432753]),
            (4.5, [-670.942702505106, -31.081356583149244, -6.421242884295792, -2.658912347204404, -2.065575888878525,
                   -0.9289655685760091, -0.1329100721020202, 0.13291007210202027, 0.9289655685760094, 2.065575888878524,
                   2.6589123472044034, 6.421242884295791, 144.53766436700568]),
            (9.0, [-51.41491602328223, -10.7201604099095, -4.296805662729919, -2.2621571627982053, -1.8331129326562376,
                   -0.8834038596855341, -0.129252932151831, 0.12925293215183115, 0.8834038596855346, 1.833112932656237,
                   2.262157162798205, 4.296805662729918, 23.72991989503043]),
            (30.0, [-11.397217523311413, -5.871117120418882, -3.385184866829305, -2.042272456301238, -1.6972608865939574,
                    -0.853767261471298, -0.12672961313207354, 0.1267296131320737, 0.8537672614712979, 1.697260886593957,
                    2.0422724563012378, 3.3851848668293045, 8.445862807441596]),
            (1000.0, [-7.124228925314409, -4.781608620458351, -3.0984021639129233, -1.9623390808264085, -1.6463788172854648,
                      -0.8419808221624284, -0.1256932625187162, 0.12569326251871638, 0.8419808221624288, 1.6463788172854643,
                      1.9623390808264083, 3.0984021639129233, 6.0536902768005225]),
        ]
        // Newton steps on the tail stop below 1e-15 of t, so t is as accurate as the tail:
        // 1e-12. (For 1 - 1e-9 the input itself carries the rounding of 1 - 1e-9, which
        // both sides see the same way.)
        for (df, quantiles) in table {
            let distribution = S.StudentT(degreesOfFreedom: df)
            assertClose(p.map(distribution.quantile), quantiles, relative: 1e-12, "ppf df=\(df)")
        }
    }

    /// statistics_reference.py: student_t_large_df
    func testStudentTWithLargeDegreesOfFreedom() {
        let t = [-5.0, -2.0, 0.5, 3.0]
        let p = [0.001, 0.3, 0.975]
        let table: [(df: Double, cdf: [Double], sf: [Double], quantiles: [Double])] = [
            (100000.0, [2.8713508393208397e-07, 0.022751481728753256, 0.6914619111727911, 0.9986497695579677],
             [0.9999997128649161, 0.9772485182712467, 0.30853808882720896, 0.0013502304420323617],
             [-3.090313809427238, -0.5244021842335457, 1.9599877075346095]),
            (10000000.0, [2.866564037504268e-07, 0.02275014544592148, 0.6914624557729926, 0.9986500986444814],
             [0.9999997133435963, 0.9772498545540785, 0.3085375442270074, 0.0013499013555185817],
             [-3.090233121180912, -0.5244005294232538, 1.959964221767205]),
        ]
        // Documented loss: the continued fraction's first terms cancel when x = df/(df + t²)
        // is near 1, costing about log10(df / (1 + t²)) digits: relative error ~1e-16·df,
        // observed 1e-11 at df = 1e5 and 1e-9 at df = 1e7 (1e-8 at 1e9). Seeds give
        // df < 1000, where testStudentTCDFMatchesSciPy holds 1e-12. Hence 1e-16·df·100.
        for (df, cdf, sf, quantiles) in table {
            let distribution = S.StudentT(degreesOfFreedom: df)
            let tolerance = 1e-14 * df
            assertClose(t.map(distribution.cdf), cdf, relative: tolerance, "cdf df=\(df)")
            assertClose(t.map(distribution.survival), sf, relative: tolerance, "sf df=\(df)")
            assertClose(p.map(distribution.quantile), quantiles, relative: tolerance, "ppf df=\(df)")
        }
    }

    /// statistics_reference.py: t_interval
    func testTIntervalMatchesSciPy() throws {
        let values = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let expected: [(confidence: Double, bounds: [Double])] = [
            (0.95, [0.9101357866789666, 0.9147892133210334]),
            (0.9, [0.9105982963003049, 0.914326703699695]),
            (0.99, [0.9090191223051316, 0.9159058776948683]),
        ]
        // mean ± t·sem: the mean and sd differ from numpy's pairwise sums in the last bits,
        // and the quantile is good to 1e-13: 1e-12 of the bounds.
        for (confidence, bounds) in expected {
            let interval = try S.tInterval(values, confidence: confidence)
            assertClose([interval.lower, interval.upper], bounds, relative: 1e-12, "confidence \(confidence)")
        }
        let two = try S.tInterval(Array(values.prefix(2)), confidence: 0.95)
        assertClose([two.lower, two.upper], [0.8823610393436064, 0.9395389606563934], relative: 1e-12, "n = 2")
    }

    // MARK: summaries and the bootstrap

    /// statistics_reference.py: summary
    func testSummaryMatchesNumPy() throws {
        let summary = try S.Summary([0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151])
        XCTAssertEqual(summary.count, 8)
        // numpy sums pairwise, we in order: the last bits may differ; 1e-13.
        assertClose([summary.mean, summary.standardDeviation ?? .nan, summary.standardError ?? .nan],
                    [0.9124625, 0.0027830802565297517, 0.0009839674609892917], relative: 1e-13)
    }

    /// statistics_reference.py: generator_stream
    func testReferenceGeneratorMatchesSeededGenerator() {
        // The script's reimplementation of SeededGenerator, checked draw for draw, so its
        // bootstrap uses the resampling indices ours does.
        var zero = SeededGenerator(seed: 0)
        XCTAssertEqual((0..<3).map { _ in zero.next() }, [11_091_344_671_253_066_420, 13_793_997_310_169_335_082, 1_900_383_378_846_508_768])
        var fortyTwo = SeededGenerator(seed: 42)
        XCTAssertEqual((0..<10).map { _ in fortyTwo.nextInt(below: 7) }, [0, 2, 4, 6, 6, 5, 5, 5, 5, 4])
    }

    /// statistics_reference.py: bootstrap
    func testBootstrapMatchesNumPyWithTheSameDraws() throws {
        let values = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        // The script draws the same indices, sums in the same order and interpolates with
        // numpy.quantile, whose linear rule linearQuantile copies operation for operation:
        // the bounds agree exactly.
        func bounds(_ values: [Double], _ confidence: Double, _ replicates: Int, _ seed: UInt64) throws -> [Double] {
            let interval = try S.percentileBootstrapInterval(values, confidence: confidence, replicates: replicates, seed: seed)
            return [interval.lower, interval.upper]
        }
        XCTAssertEqual(try bounds(values, 0.95, 2000, 7), [0.91065, 0.9142753124999999])
        XCTAssertEqual(try bounds(values, 0.9, 2000, 7), [0.9108875, 0.913988125])
        XCTAssertEqual(try bounds(values, 0.95, 10000, 7), [0.9106874999999999, 0.9142624999999999])
        XCTAssertEqual(try bounds([1.0, 2.0, 4.0, 8.0, 16.0], 0.95, 1000, 3), [2.2, 11.6])
    }

    /// statistics_reference.py: linear_quantile
    func testLinearQuantileMatchesNumPy() {
        let values = [0.1, 0.4, 0.45, 0.9, 1.7, 2.0, 3.5]
        let q = [0.0, 0.025, 0.1, 0.25, 0.5, 0.6, 0.75, 0.975, 1.0]
        // The same operations as numpy's linear method: exactly equal.
        XCTAssertEqual(q.map { S.linearQuantile(sorted: values, $0) },
                       [0.1, 0.14500000000000002, 0.28, 0.42500000000000004, 0.9, 1.3799999999999997, 1.85, 3.2749999999999995, 3.5])
    }

    // MARK: paired tests

    /// statistics_reference.py: paired_t_test
    func testPairedTTestMatchesSciPy() throws {
        let x = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let y = [0.9105, 0.9079, 0.9122, 0.911, 0.9097, 0.9088, 0.9091, 0.913]
        let test = try S.pairedTTest(x, y)
        // Statistic and p from the same differences; the p-value's incomplete beta is good
        // to 1e-13 at df = 7: 1e-12.
        assertClose([test.statistic, test.p, test.degreesOfFreedom, test.meanDifference],
                    [3.257782860443603, 0.013906912367119132, 7.0, 0.002187499999999995], relative: 1e-12)
        let ci95 = try XCTUnwrap(test.meanDifferenceInterval(confidence: 0.95))
        assertClose([ci95.lower, ci95.upper], [0.0005997282632259663, 0.003775271736774024], relative: 1e-12, "95 %")
        let ci90 = try XCTUnwrap(test.meanDifferenceInterval(confidence: 0.9))
        assertClose([ci90.lower, ci90.upper], [0.0009153493146501278, 0.003459650685349862], relative: 1e-12, "90 %")
        let small = try S.pairedTTest(Array(x.prefix(3)), Array(y.prefix(3)))
        assertClose([small.statistic, small.p], [2.5701873846437793, 0.12387198264129336], relative: 1e-12, "n = 3")
        let smallInterval = try XCTUnwrap(small.meanDifferenceInterval())
        assertClose([smallInterval.lower, smallInterval.upper], [-0.0017525608927144534, 0.006952560892714399],
                    relative: 1e-12, "n = 3 interval")
    }

    /// statistics_reference.py: paired_t_degenerate
    func testPairedTTestWithZeroVarianceDifferences() throws {
        // SciPy: [.infinity, 0.0, .nan, .nan]; exactly, as both divide by a zero sd.
        let constant = try S.pairedTTest([2, 3, 5], [1, 2, 4])
        XCTAssertEqual(constant.statistic, .infinity)
        XCTAssertEqual(constant.p, 0.0)
        XCTAssertEqual(constant.meanDifferenceInterval(), S.Interval(lower: 1, upper: 1))
        let zero = try S.pairedTTest([1, 2, 3], [1, 2, 3])
        XCTAssert(zero.statistic.isNaN && zero.p.isNaN, "all differences zero: t and p are NaN, as SciPy's")
    }

    /// statistics_reference.py: wilcoxon_exact
    func testWilcoxonExactMatchesSciPy() throws {
        let x = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let y = [0.9105, 0.9079, 0.9122, 0.911, 0.9097, 0.9088, 0.9091, 0.913]
        // Exact distributions: sums of multiples of 2⁻ⁿ, equal to the last bit or two; 1e-13.
        let test = try S.wilcoxonSignedRank(x, y)
        XCTAssertEqual(test.method, .exact)
        XCTAssertFalse(test.hasTies)
        assertClose([test.statistic, test.p], [3.0, 0.0390625], relative: 1e-13)
        for (n, p) in [(6, 0.03125), (5, 0.0625)] {
            let all = try S.wilcoxonSignedRank((1...n).map(Double.init), [Double](repeating: 0, count: n))
            assertClose([all.p], [p], relative: 1e-13, "\(n) positive")
            XCTAssertEqual(all.p, all.minimumAchievableP, "all signs agree: the smallest p there is")
        }
        let twenty = [-1.0, 2.0, 3.0, -4.0, 5.0, 6.0, -7.0, 8.0, 9.0, -10.0, 11.0, 12.0, -13.0, 14.0, 15.0, -16.0, 17.0, 18.0, -19.0,
                      20.0]
        XCTAssertEqual(twenty, (0..<20).map { (i: Int) -> Double in Double(i % 3 == 0 ? -(i + 1) : i + 1) })
        let large = try S.wilcoxonSignedRank(twenty, [Double](repeating: 0, count: 20))
        XCTAssertFalse(large.hasTies)
        assertClose([large.statistic, large.p], [70.0, 0.20244979858398438], relative: 1e-13, "n = 20")
    }

    /// statistics_reference.py: wilcoxon_ties
    func testWilcoxonWithTiesIsTheExactPermutationTest() throws {
        let tied = [3.0, 1.5, 2.0, -1.0, 0.0, 2.0, 4.5, -2.0, 1.0, 0.5]
        let zeros = [Double](repeating: 0, count: tied.count)
        // Against SciPy's exhaustive permutation test (all 2ⁿ sign flips), whose statistic
        // and p come first, then SciPy's method="auto" p (the same test for n <= 13): sums
        // of multiples of 2⁻ⁿ; 1e-13.
        let test = try S.wilcoxonSignedRank(tied, zeros)
        XCTAssertTrue(test.hasTies)
        XCTAssertEqual(test.count, 9)
        XCTAssertEqual(test.zeroCount, 1)
        assertClose([test.statistic, test.p, test.p], [8.5, 0.10546875, 0.10546875], relative: 1e-13)
        let sixteen = [1.0, -1.0, 2.0, 2.0, 3.0, -0.5, 0.5, 4.0, 4.0, 4.0, -3.0, 5.0, 0.0, 6.0, 2.0, 1.5]
        let larger = try S.wilcoxonSignedRank(sixteen, [Double](repeating: 0, count: sixteen.count))
        assertClose([larger.statistic, larger.p], [14.5, 0.0069580078125], relative: 1e-13, "n = 16")
        // SciPy's method="exact" (0.12890625 and 0.00836181640625) uses the no-ties
        // distribution with the statistic rounded: conservative, never below the exact p.
        XCTAssertLessThan(test.p, 0.12890625)
        XCTAssertLessThan(larger.p, 0.00836181640625)
    }

    /// statistics_reference.py: wilcoxon_large
    func testWilcoxonAboveTheExactLimitUsesTheNormalApproximation() throws {
        let d = (0..<250).map { Double((37 * $0) % 23 - 11) / 4 }
        let test = try S.wilcoxonSignedRank(d, [Double](repeating: 0, count: d.count))
        XCTAssertEqual(test.method, .normalApproximation)
        XCTAssertGreaterThan(test.count, S.WilcoxonSignedRank.exactLimit)
        // The same formula (tie-corrected variance, no continuity correction); Φ by erfc:
        // 1e-12.
        assertClose([test.statistic, test.p], [14323.5, 0.9876835238775461], relative: 1e-12)
    }

    /// statistics_reference.py: hedges_g
    func testPairedEffectSizeMatchesTheFormula() throws {
        let x = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let y = [0.9105, 0.9079, 0.9122, 0.911, 0.9097, 0.9088, 0.9091, 0.913]
        let effect = try S.pairedEffectSize(x, y)
        // The same arithmetic up to numpy's pairwise sums: 1e-13.
        assertClose([effect.dz, effect.correction, effect.hedgesG ?? .nan], [1.1518001761264898, 0.8888888888888888, 1.0238223787791019],
                    relative: 1e-13)
        XCTAssertEqual(effect.magnitude, .large)
        let two = try S.pairedEffectSize(Array(x.prefix(2)), Array(y.prefix(2)))
        assertClose([two.dz], [1.3025651232382727], relative: 1e-13, "n = 2")
        XCTAssertNil(two.hedgesG, "J = 0 at n = 2")
        XCTAssertNil(two.magnitude)
    }

    // MARK: multiple testing, McNemar, equivalence

    /// statistics_reference.py: holm
    func testHolmMatchesStatsmodels() throws {
        let p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04, 0.2, 0.0001]
        // The same products and running maximum as statsmodels: 1e-15.
        assertClose(try S.holmAdjusted(p), [0.06, 0.16, 0.15, 0.035, 0.5, 0.16, 0.4, 0.0008], relative: 1e-15)
    }

    /// statistics_reference.py: mcnemar_exact
    func testExactMcNemarMatchesStatsmodels() {
        let b = [0.0, 1.0, 5.0, 0.0, 3.0, 10.0, 0.0, 100.0, 400.0]
        let c = [0.0, 0.0, 0.0, 6.0, 9.0, 12.0, 25.0, 140.0, 480.0]
        let expected = [1.0, 1.0, 0.0625, 0.03125, 0.14599609375, 0.8318119049072266, 5.960464477539063e-08, 0.01166409231767769,
                        0.007707305043339153]
        // statsmodels sums scipy.stats.binom.cdf (Boost's incomplete beta), we use ours;
        // the exponent of the prefactor reaches ~600 at b + c = 880: 1e-12.
        let ours = zip(b, c).map { S.McNemarTest(onlyFirst: Int($0), onlySecond: Int($1)).p }
        assertClose(ours, expected, relative: 1e-12)
    }

    /// statistics_reference.py: binomial_cdf
    func testBinomialCDFMatchesSciPy() {
        let k = [0.0, 3.0, 9.0, 2.0, 40.0, 0.0, 500.0, 120.0]
        let n = [10.0, 10.0, 10.0, 7.0, 100.0, 1000.0, 1000.0, 1000.0]
        let p = [0.5, 0.5, 0.5, 0.1, 0.45, 0.01, 0.5, 0.2]
        let expected = [0.0009765625, 0.171875, 0.9990234375, 0.9743085, 0.1830569442144654, 4.3171247410658195e-05,
                        0.5126125090891802, 1.322271262814547e-11]
        // As the incomplete beta function for parameters up to 1000: 1e-12.
        let ours = (0..<k.count).map { S.binomialCDF(Int(k[$0]), trials: Int(n[$0]), probability: p[$0]) }
        assertClose(ours, expected, relative: 1e-12)
    }

    /// statistics_reference.py: tost
    func testTOSTMatchesSciPy() throws {
        let values = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.912, 0.9098, 0.9151]
        let cases: [[Double]] = [
            [0.912, 0.003, 3.518917176914253, 0.004870912163512431, -2.578845440121415, 0.018266870075903184],
            [0.905, 0.004, 11.649267332961811, 3.87849625592064e-06, 3.518917176914253, 0.9951290878364876],
        ]
        // Statistics divide differences of nearby numbers (mean - bound ~ 1e-3 of values
        // ~0.9, so the bound's rounding is ~1e-13 relative), then t tails good to 1e-13: 1e-11.
        for expected in cases {
            let test = try S.tost(values, reference: expected[0], margin: expected[1])
            assertClose([test.lowerStatistic, test.lowerP, test.upperStatistic, test.upperP], Array(expected[2...]), relative: 1e-11,
                        "reference \(expected[0])")
        }
        let equivalent = try S.tost(values, reference: 0.912, margin: 0.003)
        XCTAssertEqual(equivalent.p, equivalent.upperP)
        XCTAssertTrue(equivalent.isEquivalent(alpha: 0.05))
        XCTAssertFalse(equivalent.isEquivalent(alpha: 0.01))
        XCTAssertFalse(try S.tost(values, reference: 0.905, margin: 0.004).isEquivalent())
    }

    /// statistics_reference.py: tost_zero_variance
    func testTOSTWithZeroVariance() throws {
        // SciPy: [.infinity, 0.0, -.infinity, 0.0] inside the margin, [-.infinity, 1.0, -.infinity, 0.0] outside.
        let inside = try S.tost([1, 1, 1], reference: 1, margin: 0.5)
        XCTAssertEqual([inside.lowerStatistic, inside.lowerP, inside.upperStatistic, inside.upperP], [.infinity, 0.0, -.infinity, 0.0])
        XCTAssertTrue(inside.isEquivalent())
        let outside = try S.tost([1, 1, 1], reference: 2, margin: 0.5)
        XCTAssertEqual([outside.lowerStatistic, outside.lowerP, outside.upperStatistic, outside.upperP], [-.infinity, 1.0, -.infinity, 0.0])
        XCTAssertFalse(outside.isEquivalent())
    }

    // MARK: power

    /// statistics_reference.py: noncentral_t
    func testNoncentralTCDFMatchesSciPy() {
        let df = [1.0, 4.0, 4.0, 9.0, 9.0, 29.0, 7.5, 99.0, 15.0, 2.0, 500.0]
        let nc = [0.5, 1.0, -1.0, 2.5, 2.5, 6.0, 3.0, 12.0, 30.0, -4.0, 0.3]
        let t = [0.7, 2.0, 2.0, 2.262, -2.262, 4.0, 0.0, 13.0, 28.0, -1.0, 1.96]
        let expected = [0.5176340205582449, 0.7645674538243243, 0.9926386041675533, 0.393819991691973, 1.1599731271592917e-05,
                        0.03610660082689875, 0.0013498980316300954, 0.7608251423304883, 0.3094165757984668, 0.9972100687853376,
                        0.9511235470613787]
        // AS 243 stops when the series' remaining mass bounds the error below 1e-12
        // (absolute); a value flipped as 1 - F(-t) carries that absolute error, so small
        // CDFs are not relatively accurate. SciPy (Boost) is accurate to ~1e-15 relative.
        // Hence 2e-12 absolute.
        let ours = (0..<df.count).map { S.noncentralTCDF(t[$0], degreesOfFreedom: df[$0], noncentrality: nc[$0]) }
        assertClose(ours, expected, relative: 0, absolute: 2e-12)
    }

    /// statistics_reference.py: paired_power
    func testPairedTTestPowerMatchesSciPy() {
        let dz = [0.5, 0.8, 1.2, -0.7, 0.3, 1.0, 2.0, 0.0]
        let n = [10.0, 15.0, 5.0, 20.0, 100.0, 8.0, 3.0, 12.0]
        let alpha = [0.05, 0.05, 0.05, 0.05, 0.05, 0.01, 0.05, 0.05]
        let expected = [0.29317560651407687, 0.8213105387241096, 0.5302212511402794, 0.843505876433301, 0.8439471027374162,
                        0.3478113581383198, 0.47074943127843494, 0.05000000000000006]
        // Two noncentral t CDFs, each within 1e-12 absolute: 3e-12 absolute.
        let ours = (0..<dz.count).map { S.pairedTTestPower(effectSize: dz[$0], count: Int(n[$0]), alpha: alpha[$0]) }
        assertClose(ours, expected, relative: 0, absolute: 3e-12)
    }

    /// statistics_reference.py: seeds_for_power
    func testSeedsFor80PercentPowerMatchesSciPy() {
        let effects = [3.0, 1.5, 1.0, 0.8, 0.5, 0.3, 0.1]
        let expected = [4, 6, 10, 15, 34, 90, 787]
        // The power at each answer and one below, from the script: the nearest to 0.8 is
        // 0.8000954 (d_z = 0.1, n = 787), 1e-4 from the threshold, far beyond the 3e-12 error,
        // so the counts must match exactly.
        let margins = [0.9670006399114975, 0.7452680070062837, 0.832529279866808, 0.7107026739256758, 0.8030968566327219,
                       0.7480170922294767, 0.8213105387241096, 0.7900877506591865, 0.8077775012792738, 0.7953658414875041,
                       0.8037942968932215, 0.7993273072519702, 0.8000954422116197, 0.7995954685577634]
        XCTAssertEqual(effects.map { S.seedsFor80PercentPower($0) }, expected.map { $0 })
        XCTAssertEqual(S.seedsFor80PercentPower(-0.5), 34, "the sign of the effect does not matter")
        for (index, n) in expected.enumerated() {
            assertClose([S.pairedTTestPower(effectSize: effects[index], count: n),
                         n > 2 ? S.pairedTTestPower(effectSize: effects[index], count: n - 1) : 0],
                        [margins[2 * index], margins[2 * index + 1]], relative: 0, absolute: 3e-12, "d_z = \(effects[index])")
        }
    }
}
