import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the `harness` executable built beside the test bundle.
public enum HarnessBinary {
    public struct Result: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
    }

    /// The built binary: next to the .xctest bundle in the build products directory.
    public static var url: URL {
        let products = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return products.appendingPathComponent("harness")
    }

    /// Runs the binary to completion with `arguments`, an optional working directory and extra environment.
    public static func run(_ arguments: [String], in directory: String? = nil,
                           environment: [String: String] = [:]) throws -> Result {
        let process = try start(arguments, in: directory, environment: environment)
        let output = process.standardOutput as! Pipe, error = process.standardError as! Pipe
        // Read both pipes to the end before waiting, so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errorData = Data()
        let reader = Thread { errorData = error.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while reader.isExecuting || !reader.isFinished { usleep(1000) }
        return Result(status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
                      standardError: String(decoding: errorData, as: UTF8.self))
    }

    /// Starts the binary with piped output and returns the running process.
    public static func start(_ arguments: [String], in directory: String? = nil,
                             environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Where a redirected run's standard output or standard error goes.
    public enum Stream: Sendable, Equatable {
        /// No descriptor at all, as after `2>&-`.
        case closed
        /// A file opened for writing, such as `/dev/full` (every write fails with ENOSPC).
        case file(String)
        /// The pipe the caller reads (`RedirectedResult.output`); stdout and stderr both
        /// `.pipe` share one, as `2>&1 |`.
        case pipe
    }

    /// How a process ended.
    public enum Termination: Sendable, Equatable {
        case exit(Int32)
        case signal(Int32)
    }

    public struct RedirectedResult: Sendable {
        public let termination: Termination
        /// What was read from the pipe.
        public let output: String
    }

    /// Runs the binary with standard output and error redirected as a shell would, with
    /// SIGPIPE at its default action (as a shell's pipeline leaves it). With `readingAtMost`,
    /// at most that many bytes are read from the pipe before its read end is closed, as
    /// `| head -c N` does (0: closed before the binary writes anything); otherwise the pipe
    /// is read to its end. Then waits for the process. `environment` is added to this process's.
    public static func run(_ arguments: [String], standardOutput: Stream, standardError: Stream,
                           readingAtMost limit: Int? = nil, environment: [String: String] = [:]) throws -> RedirectedResult {
        var ends: [Int32] = [-1, -1]
        if standardOutput == .pipe || standardError == .pipe {
            guard pipe(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            // Kept out of this process's other children; the dup2 below is not close-on-exec.
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        for (stream, descriptor) in [(standardOutput, STDOUT_FILENO), (standardError, STDERR_FILENO)] {
            switch stream {
            case .closed: posix_spawn_file_actions_addclose(&actions, descriptor)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .pipe: posix_spawn_file_actions_adddup2(&actions, ends[1], descriptor)
            }
        }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let path = url.path
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") }
            + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        if ends[1] >= 0 { close(ends[1]) }
        guard spawned == 0 else {
            if ends[0] >= 0 { close(ends[0]) }
            throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO)
        }

        var output: [UInt8] = []
        if ends[0] >= 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while output.count < (limit ?? .max) {
                let wanted = min(buffer.count, (limit ?? .max) - output.count)
                let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, wanted) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                output += buffer[..<count]
            }
            close(ends[0])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import.
        let termination: Termination = status & 0x7F == 0 ? .exit((status >> 8) & 0xFF) : .signal(status & 0x7F)
        return RedirectedResult(termination: termination, output: String(decoding: output, as: UTF8.self))
    }
}
