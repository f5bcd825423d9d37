import Foundation

/// What `harness submit --slurm` was asked to do.
public struct SubmitOptions: Sendable {
    public var specPath: String
    public var databasePath: String
    public var dataDirectory: String?
    /// `--partition P` (sbatch's default partition when nil).
    public var partition: String?
    /// `--time LIMIT` per array task, in any of Slurm's forms (the partition's default when nil).
    public var timeLimit: String?
    public var cpusPerTask: Int
    /// `--max-parallel K`: at most K array tasks at once (`--array=...%K`).
    public var maxParallel: Int?
    /// `--jobs-per-task N` (nil: 1, or more when the grid would exceed 1,000 array tasks).
    public var jobsPerTask: Int?
    /// Also submit a job that runs `harness merge` once every array task has ended.
    public var mergeJob: Bool
    /// Write the scripts, do not call sbatch.
    public var dryRun: Bool
    /// Absolute path of the harness binary the tasks run.
    public var executable: String
    public var environment: [String: String]

    public init(specPath: String, databasePath: String = Store.defaultPath, dataDirectory: String? = nil,
                partition: String? = nil, timeLimit: String? = nil, cpusPerTask: Int = 1, maxParallel: Int? = nil,
                jobsPerTask: Int? = nil, mergeJob: Bool = true, dryRun: Bool = false, executable: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.specPath = specPath
        self.databasePath = databasePath
        self.dataDirectory = dataDirectory
        self.partition = partition
        self.timeLimit = timeLimit
        self.cpusPerTask = cpusPerTask
        self.maxParallel = maxParallel
        self.jobsPerTask = jobsPerTask
        self.mergeJob = mergeJob
        self.dryRun = dryRun
        self.executable = executable
        self.environment = environment
    }
}

/// What `SlurmSubmitter.submit` did.
public struct SlurmSubmission: Sendable {
    public let experiment: String
    public let totalJobs: Int
    /// Shards of earlier submissions merged before the pending jobs were counted.
    public let merge: SlurmShards.MergeReport
    /// The jobs not done, in spec order; empty when there was nothing to submit (and
    /// then nothing below was written).
    public let pendingJobs: [String]
    /// Array tasks submitted (0 when nothing was pending).
    public let tasks: Int
    public let directory: String?
    public let arrayScript: String?
    public let mergeScript: String?
    public let arrayJobID: String?
    public let mergeJobID: String?
    /// With adaptive seeds and every registered job done: what the rounds decided (the
    /// seeds this submission adds, or why it adds none).
    public let adaptiveMessages: [String]
}

/// Submits the pending jobs of a spec as one Slurm job array (see SlurmShards for where
/// the results go and how they come back). With adaptive seeds, a submission made when
/// every job is done submits the next round's jobs, so submitting again after each merge
/// goes round by round.
public enum SlurmSubmitter {
    /// Slurm's default MaxArraySize is 1001 (task ids 0...1000); larger grids are cut into
    /// slices of several jobs per task unless `--jobs-per-task` says otherwise.
    static let maxDefaultTasks = 1000

