import Foundation
import Synchronization

/// A fixed set of threads that run one body in parallel, each with its own index.
///
/// `run` is called many times per training step (a few per layer, about fifteen per
/// batch for the paper's LSTM), so the workers are created once and kept between calls.
/// The caller's own thread does part 0 of the work. Work is always split by a thread's
/// index, never by who comes first, so which thread computes which output is fixed;
/// together with kernels whose per-element arithmetic does not depend on the split,
/// results are bit-identical for any thread count.
///
/// Handing work over. Waking a thread parked on a semaphore costs a futex wake-up and,
/// on a virtual machine, the host rescheduling an idle virtual CPU: about 80 µs per
/// call measured on the 2-core machines here, against 1-10 ms of work per call. So a
/// worker that finishes spins on the call counter for up to `spinSeconds` before it
/// parks, and the caller spins while it waits for the workers. Calls that follow each
/// other closely (the whole of a training step) then cost well under a microsecond
/// each; a pool left idle (between jobs, during evaluation bookkeeping) parks and uses
/// no CPU. A pool with more threads than the machine has cores does not spin: a spinning
/// thread would hold the core that the thread it waits for needs. Spinning workers also
/// yield their core at every clock check, for when several pools share the machine.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    /// How long an idle worker keeps checking for the next call before it parks.
    public static let spinSeconds = 0.002
    /// What the workers share with the pool. The workers hold it, not the pool, so the
    /// pool is freed when its owner lets go of it, and its deinit stops them.
    private let shared: Shared

    public init(threads: Int) {
        threadCount = max(1, threads)
        shared = Shared(workers: threadCount - 1,
                        spinSeconds: threadCount <= ProcessInfo.processInfo.activeProcessorCount ? ThreadPool.spinSeconds : 0)
        for index in 1..<threadCount {
            let thread = Thread { [shared] in shared.workerLoop(index: index) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { shared.stop() }

    /// CPU seconds used so far by the calling thread and the pool's workers (their thread
    /// CPU clocks, which count only time on a core: a job's cost whatever else the machine
    /// runs). Differences of two readings time a stretch of work, such as an epoch.
    public func cpuSeconds() -> Double {
        var total = Self.seconds(of: CLOCK_THREAD_CPUTIME_ID)
        for worker in shared.workers {
            let clock = worker.cpuClock.load(ordering: .acquiring)
            if clock != Worker.noClock { total += Self.seconds(of: clockid_t(clock)) }
        }
        return total
    }

    private static func seconds(of clock: clockid_t) -> Double {
        var time = timespec()
        guard clock_gettime(clock, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    private typealias Worker = Shared.Worker

    /// Runs `body(threadIndex)` once on each of `threadCount` threads and returns when all are done.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        withoutActuallyEscaping(body) { escapable in shared.run(escapable) }
    }

    private final class Shared: @unchecked Sendable {
        /// Counts calls to `run`; a worker that sees it change runs the current body.
        let generation = Atomic<Int>(0)
        /// Workers that have not finished the current call.
        let unfinished = Atomic<Int>(0)
        let workers: [Worker]
        let spinSeconds: Double
        let stopping = Atomic<Bool>(false)
        /// Written by `run` before it publishes a new generation; read by workers after they see it.
        var body: ((Int) -> Void)?

        init(workers: Int, spinSeconds: Double) {
            self.workers = (0..<workers).map { _ in Worker() }
            self.spinSeconds = spinSeconds
        }

        final class Worker: Sendable {
            static let noClock: Int32 = -1
            /// True while the worker is parked (or about to park) on `wake`.
            let parked = Atomic<Bool>(false)
            /// The worker thread's CPU clock (pthread_getcpuclockid), set when it starts.
            let cpuClock = Atomic<Int32>(Worker.noClock)
            let wake = DispatchSemaphore(value: 0)
        }

        func run(_ body: @escaping (Int) -> Void) {
            self.body = body
            unfinished.store(workers.count, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            for worker in workers where worker.parked.load(ordering: .sequentiallyConsistent) {
                worker.wake.signal()
            }
            body(0)
            var spins = 0
            while unfinished.load(ordering: .acquiring) != 0 {
                // After a short spin, offer the core at every turn in case a worker waits for it.
                spins += 1
                if spins > 1_000 || spinSeconds == 0 { sched_yield() }
            }
            self.body = nil
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            for worker in workers { worker.wake.signal() }
        }

        func workerLoop(index: Int) {
            var clock = clockid_t()
            if pthread_getcpuclockid(pthread_self(), &clock) == 0 {
                workers[index - 1].cpuClock.store(Int32(clock), ordering: .releasing)
            }
            var seen = 0
            while true {
                seen = waitForCall(after: seen, worker: workers[index - 1])
                if stopping.load(ordering: .acquiring) { return }
                body?(index)
                unfinished.wrappingSubtract(1, ordering: .releasing)
            }
        }

        /// Spins until `generation` moves past `seen`, parking on the worker's semaphore once
        /// `spinSeconds` have passed; returns the new generation.
        private func waitForCall(after seen: Int, worker: Worker) -> Int {
            var deadline = 0.0
            var spins = 0
            while true {
                let current = generation.load(ordering: .acquiring)
                if current != seen { return current }
                if spinSeconds > 0 {
                    spins += 1
                    if spins & 255 != 0 { continue }
                    // Offer the core now and then: when more threads than cores want to run
                    // (two multi-threaded jobs at once), a spinning worker would otherwise
                    // hold a core that another job's thread needs.
                    sched_yield()
                    let now = Clock.now()
                    if deadline == 0 { deadline = now + spinSeconds; continue }
                    if now < deadline { continue }
                }
                // Park. The flag is set before the generation is read again, and `run` bumps
                // the generation before it reads the flag (all sequentially consistent), so
                // either this read sees the new call or `run` sees the flag and signals. A
                // signal that comes when the read already saw the call stays on the
                // semaphore and only costs one extra turn of this loop later.
                worker.parked.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) == seen { worker.wake.wait() }
                worker.parked.store(false, ordering: .sequentiallyConsistent)
                deadline = 0
            }
        }
    }

    /// Splits 0..<total into `threadCount` contiguous parts whose bounds are multiples
    /// of `granule` (except the end), and runs `body(range)` for each non-empty part.
    public func parallelRanges(_ total: Int, granule: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = threadCount
        if parts == 1 || total <= granule { body(0..<total); return }
        run { index in
            let range = ThreadPool.part(index, of: parts, total: total, granule: granule)
            if !range.isEmpty { body(range) }
        }
    }

    /// The `index`-th of `parts` contiguous parts of 0..<total, aligned to `granule`.
    public static func part(_ index: Int, of parts: Int, total: Int, granule: Int = 1) -> Range<Int> {
        let units = (total + granule - 1) / granule
        let lower = min(total, (units * index / parts) * granule)
        let upper = min(total, (units * (index + 1) / parts) * granule)
        return lower..<upper
    }
}
