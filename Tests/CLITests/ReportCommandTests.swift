import Foundation
import TestSupport
import XCTest

/// `harness report` run as a user would, on a database built by `ReportFixture`.
final class ReportCommandTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "report-cli-test")
        try ReportFixture.build(at: directory.file("results/harness.sqlite"))
    }

    override func tearDown() {
        directory.remove()
    }

    private func harness(_ arguments: [String]) throws -> HarnessBinary.Result {
        try HarnessBinary.run(arguments, in: directory.path)
    }

    func testWritesReportAndFiguresBesideIt() throws {
        let result = try harness(["report", "prune-grid", "--out", "reports/prune.md"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "")
        XCTAssertTrue(result.standardError.contains("wrote reports/prune.md and 8 figures beside it"), result.standardError)
        let markdown = try String(contentsOfFile: directory.file("reports/prune.md"), encoding: .utf8)
        XCTAssertTrue(markdown.hasPrefix("# prune-grid\n"))
        for name in ["accuracy", "loss", "confusion", "weights-1", "weights-4"] {
            XCTAssertTrue(markdown.contains("(prune-\(name).svg)"), name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("reports/prune-\(name).svg")), name)
        }
    }

    /// `--out` never overwrites the database, a spec or any file that is not a report of
    /// harness's: the command fails, naming the file, and the file is untouched.
    func testOutRefusesToOverwriteTheDatabaseASpecOrAnotherFile() throws {
        let database = directory.file("results/harness.sqlite")
        let databaseBytes = try Data(contentsOf: URL(fileURLWithPath: database))
        try #"{"name": "prune-grid", "model": {"type": "lstm"}}"#.write(toFile: directory.file("spec.json"), atomically: true, encoding: .utf8)
        try "my notes\n".write(toFile: directory.file("notes.md"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory.file("out"), withIntermediateDirectories: true)
        let cases: [([String], String)] = [
            (["report", "prune-grid", "--out", "results/harness.sqlite"], "is the results database"),
            (["report", "prune-grid", "--out", "results/../results/harness.sqlite-wal"], "is the results database"),
            (["report", "prune-grid", "--out", "spec.json"], "is not a report written by harness"),
            (["report", "prune-grid", "--out", "notes.md"], "is not a report written by harness"),
            (["report", "prune-grid", "--out", "out"], "is a directory"),
            (["report", "prune-grid", "--rows", "pruning.threshold", "--cols", "model.hidden", "--out", "results/harness.sqlite"],
             "is the results database"),
        ]
        for (arguments, message) in cases {
            let result = try harness(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.standardError)")
            XCTAssert(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: database)), databaseBytes)
        XCTAssertEqual(try String(contentsOfFile: directory.file("notes.md"), encoding: .utf8), "my notes\n")
        // A report written before is overwritten, and so are its figures.
        XCTAssertEqual(try harness(["report", "prune-grid", "--out", "reports/prune.md"]).status, 0)
        let again = try harness(["report", "prune-grid", "--out", "reports/prune.md"])
        XCTAssertEqual(again.status, 0, again.standardError)
    }

    func testFormatsWriteTheirFileAndOverwriteOnlyTheirOwn() throws {
        for (format, file) in [("csv", "out/prune.csv"), ("json", "out/prune.json"), ("latex", "out/prune.tex")] {
            for _ in 0..<2 {   // the second time overwrites the first's file
                let result = try harness(["report", "prune-grid", "--format", format, "--out", file])
                XCTAssertEqual(result.status, 0, "\(format): \(result.standardError)")
            }
        }
        XCTAssert(try String(contentsOfFile: directory.file("out/prune.csv"), encoding: .utf8).hasPrefix("point,"))
        // A markdown report is not overwritten by a CSV export, nor the other way round.
        XCTAssertEqual(try harness(["report", "prune-grid", "--out", "out/prune.md"]).status, 0)
        let refused = try harness(["report", "prune-grid", "--format", "csv", "--out", "out/prune.md"])
        XCTAssertEqual(refused.status, 1)
        XCTAssert(refused.standardError.contains("is not a report written by harness"), refused.standardError)
        let printed = try harness(["report", "prune-grid", "--format", "json"])
        XCTAssert(printed.standardOutput.hasPrefix("{\"experiment\":\"prune-grid\""), printed.standardOutput)
    }

    /// `--all` writes every experiment's report and the index of the paper's values and
    /// claims, and refuses to overwrite an index it did not write.
    func testAllWritesEveryReportAndTheIndexOfThePapersClaims() throws {
        let result = try harness(["report", "--all"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardError.contains("wrote 1 report and results/README.md"), result.standardError)
        let index = try String(contentsOfFile: directory.file("results/README.md"), encoding: .utf8)
        XCTAssertTrue(index.hasPrefix("# Results: the paper's claims against ours\n"), index)
        // The fixture's data set has the official files' MD5s, so its values get verdicts.
        XCTAssertTrue(index.contains("| [prune-grid](prune-grid.md) | pruning.threshold = 0.05, model.hidden = 64 | accuracy "),
                      index)
        XCTAssertTrue(index.contains("8 values: "), index)
        XCTAssertFalse(index.contains("not compared: other data"), index)
        XCTAssertTrue(index.contains("retraining after pruning at pruning.threshold = 0.05, model.hidden = 32 changed "
                                     + "accuracy by +1.40 points"), index)
        let report = try String(contentsOfFile: directory.file("results/prune-grid.md"), encoding: .utf8)
        XCTAssertTrue(report.hasPrefix("# prune-grid\n"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("results/prune-grid-loss.svg")))
        // Again: its own files are overwritten.
        XCTAssertEqual(try harness(["report", "--all"]).status, 0)

        // Into another directory, which is created; not over someone's README.
        XCTAssertEqual(try harness(["report", "--all", "--out", "paper/tables"]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file("paper/tables/README.md")))
        try FileManager.default.createDirectory(atPath: directory.file("mine"), withIntermediateDirectories: true)
        try "# My results\n".write(toFile: directory.file("mine/README.md"), atomically: true, encoding: .utf8)
        let refused = try harness(["report", "--all", "--out", "mine"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.standardError.contains("is not a report written by harness"), refused.standardError)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.file("mine")), ["README.md"])

        for (arguments, message) in [
            (["report", "--all", "prune-grid"], "give no spec or experiment name"),
            (["report", "--all", "--format", "csv"], "it does not take --format"),
            (["report", "--all", "--out", "results/harness.sqlite"], "is a file"),
            (["report"], "expected one spec file or experiment name, or --all"),
        ] {
            let result = try harness(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            XCTAssertTrue(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
    }

    func testPrintsMarkdownWithoutFigures() throws {
        let result = try harness(["report", "prune-grid"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.hasPrefix("# prune-grid\n"))
        XCTAssertTrue(result.standardOutput.contains("figures are written only with `--out FILE`"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("results/figures")))
    }

    func testSpecFileAndOtherDatabase() throws {
        try FileManager.default.moveItem(atPath: directory.file("results"), toPath: directory.file("elsewhere"))
        try Data(ReportFixture.specText.utf8).write(to: URL(fileURLWithPath: directory.file("prune.json")))
        let result = try harness(["report", "prune.json", "--db", "elsewhere/harness.sqlite"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("Spec file: `prune.json`."), result.standardOutput)
        let missing = try harness(["report", "prune.json"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.standardError.contains("no results database at results/harness.sqlite"), missing.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("results/harness.sqlite")))
    }

    func testPivotAndItsErrors() throws {
        let pivot = try harness(["report", "prune-grid", "--rows", "model.hidden", "--cols", "pruning.threshold",
                                 "--metric", "macro_f1"])
        XCTAssertEqual(pivot.status, 0, pivot.standardError)
        XCTAssertTrue(pivot.standardOutput.hasPrefix("# prune-grid: macro F1 by model.hidden × pruning.threshold\n"))
        XCTAssertTrue(pivot.standardOutput.contains("| 0.8740 (n=2) | 0.8490 (n=1) | 0.8657 (n=3) |\n| all "),
                      pivot.standardOutput)

        let badMetric = try harness(["report", "prune-grid", "--rows", "seed", "--cols", "model.hidden", "--metric", "f1"])
        XCTAssertEqual(badMetric.status, 1)
        XCTAssertTrue(badMetric.standardError.hasPrefix(#"harness report: unknown metric "f1" for --metric"#), badMetric.standardError)
        let half = try harness(["report", "prune-grid", "--rows", "seed"])
        XCTAssertEqual(half.status, 1)
        XCTAssertTrue(half.standardError.contains("a pivot table needs both --rows and --cols"), half.standardError)
        let none = try harness(["report"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.standardError.contains("expected one spec file or experiment name"), none.standardError)
    }
}
