#!/usr/bin/env python3
"""Regenerates every SciPy reference value pasted into StatisticsTests.swift (in this folder).

    python3 statistics_reference.py                 # every function, in file order
    python3 statistics_reference.py student_t_cdf   # only the named ones
    python3 statistics_reference.py --check         # that every test pastes what its function prints

Needs numpy, scipy (1.17 printed the pasted values), statsmodels (0.15) and mpmath
(shipped with sympy); the Swift build and tests never run this script. Each Swift test
whose literals come from here names the function that printed them
("statistics_reference.py: name"), and pastes the numbers each function prints in the
order printed (inputs first, then results; the test may hold other numbers in between).
Values are printed with repr, the shortest string that reads back as the same double.

Where SciPy itself is approximate, a function says so and, where it matters, prints a
high-precision mpmath value beside SciPy's.
"""

import contextlib
import io
import math
import os
import re
import sys

import mpmath
import numpy as np
from scipy import special, stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

mpmath.mp.dps = 50


def show(values):
    """A Swift array literal of doubles (.infinity / .nan for non-finite ones)."""
    def one(v):
        v = float(v)
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".infinity" if v > 0 else "-.infinity"
        return repr(v)
    return "[" + ", ".join(one(v) for v in values) + "]"


# MARK: special functions (StatisticsTests, Special.swift)

def log_gamma():
    """testLogGammaMatchesSciPy: scipy.special.gammaln at x, then the values."""
    xs = [1e-300, 1e-8, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.7, 9.99, 10.0, 10.5, 57.3, 1000.0, 1e6, 1e15]
    print(show(xs))
    print(show(special.gammaln(xs)))


def log_beta():
    """testLogBetaMatchesMPMath: ln B(a, b) at (a, b) pairs: a, b, then mpmath's 50-digit
    values, then scipy.special.betaln's, which loses digits at (0.5, 5e5)
    (-5.988816495984793 against -5.988816495777464: SciPy subtracts log-gammas near 6e6)."""
    pairs = [(0.5, 0.5), (1.0, 1.0), (0.1, 3.0), (2.5, 7.5), (9.0, 12.0), (0.5, 10.0), (0.5, 5e5), (30.0, 400.0),
             (250.0, 750.0), (3.0, 1e8)]
    print(show([a for a, _ in pairs]))
    print(show([b for _, b in pairs]))
    print(show([mpmath.log(mpmath.beta(a, b)) for a, b in pairs]))
    print(show([special.betaln(a, b) for a, b in pairs]))


BETA_CASES = [(0.5, 0.5, 0.3), (0.5, 4.5, 0.01), (4.5, 0.5, 0.99), (1.0, 1.0, 0.42), (2.0, 3.0, 0.4),
              (0.1, 0.2, 0.7), (5.0, 2.0, 1e-4), (15.0, 15.0, 0.5), (15.0, 15.0, 0.9), (0.5, 60.0, 1e-3),
              (60.0, 0.5, 0.99), (50.0, 1000.0, 0.5), (200.0, 300.0, 0.4), (1000.0, 2.5, 0.999), (3.7, 0.9, 1e-8)]


def incomplete_beta():
    """testIncompleteBetaMatchesSciPy: scipy.special.betainc(a, b, x) and betaincc(a, b, x)
    for a, b <= 1000: a, b, x, then I_x(a, b), then 1 - I_x(a, b)."""
    print(show([c[0] for c in BETA_CASES]))
    print(show([c[1] for c in BETA_CASES]))
    print(show([c[2] for c in BETA_CASES]))
    print(show([special.betainc(a, b, x) for a, b, x in BETA_CASES]))
    print(show([special.betaincc(a, b, x) for a, b, x in BETA_CASES]))


