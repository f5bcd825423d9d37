import Engine
import Foundation

/// A Gaussian kernel density estimate of binned values, as the paper's Fig. 5 plots the
/// weights before and after pruning: each bin's centre is a kernel weighted by the bin's
/// count. Several histograms (a model's layers) pool into one distribution.
struct KernelDensity {
    /// Bin centres with non-zero counts, sorted, their counts, and each one's kernel width.
    let centres: [Double]
    let weights: [Double]
    let widths: [Double]
    let total: Double
    /// Silverman's bandwidth for the pooled values.
    let bandwidth: Double

    /// Nil when the histograms hold no values.
    init?(_ histograms: [WeightHistogram]) {
        var bins: [(centre: Double, weight: Double, binWidth: Double)] = []
        for histogram in histograms {
            let width = histogram.binWidth
            for (bin, count) in histogram.counts.enumerated() where count > 0 {
                bins.append((histogram.lower + (Double(bin) + 0.5) * width, Double(count), width))
            }
        }
        guard !bins.isEmpty else { return nil }
        bins.sort { $0.centre < $1.centre }
        centres = bins.map(\.centre)
        weights = bins.map(\.weight)
        total = weights.reduce(0, +)
        let bandwidth = Self.silverman(centres: centres, weights: weights, total: total)
        self.bandwidth = bandwidth
        // A kernel narrower than its bin would draw the binning (a ripple at the bin
        // spacing) rather than the values, so each kernel is at least its bin wide.
        widths = bins.map { max(bandwidth, $0.binWidth) }
    }

    /// Silverman's rule of thumb, 0.9 · min(σ, IQR / 1.34) · n^(-1/5), from the weighted
    /// centres (σ alone when the IQR is 0).
    static func silverman(centres: [Double], weights: [Double], total: Double) -> Double {
        let mean = zip(centres, weights).reduce(0) { $0 + $1.0 * $1.1 } / total
        let variance = total > 1 ? zip(centres, weights).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) } / (total - 1) : 0
        let sigma = variance.squareRoot()
        let iqr = quantile(0.75, centres, weights, total) - quantile(0.25, centres, weights, total)
        let spread = iqr > 0 ? min(sigma, iqr / 1.34) : sigma
        return 0.9 * spread * pow(total, -0.2)
    }

    /// The smallest centre whose cumulative weight reaches `p` of the total.
    static func quantile(_ p: Double, _ centres: [Double], _ weights: [Double], _ total: Double) -> Double {
        var cumulative = 0.0
        for (centre, weight) in zip(centres, weights) {
            cumulative += weight
            if cumulative >= p * total { return centre }
        }
        return centres[centres.count - 1]
    }

    /// The density at `x`; it integrates to 1 over the real line.
    func density(at x: Double) -> Double {
        var sum = 0.0
        for index in centres.indices {
            let z = (x - centres[index]) / widths[index]
            // Beyond 8 widths a kernel adds less than 1e-14 of its peak.
            if abs(z) < 8 { sum += weights[index] * exp(-0.5 * z * z) / widths[index] }
        }
        return sum / (total * (2 * Double.pi).squareRoot())
    }

    /// `count` evenly spaced (x, density) points over [lower, upper].
    func curve(from lower: Double, to upper: Double, count: Int = 241) -> [(x: Double, y: Double)] {
        (0..<count).map { i in
            let x = lower + (upper - lower) * Double(i) / Double(count - 1)
            return (x, density(at: x))
        }
    }
}
