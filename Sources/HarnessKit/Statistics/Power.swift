import Foundation

extension Statistics {
    /// P(T <= t) for the noncentral t distribution with `degreesOfFreedom` ν > 0 and
    /// noncentrality δ (scipy.stats.nct.cdf(t, ν, δ)); NaN for ν <= 0 or a NaN argument.
    ///
    /// Lenth's algorithm AS 243 (Applied Statistics 38, 1989), from Guenther's twin series:
    /// for t >= 0, F(t) = Φ(-δ) + Σⱼ [pⱼ I_x(j + 1/2, ν/2) + qⱼ I_x(j + 1, ν/2)] / 2 with
    /// x = t²/(t² + ν) and Poisson weights pⱼ, qⱼ of δ²/2, the incomplete beta values
    /// advanced by their recurrences; for t < 0, F(t) = 1 - F(-t) with -δ. The series
    /// stops when its remaining mass bounds the error below 1e-12 (absolute, AS 243's
    /// errmax), at most 1,000 terms; a value near 0 obtained as 1 - F(-t) carries that
    /// absolute error, so it is not relatively accurate. Where e^(-δ²/2) would underflow
    /// (|δ| > 37.6) or ν exceeds 4·10⁵, the normal approximation of Abramowitz & Stegun
    /// 26.7.10 takes over, as in R's pnt; its error shrinks quickly with ν (see
    /// `pairedTTestPower` for what it means for power).
    public static func noncentralTCDF(_ t: Double, degreesOfFreedom df: Double, noncentrality delta: Double) -> Double {
        guard df > 0, !t.isNaN, !delta.isNaN else { return .nan }
        if delta == 0 { return StudentT(degreesOfFreedom: df).cdf(t) }
        if t.isInfinite { return t < 0 ? 0 : 1 }
        let negative = t < 0
        let tt = abs(t), del = negative ? -delta : delta
        // P(T <= tt) with noncentrality del, flipped back at the end for negative t.
        let lower: Double
        if df > 4e5 || del * del > 2 * log(2.0) * 1021 {
            // Abramowitz & Stegun 26.7.10.
            let s = 1 / (4 * df)
            lower = normalCDF((tt * (1 - s) - del) / (1 + tt * tt * 2 * s).squareRoot())
        } else {
            lower = guentherSeries(tt, df: df, delta: del) + normalCDF(-del)
        }
        let clamped = min(max(lower, 0), 1)
        return negative ? 1 - clamped : clamped
    }

    /// The sum of AS 243's twin series for t >= 0 (without the Φ(-δ) term).
    private static func guentherSeries(_ t: Double, df: Double, delta: Double) -> Double {
        let x = t * t / (t * t + df)
        guard x > 0 else { return 0 }
        let lambda = delta * delta
        var p = 0.5 * exp(-0.5 * lambda)
        guard p > 0 else { return 0 }
        var q = (2 / Double.pi).squareRoot() * p * delta
        // The Poisson mass not yet summed: 1/2 - p, accurately for small λ.
        var s = 0.5 - p
        if s < 1e-7 { s = -0.5 * expm1(-0.5 * lambda) }
        var a = 0.5
        let b = 0.5 * df
        // (1 - x)^b, with 1 - x = ν / (t² + ν) exactly.
        let rxb = pow(df / (t * t + df), b)
        let logBetaHalf = 0.5 * log(Double.pi) + logGamma(b) - logGamma(0.5 + b)
        var xodd = incompleteBeta(a: a, b: b, x: x, y: df / (t * t + df)).lower
        var godd = 2 * rxb * exp(a * log(x) - logBetaHalf)
        let bx = b * x
        var xeven = bx < Double.ulpOfOne ? bx : 1 - rxb
        var geven = bx * rxb
        var sum = p * xodd + q * xeven
        for j in 1...1000 {
            a += 1
            xodd -= godd
            xeven -= geven
            godd *= x * (a + b - 1) / a
            geven *= x * (a + b - 0.5) / (a + 0.5)
            p *= lambda / Double(2 * j)
            q *= lambda / Double(2 * j + 1)
            sum += p * xodd + q * xeven
            s -= p
            if s < -1e-10 { break }  // rounding has eaten the remaining mass
            if s <= 0, j > 1 { break }
            let errorBound = 2 * s * (xodd - godd)
            if abs(errorBound) < 1e-12 { break }
        }
        return sum
    }

    /// The power of the two-sided paired t-test at level `alpha` with `count` pairs when
    /// the true standardized effect is `effectSize` = d_z = mean(d)/sd(d): with
    /// ν = n - 1, δ = d_z·√n and c the 1 - α/2 quantile of t(ν),
    /// power = P(T' > c) + P(T' < -c) for T' noncentral t(ν, δ)
    /// (1 - nct.cdf(c, ν, δ) + nct.cdf(-c, ν, δ)).
    ///
    /// Absolute accuracy about 1e-12 from the series. Above δ = d_z·√n ≈ 37.6 (d_z = 2
    /// with 354 pairs, or d_z > 26.6 with 2) the normal approximation: from 3 pairs on
    /// the power is then 1 to within 1e-12 either way, but with 2 pairs (one degree of
    /// freedom) the approximation says 0.9991 where the power is 0.9969 (at δ = 37.7),
    /// an error of 2e-3 that cannot move a power that high across 0.8.
    /// NaN for fewer than 2 pairs, a non-finite effect, or α outside (0, 1).
    public static func pairedTTestPower(effectSize: Double, count: Int, alpha: Double = 0.05) -> Double {
        guard count >= 2, effectSize.isFinite, alpha > 0, alpha < 1 else { return .nan }
        let df = Double(count - 1)
        let delta = effectSize * Double(count).squareRoot()
        let critical = StudentT(degreesOfFreedom: df).quantile(1 - alpha / 2)
        let above = 1 - noncentralTCDF(critical, degreesOfFreedom: df, noncentrality: delta)
        let below = noncentralTCDF(-critical, degreesOfFreedom: df, noncentrality: delta)
        return min(1, above + below)
    }

    /// The smallest number of pairs n >= 2 at which the two-sided paired t-test at level
    /// `alpha` reaches `power` for a true effect d_z = `effectSize` (`pairedTTestPower`),
    /// searching up to `maximum` pairs; nil when even `maximum` does not reach it (always
    /// for d_z = 0, whose power is α). The sign of the effect does not matter.
    public static func seedsForPower(effectSize: Double, power: Double = 0.8, alpha: Double = 0.05,
                                     maximum: Int = 1000) -> Int? {
        guard effectSize.isFinite, effectSize != 0, power > 0, power < 1, alpha > 0, alpha < 1, maximum >= 2 else {
            return nil
        }
        // Power rises with n for a fixed non-zero effect; scan upwards (at most `maximum`
        // evaluations, each a short series).
        for n in 2...maximum where pairedTTestPower(effectSize: effectSize, count: n, alpha: alpha) >= power {
            return n
        }
        return nil
    }

    /// `seedsForPower` at 80 % power, the conventional target (deep-significance's
    /// README, Colas et al.'s β < 0.2).
    public static func seedsFor80PercentPower(_ effectSize: Double, alpha: Double = 0.05, maximum: Int = 1000) -> Int? {
        seedsForPower(effectSize: effectSize, power: 0.8, alpha: alpha, maximum: maximum)
    }
}
