import Engine
import Foundation
import TestSupport
import XCTest
@testable import HarnessKit

/// The store's weight-histogram table (schema version 2) and the readers the report uses.
final class WeightHistogramStoreTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var path: String { directory.file("results.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "histogram-store-test")
    }

    override func tearDown() {
        directory.remove()
    }

    /// A store with one registered job and a running run of it.
    private func storeWithRun() throws -> (Store, Int64) {
        let store = try Store(path: path)
        try store.registerDataset(fingerprint: "fp", descriptionJSON: #"{"directory":"data"}"#)
        try store.registerExperiment(name: "e", description: "d", specJSON: #"{"name":"e"}"#, datasetFingerprint: "fp",
                                     jobs: [JobRegistration(id: "j", configJSON: #"{"seed":1}"#, seed: 1)])
        let run = try XCTUnwrap(store.claimNextJob(among: ["j"], worker: .current(), rerunStartedBefore: nil)).runID
        return (store, run)
    }

    func testHistogramsRoundTripInOrderAndAStageIsReplacedWhole() throws {
        let (store, run) = try storeWithRun()
        let before = [WeightHistogram(layer: "lstm.0", lower: -0.5, upper: 0.5, counts: [1, 5, 9, 5, 1]),
                      WeightHistogram(layer: "dense", lower: -1, upper: 1, counts: [0, 3, 0])]
        try store.recordWeightHistograms(runID: run, stage: .before, histograms: before)
        try store.recordWeightHistograms(runID: run, stage: .after, histograms: [before[1]])
        XCTAssertEqual(try store.weightHistograms(runID: run, stage: .before), before)
        XCTAssertEqual(try store.weightHistograms(runID: run, stage: .after), [before[1]])

        let replacement = [WeightHistogram(layer: "head", lower: 0, upper: 2, counts: [7, 7])]
        try store.recordWeightHistograms(runID: run, stage: .before, histograms: replacement)
        XCTAssertEqual(try store.weightHistograms(runID: run, stage: .before), replacement)
        XCTAssertEqual(try store.weightHistograms(runID: run, stage: .after), [before[1]])
        XCTAssertEqual(try store.weightHistograms(runID: run + 1, stage: .before), [])
    }

    func testBadHistogramsAreRefusedNamingTheProblem() throws {
        let (store, run) = try storeWithRun()
        let good = WeightHistogram(layer: "a", lower: 0, upper: 1, counts: [1])
        // (An unknown stage cannot be asked for: stages are a `HistogramStage`.)
        let cases: [(HistogramStage, [WeightHistogram], String)] = [
            (.before, [], "no histograms, expected one per layer"),
            (.before, [good, good], "layer a is given twice"),
            (.before, [WeightHistogram(layer: "a", lower: 1, upper: 1, counts: [1])], "layer a has range [1.0, 1.0]"),
            (.before, [WeightHistogram(layer: "a", lower: 0, upper: .infinity, counts: [1])], "expected finite bounds"),
            (.after, [WeightHistogram(layer: "a", lower: 0, upper: 1, counts: [2, -1])], "layer a bin 1 has count -1"),
            (.after, [WeightHistogram(layer: "", lower: 0, upper: 1, counts: [1])], "empty layer name"),
            (.after, [WeightHistogram(layer: "a", lower: 0, upper: 1, counts: [])], "layer a has no bins"),
        ]
        for (stage, histograms, expected) in cases {
            XCTAssertThrowsError(try store.recordWeightHistograms(runID: run, stage: stage, histograms: histograms)) {
                XCTAssertTrue("\($0)".hasPrefix("cannot record weight histograms of run \(run)"), "\($0)")
                XCTAssertTrue("\($0)".contains(expected), "\($0) should say \(expected)")
            }
        }
        XCTAssertThrowsError(try store.recordWeightHistograms(runID: 999, stage: .before, histograms: [good])) {
            XCTAssertTrue("\($0)".contains("no run with id 999"), "\($0)")
        }
        XCTAssertEqual(try store.weightHistograms(runID: run, stage: .before), [])
    }

    func testHistogramsAreDeletedWithTheirRun() throws {
        let (store, run) = try storeWithRun()
        try store.recordWeightHistograms(runID: run, stage: .before,
                                         histograms: [WeightHistogram(layer: "a", lower: 0, upper: 1, counts: [1])])
        let db = try SQLiteConnection(path: path)
        try db.run("DELETE FROM runs WHERE id = ?", [run])
        XCTAssertEqual(try db.query("SELECT count(*) FROM weight_histograms") { $0.int(0) }, [0])
    }

    func testVersion1DatabaseIsMigratedKeepingItsData() throws {
        let db = try SQLiteConnection(path: path)
        try db.execute(StoreSchema.migrations[0])
        try db.execute("PRAGMA user_version = 1")
        try db.run("INSERT INTO datasets (fingerprint, description_json, created_at) VALUES ('fp', '{}', 'then')")

        let store = try Store(path: path)
        XCTAssertEqual(try db.query("PRAGMA user_version") { $0.int(0) }, [Store.schemaVersion])
        XCTAssertEqual(try db.query("SELECT fingerprint FROM datasets") { $0.string(0) }, ["fp"])
        XCTAssertEqual(try db.query("SELECT count(*) FROM sqlite_schema WHERE name = 'weight_histograms'") { $0.int(0) }, [1])
        _ = store
    }

    func testExperimentAndDatasetReaders() throws {
        let (store, _) = try storeWithRun()
        XCTAssertEqual(try store.experiment(name: "e"), ExperimentRecord(name: "e", description: "d", specJSON: #"{"name":"e"}"#))
        XCTAssertEqual(try store.datasets(experiment: "e"),
                       [DatasetRecord(fingerprint: "fp", descriptionJSON: #"{"directory":"data"}"#, jobCount: 1)])
        XCTAssertThrowsError(try store.experiment(name: "x")) { XCTAssertTrue("\($0)".contains("no experiment named x")) }
        XCTAssertThrowsError(try store.datasets(experiment: "x")) { XCTAssertTrue("\($0)".contains("no experiment named x")) }
    }
}
