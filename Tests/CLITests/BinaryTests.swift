import Foundation
import XCTest
import TestSupport

/// End-to-end tests that run the built `harness` binary as a user would.
final class BinaryTests: XCTestCase {
    func testUnknownCommandFailsWithUsage() throws {
        let result = try HarnessBinary.run(["frobnicate"])
        XCTAssertEqual(result.status, 2)
        XCTAssert(result.standardError.contains("unknown command \"frobnicate\""), result.standardError)
        XCTAssert(result.standardError.contains("usage: harness"), result.standardError)
    }

    func testBenchPrintsJSON() throws {
        let result = try HarnessBinary.run(["bench", "--model", "lstm", "--layers", "1", "--hidden", "16", "--batch", "20",
                                            "--batches", "2", "--repeats", "1", "--json"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        for key in ["train_samples_per_second", "infer_samples_per_second", "gflops"] {
            XCTAssert((object?[key] as? Double ?? 0) > 0, "\(key) in \(result.standardOutput)")
        }
    }

    func testBenchWithPruningReportsBothModels() throws {
        let arguments = ["bench", "--model", "rnn", "--layers", "1", "--hidden", "16", "--batch", "20", "--batches", "2",
                         "--repeats", "1", "--prune-sparsity", "0.8"]
        let json = try HarnessBinary.run(arguments + ["--json"])
        XCTAssertEqual(json.status, 0, json.standardError)
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        XCTAssertEqual(object?["pruned_sparsity"] as? Double ?? 0, 0.8, accuracy: 0.01, json.standardOutput)
        for key in ["pruned_train_samples_per_second", "pruned_infer_samples_per_second", "pruned_step_seconds"] {
            XCTAssert((object?[key] as? Double ?? 0) > 0, "\(key) in \(json.standardOutput)")
        }
        let text = try HarnessBinary.run(arguments)
        XCTAssertEqual(text.status, 0, text.standardError)
        XCTAssert(text.standardOutput.contains("pruned 80.0%") && text.standardOutput.contains("inference samples/s"),
                  text.standardOutput)
        XCTAssertEqual(try HarnessBinary.run(arguments.dropLast() + ["1.5"]).status, 1, "sparsity outside 0...1")
    }

    func testBenchWithOneBatchAndTheCNN() throws {
        let result = try HarnessBinary.run(["bench", "--model", "cnn", "--batch", "10", "--batches", "1", "--repeats", "1"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssert(result.standardOutput.hasPrefix("model cnn batch 10 threads 1"), result.standardOutput)
    }

    func testBenchMeasuresThePeak() throws {
        let result = try HarnessBinary.run(["bench", "--peak", "--threads", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        XCTAssertEqual(object?["threads"] as? Int, 2, result.standardOutput)
        // Any machine that runs the suite does more than a GFLOP/s per core with vector FMAs.
        XCTAssertGreaterThan(object?["peak_gflops_per_core"] as? Double ?? 0, 1, result.standardOutput)
    }

    func testBenchRejectsBadOption() throws {
        let result = try HarnessBinary.run(["bench", "--layers", "zero"])
        XCTAssertEqual(result.status, 1)
        XCTAssert(result.standardError.contains("--layers expects an integer"), result.standardError)
    }
}
