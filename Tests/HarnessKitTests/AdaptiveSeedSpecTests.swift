import Foundation
import XCTest
@testable import HarnessKit

/// `"seeds": {"start": N, "max": M, "first": F}`: how it reads, what it refuses, what it
/// expands into and how `harness plan` shows it.
final class AdaptiveSeedSpecTests: XCTestCase {
    static let file = "experiments/x.json"

    private func spec(seeds: String, grid: String = #"{"model.hidden": [4, 8]}"#) throws -> ExperimentSpec {
        try ExperimentSpec.parse(text: #"{"name": "x", "model": {"type": "lstm"}, "seeds": "# + seeds + #", "grid": "# + grid + "}",
                                 filePath: Self.file)
    }

    private func assertError(_ seeds: String, _ expected: String, grid: String = #"{"model.hidden": [4, 8]}"#,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try spec(seeds: seeds, grid: grid)
            XCTFail("\(seeds) was accepted", file: file, line: line)
        } catch {
            XCTAssert(error is HarnessError, "not a HarnessError: \(error)", file: file, line: line)
            XCTAssertEqual("\(error)", "\(Self.file): \(expected)", file: file, line: line)
        }
    }

    func testAnObjectGivesTheStartSeedsAndTheSeedsThatMayBeAdded() throws {
        let adaptive = try spec(seeds: #"{"start": 3, "max": 10}"#)
        XCTAssertEqual(adaptive.seeds, [1, 2, 3])
        XCTAssertEqual(adaptive.adaptiveSeeds, AdaptiveSeeds(first: 1, start: 3, max: 10))
        XCTAssertEqual(adaptive.possibleSeeds, Array(1...10))
        XCTAssertEqual(try adaptive.jobs().map(\.seed), [1, 2, 3, 1, 2, 3], "plan and run start with the start seeds")

        let fromZero = try spec(seeds: #"{"max": 4, "first": 0, "start": 2}"#)
        XCTAssertEqual(fromZero.seeds, [0, 1])
        XCTAssertEqual(fromZero.possibleSeeds, [0, 1, 2, 3])

        let fixed = try spec(seeds: #"{"start": 2, "max": 2}"#)
        XCTAssertEqual(fixed.possibleSeeds, [1, 2], "max = start: nothing is ever added")

        let list = try spec(seeds: "[5, 3]")
        XCTAssertNil(list.adaptiveSeeds)
        XCTAssertEqual(list.possibleSeeds, [5, 3])
    }

    func testTheStartSeedsJobsAreTheJobsOfTheSameExplicitSeedList() throws {
        let adaptive = try spec(seeds: #"{"start": 3, "max": 10}"#)
        let list = try spec(seeds: "[1, 2, 3]")
        XCTAssertEqual(try adaptive.jobs().map { $0.canonicalJSON() }, try list.jobs().map { $0.canonicalJSON() })
        // An added seed is the job that seed has in a list too, so its results are shared.
        let longer = try spec(seeds: "[1, 2, 3, 4]")
        XCTAssertEqual(try adaptive.gridPoints()[1].job(seed: 4).canonicalJSON(), try longer.jobs()[7].canonicalJSON())
    }

    func testBadSeedObjectsAreRefusedNamingTheField() {
        assertError(#"{"max": 10}"#, #"$.seeds.start: missing required field; give how many seeds every grid point runs, "#
                    + #"e.g. {"start": 3, "max": 10}"#)
        assertError(#"{"start": 3}"#, #"$.seeds.max: missing required field; give the most seeds a grid point may get, "#
                    + #"e.g. {"start": 3, "max": 10}"#)
        assertError(#"{"start": 5, "max": 3}"#,
                    "$.seeds.max: 3 is less than start (5); max counts every seed a grid point may get, the start seeds included")
        assertError(#"{"start": 0, "max": 3}"#, "$.seeds.start: 0 is out of range 1...1000")
        assertError(#"{"start": 3, "max": 1001}"#, "$.seeds.max: 1001 is out of range 1...1000")
        assertError(#"{"start": 2.5, "max": 3}"#, "$.seeds.start: expected an integer, found 2.5")
        assertError(#"{"start": 3, "max": "10"}"#, #"$.seeds.max: expected an integer, found "10""#)
        assertError(#"{"start": 3, "max": 10, "first": -1}"#, "$.seeds.first: -1 is out of range; expected an integer >= 0")
        assertError(#"{"start": 3, "max": 10, "first": 9223372036854775800}"#,
                    "$.seeds.first: 9223372036854775800 is too large: the seeds 9223372036854775800, "
                    + "9223372036854775800 + 1, ... up to 10 of them must fit a 64-bit integer")
        assertError(#"{"strt": 3, "max": 10}"#, #"$.seeds.strt: unknown key; did you mean "start"?"#)
        assertError(#"{"start": 3, "mx": 10}"#, #"$.seeds.mx: unknown key; did you mean "max"?"#)
        assertError(#"{"start": 3, "max": 10, "step": 2}"#,
                    #"$.seeds.step: unknown key; expected one of "start", "max", "first""#)
        assertError(#""1, 2""#, #"$.seeds: expected a list of integer seeds like [1, 2, 3], or adaptive seeds like "#
                    + #"{"start": 3, "max": 10}, found "1, 2""#)
    }

    /// A grid that only adaptive seeds' maximum takes past the limit is refused as any other.
    func testTheJobLimitCountsEveryGridPointAtItsMaximumSeeds() {
        let values = (1...1001).map(String.init).joined(separator: ", ")
        assertError(#"{"start": 1, "max": 1000}"#,
                    "$.grid: the grid expands to more than 1000000 jobs (counting every grid point at $.seeds.max seeds); "
                    + "split the experiment", grid: #"{"training.batch_size": ["# + values + "]}")
        XCTAssertNoThrow(try spec(seeds: #"{"start": 1, "max": 999}"#, grid: #"{"training.batch_size": ["# + values + "]}"))
    }

    func testThePlanListsTheStartSeedsJobsAndSaysHowManyMoreMayCome() throws {
        let spec = try spec(seeds: #"{"start": 3, "max": 10}"#)
        let plan = Plan.render(spec, jobs: try spec.jobs())
        XCTAssert(plan.contains("\nSeeds: 1, 2, 3; adaptive, up to 10 per grid point (harness run adds seeds 4–10, one at a "
                                + "time, to the grid points whose comparison with the best is undecided)\n"), plan)
        XCTAssert(plan.hasSuffix("\n6 jobs (2 grid points x 3 seeds); adaptive seeds may add up to 14 more "
                                 + "(2 grid points x 7 seeds)\n"), plan)
        let rows = plan.components(separatedBy: "\n\n")[1].split(separator: "\n")
        XCTAssertEqual(rows.dropFirst().map { $0.split(separator: " ").last! }, ["1", "2", "3", "1", "2", "3"],
                       "one row per start seed job:\n\(plan)")

        let none = try self.spec(seeds: #"{"start": 2, "max": 2}"#)
        let fixed = Plan.render(none, jobs: try none.jobs())
        XCTAssert(fixed.contains("\nSeeds: 1, 2; adaptive, up to 2 per grid point\n"), fixed)
        XCTAssert(fixed.hasSuffix("\n4 jobs (2 grid points x 2 seeds)\n"), fixed)

        let single = try ExperimentSpec.parse(text: #"{"name": "x", "model": {"type": "lstm"}, "seeds": {"start": 3, "max": 10}}"#,
                                              filePath: Self.file)
        let lonely = Plan.render(single, jobs: try single.jobs())
        XCTAssert(lonely.contains("\nSeeds: 1, 2, 3; adaptive, up to 10 per grid point (with one grid point there is "
                                  + "nothing to compare, so harness run adds none)\n"), lonely)
        XCTAssert(lonely.hasSuffix("\n3 jobs (1 grid point x 3 seeds)\n"), lonely)
    }
}
