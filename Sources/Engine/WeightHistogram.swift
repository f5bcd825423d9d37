/// The distribution of one layer's weight values, binned: what the report's weight
/// density plots (the paper's Fig. 5) are drawn from. `counts[i]` counts values in
/// [lower + i·width, lower + (i+1)·width), the last bin closed; width = (upper - lower) / counts.count.
public struct WeightHistogram: Sendable, Equatable {
    public let layer: String
    public let lower: Double
    public let upper: Double
    public let counts: [Int]

    public init(layer: String, lower: Double, upper: Double, counts: [Int]) {
        self.layer = layer
        self.lower = lower
        self.upper = upper
        self.counts = counts
    }

    /// Bins `values` into `bins` equal bins over [lower, upper]; values outside are clamped
    /// into the end bins. `skipZeros` leaves out exact zeros (pruned weights).
    public init(layer: String, values: UnsafeBufferPointer<Float>, lower: Double, upper: Double, bins: Int,
                skipZeros: Bool = false) {
        precondition(bins > 0 && upper > lower, "a histogram needs bins and a non-empty range")
        var counts = [Int](repeating: 0, count: bins)
        let scale = Double(bins) / (upper - lower)
        for value in values where !(skipZeros && value == 0) {
            let bin = Int(((Double(value) - lower) * scale).rounded(.down))
            counts[min(bins - 1, max(0, bin))] += 1
        }
        self.init(layer: layer, lower: lower, upper: upper, counts: counts)
    }

    public var total: Int { counts.reduce(0, +) }
    public var binWidth: Double { (upper - lower) / Double(counts.count) }
}
