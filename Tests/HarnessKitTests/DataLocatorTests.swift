import Foundation
import HarnessKit
import TestSupport
import XCTest

/// Serves fixed bytes per file name (or fails), and records what was asked for.
private final class FakeFetcher: DataFetcher, @unchecked Sendable {
    private let lock = NSLock()
    private let files: [String: Data]
    private let failure: (any Error)?
    private var requested: [URL] = []

    init(files: [String: Data] = [:], failure: (any Error)? = nil) {
        self.files = files
        self.failure = failure
    }

    var requests: [URL] { lock.withLock { requested } }

    func fetch(_ url: URL) throws -> Data {
        lock.withLock { requested.append(url) }
        if let failure { throw failure }
        guard let data = files[url.lastPathComponent] else { throw HarnessError("404 for \(url)") }
        return data
    }
}

final class DataLocatorTests: XCTestCase {
    private var temporary: TemporaryDirectory!
    private let gzNames = FashionMNIST.fileNames.map { $0 + ".gz" }

    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "locator-test") }
    override func tearDown() { temporary.remove() }

    private var cache: String { temporary.file("xdg/harness/fashion-mnist") }
    private var environment: [String: String] { ["XDG_CACHE_HOME": temporary.file("xdg")] }

    private func locator(data: String? = nil, env: [String: String]? = nil, specPath: String? = nil,
                         specDataset: String? = nil, fetcher: FakeFetcher = FakeFetcher(),
                         downloadFiles: [DownloadFile] = Downloader.officialFiles) -> DataLocator {
        DataLocator(commandLine: data, environment: env ?? environment, specPath: specPath,
                    specDatasetPath: specDataset, fetcher: fetcher,
                    baseURL: URL(string: "http://example.invalid/fashion/")!, downloadFiles: downloadFiles)
    }

    private func errorMessage(_ body: () throws -> Void, line: UInt = #line) -> String {
        do {
            try body()
            XCTFail("expected an error", line: line)
            return ""
        } catch {
            XCTAssert(error is HarnessError, "not a HarnessError: \(error)", line: line)
            return String(describing: error)
        }
    }

    private func assertContains(_ message: String, _ fragments: [String], line: UInt = #line) {
        for fragment in fragments {
            XCTAssert(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", line: line)
        }
    }

    private func contents(of directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }

    // MARK: Precedence

    func testPrecedenceCommandLineThenEnvironmentThenSpecThenCache() throws {
        let cli = temporary.file("cli"), env = temporary.file("env"), specData = temporary.file("spec-data")
        for directory in [cli, env, specData, cache] {
            try IDXFiles.writeDataset(in: directory, trainCount: 3, testCount: 3, gzip: false)
        }
        let specPath = temporary.file("specs/grid.json")  // dataset.path is relative to specs/
        let withEnv = environment.merging(["HARNESS_DATA": env]) { $1 }
        let fetcher = FakeFetcher(failure: HarnessError("no network in this test"))

        var location = try locator(data: cli, env: withEnv, specPath: specPath, specDataset: "../spec-data",
                                   fetcher: fetcher).resolve()
        XCTAssertEqual(location.directory, cli)
        XCTAssertEqual(location.source, .commandLine)

        location = try locator(env: withEnv, specPath: specPath, specDataset: "../spec-data", fetcher: fetcher).resolve()
        XCTAssertEqual(location.directory, env)
        XCTAssertEqual(location.source, .environment)

        location = try locator(specPath: specPath, specDataset: "../spec-data", fetcher: fetcher).resolve()
        XCTAssertEqual(location.directory, specData)
        XCTAssertEqual(location.source, .spec)

        // An empty HARNESS_DATA counts as unset.
        let emptyEnv = environment.merging(["HARNESS_DATA": ""]) { $1 }
        location = try locator(env: emptyEnv, fetcher: fetcher).resolve()
        XCTAssertEqual(location.directory, cache)
        XCTAssertEqual(location.source, .cache)
        XCTAssertEqual(location.downloaded, [])
        XCTAssertEqual(try locator(fetcher: fetcher).locate(), cache)
        XCTAssertEqual(fetcher.requests, [], "a complete cache needs no download")
    }

    func testCacheDirectoryFollowsXDGThenHome() {
        XCTAssertEqual(locator(env: ["XDG_CACHE_HOME": "/srv/cache", "HOME": "/home/u"]).cacheDirectory,
                       "/srv/cache/harness/fashion-mnist")
        XCTAssertEqual(locator(env: ["HOME": "/home/u"]).cacheDirectory, "/home/u/.cache/harness/fashion-mnist")
        // A relative XDG_CACHE_HOME is ignored, as the XDG specification asks.
        XCTAssertEqual(locator(env: ["XDG_CACHE_HOME": "cache", "HOME": "/home/u"]).cacheDirectory,
                       "/home/u/.cache/harness/fashion-mnist")
    }

    // MARK: Explicit locations do not fall through

    func testExplicitLocationsLackingFilesAreErrors() throws {
        let complete = temporary.file("complete"), partial = temporary.file("partial")
        try IDXFiles.writeDataset(in: complete, trainCount: 3, testCount: 3)
        let written = try IDXFiles.writeDataset(in: partial, trainCount: 3, testCount: 3)
        try FileManager.default.removeItem(atPath: written.paths[3])
        let fetcher = FakeFetcher(failure: HarnessError("no network in this test"))
        let validEnv = environment.merging(["HARNESS_DATA": complete]) { $1 }

        var message = errorMessage { _ = try locator(data: partial, env: validEnv, fetcher: fetcher).locate() }
        assertContains(message, ["--data", partial, "lacks", "t10k-labels-idx1-ubyte.gz (or t10k-labels-idx1-ubyte)"])
        XCTAssertFalse(message.contains("train-images"))

        let nowhere = temporary.file("nowhere")
        message = errorMessage {
            _ = try locator(env: environment.merging(["HARNESS_DATA": nowhere]) { $1 }, fetcher: fetcher).locate()
        }
        assertContains(message, ["HARNESS_DATA=\(nowhere)", "no such directory"])

        let specPath = temporary.file("grid.json")
        message = errorMessage {
            _ = try locator(specPath: specPath, specDataset: "partial", fetcher: fetcher).locate()
        }
        assertContains(message, [specPath, "dataset.path \"partial\"", partial, "t10k-labels-idx1-ubyte"])
        XCTAssertEqual(fetcher.requests, [])
    }

    // MARK: Downloading into the cache

    /// Serves a synthetic data set under the official names, with its own MD5 table.
    private func servedDataset() throws -> (FakeFetcher, [DownloadFile], [String: Data]) {
        let source = try IDXFiles.writeDataset(in: temporary.file("served"), trainCount: 20, testCount: 10)
        var files: [String: Data] = [:]
        for path in source.paths { files[URL(fileURLWithPath: path).lastPathComponent] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        let table = gzNames.map { DownloadFile(name: $0, md5: Digest.md5Hex(files[$0]!)) }
        return (FakeFetcher(files: files), table, files)
    }

    func testDownloadWritesVerifiedFilesIntoTheCache() throws {
        let (fetcher, table, files) = try servedDataset()
        let location = try locator(fetcher: fetcher, downloadFiles: table).resolve()
        XCTAssertEqual(location.directory, cache)
        XCTAssertEqual(location.downloaded, gzNames)
        XCTAssertEqual(fetcher.requests.map(\.absoluteString), gzNames.map { "http://example.invalid/fashion/\($0)" })
        XCTAssertEqual(contents(of: cache), gzNames.sorted(), "exactly the four files, no temporary leftovers")
        for name in gzNames {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: cache).appendingPathComponent(name)), files[name])
        }
        XCTAssertEqual(try FashionMNIST.load(directory: cache).train.count, 20)

        // A second run finds everything in place.
        XCTAssertEqual(try locator(fetcher: fetcher, downloadFiles: table).resolve().downloaded, [])
        XCTAssertEqual(fetcher.requests.count, 4)
    }

    func testOnlyMissingFilesAreDownloaded() throws {
        let (fetcher, table, files) = try servedDataset()
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for name in gzNames.dropLast() {
            try files[name]!.write(to: URL(fileURLWithPath: cache).appendingPathComponent(name))
        }
        let location = try locator(fetcher: fetcher, downloadFiles: table).resolve()
        XCTAssertEqual(location.downloaded, ["t10k-labels-idx1-ubyte.gz"])
        XCTAssertEqual(fetcher.requests.map(\.lastPathComponent), ["t10k-labels-idx1-ubyte.gz"])
    }

    func testMD5MismatchIsRejectedAndNothingIsLeft() throws {
        // The official table against bytes that are not the official files.
        let (fetcher, _, _) = try servedDataset()
        let message = errorMessage { _ = try locator(fetcher: fetcher).locate() }
        assertContains(message, ["http://example.invalid/fashion/train-images-idx3-ubyte.gz", "has MD5",
                                 "expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d", "not saved",
                                 cache, "--data DIR", "HARNESS_DATA"])
        XCTAssertEqual(contents(of: cache), [], "no file, complete or temporary, may remain")
        XCTAssertEqual(fetcher.requests.count, 1, "the first bad file stops the download")
    }

    func testOfficialTableAndAddress() {
        XCTAssertEqual(Downloader.officialFiles.map(\.name), gzNames)
        XCTAssertEqual(Downloader.officialBaseURL.absoluteString, "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")
        XCTAssert(Downloader.officialFiles.allSatisfy { $0.md5.count == 32 })
    }

    func testOfflineErrorSaysWhereToPutTheFiles() {
        let fetcher = FakeFetcher(failure: URLError(.notConnectedToInternet))
        let message = errorMessage { _ = try locator(fetcher: fetcher).locate() }
        assertContains(message, ["could not download http://example.invalid/fashion/train-images-idx3-ubyte.gz",
                                 "cache directory \(cache)", "--data DIR", "HARNESS_DATA",
                                 "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"])
        XCTAssertEqual(contents(of: cache), [])
    }

    func testLocationLabelKeepsTheDirectoryAsTheUserNamedIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try IDXFiles.writeDataset(in: directory.file("data"), trainCount: 20, testCount: 10)
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let location = try DataLocator(commandLine: "data", environment: [:], specPath: nil, specDatasetPath: nil).resolve()
        XCTAssertEqual(location.label, "data")
        XCTAssert(location.directory.hasPrefix("/"), location.directory)
        let cached = DataLocator(commandLine: nil, environment: ["HOME": "/home/someone"], specPath: nil, specDatasetPath: nil)
        XCTAssertEqual(cached.cacheDirectory, "/home/someone/.cache/harness/fashion-mnist")
    }
}
