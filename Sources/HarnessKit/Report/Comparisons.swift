/// Paired comparisons of grid points, seed by seed, as the report's tables state them.
///
/// Grid points share their seeds, so a point's accuracy on seed s is compared with the best
/// point's on the same seed: the differences cancel what the seed shares (the initial
/// weights' luck, the batch order), which makes a paired test far more sensitive than
/// comparing two means. For each point against the best: the mean difference with its 95%
/// Student-t interval, the paired t-test's p, the exact Wilcoxon signed-rank p (which with
/// n pairs cannot go below 2/2^n: n = 3 can never reach 0.05), Hedges' g with its magnitude,
/// and the paired t p-values Holm-adjusted across the table. A point whose adjusted p is
/// 0.05 or more is indistinguishable from the best. A matched baseline (`Baseline`) compares
/// each point with a reference point of its own instead, Holm over the whole table all the same.
struct PairedComparison: Sendable {
    enum Verdict: Sendable {
        /// A point the others are compared with (the best, or a baseline point).
        case best
        case indistinguishable, below, above, tooFewPairs

        /// "indistinguishable from the best", "below the baseline".
        func text(reference: String) -> String {
            switch self {
            case .best: reference
            case .indistinguishable: "indistinguishable from the \(reference)"
            case .below: "below the \(reference)"
            case .above: "above the \(reference)"
            case .tooFewPairs: "too few shared seeds to compare"
            }
        }
    }

    let point: Int
    /// The point this one is compared with; nil when it is a reference point itself.
    let reference: Int?
    /// Seeds both points have done jobs for.
    let pairs: Int
    let test: Statistics.PairedTTest?
    let wilcoxon: Statistics.WilcoxonSignedRank?
    let effect: Statistics.PairedEffectSize?
    /// The paired t p, Holm-adjusted over every comparison of the table.
    var adjustedP: Double?
    var verdict: Verdict

    /// Every one of `points` against point `reference` on `metric` (differences are point − reference).
    static func against(_ reference: Int, points: [GridPoint], metric: ReportMetric) -> [PairedComparison] {
        against(references: points.indices.map { $0 == reference ? nil : reference }, points: points, metric: metric)
    }

    /// Every one of `points` against its own reference point, `references[i]` for point `i`
    /// (nil for a reference point), on `metric`.
    static func against(references: [Int?], points: [GridPoint], metric: ReportMetric) -> [PairedComparison] {
        against(references: references, valuesBySeed: points.map { point in
            var values: [Int: Double] = [:]
            for job in point.doneJobs { if let value = metric.value(job.result) { values[job.result.seed] = value } }
            return values
        })
    }

    /// Every point against point `reference`, given each point's values by seed (point `i`
    /// is `valuesBySeed[i]`); differences are point − reference. The report's tables and
    /// adaptive seeds' rounds (`AdaptiveSeedRound`) both decide here.
    static func against(_ reference: Int, valuesBySeed: [[Int: Double]]) -> [PairedComparison] {
        against(references: valuesBySeed.indices.map { $0 == reference ? nil : reference }, valuesBySeed: valuesBySeed)
    }

    /// Every point `i` against point `references[i]` (nil for a reference point, whose
    /// verdict is `.best`), given each point's values by seed; differences are point −
    /// reference. One table: Holm adjusts over all its comparisons, whichever their reference.
    static func against(references: [Int?], valuesBySeed: [[Int: Double]]) -> [PairedComparison] {
        var comparisons = valuesBySeed.enumerated().map { index, values -> PairedComparison in
            guard let reference = references[index] else {
                return PairedComparison(point: index, reference: nil, pairs: 0, test: nil, wilcoxon: nil, effect: nil,
                                        verdict: .best)
            }
            let referenceValues = valuesBySeed[reference]
            let seeds = values.keys.filter { referenceValues[$0] != nil }.sorted()
            let x = seeds.map { values[$0]! }, y = seeds.map { referenceValues[$0]! }
            guard seeds.count >= 2 else {
                return PairedComparison(point: index, reference: reference, pairs: seeds.count, test: nil, wilcoxon: nil,
                                        effect: nil, verdict: .tooFewPairs)
            }
            return PairedComparison(point: index, reference: reference, pairs: seeds.count,
                                    test: try? Statistics.pairedTTest(x, y), wilcoxon: try? Statistics.wilcoxonSignedRank(x, y),
                                    effect: try? Statistics.pairedEffectSize(x, y), verdict: .indistinguishable)
        }
        // Holm over the comparisons that have a p-value (a NaN p, all differences zero, counts as 1).
        let tested = comparisons.indices.filter { comparisons[$0].test != nil }
        let pValues = tested.map { comparisons[$0].test!.p.isNaN ? 1 : comparisons[$0].test!.p }
        if let adjusted = try? Statistics.holmAdjusted(pValues) {
            for (index, p) in zip(tested, adjusted) {
                comparisons[index].adjustedP = p
                let difference = comparisons[index].test!.meanDifference
                comparisons[index].verdict = p < 0.05 ? (difference < 0 ? .below : .above) : .indistinguishable
            }
        }
        return comparisons
    }

    /// The point the others are compared with: the highest mean of its values (each
    /// point's done jobs' accuracies), the first on ties; nil when no point has a value.
    /// The report and adaptive seeds' rounds both choose it here.
    static func best(_ values: [[Double]]) -> Int? {
        var best: (index: Int, mean: Double)?
        for (index, values) in values.enumerated() {
            let summary = Summary(values)
            if summary.count > 0 && summary.mean > (best?.mean ?? -.infinity) { best = (index, summary.mean) }
        }
        return best?.index
    }

    /// Whether the comparison is still open: no significant difference yet, or too few
    /// pairs to test. Adaptive seeds give such points more seeds.
    var isUndecided: Bool { verdict == .indistinguishable || verdict == .tooFewPairs }
}

/// Within-job comparison of a pruning grid point: each job's accuracy after retraining
/// against its own base model's accuracy before pruning (the same seed, the same model).
struct RetrainingComparison: Sendable {
    enum Answer: String, Sendable {
        case beat = "retraining beat the base model"
        case lost = "retraining fell short of the base model"
        case unclear = "no clear difference"
        case tooFewJobs = "too few done jobs to say"
    }

    let pairs: Int
    let test: Statistics.PairedTTest?
    let wilcoxon: Statistics.WilcoxonSignedRank?
    let answer: Answer

    init(_ point: GridPoint) {
        var after: [Double] = [], before: [Double] = []
        for job in point.doneJobs {
            guard let a = job.result.metric("accuracy"), let b = job.result.metric("accuracy_before_pruning") else { continue }
            after.append(a)
            before.append(b)
        }
        pairs = after.count
        guard pairs >= 2, let test = try? Statistics.pairedTTest(after, before) else {
            test = nil
            wilcoxon = nil
            answer = .tooFewJobs
            return
        }
        self.test = test
        wilcoxon = try? Statistics.wilcoxonSignedRank(after, before)
        answer = test.p < 0.05 ? (test.meanDifference > 0 ? .beat : .lost) : .unclear
    }
}
