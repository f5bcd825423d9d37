import Foundation
import Synchronization
import XCTest
@testable import HarnessKit

final class ProgressLogTests: XCTestCase {
    /// The live line's ETA appears once a job has finished, and comes from the predicted cost
    /// still to run at the seconds per cost unit the finished job took.
    func testTheLiveLineShowsAnETAFromThePredictedCostLeft() throws {
        let written = Mutex<[String]>([])
        let log = ProgressLog(live: true, write: { text in written.withLock { $0.append(text) } })
        log.start(experiment: "e", total: 3, alreadyDone: 0, workers: 1, threads: 1, pendingCost: 3_000)
        log.jobStarted(runID: 1, index: 0, label: "a", epochs: 1, cost: 1_000)
        log.jobStarted(runID: 2, index: 1, label: "b", epochs: 1, cost: 1_000)
        log.jobProgress(runID: 2, BatchProgress(phase: .train, epoch: 1, epochs: 1, batch: 1, batches: 2, loss: 1))
        XCTAssertFalse(written.withLock { $0 }.joined().contains("ETA"), "no ETA before a job has finished")
        Thread.sleep(forTimeInterval: 0.3)
        log.jobFinished(runID: 1, index: 0, label: "a", end: .done(0.9))
        // 0.3 s for 1,000 units; 2,000 units left, of which job b has run 0.3 s: about 0.3 s.
        let line = try XCTUnwrap(written.withLock { $0 }.last)
        XCTAssert(["| ETA 0s", "| ETA 1s", "| ETA 2s"].contains { line.contains($0) }, line)
        log.finish()
    }

    /// A pruning grid's base model is reported but not counted: the count ends at the total.
    func testABaseModelDoesNotMoveTheDoneCount() {
        let written = Mutex<[String]>([])
        let log = ProgressLog(live: false, write: { text in written.withLock { $0.append(text) } })
        log.start(experiment: "e", total: 2, alreadyDone: 0, workers: 1, threads: 1)
        log.jobStarted(runID: 1, index: 2, label: "base model of b", epochs: 1, cost: 1)
        log.jobFinished(runID: 1, index: 2, label: "base model of b", end: .done(0.8), support: "base")
        for run in [2, 3] as [Int64] {
            log.jobStarted(runID: run, index: Int(run) - 2, label: "b", epochs: 1, cost: 1)
            log.jobFinished(runID: run, index: Int(run) - 2, label: "b", end: .done(0.9))
        }
        let lines = written.withLock { $0 }.joined().split(separator: "\n").filter { $0.contains("] done") }
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].contains("done (base)"), String(lines[0]))
        XCTAssertTrue(lines[1].contains("done (1/2)") && lines[2].contains("done (2/2)"), "\(lines)")
    }
}