def incomplete_beta_large():
    """testIncompleteBetaWithLargeParameters: betainc where a or b is 1e5 or more (the
    continued fraction loses digits there; SciPy's Boost uses asymptotic expansions):
    a, b, x, then I_x(a, b)."""
    cases = [(5e4, 1e5, 0.3), (5e5, 0.5, 0.99999), (5e6, 2.5, 0.999999), (0.5, 5e5, 2e-6)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    print(show([c[2] for c in cases]))
    print(show([special.betainc(a, b, x) for a, b, x in cases]))


INVERSE_BETA_CASES = [(0.5, 0.5, 0.3), (2.0, 3.0, 0.5), (0.1, 1000.0, 0.7), (3.7, 1000.0, 0.999), (1000.0, 3.7, 0.001),
                      (15.0, 15.0, 1e-10), (0.5, 4.5, 0.975), (4.5, 0.5, 0.025), (1.0, 1.0, 0.25), (0.2, 0.3, 0.5),
                      (50.0, 0.5, 0.05), (0.5, 50.0, 0.95), (7.0, 2.0, 1 - 1e-9)]


def inverse_incomplete_beta():
    """testInverseIncompleteBetaMatchesSciPy: scipy.special.betaincinv(a, b, p): a, b, p,
    then x."""
    print(show([c[0] for c in INVERSE_BETA_CASES]))
    print(show([c[1] for c in INVERSE_BETA_CASES]))
    print(show([c[2] for c in INVERSE_BETA_CASES]))
    print(show([special.betaincinv(a, b, p) for a, b, p in INVERSE_BETA_CASES]))


def normal_cdf():
    """testNormalCDFMatchesSciPy: scipy.stats.norm.cdf and norm.sf at x: x, cdf, sf."""
    xs = [-37.0, -20.0, -8.5, -3.0, -1.959963984540054, -0.5, -1e-10, 0.0, 0.3, 1.0, 2.5, 6.0, 8.5]
    print(show(xs))
    print(show(stats.norm.cdf(xs)))
    print(show(stats.norm.sf(xs)))


def normal_quantile():
    """testNormalQuantileMatchesSciPy: scipy.stats.norm.ppf (scipy.special.ndtri): p, then
    the quantiles. Covers AS 241's three regions (|p - 1/2| <= 0.425, r <= 5, r > 5)."""
    ps = [1e-300, 1e-100, 1e-20, 1e-12, 1e-5, 0.001, 0.025, 0.075, 0.1, 0.3, 0.5, 0.58, 0.9, 0.975, 0.999, 1 - 1e-12]
    print(show(ps))
    print(show(stats.norm.ppf(ps)))


# MARK: Student's t (StudentT.swift)

T_DFS = [0.5, 1.0, 2.0, 3.0, 4.5, 9.0, 30.0, 1000.0]
T_POINTS = [-40.0, -6.0, -2.2, -1.0, -0.25, 0.1, 0.7, 1.5, 2.9, 12.0, 1e4]


def student_t_cdf():
    """testStudentTCDFMatchesSciPy: scipy.stats.t.cdf and t.sf at t for each df: t, then
    for each df in turn, df, its cdf values, its sf values."""
    print(show(T_POINTS))
    for df in T_DFS:
        print(show([df]))
        print(show(stats.t.cdf(T_POINTS, df)))
        print(show(stats.t.sf(T_POINTS, df)))


def student_t_near_zero():
    """testStudentTCDFNearZero: t.cdf at tiny |t|, where SciPy loses digits for small df
    (scipy's cdf(1e-8, 1) is 0.500000004743187; the Cauchy CDF is 1/2 + atan(t)/pi =
    0.5000000031830989). df, t, then mpmath's 50-digit values of 1 - I_x(df/2, 1/2)/2, and
    SciPy's for comparison."""
    cases = [(1.0, 1e-8), (1.0, -3e-7), (2.0, 1e-8), (5.0, 1e-5), (0.5, 2e-6)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    exact = []
    for df, t in cases:
        tail = mpmath.betainc(df / 2, 0.5, 0, mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2), regularized=True) / 2
        exact.append(1 - tail if t > 0 else tail)
    print(show(exact))
    print(show([stats.t.cdf(t, df) for df, t in cases]))


def student_t_far_tail():
    """testStudentTFarTail: t.sf at |t| beyond 1e150, where t^2 overflows: df, t, then
    mpmath's values of I_x(df/2, 1/2)/2, x = df/(df + t^2), then SciPy's, which underflows
    to 0 at (0.5, 1e200) (the true value is near 1e-100)."""
    cases = [(0.5, 1e200), (0.5, 1e149), (1.0, 1e160), (2.0, 3e151)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    exact = [mpmath.betainc(df / 2, 0.5, 0, mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2), regularized=True) / 2
             for df, t in cases]
    print(show(exact))
    print(show([stats.t.sf(t, df) for df, t in cases]))


def densities():
    """testDensitiesMatchSciPy: the Student t density at (df, t) from mpmath (50 digits),
    then scipy.stats.t.pdf's (off by 3.8e-13 at df = 1000), then scipy.stats.norm.pdf at t:
    df, t, then the three lists."""
    cases = [(0.5, -3.0), (1.0, 0.0), (2.0, 1.5), (9.0, -0.4), (30.0, 6.0), (1000.0, 2.0), (4.5, 40.0)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    exact = []
    for df, t in cases:
        df, t = mpmath.mpf(df), mpmath.mpf(t)
        exact.append(mpmath.gamma((df + 1) / 2) / (mpmath.sqrt(df * mpmath.pi) * mpmath.gamma(df / 2))
                     * (1 + t * t / df) ** (-(df + 1) / 2))
    print(show(exact))
    print(show([stats.t.pdf(t, df) for df, t in cases]))
    print(show([stats.norm.pdf(t) for _, t in cases]))


T_PROBABILITIES = [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.2, 0.45, 0.55, 0.8, 0.95, 0.975, 0.999, 1 - 1e-9]


def student_t_quantile():
    """testStudentTQuantileMatchesSciPy: scipy.stats.t.ppf: p, then for each df in turn, df
    and its quantiles."""
    print(show(T_PROBABILITIES))
    for df in T_DFS:
        print(show([df]))
        print(show(stats.t.ppf(T_PROBABILITIES, df)))


def student_t_large_df():
    """testStudentTWithLargeDegreesOfFreedom: t.cdf, t.sf and t.ppf at df = 1e5 and 1e7:
    t, p, then for each df in turn, df, its cdf values, its sf values and its quantiles."""
    ts = [-5.0, -2.0, 0.5, 3.0]
    ps = [0.001, 0.3, 0.975]
    print(show(ts))
    print(show(ps))
    for df in [1e5, 1e7]:
        print(show([df]))
        print(show(stats.t.cdf(ts, df)))
        print(show(stats.t.sf(ts, df)))
        print(show(stats.t.ppf(ps, df)))


SAMPLE = [0.9132, 0.9087, 0.9165, 0.9101, 0.9143, 0.9120, 0.9098, 0.9151]
BASELINE = [0.9105, 0.9079, 0.9122, 0.9110, 0.9097, 0.9088, 0.9091, 0.9130]


def t_interval():
    """testTIntervalMatchesSciPy: scipy.stats.t.interval(c, n - 1, loc=mean, scale=sem) of
    SAMPLE for c = 0.95, 0.9, 0.99, then of its first two values at 0.95."""
    values = np.array(SAMPLE)
    print(show(SAMPLE))
    for confidence in [0.95, 0.9, 0.99]:
        print(show(stats.t.interval(confidence, len(values) - 1, loc=values.mean(), scale=stats.sem(values))))
    two = values[:2]
    print(show(stats.t.interval(0.95, 1, loc=two.mean(), scale=stats.sem(two))))


# MARK: summaries (Summary.swift)

def summary():
    """testSummaryMatchesNumPy: n, np.mean, np.std(ddof=1), scipy.stats.sem of SAMPLE."""
    values = np.array(SAMPLE)
    print(show([len(values), values.mean(), values.std(ddof=1), stats.sem(values)]))


MASK = (1 << 64) - 1


class SeededGenerator:
    """harness's SeededGenerator (Sources/Engine/Random.swift): xoshiro256** seeded by
    SplitMix64, and nextInt(below:) by Lemire's multiply-shift rejection method."""

    def __init__(self, seed):
        x = seed & MASK
        state = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self):
        s0, s1, s2, s3 = self.s
        rotated = (((s1 * 5) & MASK) << 7 | ((s1 * 5) & MASK) >> 57) & MASK
        result = (rotated * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def next_int_below(self, bound):
        product = self.next() * bound
        low = product & MASK
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next() * bound
                low = product & MASK
        return product >> 64


def bootstrap_interval(values, confidence, replicates, seed):
    """Statistics.percentileBootstrapInterval, operation for operation: each replicate's
    mean is its sum in draw order (a plain loop; Python's sum() compensates) over n, and
    the interval is numpy.quantile's default linear method."""
    generator = SeededGenerator(seed)
    n = len(values)
    means = []
    for _ in range(replicates):
        total = 0.0
        for _ in range(n):
            total += values[generator.next_int_below(n)]
        means.append(total / n)
    lower = (1 - confidence) / 2
    return np.quantile(np.array(means), [lower, 1 - lower])


def generator_stream():
    """testReferenceGeneratorMatchesSeededGenerator: the first three next() of seed 0 (as
    RandomTests pins them) and the first ten nextInt(below: 7) of seed 42, from this
    script's reimplementation."""
    generator = SeededGenerator(0)
    print([generator.next() for _ in range(3)])
    generator = SeededGenerator(42)
    print([generator.next_int_below(7) for _ in range(10)])


def bootstrap():
    """testBootstrapMatchesNumPyWithTheSameDraws: bootstrap_interval of SAMPLE with seed 7
    (2,000 replicates at 0.95 and 0.9, 10,000 at 0.95), and of [1, 2, 4, 8, 16] with seed 3
    (1,000 replicates at 0.95)."""
    print(show(SAMPLE))
    print(show(bootstrap_interval(SAMPLE, 0.95, 2000, 7)))
    print(show(bootstrap_interval(SAMPLE, 0.9, 2000, 7)))
    print(show(bootstrap_interval(SAMPLE, 0.95, 10000, 7)))
    print(show(bootstrap_interval([1.0, 2.0, 4.0, 8.0, 16.0], 0.95, 1000, 3)))


def linear_quantile():
    """testLinearQuantileMatchesNumPy: numpy.quantile(values, q) (method="linear")."""
    values = [0.1, 0.4, 0.45, 0.9, 1.7, 2.0, 3.5]
    qs = [0.0, 0.025, 0.1, 0.25, 0.5, 0.6, 0.75, 0.975, 1.0]
    print(show(values))
    print(show(qs))
    print(show(np.quantile(values, qs)))


# MARK: paired tests (Paired.swift)

def paired_t_test():
    """testPairedTTestMatchesSciPy: scipy.stats.ttest_rel(SAMPLE, BASELINE): statistic, p,
    df, mean difference, confidence_interval(0.95) and (0.9); then for the first three
    pairs statistic, p and the 0.95 interval."""
    print(show(SAMPLE))
    print(show(BASELINE))
    result = stats.ttest_rel(SAMPLE, BASELINE)
    d = np.array(SAMPLE) - np.array(BASELINE)
    print(show([result.statistic, result.pvalue, result.df, d.mean()]))
    print(show(result.confidence_interval(0.95)))
    print(show(result.confidence_interval(0.9)))
    small = stats.ttest_rel(SAMPLE[:3], BASELINE[:3])
    print(show([small.statistic, small.pvalue]))
    print(show(small.confidence_interval(0.95)))


def paired_t_degenerate():
    """testPairedTTestWithZeroVarianceDifferences: ttest_rel with every difference 1
    (statistic inf, p 0) and every difference 0 (both NaN)."""
    constant = stats.ttest_rel([2.0, 3.0, 5.0], [1.0, 2.0, 4.0])
    zero = stats.ttest_rel([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    print(show([constant.statistic, constant.pvalue, zero.statistic, zero.pvalue]))


def wilcoxon_exact():
    """testWilcoxonExactMatchesSciPy: scipy.stats.wilcoxon(x, y, method="exact") without
    ties or zeros: SAMPLE vs BASELINE (statistic, p); six and five positive differences
    (p = 2/2^6 and 2/2^5); twenty differences i + 1, negated when i is a multiple of 3, for i in 0..<20."""
    result = stats.wilcoxon(SAMPLE, BASELINE, method="exact")
    print(show([result.statistic, result.pvalue]))
    for n in [6, 5]:
        print(show([stats.wilcoxon(np.arange(1.0, n + 1), method="exact").pvalue]))
    twenty = [float(-(i + 1) if i % 3 == 0 else i + 1) for i in range(20)]
    print(show(twenty))
    result = stats.wilcoxon(twenty, method="exact")
    print(show([result.statistic, result.pvalue]))


TIED = [3.0, 1.5, 2.0, -1.0, 0.0, 2.0, 4.5, -2.0, 1.0, 0.5]
TIED_SIXTEEN = [1.0, -1.0, 2.0, 2.0, 3.0, -0.5, 0.5, 4.0, 4.0, 4.0, -3.0, 5.0, 0.0, 6.0, 2.0, 1.5]


def wilcoxon_ties():
    """testWilcoxonWithTiesIsTheExactPermutationTest: differences with ties and a zero.
    SciPy's exact permutation test over all 2^n sign flips
    (wilcoxon(d, method=PermutationMethod(n_resamples=inf))): statistic and p for TIED (n = 10,
    as method="auto" also gives), then for TIED_SIXTEEN (n = 16); then SciPy's
    method="exact" p-values for the two, which use the no-ties distribution with a rounded
    statistic (not pasted as expectations, only compared)."""
    exhaustive = stats.PermutationMethod(n_resamples=np.inf)
    print(show(TIED))
    ten = stats.wilcoxon(TIED, method=exhaustive)
    print(show([ten.statistic, ten.pvalue, stats.wilcoxon(TIED).pvalue]))
    print(show(TIED_SIXTEEN))
    sixteen = stats.wilcoxon(TIED_SIXTEEN, method=exhaustive)
    print(show([sixteen.statistic, sixteen.pvalue]))
    print(show([stats.wilcoxon(TIED, method="exact").pvalue, stats.wilcoxon(TIED_SIXTEEN, method="exact").pvalue]))


def wilcoxon_large():
    """testWilcoxonAboveTheExactLimitUsesTheNormalApproximation: 250 differences
    ((37 i) mod 23 - 11) / 4, i in 0..<250 (ties and zeros), with
    wilcoxon(d, method="asymptotic") (SciPy's default correction=False): statistic, p."""
    d = [((37 * i) % 23 - 11) / 4 for i in range(250)]
    result = stats.wilcoxon(d, method="asymptotic")
    print(show([result.statistic, result.pvalue]))


def hedges_g():
    """testPairedEffectSizeMatchesTheFormula: d_z = mean(d) / std(d, ddof=1), J = 1 -
    3 / (4 (n - 1) - 1), g = J d_z for SAMPLE - BASELINE (numpy; SciPy has no Hedges' g),
    then d_z for the first two pairs."""
    d = np.array(SAMPLE) - np.array(BASELINE)
    dz = d.mean() / d.std(ddof=1)
    j = 1 - 3 / (4 * (len(d) - 1) - 1)
    print(show([dz, j, j * dz]))
    two = d[:2]
    print(show([two.mean() / two.std(ddof=1)]))


# MARK: multiple testing (MultipleTesting.swift)

def holm():
    """testHolmMatchesStatsmodels: statsmodels multipletests(p, method="holm")[1], in input
    order: p, then the adjusted values."""
    p = [0.01, 0.04, 0.03, 0.005, 0.5, 0.04, 0.2, 0.0001]
    print(show(p))
    print(show(multipletests(p, method="holm")[1]))


# MARK: McNemar (McNemar.swift)

MCNEMAR_CASES = [(0, 0), (1, 0), (5, 0), (0, 6), (3, 9), (10, 12), (0, 25), (100, 140), (400, 480)]


def mcnemar_exact():
    """testExactMcNemarMatchesStatsmodels: statsmodels mcnemar([[n00, b], [c, n11]],
    exact=True).pvalue for discordant counts (b, c): b, c, then p."""
    print(show([b for b, _ in MCNEMAR_CASES]))
    print(show([c for _, c in MCNEMAR_CASES]))
    print(show([mcnemar([[7, b], [c, 11]], exact=True).pvalue for b, c in MCNEMAR_CASES]))


def binomial_cdf():
    """testBinomialCDFMatchesSciPy: scipy.stats.binom.cdf(k, n, p): k, n, p, then the CDF."""
    cases = [(0, 10, 0.5), (3, 10, 0.5), (9, 10, 0.5), (2, 7, 0.1), (40, 100, 0.45), (0, 1000, 0.01), (500, 1000, 0.5),
             (120, 1000, 0.2)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    print(show([c[2] for c in cases]))
    print(show([stats.binom.cdf(k, n, p) for k, n, p in cases]))


# MARK: equivalence (Equivalence.swift)

def tost():
    """testTOSTMatchesSciPy: for SAMPLE against reference 0.912 with margin 0.003, and
    against 0.905 with margin 0.004: scipy.stats.ttest_1samp(SAMPLE, ref - margin,
    alternative="greater") statistic and p, then ttest_1samp(SAMPLE, ref + margin,
    alternative="less") statistic and p."""
    print(show(SAMPLE))
    for reference, margin in [(0.912, 0.003), (0.905, 0.004)]:
        lower = stats.ttest_1samp(SAMPLE, reference - margin, alternative="greater")
        upper = stats.ttest_1samp(SAMPLE, reference + margin, alternative="less")
        print(show([reference, margin, lower.statistic, lower.pvalue, upper.statistic, upper.pvalue]))


def tost_zero_variance():
    """testTOSTWithZeroVariance: ttest_1samp of [1, 1, 1] against 1 - 0.5 (greater) and
    1 + 0.5 (less): statistics and p; then against 2 - 0.5 (greater) and 2 + 0.5 (less)."""
    values = [1.0, 1.0, 1.0]
    for reference in [1.0, 2.0]:
        lower = stats.ttest_1samp(values, reference - 0.5, alternative="greater")
        upper = stats.ttest_1samp(values, reference + 0.5, alternative="less")
        print(show([lower.statistic, lower.pvalue, upper.statistic, upper.pvalue]))


# MARK: power (Power.swift)

def noncentral_t():
    """testNoncentralTCDFMatchesSciPy: scipy.stats.nct.cdf(t, df, nc): df, nc, t, then the
    CDF."""
    cases = [(1.0, 0.5, 0.7), (4.0, 1.0, 2.0), (4.0, -1.0, 2.0), (9.0, 2.5, 2.262), (9.0, 2.5, -2.262), (29.0, 6.0, 4.0),
             (7.5, 3.0, 0.0), (99.0, 12.0, 13.0), (15.0, 30.0, 28.0), (2.0, -4.0, -1.0), (500.0, 0.3, 1.96)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    print(show([c[2] for c in cases]))
    print(show([stats.nct.cdf(t, df, nc) for df, nc, t in cases]))


def reference_power(dz, n, alpha):
    """Two-sided paired t-test power with scipy.stats.nct."""
    df = n - 1
    nc = dz * math.sqrt(n)
    critical = stats.t.ppf(1 - alpha / 2, df)
    return stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc)


def paired_power():
    """testPairedTTestPowerMatchesSciPy: 1 - nct.cdf(c, n-1, dz sqrt(n)) + nct.cdf(-c, ...)
    with c = t.ppf(1 - alpha/2, n-1): dz, n, alpha, then the power."""
    cases = [(0.5, 10, 0.05), (0.8, 15, 0.05), (1.2, 5, 0.05), (-0.7, 20, 0.05), (0.3, 100, 0.05), (1.0, 8, 0.01),
             (2.0, 3, 0.05), (0.0, 12, 0.05)]
    print(show([c[0] for c in cases]))
    print(show([c[1] for c in cases]))
    print(show([c[2] for c in cases]))
    print(show([reference_power(dz, n, alpha) for dz, n, alpha in cases]))


def seeds_for_power():
    """testSeedsFor80PercentPowerMatchesSciPy: the smallest n >= 2 with reference_power(dz,
    n, 0.05) >= 0.8, scanning to 1000 (0 printed for none), for each dz; then the power at
    that n and at n - 1, so the test shows no rounding sits on the threshold."""
    effects = [3.0, 1.5, 1.0, 0.8, 0.5, 0.3, 0.1]
    found, margins = [], []
    for dz in effects:
        n = next((n for n in range(2, 1001) if reference_power(dz, n, 0.05) >= 0.8), 0)
        found.append(n)
        if n:
            margins += [reference_power(dz, n, 0.05), reference_power(dz, n - 1, 0.05) if n > 2 else 0.0]
    print(show(effects))
    print(found)
    print(show(margins))


FUNCTIONS = [log_gamma, log_beta, incomplete_beta, incomplete_beta_large, inverse_incomplete_beta, normal_cdf,
             normal_quantile, student_t_cdf, student_t_near_zero, student_t_far_tail, densities, student_t_quantile, student_t_large_df, t_interval,
             summary, generator_stream, bootstrap, linear_quantile, paired_t_test, paired_t_degenerate, wilcoxon_exact,
             wilcoxon_ties, wilcoxon_large, hedges_g, holm, mcnemar_exact, binomial_cdf, tost, tost_zero_variance,
             noncentral_t, paired_power, seeds_for_power]


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def printed(function):
    """The finite numbers `function` prints, comment lines left out."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        function()
    lines = [line for line in output.getvalue().splitlines() if not line.startswith("#")]
    return [float(n) for n in NUMBER.findall("\n".join(lines))]


def check():
    """Checks that every Swift test naming a function here pastes the numbers it prints,
    in order (the test may hold other numbers between them); exits non-zero if not."""
    folder = os.path.dirname(os.path.abspath(__file__))
    functions = {f.__name__: f for f in FUNCTIONS}
    seen, failures = set(), []
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".swift"):
            continue
        text = open(os.path.join(folder, file)).read()
        for match in re.finditer(r"statistics_reference\.py: (\w+)", text):
            name = match.group(1)
            if name not in functions:
                failures.append(f"{file}: names unknown function {name}")
                continue
            seen.add(name)
            # The test's body: from its func to the first line closing it at the same indent.
            start = text.index("func test", match.end())
            end = text.index("\n    }\n", start)
            pasted = [float(n.replace("_", "")) for n in NUMBER.findall(text[start:end].replace("_", ""))]
            expected, position = printed(functions[name]), 0
            for value in expected:
                while position < len(pasted) and pasted[position] != value:
                    position += 1
                if position == len(pasted):
                    failures.append(f"{file}: {name} prints {value!r}, missing (or out of order) in the test")
                    break
                position += 1
            else:
                print(f"ok   {file}: {name} ({len(expected)} values)")
    failures += [f"no test names {name}" for name in functions if name not in seen]
    for failure in failures:
        print(f"FAIL {failure}")
    sys.exit(1 if failures else 0)


def main(arguments):
    if arguments == ["--check"]:
        check()
    names = arguments
    unknown = set(names) - {f.__name__ for f in FUNCTIONS}
    if unknown:
        sys.exit(f"unknown function(s): {', '.join(sorted(unknown))}; known: {', '.join(f.__name__ for f in FUNCTIONS)}")
    for function in FUNCTIONS:
        if names and function.__name__ not in names:
            continue
        print(f"# {function.__name__}: {' '.join(function.__doc__.split())}")
        function()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
