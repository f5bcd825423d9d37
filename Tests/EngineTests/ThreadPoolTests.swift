import Foundation
import XCTest
@testable import Engine

final class ThreadPoolTests: XCTestCase {
    /// Threads of this process, from /proc (Linux).
    private func threadCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count
    }

    func testEveryIndexRunsOncePerCallAndTheCallerSeesTheirWrites() {
        for threads in 1...4 {
            let pool = ThreadPool(threads: threads)
            var counts = [Int](repeating: 0, count: threads * 16)  // one cache line per index
            counts.withUnsafeMutableBufferPointer { slots in
                for _ in 0..<5_000 { pool.run { index in slots[index * 16] += 1 } }
            }
            XCTAssertEqual((0..<threads).map { counts[$0 * 16] }, Array(repeating: 5_000, count: threads), "\(threads) threads")
        }
    }

    func testWorkersThatParkedWakeForTheNextCall() {
        let pool = ThreadPool(threads: 2)
        var seen = [Int](repeating: 0, count: 32)
        for round in 1...3 {
            // Longer than the spin, so the worker has parked on its semaphore.
            Thread.sleep(forTimeInterval: ThreadPool.spinSeconds * 5)
            seen.withUnsafeMutableBufferPointer { slots in pool.run { index in slots[index * 16] = round } }
            XCTAssertEqual([seen[0], seen[16]], [round, round])
        }
    }

    func testParallelRangesCoverTheTotalOnceInAlignedParts() {
        let pool = ThreadPool(threads: 3)
        var hits = [Int](repeating: 0, count: 1_000)
        hits.withUnsafeMutableBufferPointer { cells in
            pool.parallelRanges(1_000, granule: 16) { range in
                XCTAssertEqual(range.lowerBound % 16, 0)
                for j in range { cells[j] += 1 }
            }
        }
        XCTAssertEqual(Set(hits), [1])
    }

    func testAReleasedPoolStopsItsThreads() throws {
        let before = try threadCount()
        for _ in 0..<20 {
            let pool = ThreadPool(threads: 3)
            pool.run { _ in }
        }
        // The workers see the stop at once, or within their spin if they had not parked yet.
        let deadline = Date().addingTimeInterval(5)
        while try threadCount() > before, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertEqual(try threadCount(), before, "threads left running after their pools were released")
    }
}

final class ThreadPoolCPUTimeTests: XCTestCase {
    /// The pool's CPU clock counts the work of every thread of it, and only time on a core.
    func testCPUSecondsCountEveryThreadsWork() {
        let pool = ThreadPool(threads: 2)
        pool.run { _ in }   // the worker has started and recorded its clock
        let cpuStart = pool.cpuSeconds(), wallStart = Clock.now()
        // Each thread spins until its own CPU clock has advanced 0.06 s, so the work is the
        // same however loaded the machine is (spinning for wall time would not be).
        pool.run { _ in
            func threadCPU() -> Double {
                var now = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
                return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
            }
            let end = threadCPU() + 0.06
            var x = 0.0
            while threadCPU() < end { x += 1 }
            XCTAssertGreaterThan(x, 0)
        }
        let cpu = pool.cpuSeconds() - cpuStart, wall = Clock.now() - wallStart
        XCTAssertGreaterThan(cpu, 0.115, "both threads' 0.06 s of work")
        XCTAssertLessThan(cpu, 2 * wall + 0.05, "no more than two threads' worth")
        // Sleeping costs no CPU.
        let idleStart = pool.cpuSeconds()
        Thread.sleep(forTimeInterval: 0.1)
        XCTAssertLessThan(pool.cpuSeconds() - idleStart, 0.05)
    }
}
