import Foundation

/// Decides which directory Fashion-MNIST is read from.
///
/// In order: `--data DIR`, the `HARNESS_DATA` environment variable, the spec's
/// `dataset.path` (relative to the spec file's directory), then the cache
/// `$XDG_CACHE_HOME/harness/fashion-mnist` (`~/.cache/harness/fashion-mnist` by
/// default). The first three are the user's explicit choice, so a directory there
/// that lacks files is an error rather than a reason to look further. Only the cache
/// is filled by downloading, with each file checked against its official MD5.
public struct DataLocator: Sendable {
    public enum Source: String, Sendable {
        case commandLine = "--data"
        case environment = "HARNESS_DATA"
        case spec = "dataset.path"
        case cache = "cache"
    }

    public struct Location: Sendable, Equatable {
        /// Absolute path of the directory holding the four files.
        public let directory: String
        public let source: Source
        /// Names of the files downloaded into the cache by this call.
        public let downloaded: [String]
        /// The directory as the user named it (relative paths kept relative; the cache under `~`).
        public let label: String

        public init(directory: String, source: Source, downloaded: [String], label: String? = nil) {
            self.directory = directory
            self.source = source
            self.downloaded = downloaded
            self.label = label ?? directory
        }
    }

    public let commandLine: String?
    public let environment: [String: String]
    public let specPath: String?
    public let specDatasetPath: String?
    public let downloader: Downloader
    /// What to download into the cache: one `.gz` file per name in `FashionMNIST.fileNames`.
    public let downloadFiles: [DownloadFile]

    public init(commandLine: String?, environment: [String: String], specPath: String?, specDatasetPath: String?,
                fetcher: any DataFetcher = URLSessionFetcher(), baseURL: URL = Downloader.officialBaseURL,
                downloadFiles: [DownloadFile] = Downloader.officialFiles) {
        self.commandLine = commandLine
        self.environment = environment
        self.specPath = specPath
        self.specDatasetPath = specDatasetPath
        self.downloader = Downloader(fetcher: fetcher, baseURL: baseURL)
        self.downloadFiles = downloadFiles
    }

    /// The directory holding the four Fashion-MNIST files.
    public func locate() throws -> String { try resolve().directory }

    /// `$XDG_CACHE_HOME/harness/fashion-mnist`, or `~/.cache/harness/fashion-mnist`
    /// when XDG_CACHE_HOME is unset or relative (the XDG spec says to ignore it then).
    public var cacheDirectory: String {
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg, isDirectory: true)
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".cache", isDirectory: true)
        }
        return base.appendingPathComponent("harness/fashion-mnist", isDirectory: true).standardizedFileURL.path
    }

    public func resolve() throws -> Location {
        if let given = nonEmpty(commandLine) {
            let directory = absolute(given, relativeTo: nil)
            try requireFiles(in: directory, origin: "--data \(given)")
            return Location(directory: directory, source: .commandLine, downloaded: [], label: given)
        }
        if let given = nonEmpty(environment["HARNESS_DATA"]) {
            let directory = absolute(given, relativeTo: nil)
            try requireFiles(in: directory, origin: "HARNESS_DATA=\(given)")
            return Location(directory: directory, source: .environment, downloaded: [], label: given)
        }
        if let given = nonEmpty(specDatasetPath) {
            let specDirectory = specPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            let directory = absolute(given, relativeTo: specDirectory)
            try requireFiles(in: directory, origin: "\(specPath ?? "the spec"): dataset.path \"\(given)\"")
            let label = given.hasPrefix("/") ? given : (specDirectory.map { $0 + "/" } ?? "") + given
            return Location(directory: directory, source: .spec, downloaded: [], label: label)
        }
        return try fillCache()
    }

    /// Uses the cache if it holds every file, downloading the missing ones first.
    private func fillCache() throws -> Location {
        let directory = cacheDirectory
        let missing = FashionMNIST.missingFiles(in: directory)
        if missing.isEmpty { return Location(directory: directory, source: .cache, downloaded: [], label: cacheLabel) }

        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("could not create the data cache directory \(directory): "
                + "\(error.localizedDescription). \(whereToPutFiles)")
        }
        var downloaded: [String] = []
        for name in missing {
            guard let file = downloadFiles.first(where: { $0.name == name + ".gz" }) else {
                throw HarnessError("no download is known for \(name).gz. \(whereToPutFiles)")
            }
            do {
                try downloader.download(file, into: directory)
            } catch let error as HarnessError {
                throw HarnessError("Fashion-MNIST is not available: \(error.description). \(whereToPutFiles)")
            }
            downloaded.append(file.name)
        }
        return Location(directory: directory, source: .cache, downloaded: downloaded, label: cacheLabel)
    }

    /// The cache directory with the home directory written as `~`.
    private var cacheLabel: String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return cacheDirectory.hasPrefix(home + "/") ? "~" + cacheDirectory.dropFirst(home.count) : cacheDirectory
    }

    private var whereToPutFiles: String {
        "Put the four files (\(FashionMNIST.fileNames.map { $0 + ".gz" }.joined(separator: ", ")); "
            + "gzipped or not) in the cache directory \(cacheDirectory), or name a directory holding them "
            + "with --data DIR or the HARNESS_DATA environment variable"
    }

    private func requireFiles(in directory: String, origin: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw HarnessError("\(origin): no such directory \(directory)")
        }
        let missing = FashionMNIST.missingFiles(in: directory)
        guard missing.isEmpty else {
            let list = missing.map { "\($0).gz (or \($0))" }.joined(separator: ", ")
            throw HarnessError("\(origin): directory \(directory) lacks \(list)")
        }
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    /// Expands `~`, then resolves a relative path against `base` (or the current
    /// directory when `base` is nil).
    private func absolute(_ path: String, relativeTo base: String?) -> String {
        let expanded = NSString(string: path).expandingTildeInPath
        let url: URL
        if expanded.hasPrefix("/") {
            url = URL(fileURLWithPath: expanded)
        } else if let base {
            url = URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent(expanded)
        } else {
            url = URL(fileURLWithPath: expanded)
        }
        return url.standardizedFileURL.path
    }
}
