import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches the bytes behind a URL. Tests substitute a fake; the real one is
/// `URLSessionFetcher`.
public protocol DataFetcher: Sendable {
    func fetch(_ url: URL) throws -> Data
}

/// A blocking HTTP GET through URLSession; any status outside 200...299 is an error.
public struct URLSessionFetcher: DataFetcher {
    public let timeout: TimeInterval

    public init(timeout: TimeInterval = 120) { self.timeout = timeout }

    public func fetch(_ url: URL) throws -> Data {
        // Written once by the completion handler before it signals, read once after
        // the wait: the semaphore orders the two accesses.
        final class Outcome: @unchecked Sendable { var result: Result<Data, any Error>? }
        let outcome = Outcome()
        let finished = DispatchSemaphore(value: 0)
        let request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                outcome.result = .failure(error)
            } else if let http = response as? HTTPURLResponse, !(200...299).contains(http.statusCode) {
                outcome.result = .failure(HarnessError("the server answered HTTP \(http.statusCode)"))
            } else {
                outcome.result = .success(data ?? Data())
            }
            finished.signal()
        }.resume()
        finished.wait()
        guard let result = outcome.result else { throw HarnessError("the request ended without a result") }
        return try result.get()
    }
}

/// A file to download and the MD5 its bytes must have.
public struct DownloadFile: Sendable, Equatable {
    public let name: String
    public let md5: String

    public init(name: String, md5: String) {
        self.name = name
        self.md5 = md5
    }
}

/// Downloads files, checks them against their MD5, and only then puts them in place.
public struct Downloader: Sendable {
    public static let officialBaseURL = URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!

    /// The official Fashion-MNIST files and their MD5 sums, as published in the
    /// Fashion-MNIST README (github.com/zalandoresearch/fashion-mnist).
    public static let officialFiles = [
        DownloadFile(name: "train-images-idx3-ubyte.gz", md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        DownloadFile(name: "train-labels-idx1-ubyte.gz", md5: "25c81989df183df01b3e8a0aad5dffbe"),
        DownloadFile(name: "t10k-images-idx3-ubyte.gz", md5: "bef4ecab320f06d8554ea6380940ec79"),
        DownloadFile(name: "t10k-labels-idx1-ubyte.gz", md5: "bb300cfdad3c16e7a12a480ee83cd310"),
    ]

    public let fetcher: any DataFetcher
    public let baseURL: URL

    public init(fetcher: any DataFetcher, baseURL: URL = Downloader.officialBaseURL) {
        self.fetcher = fetcher
        self.baseURL = baseURL
    }

    /// Fetches `file` into `directory`. The bytes are verified in memory, written
    /// to a temporary file in `directory` and renamed over the final name, so the
    /// final name only ever holds a complete, verified file. Errors say what failed
    /// and leave nothing behind.
    public func download(_ file: DownloadFile, into directory: String) throws {
        let url = baseURL.appendingPathComponent(file.name)
        let data: Data
        do {
            data = try fetcher.fetch(url)
        } catch {
            throw HarnessError("could not download \(url.absoluteString): \(Self.reason(error))")
        }
        let md5 = Digest.md5Hex(data)
        guard md5 == file.md5.lowercased() else {
            throw HarnessError(
                "downloaded \(url.absoluteString) (\(data.count) bytes) has MD5 \(md5), expected \(file.md5); "
                    + "the file was not saved")
        }

        let directoryURL = URL(fileURLWithPath: directory, isDirectory: true)
        let finalURL = directoryURL.appendingPathComponent(file.name)
        let temporaryURL = directoryURL.appendingPathComponent(".\(file.name).download-\(UUID().uuidString)")
        do {
            try data.write(to: temporaryURL)
        } catch {
            try? FileManager.default.removeItem(at: temporaryURL)
            throw HarnessError("could not write \(temporaryURL.path): \(Self.reason(error))")
        }
        // rename(2) replaces the target atomically within one file system.
        if rename(temporaryURL.path, finalURL.path) != 0 {
            let message = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporaryURL)
            throw HarnessError("could not move the download into place as \(finalURL.path): \(message)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as? HarnessError)?.description ?? error.localizedDescription
    }
}
