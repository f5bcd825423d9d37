import Engine
import Foundation
import HarnessKit
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Reading IDX files costs memory in proportion to what their header honestly describes:
/// no number from a file (the gzip size trailer, the header's dimensions) decides an
/// allocation by itself, inflating stops at the first byte past the header's size, and
/// files that are not regular files are refused without opening them for a blocking read.
final class IDXBoundsTests: XCTestCase {
    private var temporary: TemporaryDirectory!

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "idx-bounds") }
    override func tearDown() { temporary.remove() }

    @discardableResult
    private func expectError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ body: () throws -> Void) -> String {
        expectHarnessError(fragments, file: file, line: line, body)
    }

    private func writeFile(_ name: String, _ data: Data) throws -> String { try temporary.write(data, to: name) }

    /// An IDX header: the magic number, then one big-endian UInt32 per dimension.
    private static func header(magic: UInt32, _ dims: [UInt32]) -> Data {
        var data = Data()
        for word in [magic] + dims { withUnsafeBytes(of: word.bigEndian) { data.append(contentsOf: $0) } }
        return data
    }

    /// `gzip` with its ISIZE trailer (the last four bytes, little-endian) replaced by `size`.
    private static func withSizeTrailer(_ gzip: Data, _ size: UInt32) -> Data {
        var data = gzip
        withUnsafeBytes(of: size.littleEndian) { data.replaceSubrange(data.count - 4 ..< data.count, with: $0) }
        return data
    }

    /// `count` images of 28x28 pseudo-random pixels: incompressible, so the gzip file is
    /// about as large as the pixels.
    private static func noiseImages(count: Int, seed: UInt64 = 3) -> [UInt8] {
        var generator = SeededGenerator(seed: seed, stream: "idx-bounds-noise")
        return (0..<(count * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    }

    // MARK: A stream that inflates past its header

    /// The header says 10 labels; the gzip stream holds them and then 10 million zero bytes
    /// (a 10 KB file). Reading stops at the first byte past the 18 bytes the header describes.
    func testStreamLongerThanItsHeaderIsRejectedAtTheFirstExtraByte() throws {
        let labels: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        let content = IDX.encodeLabels(labels) + Data(count: 10_000_000)
        let gz = Gzip.compress(content)
        XCTAssertLessThan(gz.count, 20_000)
        let path = try writeFile("bomb-labels.gz", gz)
        expectError([path, "decompresses past the 18 bytes its header describes", "10 labels"]) {
            _ = try IDX.readLabels(path: path)
        }
        // What it cost: one piece of zlib output, and a data buffer of the 10 labels.
        var statistics = IDX.DecodeStatistics()
        expectError(["bomb.gz: decompresses past"]) {
            _ = try IDX.decode(stored: gz, file: "bomb.gz", kind: .labels, statistics: &statistics)
        }
        XCTAssertLessThanOrEqual(statistics.decodedBytes, Gzip.chunkSize)
        XCTAssertLessThanOrEqual(statistics.peakBufferBytes, Gzip.chunkSize + 64)

        // The same for images: a header for 2 images of 28x28, then 10 MB of zeros.
        let images = IDX.encodeImages(rows: 28, columns: 28, pixels: [UInt8](repeating: 9, count: 2 * 784))
        let imagesPath = try writeFile("bomb-images.gz", Gzip.compress(images + Data(count: 10_000_000)))
        expectError([imagesPath, "decompresses past the 1584 bytes its header describes", "2 images of 28x28"]) {
            _ = try IDX.readImages(path: imagesPath)
        }

        // Concatenated members count together: the excess may come in a later member.
        let twoMembers = Gzip.compress(IDX.encodeLabels(labels)) + Gzip.compress(Data([1]))
        let membersPath = try writeFile("two-members.gz", twoMembers)
        expectError([membersPath, "decompresses past the 18 bytes its header describes"]) {
            _ = try IDX.readLabels(path: membersPath)
        }
        // ... while a file split into members at any point reads like the whole.
        let whole = IDX.encodeLabels(labels)
        let splitPath = try writeFile("split.gz", Gzip.compress(whole.prefix(5)) + Gzip.compress(whole.dropFirst(5)))
        XCTAssertEqual(try IDX.readLabels(path: splitPath), labels)
    }

    // MARK: A lying size trailer

    /// The last four bytes of a gzip member give its size mod 2^32. A trailer claiming about
    /// 4 GB for 20 images is a damaged file: a clean error once the data is inflated (zlib
    /// compares the trailer with what it produced), never a reason to allocate.
    func testLyingSizeTrailerFailsCleanly() throws {
        let pixels = Self.noiseImages(count: 20)
        let content = IDX.encodeImages(rows: 28, columns: 28, pixels: pixels)
        let lying = Self.withSizeTrailer(Gzip.compress(content), 0xFFFF_FFF0)
        let path = try writeFile("lying-trailer.gz", lying)
        expectError([path, "corrupt gzip data", "incorrect length check"]) { _ = try IDX.readImages(path: path) }
        // Memory followed the data (15,680 bytes of pixels), not the trailer.
        var statistics = IDX.DecodeStatistics()
        expectError(["incorrect length check"]) {
            _ = try IDX.decode(stored: lying, file: "lying.gz", kind: .images, statistics: &statistics)
        }
        XCTAssertEqual(statistics.decodedBytes, content.count)
        XCTAssertLessThanOrEqual(statistics.peakBufferBytes, pixels.count + Gzip.chunkSize + 4096)

        // The honest trailer reads fine.
        let honest = try writeFile("honest.gz", Gzip.compress(content))
        XCTAssertEqual(try IDX.readImages(path: honest).pixels, pixels)
        statistics = IDX.DecodeStatistics()
        let decoded = try IDX.decode(stored: Gzip.compress(content), file: "honest.gz", kind: .images,
                                     statistics: &statistics)
        XCTAssertEqual(decoded.payload, pixels)
        XCTAssertLessThanOrEqual(statistics.peakBufferBytes, pixels.count + Gzip.chunkSize + 4096)
    }

    /// A header may declare far more than the file holds (here 300,000 images, 235 MB, for a
    /// 7 KB file): the data buffer grows with what arrives, so the error costs kilobytes.
    func testHeaderThatOverstatesCostsOnlyWhatArrives() throws {
        let pixels = Self.noiseImages(count: 3)
        let content = Self.header(magic: IDX.imagesMagic, [300_000, 28, 28]) + Data(pixels)
        var statistics = IDX.DecodeStatistics()
        expectError(["overstated.gz", "needs 235200000 bytes", "holds 3 of the 300000 records its header announces"]) {
            _ = try IDX.decode(stored: Gzip.compress(content), file: "overstated.gz", kind: .images,
                               statistics: &statistics)
        }
        XCTAssertEqual(statistics.decodedBytes, content.count)
        XCTAssertLessThanOrEqual(statistics.peakBufferBytes, 2 * Gzip.chunkSize + 4096)
    }

    /// `Gzip.decompress`, the whole-stream decoder, stops at its limit.
    func testDecompressStopsAtItsLimit() throws {
        let gz = Gzip.compress(Data(count: 1_000_000))
        expectError(["zeros.gz", "decompresses to more than 100000 bytes"]) {
            _ = try Gzip.decompress(gz, file: "zeros.gz", limit: 100_000)
        }
        XCTAssertEqual(try Gzip.decompress(gz, file: "zeros.gz", limit: 1_000_000).count, 1_000_000)
    }

    // MARK: Truncation

    /// A gzip stream cut short, at several points after the header: the message says how
    /// many of the announced records arrived.
    func testTruncatedStreamSaysHowManyRecordsArrived() throws {
        let pixels = Self.noiseImages(count: 3)
        let full = Gzip.compress(IDX.encodeImages(rows: 28, columns: 28, pixels: pixels))
        // Incompressible pixels: byte k of the stream carries roughly byte k of the content.
        for (cut, records) in [(600, 0), (1_200, 1), (2_000, 2)] {
            let path = try writeFile("cut-\(cut).gz", full.prefix(cut))
            expectError([path, "truncated gzip data", "holds \(records) of the 3 records its header announces"]) {
                _ = try IDX.readImages(path: path)
            }
        }
        // A complete gzip stream of an incomplete IDX file: the same count, and the message
        // the IDX reader always gave.
        let short = IDX.encodeImages(rows: 28, columns: 28, pixels: pixels).dropLast(100)
        let path = try writeFile("short.gz", Gzip.compress(short))
        expectError([path, "truncated", "needs 2352 bytes", "holds only 2252",
                     "holds 2 of the 3 records its header announces"]) {
            _ = try IDX.readImages(path: path)
        }
        let raw = try writeFile("short", short)
        expectError([raw, "needs 2352 bytes", "holds 2 of the 3 records its header announces"]) {
            _ = try IDX.readImages(path: raw)
        }
    }

    // MARK: Implausible headers

    /// Dimensions no real file has are rejected from the header alone, raw or gzipped,
    /// with what the reader accepts.
    func testAbsurdDimensionsAreRejectedFromTheHeader() throws {
        let cases: [(name: String, magic: UInt32, dims: [UInt32], fragments: [String])] = [
            ("2^31 labels", IDX.labelsMagic, [1 << 31], ["2147483648 labels", "at most 1000000"]),
            ("2^31 images", IDX.imagesMagic, [1 << 31, 28, 28], ["2147483648 images", "at most 1000000"]),
            ("max dims", IDX.imagesMagic, [.max, .max, .max], ["4294967295 images", "at most 1000000"]),
            ("huge images", IDX.imagesMagic, [1000, 4096, 4096], ["1000 images of 4096x4096", "16777216000 bytes",
                                                                   "at most 268435456"]),
            ("wide rows", IDX.imagesMagic, [1, 1, .max], ["1 images of 1x4294967295", "at most 268435456"]),
            ("zero rows", IDX.imagesMagic, [5, 0, 28], ["5 images of 0x28", "at least 1"]),
            ("zero columns", IDX.imagesMagic, [5, 28, 0], ["5 images of 28x0", "at least 1"]),
            ("no images", IDX.imagesMagic, [0, 28, 28], ["0 images of 28x28", "at least 1"]),
            ("no labels", IDX.labelsMagic, [0], ["0 labels", "at least 1"]),
        ]
        for (index, c) in cases.enumerated() {
            // A header followed by a megabyte: none of it should be read.
            let content = Self.header(magic: c.magic, c.dims) + Data(count: 1 << 20)
            for gzip in [false, true] {
                let path = try writeFile("absurd-\(index)\(gzip ? ".gz" : "")", gzip ? Gzip.compress(content) : content)
                let read: () throws -> Void = c.magic == IDX.imagesMagic
                    ? { _ = try IDX.readImages(path: path) } : { _ = try IDX.readLabels(path: path) }
                let message = expectError([path, "header"] + c.fragments, read)
                XCTAssertFalse(message.isEmpty, c.name)

                // Nothing after the header was kept: no data buffer at all.
                var statistics = IDX.DecodeStatistics()
                expectError(["implausible header"]) {
                    _ = try IDX.decode(stored: Data(contentsOf: URL(fileURLWithPath: path)), file: path,
                                       kind: c.magic == IDX.imagesMagic ? .images : .labels, statistics: &statistics)
                }
                XCTAssertEqual(statistics.peakBufferBytes, gzip ? Gzip.chunkSize : 0, c.name)
                XCTAssertLessThanOrEqual(statistics.decodedBytes, gzip ? Gzip.chunkSize : 16, c.name)
            }
        }
    }

    /// Zero-sized images used to pass the reader and trap in `LabeledImages`; now the reader
    /// refuses them, and `FashionMNIST.load` reports the file.
    func testZeroSizedImagesAreAnErrorNotATrap() throws {
        let images = try writeFile("empty-images", Self.header(magic: IDX.imagesMagic, [0, 0, 0]))
        let labels = try writeFile("empty-labels", Self.header(magic: IDX.labelsMagic, [0]))
        expectError([images, "at least 1"]) { _ = try IDX.readLabeledImages(images: images, labels: labels) }

        let flat = try writeFile("flat-images", Self.header(magic: IDX.imagesMagic, [2, 0, 28]))
        let two = try writeFile("two-labels", IDX.encodeLabels([1, 2]))
        expectError([flat, "2 images of 0x28", "at least 1"]) { _ = try IDX.readLabeledImages(images: flat, labels: two) }
    }

    // MARK: Under a memory limit

    private static let childEnvironment = "HARNESS_IDX_BOUNDS_CHILD_DIR"

    /// The issue's reproduction: a 1 MB gzip that inflates to a gigabyte, and a file whose
    /// size trailer claims 4 GB, read by a child process whose address space may grow by
    /// only 256 MB. The old decoder trapped there (signal 4: its allocation failed); the
    /// child must exit normally with the expected errors.
    func testBombAndLyingTrailerStayWithinAMemoryLimit() throws {
        #if os(Linux)
        // 1 GiB of zeros after a 10-label file, as 1024 gzip members of 1 MiB zeros each.
        let zeros = Gzip.compress(Data(count: 1 << 20))
        var bomb = Gzip.compress(IDX.encodeLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
        for _ in 0..<1024 { bomb.append(zeros) }
        XCTAssertLessThan(bomb.count, 2 << 20)
        _ = try writeFile("bomb.gz", bomb)
        // 1000 incompressible images (784 KB) whose trailer claims 0xFFFFFFF0 bytes.
        let lying = Gzip.compress(IDX.encodeImages(rows: 28, columns: 28, pixels: Self.noiseImages(count: 1000)))
        _ = try writeFile("lying.gz", Self.withSizeTrailer(lying, 0xFFFF_FFF0))

        let executable = URL(fileURLWithPath: CommandLine.arguments[0])
        let process = Process()
        process.executableURL = executable
        process.arguments = ["HarnessKitTests.IDXBoundsTests/testChildReadsUnderMemoryLimit"]
        process.environment = ProcessInfo.processInfo.environment.merging([Self.childEnvironment: temporary.path]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "the child died of signal \(process.terminationStatus):\n\(text)")
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssert(text.contains("bomb.gz: decompresses past the 18 bytes its header describes"), text)
        XCTAssert(text.contains("lying.gz: corrupt gzip data (incorrect length check)"), text)
        XCTAssert(text.contains("Executed 1 test, with 0 failures"), text)
        #else
        throw XCTSkip("the memory limit is set through Linux's RLIMIT_AS")
        #endif
    }

    /// The child of `testBombAndLyingTrailerStayWithinAMemoryLimit`; skipped on its own.
    func testChildReadsUnderMemoryLimit() throws {
        #if os(Linux)
        guard let directory = ProcessInfo.processInfo.environment[Self.childEnvironment] else {
            throw XCTSkip("runs as the child process of testBombAndLyingTrailerStayWithinAMemoryLimit")
        }
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmSize:") })
        let kilobytes = try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        limit.rlim_cur = rlim_t(kilobytes * 1024 + (256 << 20))
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit), 0)

        let bomb = URL(fileURLWithPath: directory).appendingPathComponent("bomb.gz").path
        let lying = URL(fileURLWithPath: directory).appendingPathComponent("lying.gz").path
        print(expectError(["incorrect length check"]) { _ = try IDX.readImages(path: lying) })
        print(expectError(["decompresses past"]) { _ = try IDX.readLabels(path: bomb) })
        #else
        throw XCTSkip("the memory limit is set through Linux's RLIMIT_AS")
        #endif
    }

    // MARK: Files that are not regular files

    /// A FIFO among the data files: reading it must neither block (opening a FIFO for
    /// reading waits for a writer) nor be called a permission problem.
    func testFIFOIsNotARegularFile() throws {
        let path = temporary.file("train-labels-idx1-ubyte.gz")
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let outcome = Outcome()
        let thread = Thread {
            do { _ = try IDX.readLabels(path: path); outcome.set("no error") } catch { outcome.set("\(error)") }
        }
        thread.start()
        guard let message = outcome.wait(seconds: 10) else {
            // Unblock the reader so the test process can go on, then fail.
            let writer = open(path, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = outcome.wait(seconds: 10)
            return XCTFail("reading a FIFO blocked")
        }
        XCTAssert(message.contains(path) && message.contains("is not a regular file"), message)
        XCTAssert(message.contains("FIFO"), message)
        XCTAssertFalse(message.lowercased().contains("permission"), message)

        // Through FashionMNIST.load, which finds the FIFO by name like any file.
        try IDXFiles.writeDataset(in: temporary.path, trainCount: 10, testCount: 10, gzip: false)
        expectError([path, "is not a regular file"]) { _ = try FashionMNIST.load(directory: temporary.path) }
    }

    func testDirectoryIsNotARegularFile() throws {
        let path = temporary.file("t10k-images-idx3-ubyte")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        expectError([path, "is not a regular file", "directory"]) { _ = try IDX.readImages(path: path) }
        expectError([temporary.file("missing"), "cannot read file", "No such file"]) {
            _ = try IDX.readImages(path: temporary.file("missing"))
        }
    }
}

/// A value handed from a thread to the test, with a timeout.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var value: String?

    func set(_ text: String) {
        lock.lock(); value = text; lock.unlock()
        done.signal()
    }

    func wait(seconds: Double) -> String? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        lock.lock(); defer { lock.unlock() }
        return value
    }
}