    public static func submit(_ options: SubmitOptions, log: ProgressLog) throws -> SlurmSubmission {
        try validate(options)
        let scheduler = Scheduler(options: RunOptions(specPath: options.specPath, databasePath: options.databasePath,
                                                      dataDirectory: options.dataDirectory,
                                                      environment: options.environment), log: log)
        let inputs = try scheduler.load()
        var prepared = try scheduler.register(inputs)
        let spec = prepared.spec
        // Results that earlier tasks left in shards count as done, or they would run again.
        let merge = SlurmShards.mergeAll(into: prepared.store)
        var states = try prepared.store.jobStates(experiment: spec.name)
        var pending = prepared.jobIDs.filter { states[$0] != .done }
        // Adaptive seeds: once every job is done, the next round's jobs are this submission's
        // (a round whose jobs are all done already, from another experiment, is passed).
        var adaptiveMessages: [String] = []
        while pending.isEmpty && spec.adaptiveSeeds != nil {
            let round = try AdaptiveSeedRound.next(after: prepared)
            guard !round.jobIDs.isEmpty else {
                adaptiveMessages.append(round.conclusion(rounds: nil))
                break
            }
            adaptiveMessages.append(round.announcement(round: nil))
            prepared = try scheduler.register(inputs, adding: round.jobIDs)
            states = try prepared.store.jobStates(experiment: spec.name)
            pending = prepared.jobIDs.filter { states[$0] != .done }
        }
        guard !pending.isEmpty else {
            return SlurmSubmission(experiment: spec.name, totalJobs: prepared.jobIDs.count, merge: merge, pendingJobs: [], tasks: 0,
                                   directory: nil, arrayScript: nil, mergeScript: nil, arrayJobID: nil, mergeJobID: nil,
                                   adaptiveMessages: adaptiveMessages)
        }

        let perTask = options.jobsPerTask ?? max(1, (pending.count + maxDefaultTasks - 1) / maxDefaultTasks)
        let tasks = stride(from: 0, to: pending.count, by: perTask).map { Array(pending[$0..<min($0 + perTask, pending.count)]) }
        let layout = Scheduler.layout(pending: perTask, cores: options.cpusPerTask, workers: nil,
                                      threads: spec.training.threads)
        let database = SlurmShards.canonicalPath(options.databasePath)
        let directory = try makeDirectory(root: SlurmShards.root(forDatabase: database), experiment: spec.name)
        func file(_ name: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(name).path }

        var manifest = SlurmManifest(experiment: spec.name, database: database, spec: SlurmManifest.specFileName,
                                     dataDirectory: prepared.dataDirectory, dataFingerprint: prepared.data.fingerprint,
                                     createdAt: Store.timestamp(Date()), tasks: tasks)
        do {
            try Data(spec.sourceJSON.utf8).write(to: URL(fileURLWithPath: file(SlurmManifest.specFileName)))
        } catch {
            throw HarnessError("cannot write the spec copy \(file(SlurmManifest.specFileName)): \(error.localizedDescription)")
        }
        try manifest.write(to: file(SlurmManifest.fileName))
        let script = ScriptParameters(options: options, experiment: spec.name, directory: directory, database: database,
                                      tasks: tasks.count, jobsPerTask: perTask, workers: layout.workers,
                                      threads: layout.threads)
        let arrayScript = file("array.sbatch"), mergeScript = options.mergeJob ? file("merge.sbatch") : nil
        try writeScript(renderArrayScript(script), to: arrayScript)
        if let mergeScript { try writeScript(renderMergeScript(script), to: mergeScript) }

        var arrayJobID: String?, mergeJobID: String?
        if !options.dryRun {
            let arrayID = try sbatch(["--parsable", arrayScript])
            arrayJobID = arrayID
            manifest.arrayJobID = arrayID
            try manifest.write(to: file(SlurmManifest.fileName))
            if let mergeScript {
                do {
                    mergeJobID = try sbatch(["--parsable", "--dependency=afterany:\(arrayID)", mergeScript])
                } catch {
                    throw HarnessError("array job \(arrayID) was submitted, but its merge job was not (run harness merge "
                                       + "--db \(database) once the array has ended): \(error)")
                }
                manifest.mergeJobID = mergeJobID
                try manifest.write(to: file(SlurmManifest.fileName))
            }
        }
        return SlurmSubmission(experiment: spec.name, totalJobs: prepared.jobIDs.count, merge: merge, pendingJobs: pending,
                               tasks: tasks.count, directory: directory, arrayScript: arrayScript, mergeScript: mergeScript,
                               arrayJobID: arrayJobID, mergeJobID: mergeJobID, adaptiveMessages: adaptiveMessages)
    }

    struct ScriptParameters {
        let options: SubmitOptions
        let experiment: String
        let directory: String
        let database: String
        let tasks: Int
        let jobsPerTask: Int
        let workers: Int
        let threads: Int
    }

