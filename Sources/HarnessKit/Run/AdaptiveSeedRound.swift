import Foundation

/// One round of adaptive seeds (`AdaptiveSeeds`): which grid points get more seeds, given
/// the results so far.
///
/// Every point is compared with the best on accuracy, paired by seed, exactly as the report
/// compares them (`PairedComparison`, Holm-adjusted over the table). A point whose comparison
/// is undecided (no significant difference yet, or too few pairs) gets its next seed in
/// order, until it has `max` seeds; a decided point gets none, for as long as it stays
/// decided (every round compares afresh, so a point can reopen when the best changes or
/// the Holm adjustment moves). The best point gets every seed the undecided points will
/// have and it lacks, so each new seed forms a pair. A point with a job that is not done (a
/// failed job stays failed: the same seed fails the same way) gets no more seeds, so a
/// failing configuration cannot make the rounds go on; when that point is the best, no
/// point gets any, since new seeds could not pair with it.
///
/// `decide` is a pure function of the points' seeds and accuracies; `next(after:)` reads
/// them from the store.
struct AdaptiveSeedRound: Sendable {
    /// One grid point as a round sees it.
    struct PointState: Sendable {
        /// The seeds the point has jobs for, done or not.
        var seeds: [Int]
        /// The accuracy of each done job, in the experiment's job order.
        var accuracies: [(seed: Int, accuracy: Double)]
        /// The jobs that are not done (failed, interrupted, pending or running).
        var unfinished: [(seed: Int, state: JobState)] = []
    }

    let plan: AdaptiveSeeds
    let points: [PointState]
    /// How messages name each point ("model.hidden = 64").
    let labels: [String]
    /// The point of highest mean accuracy; nil while no point has a done job.
    let best: Int?
    /// Every point against the best (empty without a best).
    let comparisons: [PairedComparison]
    /// Per point, the seeds this round adds to it, in order (mostly none).
    let additions: [[Int]]
    /// Undecided points that already have every seed up to `max`.
    let atMax: [Int]
    /// Undecided points that get no more seeds because a job of theirs is not done.
    let blocked: [Int]
    /// The ids of the jobs this round adds, in position order (`next(after:)` fills them in).
    var jobIDs: [String] = []

    /// Whether some job is neither done nor failed: pending, running or interrupted (a
    /// round another process added, or a run that was stopped), so worth running before
    /// the round is taken as final.
    var hasOpenJobs: Bool { points.contains { $0.unfinished.contains { $0.state != .failed } } }

    /// Whether the best point has a job that is not done, which stops every addition.
    var bestIsBlocked: Bool { best.map { !points[$0].unfinished.isEmpty } ?? false }

    /// Decides the round from the points' states alone.
    static func decide(_ points: [PointState], plan: AdaptiveSeeds, labels: [String]) -> AdaptiveSeedRound {
        let none = [[Int]](repeating: [], count: points.count)
        guard let best = PairedComparison.best(points.map { $0.accuracies.map(\.accuracy) }) else {
            return AdaptiveSeedRound(plan: plan, points: points, labels: labels, best: nil, comparisons: [], additions: none,
                                     atMax: [], blocked: [])
        }
        // As the report pairs them: the last done job of a seed counts.
        let valuesBySeed = points.map { point in
            Dictionary(point.accuracies.map { ($0.seed, $0.accuracy) }, uniquingKeysWith: { _, last in last })
        }
        let comparisons = PairedComparison.against(best, valuesBySeed: valuesBySeed)
        var additions = none, atMax: [Int] = [], blocked: [Int] = []
        for (index, comparison) in comparisons.enumerated() where index != best && comparison.isUndecided {
            let seeds = Set(points[index].seeds)
            if !points[index].unfinished.isEmpty {
                blocked.append(index)
            } else if let next = plan.allSeeds.first(where: { !seeds.contains($0) }) {
                additions[index] = [next]
            } else {
                atMax.append(index)
            }
        }
        if points[best].unfinished.isEmpty {
            // Every seed the growing points will have, so that each of them pairs with the best.
            var wanted: Set<Int> = []
            for (index, added) in additions.enumerated() where !added.isEmpty {
                wanted.formUnion(points[index].seeds)
                wanted.formUnion(added)
            }
            let bestSeeds = Set(points[best].seeds)
            additions[best] = plan.allSeeds.filter { wanted.contains($0) && !bestSeeds.contains($0) }
        } else {
            additions = none
        }
        return AdaptiveSeedRound(plan: plan, points: points, labels: labels, best: best, comparisons: comparisons,
                                 additions: additions, atMax: atMax, blocked: blocked)
    }

    /// The next round of `prepared`'s experiment, from the results in its store, with the
    /// ids of the jobs it adds.
    static func next(after prepared: PreparedRun) throws -> AdaptiveSeedRound {
        let spec = prepared.spec
        guard let plan = spec.adaptiveSeeds else {
            preconditionFailure("adaptive seed rounds need a spec with adaptive seeds")
        }
        let results = try prepared.store.results(experiment: spec.name)
        let (_, gridPoints) = try ReportData.gridPoints(spec, results: results, store: prepared.store)
        let states = gridPoints.map { point in
            PointState(seeds: point.jobs.map(\.result.seed),
                       accuracies: point.doneJobs.compactMap { job in job.result.accuracy.map { (job.result.seed, $0) } },
                       unfinished: point.jobs.filter { !$0.isDone }.map { ($0.result.seed, $0.result.state) })
        }
        let labels = gridPoints.map { ReportData.label(dimensions: spec.grid.map(\.path), values: $0.values) }
        var round = decide(states, plan: plan, labels: labels)
        round.jobIDs = round.additions.enumerated().flatMap { point, seeds in
            seeds.compactMap { prepared.possible.id(point: point, seed: $0) }
        }
        .sorted { (prepared.possible.positionOfID[$0] ?? 0) < (prepared.possible.positionOfID[$1] ?? 0) }
        return round
    }

