import Foundation
import HarnessKit
import TestSupport
import XCTest

/// IDX parsing, gzip decoding and `FashionMNIST.load`.
final class IDXTests: XCTestCase {
    private var temporary: TemporaryDirectory!

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "idx-test") }
    override func tearDown() { temporary.remove() }

    @discardableResult
    private func expectError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) -> String {
        expectHarnessError(fragments, file: file, line: line, body)
    }

    private func writeFile(_ name: String, _ data: Data) throws -> String { try temporary.write(data, to: name) }

    // MARK: Good files

    func testReadsGzippedAndRawFilesAlike() throws {
        let gz = try IDXFiles.writeDataset(in: temporary.file("gz"), trainCount: 30, testCount: 12, gzip: true)
        let raw = try IDXFiles.writeDataset(in: temporary.file("raw"), trainCount: 30, testCount: 12, gzip: false)
        XCTAssert(gz.paths.allSatisfy { $0.hasSuffix(".gz") })
        XCTAssert(raw.paths.allSatisfy { !$0.hasSuffix(".gz") })

        for dataset in [gz, raw] {
            let images = try IDX.readImages(path: dataset.paths[0])
            XCTAssertEqual(images.count, 30)
            XCTAssertEqual(images.rows, 28)
            XCTAssertEqual(images.columns, 28)
            XCTAssertEqual(images.pixels, dataset.train.pixels)
            XCTAssertEqual(try IDX.readLabels(path: dataset.paths[1]), dataset.train.labels)
            let test = try IDX.readLabeledImages(images: dataset.paths[2], labels: dataset.paths[3])
            XCTAssertEqual(test, dataset.test)
        }
    }

    func testReaderAcceptsAnyImageSize() throws {
        let pixels = (0..<(3 * 7 * 5)).map { UInt8($0 % 256) }
        let path = try writeFile("small-images", IDX.encodeImages(rows: 7, columns: 5, pixels: pixels))
        let images = try IDX.readImages(path: path)
        XCTAssertEqual([images.count, images.rows, images.columns], [3, 7, 5])
        XCTAssertEqual(images.pixels, pixels)
    }

    /// Content decides, not the name: browsers sometimes unpack a download but keep `.gz`.
    func testFileNameDoesNotDecideCompression() throws {
        let labels: [UInt8] = [3, 1, 4, 1, 5, 9]
        let rawNamedGz = try writeFile("raw.gz", IDX.encodeLabels(labels))
        let gzNamedRaw = try writeFile("gz-labels", Gzip.compress(IDX.encodeLabels(labels)))
        XCTAssertEqual(try IDX.readLabels(path: rawNamedGz), labels)
        XCTAssertEqual(try IDX.readLabels(path: gzNamedRaw), labels)
    }

    // MARK: Bad IDX files

    func testTruncatedHeader() throws {
        let full = IDX.encodeImages(rows: 28, columns: 28, pixels: [UInt8](repeating: 7, count: 784))
        let path = try writeFile("short-header", full.prefix(10))
        expectError([path, "truncated header", "expected 16 bytes", "found 10"]) { _ = try IDX.readImages(path: path) }

        let tiny = try writeFile("tiny", Data([0, 0]))
        expectError([tiny, "truncated header", "found 2"]) { _ = try IDX.readLabels(path: tiny) }
    }

    func testTruncatedPayloadRawAndGzipped() throws {
        let full = IDX.encodeImages(rows: 28, columns: 28, pixels: [UInt8](repeating: 7, count: 2 * 784))
        let cut = full.prefix(full.count - 100)
        let raw = try writeFile("cut-images", cut)
        expectError([raw, "truncated", "2 images of 28x28", "needs 1568 bytes", "holds only 1468"]) {
            _ = try IDX.readImages(path: raw)
        }
        let gz = try writeFile("cut-images.gz", Gzip.compress(cut))
        expectError([gz, "truncated", "needs 1568 bytes", "holds only 1468"]) { _ = try IDX.readImages(path: gz) }

        let labels = try writeFile("cut-labels", IDX.encodeLabels([1, 2, 3, 4]).dropLast())
        expectError([labels, "truncated", "4 labels", "needs 4 bytes", "holds only 3"]) {
            _ = try IDX.readLabels(path: labels)
        }
    }

    func testExtraBytesAfterRecords() throws {
        let path = try writeFile("long-labels", IDX.encodeLabels([1, 2, 3]) + Data([0, 0]))
        expectError([path, "3 labels", "2 unexpected extra bytes"]) { _ = try IDX.readLabels(path: path) }
    }

    func testWrongMagic() throws {
        let labels = try writeFile("labels-as-images", IDX.encodeLabels([1, 2, 3]))
        expectError([labels, "wrong magic", "expected 0x00000803 (IDX images), found 0x00000801 (IDX labels)"]) {
            _ = try IDX.readImages(path: labels)
        }
        let images = try writeFile("images-as-labels", IDX.encodeImages(rows: 2, columns: 2, pixels: [1, 2, 3, 4]))
        expectError([images, "expected 0x00000801 (IDX labels), found 0x00000803"]) {
            _ = try IDX.readLabels(path: images)
        }
        let text = try writeFile("notes.txt", Data("hello, world".utf8))
        expectError([text, "found 0x68656C6C", "not an IDX file"]) { _ = try IDX.readLabels(path: text) }
    }

    func testLabelOutOfRange() throws {
        let path = try writeFile("labels", IDX.encodeLabels([0, 9, 2, 10, 4]))
        expectError([path, "label 10 at record 3", "outside 0...9"]) { _ = try IDX.readLabels(path: path) }
    }

    func testImageAndLabelCountsMustAgree() throws {
        let dataset = try IDXFiles.writeDataset(in: temporary.path, trainCount: 20, testCount: 5)
        // Replace the train labels by a shorter file.
        try IDXFiles.write(IDX.encodeLabels(IDXFiles.cyclingLabels(count: 19)), to: dataset.paths[1], gzip: true)
        expectError(["record count mismatch", dataset.paths[0], "20 images", dataset.paths[1], "19 labels"]) {
            _ = try FashionMNIST.load(directory: temporary.path)
        }
    }

    // MARK: gzip

    func testGzipRoundTripAndConcatenatedMembers() throws {
        let first = Data((0..<100_000).map { UInt8(($0 * 13) % 251) })
        let second = Data("second member".utf8)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(first), file: "one.gz"), first)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(Data()), file: "empty.gz"), Data())
        let both = Gzip.compress(first) + Gzip.compress(second)
        XCTAssertEqual(try Gzip.decompress(both, file: "two.gz"), first + second)
        // Zero padding after the stream (as tar and some transfer tools leave) is ignored.
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(second) + Data(count: 512), file: "padded.gz"), second)
    }

    /// A zlib (RFC 1950) stream built by hand: header, one stored block, Adler-32.
    func testZlibStreamsAreRecognised() throws {
        let payload = Array("zlib, not gzip".utf8)
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in payload { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        let length = UInt16(payload.count)
        var stream: [UInt8] = [0x78, 0x01, 0x01, UInt8(length & 0xFF), UInt8(length >> 8),
                               UInt8(~length & 0xFF), UInt8(~length >> 8)]
        stream += payload
        withUnsafeBytes(of: ((b << 16) | a).bigEndian) { stream += $0 }
        XCTAssertEqual(try Gzip.decompress(Data(stream), file: "stream.z"), Data(payload))
    }

    func testCorruptGzip() throws {
        let original = Data((0..<50_000).map { UInt8(($0 * 7) % 256) })
        let good = Gzip.compress(original)

        var badChecksum = good
        badChecksum[badChecksum.count - 6] ^= 0xFF  // inside the CRC-32 of the trailer
        expectError(["bad.gz", "corrupt gzip data", "incorrect data check"]) {
            _ = try Gzip.decompress(badChecksum, file: "bad.gz")
        }
        expectError(["cut.gz", "truncated gzip data", "incomplete"]) {
            _ = try Gzip.decompress(good.prefix(good.count / 2), file: "cut.gz")
        }
        expectError(["cut.gz", "truncated gzip data"]) { _ = try Gzip.decompress(good.dropLast(3), file: "cut.gz") }
        expectError(["junk.gz", "unexpected bytes after the end"]) {
            _ = try Gzip.decompress(good + Data("junk".utf8), file: "junk.gz")
        }
        expectError(["empty.gz", "empty file"]) { _ = try Gzip.decompress(Data(), file: "empty.gz") }

        // Through the IDX reader: a .gz file that is not gzip at all.
        let path = try writeFile("train-images-idx3-ubyte.gz", Data("<html>Not Found</html>".utf8))
        expectError([path, "corrupt gzip data", "incorrect header check"]) { _ = try IDX.readImages(path: path) }
    }

    // MARK: FashionMNIST.load

    func testLoadDescribesFilesAndChecksImageSize() throws {
        let dataset = try IDXFiles.writeDataset(in: temporary.path, trainCount: 40, testCount: 10)
        let loaded = try FashionMNIST.load(directory: temporary.path)
        XCTAssertEqual(loaded.train, dataset.train)
        XCTAssertEqual(loaded.test, dataset.test)
        XCTAssertEqual(loaded.files.map(\.name), FashionMNIST.fileNames.map { $0 + ".gz" })
        XCTAssertEqual(loaded.files.map(\.records), [40, 40, 10, 10])
        XCTAssertEqual(loaded.files.map(\.path), dataset.paths)
        for info in loaded.files {
            XCTAssertEqual(info.md5, Digest.md5Hex(try Data(contentsOf: URL(fileURLWithPath: info.path))))
        }
        XCTAssertEqual(loaded.fingerprint.count, 16)

        let json = try loaded.descriptionJSON()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertEqual(object["directory"] as? String, temporary.path)
        XCTAssertEqual(object["fingerprint"] as? String, loaded.fingerprint)
        XCTAssertEqual((object["files"] as? [[String: Any]])?.compactMap { $0["records"] as? Int }, [40, 40, 10, 10])
        XCTAssertEqual((object["train"] as? [String: Any])?["records"] as? Int, 40)
        XCTAssertEqual((object["test"] as? [String: Any])?["records"] as? Int, 10)

        let small = temporary.file("small")
        try IDXFiles.writeDataset(in: small, trainCount: 4, testCount: 4, rows: 8, columns: 9)
        expectError(["train-images-idx3-ubyte.gz", "expected 28x28", "found 8x9"]) {
            _ = try FashionMNIST.load(directory: small)
        }
    }

    func testLoadPrefersGzAndNamesMissingFile() throws {
        let dataset = try IDXFiles.writeDataset(in: temporary.path, trainCount: 10, testCount: 10, gzip: true)
        // A raw train-images file with different contents next to the .gz: the .gz wins.
        let other = IDXFiles.makeImages(labels: IDXFiles.cyclingLabels(count: 10), seed: 99)
        try IDXFiles.write(IDX.encodeImages(rows: 28, columns: 28, pixels: other.pixels),
                           to: temporary.file("train-images-idx3-ubyte"), gzip: false)
        XCTAssertEqual(try FashionMNIST.load(directory: temporary.path).train, dataset.train)

        try FileManager.default.removeItem(atPath: dataset.paths[3])
        expectError([temporary.path, "t10k-labels-idx1-ubyte.gz or t10k-labels-idx1-ubyte"]) {
            _ = try FashionMNIST.load(directory: temporary.path)
        }
    }

    func testFingerprintIgnoresCompressionButNotContents() throws {
        let gz = temporary.file("gz"), raw = temporary.file("raw"), other = temporary.file("other")
        try IDXFiles.writeDataset(in: gz, trainCount: 25, testCount: 7, gzip: true, seed: 5)
        try IDXFiles.writeDataset(in: raw, trainCount: 25, testCount: 7, gzip: false, seed: 5)
        try IDXFiles.writeDataset(in: other, trainCount: 25, testCount: 7, gzip: false, seed: 6)
        let fromGz = try FashionMNIST.load(directory: gz), fromRaw = try FashionMNIST.load(directory: raw)
        XCTAssertEqual(fromGz.fingerprint, fromRaw.fingerprint)
        XCTAssertNotEqual(fromGz.files[0].md5, fromRaw.files[0].md5)
        XCTAssertNotEqual(try FashionMNIST.load(directory: other).fingerprint, fromRaw.fingerprint)
        // Swapping train and test changes it too: the order is part of the definition.
        XCTAssertNotEqual(FashionMNIST.fingerprint(train: fromRaw.test, test: fromRaw.train), fromRaw.fingerprint)
    }

    /// The real Fashion-MNIST files, when HARNESS_TEST_DATA names a directory of them.
    func testLoadsRealData() throws {
        guard let directory = ProcessInfo.processInfo.environment["HARNESS_TEST_DATA"] else {
            throw XCTSkip("HARNESS_TEST_DATA is not set")
        }
        let start = Date()
        let data = try FashionMNIST.load(directory: directory)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(data.train.rows, 28)
        XCTAssertEqual(data.train.columns, 28)
        XCTAssertEqual(data.files.map(\.records), [data.train.count, data.train.count, data.test.count, data.test.count])
        XCTAssertEqual(data.train.classCounts.count, 10)
        XCTAssert(data.train.classCounts.allSatisfy { $0 > 0 })
        print("loaded \(data.train.count) + \(data.test.count) images from \(directory) in "
            + "\(String(format: "%.2f", seconds)) s, fingerprint \(data.fingerprint)")
    }
}
