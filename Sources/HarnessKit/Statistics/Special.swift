import Foundation

// Special functions the distributions are built from. Each takes and returns plain
// doubles and, as SciPy does, answers NaN for an argument outside its domain.

extension Statistics {
    // MARK: log-gamma and log-beta

    /// ln Γ(x) for x > 0 (scipy.special.gammaln); NaN for x <= 0 or NaN, +inf for +inf.
    ///
    /// For x >= 10, Stirling's series with eight terms, whose truncation error there is
    /// below 2e-18; below 10, the recurrence Γ(x) = Γ(x + k) / (x (x+1) ... (x+k-1)) moves
    /// the argument to [10, 11). Relative error is a few ulp except near the zeros of
    /// ln Γ at 1 and 2, where the error is absolute, about 4e-15 (the subtraction of two
    /// logarithms near ln 9! ≈ 12.8); at 1 and 2 themselves the answer is exactly 0.
    public static func logGamma(_ x: Double) -> Double {
        guard x > 0 else { return .nan }
        if x == .infinity { return .infinity }
        if x == 1 || x == 2 { return 0 }
        if x >= 10 { return stirlingLogGamma(x) }
        var shifted = x, product = 1.0
        while shifted < 10 {
            product *= shifted
            shifted += 1
        }
        return stirlingLogGamma(shifted) - log(product)
    }

    /// (x - 1/2) ln x - x + ln(2π)/2 + δ(x), for x >= 10.
    static func stirlingLogGamma(_ x: Double) -> Double {
        (x - 0.5) * log(x) - x + halfLogTwoPi + stirlingCorrection(x)
    }

    /// ln(2π) / 2.
    static let halfLogTwoPi = 0.918_938_533_204_672_741_78

    /// δ(x) = ln Γ(x) - [(x - 1/2) ln x - x + ln(2π)/2], from the asymptotic series
    /// Σ B₂ₖ / (2k (2k-1) x^(2k-1)), k = 1...8; for x >= 10 the next term is below 2e-18.
    static func stirlingCorrection(_ x: Double) -> Double {
        let r = 1 / x, r2 = r * r
        // B₂ₖ / (2k (2k-1)) for k = 8 down to 1.
        let coefficients: [Double] = [-3617.0 / 122_400, 1.0 / 156, -691.0 / 360_360, 1.0 / 1188,
                                      -1.0 / 1680, 1.0 / 1260, -1.0 / 360, 1.0 / 12]
        var sum = 0.0
        for c in coefficients { sum = sum * r2 + c }
        return sum * r
    }