    /// The array job: task i runs the jobs `tasks[i]` of submission.json into shard-i.
    static func renderArrayScript(_ p: ScriptParameters) -> String {
        let manifest = URL(fileURLWithPath: p.directory).appendingPathComponent(SlurmManifest.fileName).path
        var array = "0-\(p.tasks - 1)"
        if let limit = p.options.maxParallel { array += "%\(limit)" }
        let jobs = p.jobsPerTask == 1 ? "1 job" : "up to \(p.jobsPerTask) jobs"
        var lines = [
            "#!/bin/bash",
            "# Written by harness submit: experiment \(p.experiment), \(p.tasks) array task(s) of \(jobs) each.",
            "# Each task trains its jobs from \(SlurmManifest.fileName) into a shard database of its own in this",
            "# directory; harness merge copies the finished runs into \(p.database).",
            "#SBATCH --job-name=harness-\(p.experiment)",
            "#SBATCH --array=\(array)",
            "#SBATCH --cpus-per-task=\(p.options.cpusPerTask)",
            "#SBATCH --output=\(p.directory)/task-%a.out",
        ]
        lines += commonDirectives(p.options)
        lines += [
            "",
            "exec \(shellQuote(p.options.executable)) worker --jobs-file \(shellQuote(manifest))"
                + " --index \"$SLURM_ARRAY_TASK_ID\" --shard \(shellQuote(p.directory))/shard-\"$SLURM_ARRAY_TASK_ID\".sqlite"
                + " --jobs \(p.workers) --threads \(p.threads)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The merge job, submitted with --dependency=afterany:<array job>: it runs once every
    /// task has ended, whether it finished, failed or was cancelled.
    static func renderMergeScript(_ p: ScriptParameters) -> String {
        var lines = [
            "#!/bin/bash",
            "# Written by harness submit: merges the shards of experiment \(p.experiment)'s array job into the main",
            "# database once every array task has ended (submitted with --dependency=afterany:<array job id>).",
            "#SBATCH --job-name=harness-\(p.experiment)-merge",
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --output=\(p.directory)/merge.out",
        ]
        lines += commonDirectives(p.options)
        lines += ["", "exec \(shellQuote(p.options.executable)) merge --db \(shellQuote(p.database))"]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func commonDirectives(_ options: SubmitOptions) -> [String] {
        var lines: [String] = []
        if let partition = options.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = options.timeLimit { lines.append("#SBATCH --time=\(time)") }
        return lines
    }

    /// Checks what ends up in #SBATCH lines, which sbatch reads without shell quoting.
    static func validate(_ options: SubmitOptions) throws {
        if let partition = options.partition,
           partition.isEmpty || !partition.unicodeScalars.allSatisfy(slurmNameCharacters.contains) {
            throw HarnessError("harness submit: --partition \"\(partition)\" is not a partition name; expected letters, "
                               + "digits, \"_\", \"-\", \".\" (several partitions separated by \",\")")
        }
        if let time = options.timeLimit, !isSlurmTime(time) {
            throw HarnessError("harness submit: --time \"\(time)\" is not a Slurm time limit; expected MINUTES, "
                               + "MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS, DAYS-HOURS:MINUTES or "
                               + "DAYS-HOURS:MINUTES:SECONDS (e.g. 02:30:00)")
        }
        guard options.executable.hasPrefix("/") else {
            throw HarnessError("harness submit: the harness binary path \(options.executable) is not absolute")
        }
        let root = SlurmShards.root(forDatabase: SlurmShards.canonicalPath(options.databasePath))
        if let bad = root.first(where: { $0.isWhitespace || $0 == "%" || $0 == "\"" || $0 == "'" || $0 == "\\" }) {
            throw HarnessError("harness submit: the submission directory \(root) contains \"\(bad)\", which #SBATCH "
                               + "--output cannot express; put the database (--db) under a path without spaces, "
                               + "quotes, backslashes or %")
        }
    }

    private static let slurmNameCharacters = CharacterSet(charactersIn:
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,")

    /// Slurm's time limit forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (all decimal).
    static func isSlurmTime(_ text: String) -> Bool {
        func numbers(_ part: Substring, _ counts: ClosedRange<Int>) -> Bool {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            return counts.contains(fields.count) && fields.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        }
        let dayParts = text.split(separator: "-", omittingEmptySubsequences: false)
        switch dayParts.count {
        case 1: return numbers(dayParts[0], 1...3)
        case 2: return numbers(dayParts[0], 1...1) && numbers(dayParts[1], 1...3)
        default: return false
        }
    }

    /// `<root>/<experiment>-<UTC yyyyMMdd-HHmmss>`, with `-2`, `-3`, ... if taken.
    private static func makeDirectory(root: String, experiment: String) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let base = URL(fileURLWithPath: root).appendingPathComponent("\(experiment)-\(formatter.string(from: Date()))").path
        let fileManager = FileManager.default
        do {
            try fileManager.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw HarnessError("cannot create the Slurm directory \(root): \(error.localizedDescription)")
        }
        var candidate = base, attempt = 1
        // mkdir without intermediates fails if the directory exists, so two submissions
        // in the same second never share one.
        while true {
            do {
                try fileManager.createDirectory(atPath: candidate, withIntermediateDirectories: false)
                return candidate
            } catch where fileManager.fileExists(atPath: candidate) && attempt < 1000 {
                attempt += 1
                candidate = "\(base)-\(attempt)"
            } catch {
                throw HarnessError("cannot create the submission directory \(candidate): \(error.localizedDescription)")
            }
        }
    }

    private static func writeScript(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        } catch {
            throw HarnessError("cannot write the sbatch script \(path): \(error.localizedDescription)")
        }
    }

    /// Runs `sbatch ARGS` (found on PATH) and returns the job id it prints with --parsable
    /// ("id" or "id;cluster").
    static func sbatch(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sbatch"] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw HarnessError("cannot run sbatch: \(error.localizedDescription)")
        }
        // sbatch prints a line or two; the pipes cannot fill up before it exits.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: outputData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let errorText = String(decoding: errorData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            let reason = process.terminationStatus == 127 ? "sbatch was not found on PATH (is this a Slurm login node?)"
                : "exit status \(process.terminationStatus): \(errorText.isEmpty ? text : errorText)"
            throw HarnessError("sbatch \(arguments.joined(separator: " ")) failed: \(reason)")
        }
        let id = text.split(separator: "\n").last?.split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw HarnessError("sbatch \(arguments.joined(separator: " ")) printed \"\(text)\", expected a job id (--parsable)")
        }
        return id
    }

    static func shellQuote(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
