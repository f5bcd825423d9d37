import Foundation
import XCTest
@testable import HarnessKit

/// `AdaptiveSeedRound.decide` on hand-made accuracies: which grid points get the next seed.
final class AdaptiveSeedRoundTests: XCTestCase {
    typealias State = AdaptiveSeedRound.PointState

    /// A point with a done job for each of `accuracies`, seeds 1, 2, ... in order.
    private func point(_ accuracies: [Double], unfinished: [(Int, JobState)] = []) -> State {
        let done = accuracies.enumerated().map { (seed: $0 + 1, accuracy: $1) }
        return State(seeds: done.map(\.seed) + unfinished.map(\.0), accuracies: done,
                     unfinished: unfinished.map { (seed: $0.0, state: $0.1) })
    }

    private func decide(_ points: [State], start: Int = 3, max: Int = 10) -> AdaptiveSeedRound {
        AdaptiveSeedRound.decide(points, plan: AdaptiveSeeds(start: start, max: max),
                                 labels: points.indices.map { "p\($0)" })
    }

    // Three seeds each: p0 is the best, p1 within noise of it, p2 far below on every seed.
    private let best = [0.80, 0.82, 0.81], close = [0.80, 0.81, 0.815], far = [0.10, 0.11, 0.10]

    func testOnlyUndecidedPointsAndTheBestGetTheNextSeed() {
        let round = decide([point(best), point(close), point(far)])
        XCTAssertEqual(round.best, 0)
        XCTAssertEqual(round.comparisons.map(\.verdict), [.best, .indistinguishable, .below])
        XCTAssertEqual(round.additions, [[4], [4], []])
        XCTAssertEqual(round.announcement(round: 2),
                       "adaptive seeds: round 2 adds seed 4 to 2 grid points (undecided against the best: p1; and the best, p0)")
    }

    func testNothingIsAddedOnceEveryComparisonIsDecided() {
        let round = decide([point(best), point(far), point([0.5, 0.52, 0.51])])
        XCTAssertEqual(round.comparisons.map(\.verdict), [.best, .below, .below])
        XCTAssertEqual(round.additions, [[], [], []])
        XCTAssertEqual(round.conclusion(rounds: 1),
                       "adaptive seeds: finished after round 1: best p0 (3 seeds); decided against it: 2 below (3 seeds)")
    }

    func testAnUndecidedPointStopsAtMax() {
        let five = [0.80, 0.82, 0.81, 0.79, 0.83], fiveClose = [0.80, 0.81, 0.815, 0.80, 0.82]
        let round = decide([point(five), point(fiveClose), point(far)], max: 5)
        XCTAssertEqual(round.additions, [[], [], []])
        XCTAssertEqual(round.atMax, [1])
        XCTAssertEqual(round.conclusion(rounds: 3), "adaptive seeds: finished after round 3: best p0 (5 seeds); decided "
                       + "against it: 1 below (3 seeds); undecided at the maximum of 5 seeds: p1")
    }

    /// Pairs need both points' seed: one pair is too few to test, so with one start seed
    /// every point grows.
    func testTooFewPairsCountsAsUndecided() {
        let round = decide([point([0.8]), point([0.1]), point([0.5])], start: 1)
        XCTAssertEqual(round.comparisons.map(\.verdict), [.best, .tooFewPairs, .tooFewPairs])
        XCTAssertEqual(round.additions, [[2], [2], [2]])
    }

    /// A failed job fails again with the same seed: its point gets no more seeds (so it
    /// cannot keep the rounds going) and the messages say which job and how to retry.
    func testAPointWithAFailedJobGetsNoMoreSeeds() {
        let round = decide([point(best + [0.82]), point(close, unfinished: [(4, .failed)]), point(far)])
        XCTAssertEqual(round.comparisons.map(\.verdict), [.best, .indistinguishable, .below])
        XCTAssertEqual(round.blocked, [1])
        XCTAssertEqual(round.additions, [[], [], []], "no point grows, so the best needs nothing either")
        XCTAssertEqual(round.conclusion(rounds: 2), "adaptive seeds: finished after round 2: best p0 (4 seeds); decided "
                       + "against it: 1 below (3 seeds); no more seeds for p1 (its seed 4 job failed): harness run "
                       + "--retry-failed runs failed jobs again")

        // Other undecided points go on.
        let other = decide([point(best), point(close, unfinished: [(4, .failed)]), point([0.80, 0.815, 0.805])])
        XCTAssertEqual(other.additions, [[4], [], [4]])
        XCTAssert(other.announcement(round: 3).hasSuffix("; no more seeds for p1 (its seed 4 job failed): harness run "
                                                         + "--retry-failed runs failed jobs again"), other.announcement(round: 3))
    }

    /// New seeds could not pair with a best point whose job failed, so nothing is added.
    func testABestPointWithAJobNotDoneStopsEveryAddition() {
        let round = decide([point(best, unfinished: [(4, .failed), (5, .interrupted)]), point(close), point(far)])
        XCTAssertEqual(round.best, 0)
        XCTAssertTrue(round.bestIsBlocked)
        XCTAssertEqual(round.additions, [[], [], []])
        XCTAssertEqual(round.conclusion(rounds: 2), "adaptive seeds: finished after round 2: best p0 (5 seeds); its seed 4 "
                       + "job failed, seed 5 job interrupted, so no grid point gets more seeds until it is done (harness "
                       + "run --retry-failed runs failed jobs again); decided against it: 1 below (3 seeds); undecided: p1")
    }

