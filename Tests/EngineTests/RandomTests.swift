import XCTest
@testable import Engine

final class RandomTests: XCTestCase {
    func testSameSeedSameStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        for _ in 0..<100 { XCTAssertEqual(a.next(), b.next()) }
    }

    func testKnownFirstValues() {
        // Fixed values pin the algorithm: a change here changes every experiment's weights.
        var g = SeededGenerator(seed: 0)
        let first = (0..<3).map { _ in g.next() }
        // From the reference C implementation of xoshiro256** seeded by SplitMix64(0).
        XCTAssertEqual(first, [11_091_344_671_253_066_420, 13_793_997_310_169_335_082, 1_900_383_378_846_508_768])
    }

    func testUnitFloatRangeAndIntBounds() {
        var g = SeededGenerator(seed: 7)
        for _ in 0..<10_000 {
            let u = g.nextUnitFloat(); XCTAssert(u >= 0 && u < 1)
            let k = g.nextInt(below: 10); XCTAssert((0..<10).contains(k))
        }
    }

    func testPermutationIsAPermutation() {
        var g = SeededGenerator(seed: 3)
        let p = g.permutation(1000)
        XCTAssertEqual(Set(p).count, 1000)
        XCTAssertNotEqual(p, Array(0..<1000))
    }

    func testStreamsDiffer() {
        var a = SeededGenerator(seed: 1, stream: "init"), b = SeededGenerator(seed: 1, stream: "dropout")
        XCTAssertNotEqual(a.next(), b.next())
    }
}
