import Foundation
import HarnessKit
import TestSupport
import XCTest

/// Output never stops a command: with standard error or output closed (`2>&-`), full
/// (`/dev/full`, a disk that fills up) or a pipe whose reader has gone (`| head -c 10`),
/// `harness run` finishes the grid, records every result and exits as a clean run does,
/// and the printing commands exit without a crash.
final class OutputFailureTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var data: String { directory.file("data") }
    private var database: String { directory.file("results/harness.sqlite") }
    private var spec: String { directory.file("spec.json") }
    private var runArguments: [String] { ["run", spec, "--db", database, "--data", data] }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "output-failure-test")
        try IDXFiles.writeDataset(in: data, trainCount: 300, testCount: 100)
        try """
        {"name": "out", "model": {"type": "lstm", "layers": 1, "hidden": 4},
         "training": {"epochs": 3, "batch_size": 30, "learning_rate": 0.01},
         "seeds": [1, 2], "grid": {"model.hidden": [4, 6]}}
        """.write(toFile: spec, atomically: true, encoding: .utf8)
    }

    override func tearDown() { directory.remove() }

    private func assertEveryJobDone(file: StaticString = #filePath, line: UInt = #line) throws {
        let results = try Store(path: database).results(experiment: "out")
        XCTAssertEqual(results.count, 4, file: file, line: line)
        XCTAssert(results.allSatisfy { $0.state == .done && $0.accuracy != nil }, "\(results.map(\.state))",
                  file: file, line: line)
        XCTAssertEqual(try Store(path: database).runCounts(status: "running").count, 0, file: file, line: line)
    }

    func testRunWithStandardErrorClosedFinishesEveryJob() throws {
        let result = try HarnessBinary.run(runArguments, standardOutput: .pipe, standardError: .closed)
        XCTAssertEqual(result.termination, .exit(0), result.output)
        XCTAssert(result.output.contains("4 jobs: 0 already done, 4 completed, 0 failed"), result.output)
        try assertEveryJobDone()
    }

    func testRunWithStandardErrorOnAFullDeviceFinishesEveryJob() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full here")
        let result = try HarnessBinary.run(runArguments, standardOutput: .pipe, standardError: .file("/dev/full"))
        XCTAssertEqual(result.termination, .exit(0), result.output)
        XCTAssert(result.output.contains("4 jobs: 0 already done, 4 completed, 0 failed"), result.output)
        try assertEveryJobDone()
    }

    /// `harness run ... 2>&1 | head -c 10`: the first epoch's line meets a pipe with no reader.
    func testRunIntoAPipeWhoseReaderLeavesAfterTenBytesFinishesEveryJob() throws {
        let result = try HarnessBinary.run(runArguments, standardOutput: .pipe, standardError: .pipe, readingAtMost: 10)
        XCTAssertEqual(result.termination, .exit(0))
        XCTAssertEqual(result.output.utf8.count, 10, "the first ten bytes of the log")
        try assertEveryJobDone()
    }

    /// Both streams closed, then both full: nothing can be printed, the work is done all the same.
    func testRunWithBothStreamsClosedOrFullFinishesEveryJob() throws {
        let closed = try HarnessBinary.run(runArguments, standardOutput: .closed, standardError: .closed)
        XCTAssertEqual(closed.termination, .exit(0))
        try assertEveryJobDone()
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full here")
        let full = try HarnessBinary.run(runArguments + ["--force"], standardOutput: .file("/dev/full"),
                                         standardError: .file("/dev/full"))
        XCTAssertEqual(full.termination, .exit(0))
        XCTAssertEqual(try Store(path: database).runCounts(status: "done").values.sorted(), [2, 2, 2, 2],
                       "each job run again once by --force")
    }

    /// The printing commands, and the CLI's own help and errors, with standard output (or,
    /// for errors, standard error) closed, full, or a pipe closed before anything is written.
    func testPrintingCommandsExitCleanlyWhenTheirOutputFails() throws {
        let setup = try HarnessBinary.run(runArguments, standardOutput: .pipe, standardError: .pipe)
        XCTAssertEqual(setup.termination, .exit(0), setup.output)
        var failing: [HarnessBinary.Stream] = [.closed, .pipe]
        if FileManager.default.fileExists(atPath: "/dev/full") { failing.append(.file("/dev/full")) }
        let printing: [[String]] = [["status", "--db", database], ["plan", spec], ["--help"], ["help", "run"],
                                    ["run", "--help"], ["--version"], ["report", "out", "--db", database]]
        for stream in failing {
            for arguments in printing {
                let result = try HarnessBinary.run(arguments, standardOutput: stream, standardError: stream,
                                                   readingAtMost: 0)
                XCTAssertEqual(result.termination, .exit(0), "\(arguments) with output \(stream)")
            }
            let unknown = try HarnessBinary.run(["frobnicate"], standardOutput: stream, standardError: stream,
                                                readingAtMost: 0)
            XCTAssertEqual(unknown.termination, .exit(2), "unknown command with output \(stream)")
            let badSpec = try HarnessBinary.run(["run", directory.file("missing.json"), "--db", database],
                                                standardOutput: stream, standardError: stream, readingAtMost: 0)
            XCTAssertEqual(badSpec.termination, .exit(1), "missing spec with output \(stream)")
        }
    }

    /// SIGPIPE is disarmed in harness only: the programs it starts (sbatch) get the
    /// default action back, as they would from a shell.
    func testProgramsHarnessStartsDoNotInheritAnIgnoredSIGPIPE() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/status"), "no /proc here")
        let bin = directory.file("fake-bin"), record = directory.file("sigign")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try Data("#!/bin/sh\ngrep SigIgn /proc/$$/status > '\(record)'\necho 4242\n".utf8)
            .write(to: URL(fileURLWithPath: bin + "/sbatch"))
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/sbatch")
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try HarnessBinary.run(["submit", spec, "--slurm", "--db", database, "--data", data],
                                           standardOutput: .pipe, standardError: .pipe, environment: ["PATH": path])
        XCTAssertEqual(result.termination, .exit(0), result.output)
        let line = try String(contentsOfFile: record, encoding: .utf8)
        let ignored = try XCTUnwrap(UInt64(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "",
                                           radix: 16), line)
        XCTAssertEqual(ignored & (1 << (UInt64(SIGPIPE) - 1)), 0, "sbatch started with SIGPIPE ignored: \(line)")
    }
}
