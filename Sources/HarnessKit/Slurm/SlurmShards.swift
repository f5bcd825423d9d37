import Foundation

/// Where the shards of a database's Slurm submissions are, and merging them all.
///
/// Convention: `harness submit --db DIR/NAME.sqlite` makes submission directories
/// `DIR/slurm/<experiment>-<timestamp>/`, each with a `submission.json` naming the
/// database. Array task i trains into `shard-i.sqlite.partial` and renames it to
/// `shard-i.sqlite` when it ends (or `shard-i-2.sqlite`, ... if Slurm ran the task again),
/// so a file named `shard-*.sqlite` is complete and never written again: it is safe to
/// read from any host while other tasks still run. A task killed outright leaves only its
/// `.partial` file, which is never merged; its jobs stay pending.
public enum SlurmShards {
    public static let directoryName = "slurm"

    /// One submission directory that belongs to the database.
    public struct Submission: Sendable, Equatable {
        public let directory: String
        public let manifest: SlurmManifest
        /// Complete shard files, sorted by name.
        public let shards: [String]
        /// Indices of array tasks that have not published a shard (queued, running, or killed).
        public let waitingTasks: [Int]
    }

    /// `<database dir>/slurm`.
    public static func root(forDatabase databasePath: String) -> String {
        URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent(directoryName).path
    }

    /// The submissions under `root(forDatabase:)` whose manifest names this database
    /// (compared after resolving symbolic links), oldest first. See `scan` for the
    /// directories that could not be read.
    public static func submissions(forDatabase databasePath: String) -> [Submission] {
        scan(forDatabase: databasePath).submissions
    }

    /// The submissions of this database (as `submissions(forDatabase:)`), and a message for
    /// each directory under the root whose shards cannot be merged because its manifest
    /// cannot be read: one that is missing while shard files are there, or one that exists
    /// but is unreadable or not a manifest. Without its manifest it is unknown which
    /// database such a directory belongs to, so it is reported to every database beside it.
    /// A directory without a manifest and without shards is being set up, or is not
    /// harness's, and is passed over in silence.
    public static func scan(forDatabase databasePath: String) -> (submissions: [Submission], problems: [String]) {
        let root = root(forDatabase: databasePath)
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: root) else { return ([], []) }
        let database = canonicalPath(databasePath)
        var found: [Submission] = []
        var problems: [String] = []
        for name in names.sorted() {
            let directory = URL(fileURLWithPath: root).appendingPathComponent(name).path
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let manifestPath = URL(fileURLWithPath: directory).appendingPathComponent(SlurmManifest.fileName).path
            let files = ((try? fileManager.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            let shardFiles = files.filter { taskIndex(ofShardFile: $0) != nil }
            let unmerged = shardFiles.isEmpty ? "" : "; its \(shardFiles.count) shard(s) (\(shardFiles.joined(separator: ", "))) "
                + "are not merged until it is fixed"
            guard fileManager.fileExists(atPath: manifestPath) else {
                if !shardFiles.isEmpty {
                    problems.append("Slurm submission directory \(directory) has no \(SlurmManifest.fileName), which names "
                                    + "the database its shards belong to\(unmerged)")
                }
                continue
            }
            let manifest: SlurmManifest
            do {
                manifest = try SlurmManifest.load(path: manifestPath)
            } catch {
                problems.append("\(error)\(unmerged)")
                continue
            }
            guard canonicalPath(manifest.database) == database else { continue }
            var published = Set<Int>()
            for file in shardFiles { if let task = taskIndex(ofShardFile: file) { published.insert(task) } }
            let shards = shardFiles.map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
            let waiting = manifest.tasks.indices.filter { !published.contains($0) }
            found.append(Submission(directory: directory, manifest: manifest, shards: shards, waitingTasks: waiting))
        }
        return (found.sorted { $0.manifest.createdAt < $1.manifest.createdAt }, problems)
    }

    /// `shard-<task>.sqlite` or `shard-<task>-<attempt>.sqlite` -> task; anything else -> nil.
    static func taskIndex(ofShardFile name: String) -> Int? {
        guard name.hasPrefix("shard-"), name.hasSuffix(".sqlite") else { return nil }
        let stem = name.dropFirst("shard-".count).dropLast(".sqlite".count)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
              let task = Int(parts[0]), task >= 0, parts.count == 1 || Int(parts[1]) != nil else { return nil }
        return task
    }

    /// The path a task publishes its shard under: `shard` itself, or, when a file of that
    /// name exists (Slurm ran the task again), the first free `<stem>-2.sqlite`, `-3`, ...
    static func publicationPath(for shard: String) -> String {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: shard) else { return shard }
        let stem = shard.hasSuffix(".sqlite") ? String(shard.dropLast(".sqlite".count)) : shard
        var attempt = 2
        while fileManager.fileExists(atPath: "\(stem)-\(attempt).sqlite") { attempt += 1 }
        return "\(stem)-\(attempt).sqlite"
    }

