import Foundation

/// A fixed set of threads that run one body in parallel, each with its own index.
///
/// `run` is called many times per training step (a few per layer), so the workers are
/// created once and parked on semaphores between calls. The caller's own thread does
/// part 0 of the work. Work is always split by a thread's index, never by who comes
/// first, so which thread computes which output is fixed; together with kernels whose
/// per-element arithmetic does not depend on the split, results are bit-identical for
/// any thread count.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int
    private var wake: [DispatchSemaphore] = []
    private let finished = DispatchSemaphore(value: 0)
    private var body: ((Int) -> Void)?
    private var shuttingDown = false

    public init(threads: Int) {
        threadCount = max(1, threads)
        for index in 1..<threadCount {
            let semaphore = DispatchSemaphore(value: 0)
            wake.append(semaphore)
            let thread = Thread { [unowned self] in self.workerLoop(index: index, wake: semaphore) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        shuttingDown = true
        for semaphore in wake { semaphore.signal() }
    }

    private func workerLoop(index: Int, wake: DispatchSemaphore) {
        while true {
            wake.wait()
            if shuttingDown { return }
            body?(index)
            finished.signal()
        }
    }

    /// Runs `body(threadIndex)` once on each of `threadCount` threads and returns when all are done.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 { body(0); return }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            for semaphore in wake { semaphore.signal() }
            escapable(0)
            for _ in 1..<threadCount { finished.wait() }
            self.body = nil
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
