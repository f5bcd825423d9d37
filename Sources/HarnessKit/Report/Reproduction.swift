import Foundation

/// Whether our jobs reproduce a value the paper reports, by equivalence: two one-sided
/// t-tests (TOST) that our mean lies within `margin` of the paper's, and a one-sample t-test
/// of any difference. Consistent when equivalent at 0.05; differs when the difference is
/// significant and equivalence is not; inconclusive otherwise. Jobs that did not run on the
/// paper's data get no verdict.
struct Reproduction: Sendable {
    enum Verdict: String, Sendable {
        case consistent
        case differs
        case inconclusive
        case otherData = "not compared: other data"
        case tooFewJobs = "too few done jobs"
    }

    let tost: Statistics.EquivalenceTest?
    let difference: Statistics.PairedTTest?
    let verdict: Verdict

    init(values: [Double], paper: Double, margin: Double, officialData: Bool) {
        guard values.count >= 2 else {
            tost = nil
            difference = nil
            verdict = officialData ? .tooFewJobs : .otherData
            return
        }
        tost = try? Statistics.tost(values, reference: paper, margin: margin)
        // A one-sample test is a paired test against the constant.
        difference = try? Statistics.pairedTTest(values, Array(repeating: paper, count: values.count))
        guard officialData else {
            verdict = .otherData
            return
        }
        if tost?.isEquivalent(alpha: 0.05) == true {
            verdict = .consistent
        } else if let p = difference?.p, p < 0.05 {
            verdict = .differs
        } else {
            verdict = .inconclusive
        }
    }
}

/// One value the spec's `reference` gives at one grid point, against our jobs there.
struct ReproductionRow: Sendable {
    let point: Int
    let metric: ReportMetric
    /// Our jobs' values of the metric (done jobs that have one).
    let values: [Double]
    let paper: Double
    let verdict: Reproduction

    /// Every paper value of the reference, point by point in grid order and metric by metric
    /// in the result columns' order: the fractions the paper reports (accuracies, F1,
    /// sparsity); times depend on the machine and are not compared.
    static func all(_ data: ReportData, reference: ReferenceTable) -> [ReproductionRow] {
        let compared = ReportMetric.all.filter { reference.has($0.name) && !$0.name.contains("seconds") }
        let official = data.runsOnThePapersData
        var rows: [ReproductionRow] = []
        for point in data.points {
            for metric in compared {
                guard let paper = reference.value(metric.name, dimensions: data.dimensions, values: point.values) else { continue }
                let values = metric.values(point.doneJobs.map(\.result))
                rows.append(ReproductionRow(point: point.index, metric: metric, values: values, paper: paper,
                                            verdict: Reproduction(values: values, paper: paper, margin: reference.margin,
                                                                  officialData: official)))
            }
        }
        return rows
    }
}

extension ReportData {
    /// Whether every data set of the experiment is the official full Fashion-MNIST: 60,000
    /// training and 10,000 test images in the official files (their MD5s as downloaded).
    var runsOnThePapersData: Bool {
        let official = Set(Downloader.officialFiles.map(\.md5))
        return !datasets.isEmpty && datasets.allSatisfy { dataset in
            guard let description = try? JSONValue.parse(dataset.descriptionJSON),
                  case let .array(files)? = description["files"] else { return false }
            let md5s = files.compactMap { file -> String? in if case let .string(md5)? = file["md5"] { return md5 } else { return nil } }
            return md5s.count == 4 && md5s.allSatisfy(official.contains)
        }
    }
}

/// The paper's ranking claim (`reference.best`: "num_layers = 2 performed best") against our
/// paired comparisons with our best point.
///
/// Supported: our best point has the claimed values and every point without them is below it
/// (Holm-adjusted paired t-test). Contradicted: our best lacks them and every point with them
/// is below it. Not separated: otherwise (some point on the other side of the claim is
/// indistinguishable from our best, or has too few seeds to compare).
struct BestClaim: Sendable {
    enum Verdict: String, Sendable {
        case supported
        case contradicted
        case notSeparated = "not separated"
        case noResults = "no done jobs"
    }

    /// "model.layers = 2".
    let claim: String
    let verdict: Verdict
    /// What we found, in a sentence fragment: "our best, ..., has it; 1 point without it is
    /// indistinguishable from it".
    let finding: String

    /// One per claim of the reference, in its order.
    static func all(_ data: ReportData, reference: ReferenceTable) -> [BestClaim] {
        reference.best.map { BestClaim(data, claimed: $0) }
    }

    init(_ data: ReportData, claimed: [(path: String, value: JSONValue)]) {
        claim = GridLabel.point(claimed)
        guard let best = data.best, let comparisons = data.comparisonsWithBest else {
            verdict = .noResults
            finding = "no grid point has a done job"
            return
        }
        let columns = claimed.map { entry in data.dimensions.firstIndex(of: entry.path)! }
        func matches(_ point: GridPoint) -> Bool {
            zip(columns, claimed).allSatisfy { PointAssignment.same(point.values[$0], $1.value) }
        }
        let bestLabel = data.label(data.points[best])
        let others = data.points.filter { $0.index != best && !$0.doneJobs.isEmpty && matches($0) != matches(data.points[best]) }
        let close = others.filter { comparisons[$0.index].verdict != .below }
        let side = matches(data.points[best]) ? "without" : "with"
        if close.isEmpty {
            verdict = matches(data.points[best]) ? .supported : .contradicted
            finding = "our best (\(bestLabel)) \(matches(data.points[best]) ? "has" : "lacks") it, and every point "
                + "\(side) it is below the best"
        } else {
            verdict = .notSeparated
            finding = "our best (\(bestLabel)) \(matches(data.points[best]) ? "has" : "lacks") it, but \(close.count) "
                + "point\(close.count == 1 ? "" : "s") \(side) it \(close.count == 1 ? "is" : "are") not distinguishable from it"
        }
    }
}

/// The paper's pruning claim at one threshold (retraining raised or lowered the accuracy of
/// the base model, from its reference values before pruning and after retraining) against
/// our within-job comparison (`RetrainingComparison`).
struct RetrainingClaim: Sendable {
    enum Verdict: String, Sendable {
        case agrees, disagrees
        case notSeparated = "not separated"
        case tooFewJobs = "too few done jobs"
    }

    let point: Int
    /// The paper's accuracy after retraining minus before pruning, as a fraction.
    let paperDifference: Double
    let ours: RetrainingComparison
    let verdict: Verdict

    /// One claim per grid point where the reference gives both accuracies.
    static func all(_ data: ReportData, reference: ReferenceTable) -> [RetrainingClaim] {
        data.points.compactMap { point in
            guard let after = reference.value("accuracy", dimensions: data.dimensions, values: point.values),
                  let before = reference.value("accuracy_before_pruning", dimensions: data.dimensions, values: point.values)
            else { return nil }
            let ours = RetrainingComparison(point)
            let paperDifference = after - before
            let verdict: Verdict
            switch ours.answer {
            case .tooFewJobs: verdict = .tooFewJobs
            case .unclear: verdict = .notSeparated
            case .beat: verdict = paperDifference > 0 ? .agrees : .disagrees
            case .lost: verdict = paperDifference < 0 ? .agrees : .disagrees
            }
            return RetrainingClaim(point: point.index, paperDifference: paperDifference, ours: ours, verdict: verdict)
        }
    }
}