    // MARK: Messages

    /// "adaptive seeds: round 2 adds seed 4 to 3 grid points (undecided against the best:
    /// model.hidden = 4; model.hidden = 6; and the best, model.hidden = 8)".
    /// Without a round number (`harness submit` does not count them): "this submission adds ...".
    func announcement(round: Int?) -> String {
        var groups: [(seeds: [Int], points: [Int])] = []
        for (index, seeds) in additions.enumerated() where !seeds.isEmpty && index != best {
            if let group = groups.firstIndex(where: { $0.seeds == seeds }) {
                groups[group].points.append(index)
            } else {
                groups.append((seeds, [index]))
            }
        }
        let bestSeeds = best.map { additions[$0] } ?? []
        let bestJoins = groups.firstIndex { $0.seeds == bestSeeds }
        var clauses = groups.enumerated().map { number, group in
            let joins = number == bestJoins
            let count = group.points.count + (joins ? 1 : 0)
            return "\(Self.seeds(group.seeds)) to \(count) grid point\(count == 1 ? "" : "s") (undecided against the best: "
                + group.points.map { labels[$0] }.joined(separator: "; ")
                + (joins ? "; and the best, \(labels[best!])" : "") + ")"
        }
        if let best, !bestSeeds.isEmpty, bestJoins == nil {
            clauses.append("\(Self.seeds(bestSeeds)) to the best (\(labels[best]))")
        }
        var text = "adaptive seeds: " + (round.map { "round \($0)" } ?? "this submission") + " adds "
            + clauses.joined(separator: " and ")
        if !blocked.isEmpty { text += "; " + blockedText }
        return text
    }

    /// What the rounds came to, when this round adds nothing: "adaptive seeds: finished
    /// after round 4: best model.hidden = 8 (7 seeds); decided against it: 1 below; ...".
    func conclusion(rounds: Int?) -> String {
        var parts: [String] = []
        guard let best else {
            return "adaptive seeds: no seeds added: no grid point has a done job to compare"
        }
        if points.count == 1 {
            return "adaptive seeds: no seeds added: the grid has one point, so there is nothing to compare with the best"
        }
        parts.append("best \(labels[best]) (\(Self.count(points[best].seeds.count, "seed")))")
        if bestIsBlocked {
            parts.append("its \(unfinishedText(best)), so no grid point gets more seeds until it is done "
                         + "(harness run --retry-failed runs failed jobs again)")
        }
        var decided: [String] = []
        for (verdict, name) in [(PairedComparison.Verdict.below, "below"), (.above, "above")] {
            let matching = comparisons.filter { $0.verdict == verdict }
            guard !matching.isEmpty else { continue }
            let seedCounts = matching.map { points[$0.point].seeds.count }
            decided.append("\(matching.count) \(name) (\(Self.seedCountRange(seedCounts)))")
        }
        if !decided.isEmpty { parts.append("decided against it: " + decided.joined(separator: ", ")) }
        if !atMax.isEmpty {
            parts.append("undecided at the maximum of \(plan.max) seeds: " + atMax.map { labels[$0] }.joined(separator: "; "))
        }
        if !blocked.isEmpty { parts.append(blockedText) }
        if bestIsBlocked {
            let open = comparisons.filter { $0.point != best && $0.isUndecided }.map { labels[$0.point] }
            if !open.isEmpty { parts.append("undecided: " + open.joined(separator: "; ")) }
        }
        return "adaptive seeds: finished" + (rounds.map { " after round \($0)" } ?? "") + ": " + parts.joined(separator: "; ")
    }

    /// "no more seeds for model.hidden = 4 (its seed 5 job failed): harness run --retry-failed runs it again"
    private var blockedText: String {
        "no more seeds for " + blocked.map { "\(labels[$0]) (its \(unfinishedText($0)))" }.joined(separator: "; ")
            + ": harness run --retry-failed runs failed jobs again"
    }

    /// "seed 5 job failed", "seeds 4, 5 jobs failed", "seed 4 job interrupted, seed 5 job failed".
    private func unfinishedText(_ point: Int) -> String {
        var byState: [(state: JobState, seeds: [Int])] = []
        for job in points[point].unfinished {
            if let index = byState.firstIndex(where: { $0.state == job.state }) {
                byState[index].seeds.append(job.seed)
            } else {
                byState.append((job.state, [job.seed]))
            }
        }
        return byState.map { entry in
            let plural = entry.seeds.count == 1 ? "" : "s"
            return "seed\(plural) \(entry.seeds.map(String.init).joined(separator: ", ")) job\(plural) "
                + (entry.state == .pending ? "not run" : entry.state.rawValue)
        }.joined(separator: ", ")
    }

    /// "seed 4", "seeds 4–8".
    private static func seeds(_ seeds: [Int]) -> String {
        "seed\(seeds.count == 1 ? "" : "s") \(AdaptiveSeeds.range(seeds))"
    }

    /// "3 seeds", "3–5 seeds".
    static func seedCountRange(_ counts: [Int]) -> String {
        let low = counts.min() ?? 0, high = counts.max() ?? 0
        return low == high ? count(low, "seed") : "\(low)–\(high) seeds"
    }

    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