    /// ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b) for a, b > 0 (scipy.special.betaln).
    ///
    /// When the larger argument l is 10 or more, ln Γ(l) - ln Γ(l + s) comes from the
    /// difference of the two Stirling series written without cancellation,
    /// -(l - 1/2) log1p(s/l) - s ln(l + s) + s + δ(l) - δ(l + s), so a Student-t or
    /// binomial argument of 10⁶ loses nothing to the subtraction of two numbers near 10⁷.
    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        guard a > 0, b > 0 else { return .nan }
        let (small, large) = a < b ? (a, b) : (b, a)
        if large.isInfinite { return -.infinity }
        if large < 10 { return logGamma(a) + logGamma(b) - logGamma(a + b) }
        let difference = -(large - 0.5) * log1p(small / large) - small * log(large + small) + small
            + stirlingCorrection(large) - stirlingCorrection(large + small)
        return logGamma(small) + difference
    }

    // MARK: regularized incomplete beta

    /// The regularized incomplete beta function I_x(a, b) (scipy.special.betainc(a, b, x)),
    /// for a, b > 0 and 0 <= x <= 1; NaN outside.
    ///
    /// The continued fraction of Numerical Recipes (betacf), evaluated by the modified
    /// Lentz method to a relative change below 1e-15, on whichever of I_x(a, b) and
    /// 1 - I_{1-x}(b, a) converges fast (x below or above (a + 1) / (a + b + 2)).
    ///
    /// Accuracy: about 1e-13 relative for a, b up to 1000, in either tail however small.
    /// With a large parameter and x near the switch point, the fraction's first terms
    /// cancel (1 + aₘdₘ₋₁ with aₘdₘ₋₁ near -1), costing about log10(max(a, b)) digits:
    /// 1e-11 at 10⁵, 4e-10 at 5·10⁶. (SciPy's Boost switches to DiDonato & Morris's
    /// asymptotic expansions there; this module has no need for parameters that large
    /// beyond documenting the loss.)
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        guard x >= 0, x <= 1 else { return .nan }
        return incompleteBeta(a: a, b: b, x: x, y: 1 - x).lower
    }

    /// 1 - I_x(a, b), computed without the subtraction where it is small
    /// (scipy.special.betaincc(a, b, x)).
    public static func complementedRegularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        guard x >= 0, x <= 1 else { return .nan }
        return incompleteBeta(a: a, b: b, x: x, y: 1 - x).upper
    }

    /// (I_x(a, b), 1 - I_x(a, b)) with y = 1 - x given separately, so a caller that knows
    /// 1 - x more accurately than by subtraction (Student's t near 0) passes it in. The
    /// smaller of the two values is computed directly and keeps its relative accuracy.
    static func incompleteBeta(a: Double, b: Double, x: Double, y: Double) -> (lower: Double, upper: Double) {
        guard a > 0, b > 0, x >= 0, y >= 0, !x.isNaN, !y.isNaN else { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        // ln of x^a y^b / B(a, b); ln x and ln y from whichever of x, y is the more accurate.
        let logX = x > 0.5 ? log1p(-y) : log(x)
        let logY = y > 0.5 ? log1p(-x) : log(y)
        let logFront = a * logX + b * logY - logBeta(a, b)
        if x < (a + 1) / (a + b + 2) {
            let lower = exp(logFront) * betaContinuedFraction(a: a, b: b, x: x, y: y) / a
            return (lower, 1 - lower)
        } else {
            let upper = exp(logFront) * betaContinuedFraction(a: b, b: a, x: y, y: x) / b
            return (1 - upper, upper)
        }
    }

    /// The continued fraction for I_x(a, b) · a / (x^a y^b / B(a, b)) (Numerical Recipes
    /// §6.4, modified Lentz). For x < (a + 1) / (a + b + 2) it converges in O(√max(a, b))
    /// terms, most at the switch point: about 5,000 for a = b = 10⁹, well below the cap.
    static func betaContinuedFraction(a: Double, b: Double, x: Double, y: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-15
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...100_000 {
            let m = Double(m), m2 = 2 * m
            // Even step.
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }

    /// The x in [0, 1] with I_x(a, b) = p (scipy.special.betaincinv(a, b, p)), for a, b > 0
    /// and 0 <= p <= 1; NaN outside.
    ///
    /// Starting from the initial guess of Numerical Recipes (invbetai: a normal
    /// approximation for a, b >= 1, a power-law tail otherwise), Halley steps on whichever
    /// tail is smaller, kept inside a bracket that every step narrows (a step that would
    /// leave it bisects instead), until the step is below 1e-15 of the value. The result
    /// is as accurate as I_x allows: I's relative error divided by the local exponent of
    /// I in x (near 0, I ∝ x^a), so about 1e-13 relative, 1e-12 for a = 0.1.
    public static func inverseRegularizedIncompleteBeta(_ p: Double, a: Double, b: Double) -> Double {
        inverseIncompleteBeta(a: a, b: b, p: p, q: 1 - p).x
    }

    /// (x, 1 - x) with I_x(a, b) = p and 1 - I_x(a, b) = q = 1 - p, each computed directly
    /// from the side where it is small, so both keep their relative accuracy.
    static func inverseIncompleteBeta(a: Double, b: Double, p: Double, q: Double) -> (x: Double, y: Double) {
        guard a > 0, b > 0, p >= 0, p <= 1, q >= 0, q <= 1 else { return (.nan, .nan) }
        if p == 0 { return (0, 1) }
        if q == 0 { return (1, 0) }
        // Solve on the side whose target is at most 1/2: I_x(a, b) = p, or I_y(b, a) = q.
        if p > 0.5 {
            let (y, x) = solveIncompleteBeta(a: b, b: a, p: q)
            return (x, y)
        }
        return solveIncompleteBeta(a: a, b: b, p: p)
    }

    /// (x, 1 - x) with I_x(a, b) = p <= 1/2.
    private static func solveIncompleteBeta(a: Double, b: Double, p: Double) -> (x: Double, y: Double) {
        var x = initialInverseBetaGuess(a: a, b: b, p: p)
        var low = 0.0, high = 1.0
        let logB = logBeta(a, b)
        for _ in 0..<200 {
            guard x > 0, x < 1 else { break }
            let value = incompleteBeta(a: a, b: b, x: x, y: 1 - x).lower
            let error = value - p
            if error == 0 { break }
            if error < 0 { low = x } else { high = x }
            // The density x^(a-1) (1-x)^(b-1) / B(a, b).
            let density = exp((a - 1) * log(x) + (b - 1) * log1p(-x) - logB)
            var next = Double.nan, newton = Double.infinity
            if density > 0, density.isFinite {
                newton = error / density
                // Halley's correction from the density's logarithmic derivative, kept
                // between half and twice the Newton step.
                let curvature = newton * ((a - 1) / x - (b - 1) / (1 - x))
                let denominator = min(2, 1 - 0.5 * min(1, curvature))
                next = x - newton / denominator
            }
            // A step below 1e-15 of x has converged (it may round to x itself, the
            // bracket's end); otherwise a step leaving the bracket bisects it.
            if abs(newton) <= 1e-15 * x {
                if next >= low, next <= high { x = next }
                break
            }
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            x = next
            if high - low <= 4 * Double.ulpOfOne * x { break }
        }
        return (x, 1 - x)
    }

    /// The starting point of Numerical Recipes' invbetai (3rd ed., §6.14.1).
    private static func initialInverseBetaGuess(a: Double, b: Double, p: Double) -> Double {
        var x: Double
        if a >= 1, b >= 1 {
            let pp = p < 0.5 ? p : 1 - p
            let t = (-2 * log(pp)).squareRoot()
            var z = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t
            if p < 0.5 { z = -z }
            let al = (z * z - 3) / 6
            let h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1))
            let w = z * (al + h).squareRoot() / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5.0 / 6 - 2 / (3 * h))
            x = a / (a + b * exp(2 * w))
        } else {
            let lna = log(a / (a + b)), lnb = log(b / (a + b))
            let t = exp(a * lna) / a, u = exp(b * lnb) / b
            let w = t + u
            x = p < t / w ? pow(a * w * p, 1 / a) : 1 - pow(b * w * (1 - p), 1 / b)
        }
        if !(x > 0 && x < 1) { x = 0.5 }
        return x
    }

    // MARK: standard normal

    /// Φ(x), the standard normal CDF (scipy.stats.norm.cdf, scipy.special.ndtr), as
    /// erfc(-x/√2) / 2 with the C library's erfc, relative error a few ulp (plus the
    /// rounding of x/√2, which SciPy shares) down to Φ(-37.5) ≈ 5e-308.
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// 1 - Φ(x) = Φ(-x), without the subtraction (scipy.stats.norm.sf).
    public static func normalSurvival(_ x: Double) -> Double {
        0.5 * erfc(x / 2.0.squareRoot())
    }

    /// The standard normal density.
    public static func normalDensity(_ x: Double) -> Double {
        exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
    }

    /// Φ⁻¹(p), the standard normal quantile (scipy.stats.norm.ppf, scipy.special.ndtri):
    /// -inf at 0, +inf at 1, NaN outside [0, 1].
    ///
    /// Wichura's AS 241 (PPND16, Applied Statistics 37, 1988), whose rational
    /// approximations are accurate to about 1 part in 10¹⁶.
    public static func normalQuantile(_ p: Double) -> Double {
        guard p >= 0, p <= 1 else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        let q = p - 0.5
        if abs(q) <= 0.425 {
            let r = 0.180625 - q * q
            return q * polynomial(r, as241A) / polynomial(r, as241B)
        }
        var r = q < 0 ? p : 1 - p
        r = (-log(r)).squareRoot()
        let value: Double
        if r <= 5 {
            r -= 1.6
            value = polynomial(r, as241C) / polynomial(r, as241D)
        } else {
            r -= 5
            value = polynomial(r, as241E) / polynomial(r, as241F)
        }
        return q < 0 ? -value : value
    }

    /// c₀ + c₁ x + ... + cₙ xⁿ by Horner's rule.
    static func polynomial(_ x: Double, _ coefficients: [Double]) -> Double {
        var sum = 0.0
        for c in coefficients.reversed() { sum = sum * x + c }
        return sum
    }

    // AS 241's coefficients, constant term first.
    private static let as241A: [Double] = [
        3.3871328727963666080e0, 1.3314166789178437745e+2, 1.9715909503065514427e+3, 1.3731693765509461125e+4,
        4.5921953931549871457e+4, 6.7265770927008700853e+4, 3.3430575583588128105e+4, 2.5090809287301226727e+3,
    ]
    private static let as241B: [Double] = [
        1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
        2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4, 5.2264952788528545610e+3,
    ]
    private static let as241C: [Double] = [
        1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
        1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ]
    private static let as241D: [Double] = [
        1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ]
    private static let as241E: [Double] = [
        6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ]
    private static let as241F: [Double] = [
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ]
}