    /// When another point becomes the best, it gets every seed the growing points will
    /// have, so each of their seeds pairs with it.
    func testANewBestGetsEverySeedTheGrowingPointsHave() {
        let grown = [0.80, 0.82, 0.81, 0.80, 0.79, 0.81, 0.80]  // mean 0.804: the best until now
        let newBest = [0.81, 0.815, 0.83]                        // mean 0.818
        let round = decide([point(grown), point(newBest), point(far)])
        XCTAssertEqual(round.best, 1)
        XCTAssertEqual(round.comparisons[0].pairs, 3)
        XCTAssertEqual(round.additions, [[8], [4, 5, 6, 7, 8], []])
        XCTAssertEqual(round.announcement(round: 5),
                       "adaptive seeds: round 5 adds seed 8 to 1 grid point (undecided against the best: p0) and seeds 4–8 to the best (p1)")
    }

    /// A point decided earlier is compared afresh each round; when it is undecided again it
    /// gets its own next seed, which the best already has.
    func testAPointThatIsUndecidedAgainGetsItsOwnNextSeed() {
        let six = [0.80, 0.82, 0.81, 0.80, 0.83, 0.81], sixClose = [0.80, 0.81, 0.815, 0.80, 0.82, 0.80]
        let round = decide([point(six), point(sixClose), point([0.79, 0.80, 0.815])])
        XCTAssertEqual(round.comparisons.map(\.verdict), [.best, .indistinguishable, .indistinguishable])
        XCTAssertEqual(round.additions, [[7], [7], [4]])
        XCTAssertEqual(round.announcement(round: 5), "adaptive seeds: round 5 adds seed 7 to 2 grid points (undecided against "
                       + "the best: p1; and the best, p0) and seed 4 to 1 grid point (undecided against the best: p2)")
    }

    func testNothingIsAddedBeforeAnyJobIsDone() {
        let empty = State(seeds: [1, 2, 3], accuracies: [], unfinished: [(1, .failed), (2, .failed), (3, .failed)])
        let round = decide([empty, empty])
        XCTAssertNil(round.best)
        XCTAssertEqual(round.additions, [[], []])
        XCTAssertEqual(round.conclusion(rounds: 1), "adaptive seeds: no seeds added: no grid point has a done job to compare")
    }

    func testOneGridPointHasNothingToCompare() {
        let round = decide([point(best)])
        XCTAssertEqual(round.additions, [[]])
        XCTAssertEqual(round.conclusion(rounds: 1),
                       "adaptive seeds: no seeds added: the grid has one point, so there is nothing to compare with the best")
    }

    /// Rounds played out on a deterministic "training": a point's accuracy on seed s is its
    /// level, plus noise the seed gives every point (as initial weights do), plus a little
    /// of its own. The point far below is decided at the start seeds, the twin of the best
    /// (the same level) reaches `max`, a point one point below gets seeds until the paired
    /// test sees the difference (5 seeds; tuned with an independent scipy simulation), and
    /// the rounds end within max − start rounds.
    func testRoundsPlayedOutStopWhereEachComparisonIsDecided() {
        let levels = [0.80, 0.80, 0.10, 0.79]
        func accuracy(_ point: Int, _ seed: Int) -> Double {
            let shared = Double((seed * 7919) % 13) / 13 * 0.06
            let own = Double((seed * 104_729 + point * 31) % 7) / 7 * 0.01
            return levels[point] + shared + own
        }
        let plan = AdaptiveSeeds(start: 3, max: 12)
        var seeds = Array(repeating: plan.startSeeds, count: levels.count)
        var rounds = 1
        while true {
            let states = seeds.enumerated().map { point, seeds in
                State(seeds: seeds, accuracies: seeds.map { (seed: $0, accuracy: accuracy(point, $0)) })
            }
            let round = AdaptiveSeedRound.decide(states, plan: plan, labels: levels.indices.map { "p\($0)" })
            guard round.additions.contains(where: { !$0.isEmpty }) else { break }
            rounds += 1
            for (point, added) in round.additions.enumerated() { seeds[point] += added }
            XCTAssertLessThanOrEqual(rounds, 1 + plan.max - plan.start)
            if rounds > 1 + plan.max - plan.start { break }
        }
        XCTAssertEqual(rounds, 1 + plan.max - plan.start)
        XCTAssertEqual(seeds[2], [1, 2, 3], "far below: decided at the start seeds \(seeds)")
        XCTAssertEqual(seeds[1].count, 12, "within the shared noise of the best: undecided up to max")
        XCTAssertEqual(seeds[0].count, 12, "the best pairs with every seed the others got")
        XCTAssertEqual(seeds[3].count, 5, "slightly below: decided after two added seeds")
        XCTAssertEqual(seeds.map { $0 == Array(1...$0.count) }, [true, true, true, true], "seeds are added in order")
    }
}