    /// What `mergeAll` did.
    public struct MergeReport: Sendable {
        public var results: [ShardMergeResult] = []
        /// Why something could not be merged: a shard (the others were merged), or a
        /// submission whose jobs file cannot be read (its shards were not looked at).
        public var errors: [String] = []
        /// How many of `errors` are about submissions rather than shards.
        public var unreadableSubmissions = 0
        /// `<submission dir>/shard-<i>` of tasks that have not published a shard.
        public var waitingTasks: [String] = []

        public var mergedRuns: Int { results.reduce(0) { $0 + $1.merged } }

        /// One line for people, e.g. "merged 3 runs (2 done, 1 failed) from 4 shards; ...".
        public func summary() -> String {
            let done = results.reduce(0) { $0 + $1.done }, failed = results.reduce(0) { $0 + $1.failed }
            let again = results.reduce(0) { $0 + $1.alreadyMerged }
            let unfinished = results.reduce(0) { $0 + $1.unfinished }
            var text = "merged \(done + failed) run(s) (\(done) done, \(failed) failed) from \(results.count) shard(s)"
            if again > 0 { text += "; \(again) merged before" }
            if unfinished > 0 { text += "; \(unfinished) unfinished run(s) left out (their jobs stay pending)" }
            if !waitingTasks.isEmpty { text += "; \(waitingTasks.count) task(s) without a shard yet (queued, running or killed)" }
            let failedShards = errors.count - unreadableSubmissions
            if failedShards > 0 { text += "; \(failedShards) shard(s) could not be merged" }
            if unreadableSubmissions > 0 {
                text += "; \(unreadableSubmissions) submission(s) could not be read (their shards were not merged)"
            }
            return text
        }
    }

    /// Merges every complete shard of this database's submissions, each in its own
    /// transaction, going on past a shard that fails (it is reported in `errors`, as is a
    /// submission directory whose jobs file cannot be read).
    public static func mergeAll(into store: Store) -> MergeReport {
        let (found, problems) = scan(forDatabase: store.path)
        var report = merge(found.flatMap(\.shards), into: store)
        report.errors = problems + report.errors
        report.unreadableSubmissions = problems.count
        // A task without a shard is worth mentioning only while some of its jobs are not
        // done (a killed task whose jobs a later submission finished is history).
        for submission in found {
            let states = (try? store.jobStates(experiment: submission.manifest.experiment)) ?? [:]
            report.waitingTasks += submission.waitingTasks
                .filter { submission.manifest.tasks[$0].contains { states[$0] != .done } }
                .map { URL(fileURLWithPath: submission.directory).appendingPathComponent("shard-\($0)").path }
        }
        return report
    }

    /// Merges the given shard files, each in its own transaction, going on past failures.
    public static func merge(_ shards: [String], into store: Store) -> MergeReport {
        var report = MergeReport()
        for shard in shards {
            do {
                report.results.append(try store.merge(shard: shard))
            } catch {
                report.errors.append(error is HarnessError ? "\(error)" : "cannot merge shard \(shard): \(error)")
            }
        }
        return report
    }

    static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
