import Engine
import Foundation
import Synchronization

/// Reports a run's progress. On a terminal: one live line (jobs done/total, each running
/// job's epoch and loss, an ETA), redrawn in place; otherwise plain log lines, one per
/// epoch and per finished job, suitable for files and CI logs.
public final class ProgressLog: Sendable {
    /// How a job ended, for its closing line.
    public enum JobEnd: Sendable {
        case done(Double)
        case failed(String)
        case interrupted(String)
    }

    private struct Running {
        var index: Int
        var phase = TrainingPhase.train
        var epoch = 1
        var epochs: Int
        var loss: Double?
    }

    private struct State {
        var experiment = ""
        var total = 0
        var finished = 0
        var startedJobs = 0
        var workers = 1
        var running: [Int64: Running] = [:]
        var jobSeconds: [Double] = []
        var jobStart: [Int64: Double] = [:]
        var lastDraw = 0.0
        var lineShown = false
    }

    private let live: Bool
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())

    /// `live`: redraw a status line (use when standard error is a terminal). `write`
    /// defaults to standard error, where a failed write is dropped: output never stops a run.
    public init(live: Bool, write: @escaping @Sendable (String) -> Void = { StandardStream.error.write($0) }) {
        self.live = live
        self.write = write
    }

    public static func forStandardError() -> ProgressLog {
        ProgressLog(live: isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb")
    }

    public func message(_ text: String) { emit(text) }

    func start(experiment: String, total: Int, alreadyDone: Int, workers: Int, threads: Int) {
        state.withLock {
            $0.experiment = experiment
            $0.total = total
            $0.finished = alreadyDone
            $0.workers = workers
        }
        emit("\(experiment): \(total) jobs, \(alreadyDone) already done; \(workers) worker(s) x \(threads) thread(s)")
    }

    func jobStarted(runID: Int64, index: Int, label: String, epochs: Int) {
        state.withLock {
            $0.running[runID] = Running(index: index, epochs: epochs)
            $0.jobStart[runID] = Clock.now()
        }
        if !live { emit("[job \(index + 1)] start \(label)") }
    }

    func jobProgress(runID: Int64, _ progress: BatchProgress) {
        guard live else { return }
        let now = Clock.now()
        let line: String? = state.withLock {
            $0.running[runID]?.phase = progress.phase
            $0.running[runID]?.epoch = progress.epoch
            $0.running[runID]?.epochs = progress.epochs
            $0.running[runID]?.loss = progress.loss
            guard now - $0.lastDraw > 0.2 else { return nil }
            $0.lastDraw = now
            $0.lineShown = true
            return Self.statusLine($0)
        }
        if let line { write("\r\u{1B}[K" + line) }
    }

    func epochFinished(runID: Int64, index: Int, label: String, phase: TrainingPhase, summary: EpochSummary, epochs: Int) {
        guard !live else { return }
        emit(String(format: "[job %d] %@ epoch %d/%d loss %.4f (%.1f s)", index + 1, phase.rawValue, summary.epoch, epochs,
                    summary.meanLoss, summary.seconds))
    }

    func jobFinished(runID: Int64, index: Int, label: String, end: JobEnd) {
        let done = state.withLock { state -> String in
            state.running[runID] = nil
            if let start = state.jobStart.removeValue(forKey: runID) { state.jobSeconds.append(Clock.now() - start) }
            state.finished += 1
            return "\(state.finished)/\(state.total)"
        }
        switch end {
        case .done(let accuracy): emit(String(format: "[job %d] done (%@) accuracy %.4f  %@", index + 1, done, accuracy, label))
        case .failed(let error): emit("[job \(index + 1)] FAILED \(label): \(error)")
        case .interrupted(let reason): emit("[job \(index + 1)] \(reason): \(label)")
        }
    }

    func finish() {
        if live { state.withLock { s in if s.lineShown { write("\r\u{1B}[K"); s.lineShown = false } } }
    }

    /// A log line; on a terminal the live line is cleared first and redrawn after.
    private func emit(_ text: String) {
        if live {
            let line = state.withLock { $0.running.isEmpty ? nil : Self.statusLine($0) }
            write("\r\u{1B}[K" + text + "\n" + (line ?? ""))
            state.withLock { $0.lineShown = line != nil }
        } else {
            write(text + "\n")
        }
    }

    private static func statusLine(_ s: State) -> String {
        let jobs = s.running.values.sorted { $0.index < $1.index }.map { r in
            "#\(r.index + 1) \(r.phase == .train ? "" : r.phase.rawValue + " ")e\(r.epoch)/\(r.epochs)"
                + (r.loss.map { String(format: " loss %.3f", $0) } ?? "")
        }
        var line = "[\(s.experiment) \(s.finished)/\(s.total)] " + jobs.joined(separator: " | ")
        if !s.jobSeconds.isEmpty {
            let mean = s.jobSeconds.reduce(0, +) / Double(s.jobSeconds.count)
            let remaining = Double(s.total - s.finished) * mean / Double(max(1, s.workers))
            line += " | ETA " + formatDuration(remaining)
        }
        return line
    }
}

/// 75 -> "1m15s", 3700 -> "1h01m".
public func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
