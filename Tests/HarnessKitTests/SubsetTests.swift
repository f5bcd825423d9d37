import HarnessKit
import TestSupport
import XCTest

final class SubsetTests: XCTestCase {
    /// 210 images: class c has 30 - 2c of them (30, 28, ..., 12), interleaved.
    private func unevenSet() -> LabeledImages {
        var labels: [UInt8] = []
        for round in 0..<30 {
            for c in 0..<10 where round < 30 - 2 * c { labels.append(UInt8(c)) }
        }
        return IDXFiles.makeImages(labels: labels, rows: 6, columns: 6, seed: 3)
    }

    private func assertError(_ fragments: [String], line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssert(error is HarnessError, line: line)
            let message = String(describing: error)
            for fragment in fragments {
                XCTAssert(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", line: line)
            }
        }
    }

    func testSubsetCopiesTheChosenImagesInOrder() {
        let set = unevenSet()
        let picked = set.subset([5, 0, 209, 5])
        XCTAssertEqual(picked.count, 4)
        XCTAssertEqual(picked.rows, 6)
        XCTAssertEqual(picked.labels, [set.labels[5], set.labels[0], set.labels[209], set.labels[5]])
        XCTAssertEqual(picked.image(0), set.image(5))
        XCTAssertEqual(picked.image(1), set.image(0))
        XCTAssertEqual(picked.image(2), set.image(209))
        XCTAssertEqual(picked.image(3), set.image(5))
        XCTAssertEqual(set.subset([]).count, 0)
    }

    func testSampleIsDeterministicPerSeed() throws {
        let set = unevenSet()
        for stratified in [false, true] {
            let a = try set.sample(count: 50, stratified: stratified, seed: 11)
            let b = try set.sample(count: 50, stratified: stratified, seed: 11)
            let c = try set.sample(count: 50, stratified: stratified, seed: 12)
            XCTAssertEqual(a, b)
            XCTAssertNotEqual(a.pixels, c.pixels)
            XCTAssertEqual(a.count, 50)
        }
    }

    /// The sample is made of distinct images of the set, kept in the set's order.
    func testSampleDrawsDistinctImagesInOriginalOrder() throws {
        let set = unevenSet()
        let images = (0..<set.count).map { Array(set.image($0)) }
        let sample = try set.sample(count: 80, stratified: false, seed: 4)
        let positions = (0..<sample.count).map { i in images.firstIndex(of: Array(sample.image(i)))! }
        XCTAssertEqual(Set(positions).count, 80)
        XCTAssertEqual(positions, positions.sorted())
        XCTAssertEqual(sample.labels, positions.map { set.labels[$0] })
    }

    func testStratifiedCountsAndRemainder() throws {
        let set = unevenSet()
        XCTAssertEqual(set.classCounts, [30, 28, 26, 24, 22, 20, 18, 16, 14, 12])
        // 10 per class.
        XCTAssertEqual(try set.sample(count: 100, stratified: true, seed: 1).classCounts, Array(repeating: 10, count: 10))
        // 103 = 10 per class, the 3 extra to classes 0, 1, 2.
        XCTAssertEqual(try set.sample(count: 103, stratified: true, seed: 1).classCounts,
                       [11, 11, 11, 10, 10, 10, 10, 10, 10, 10])
        // Fewer than one per class: only the lowest classes get one.
        XCTAssertEqual(try set.sample(count: 4, stratified: true, seed: 1).classCounts, [1, 1, 1, 1])
        // Exactly as many as the smallest class allows.
        XCTAssertEqual(try set.sample(count: 120, stratified: true, seed: 1).classCounts,
                       Array(repeating: 12, count: 10))
    }

    func testStratifiedErrorWhenAClassIsTooSmall() {
        // 130 needs 13 of each class; class 9 has 12.
        assertError(["stratified sample of 130", "needs 13 of class 9", "only 12"]) {
            _ = try self.unevenSet().sample(count: 130, stratified: true, seed: 1)
        }
    }

    func testWholeSetIsReturnedUnchanged() throws {
        let set = unevenSet()
        XCTAssertEqual(set.count, 210)
        XCTAssertEqual(try set.sample(count: 210, stratified: false, seed: 9), set)
        // Even stratified: every image is taken, classes need not be balanced.
        XCTAssertEqual(try set.sample(count: 210, stratified: true, seed: 9), set)
    }

    func testSizeErrors() {
        let set = unevenSet()
        assertError(["cannot sample 211 images", "only 210"]) {
            _ = try set.sample(count: 211, stratified: false, seed: 1)
        }
        assertError(["at least 1", "got 0"]) { _ = try set.sample(count: 0, stratified: true, seed: 1) }
    }
}
