import Engine
import Foundation
import Synchronization

/// Reports a run's progress. On a terminal: one live line (jobs done/total, each running
/// job's epoch and loss, an ETA), redrawn in place; otherwise plain log lines, one per
/// epoch and per finished job, suitable for files and CI logs.
public final class ProgressLog: Sendable {
    /// How a job ended, for its closing line.
    public enum JobEnd: Sendable {
        /// With the model's test accuracy (a score job has none).
        case done(Double?)
        case failed(String)
        case interrupted(String)
    }

    private struct Running {
        var index: Int
        var phase = TrainingPhase.train
        var epoch = 1
        var epochs: Int
        var loss: Double?
        /// Predicted cost (`JobCost`).
        var cost: Double
    }

    private struct State {
        var experiment = ""
        var total = 0
        var finished = 0
        var startedJobs = 0
        var workers = 1
        var running: [Int64: Running] = [:]
        var jobStart: [Int64: Double] = [:]
        /// Predicted cost of the jobs not finished yet, and the seconds and cost of those
        /// that finished in this run, whose ratio turns the one into the ETA.
        var remainingCost = 0.0
        var finishedSeconds = 0.0
        var finishedCost = 0.0
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

    func start(experiment: String, total: Int, alreadyDone: Int, workers: Int, threads: Int, pendingCost: Double = 0) {
        state.withLock {
            $0.experiment = experiment
            $0.total = total
            $0.finished = alreadyDone
            $0.workers = workers
            $0.remainingCost = pendingCost
        }
        emit("\(experiment): \(total) jobs, \(alreadyDone) already done; \(workers) worker(s) x \(threads) thread(s)")
    }

    func jobStarted(runID: Int64, index: Int, label: String, epochs: Int, cost: Double = 0) {
        state.withLock {
            $0.running[runID] = Running(index: index, epochs: epochs, cost: cost)
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

    /// `support`: what a job outside the experiment's total is ("base" for a pruning grid's
    /// base model, "scores" for a score job), reported without moving the done/total count.
    func jobFinished(runID: Int64, index: Int, label: String, end: JobEnd, support: String? = nil) {
        let done = state.withLock { state -> String in
            let cost = state.running.removeValue(forKey: runID)?.cost ?? 0
            state.remainingCost = max(0, state.remainingCost - cost)
            if let start = state.jobStart.removeValue(forKey: runID), case .done = end {
                state.finishedSeconds += Clock.now() - start
                state.finishedCost += cost
            }
            if let support { return support }
            state.finished += 1
            return "\(state.finished)/\(state.total)"
        }
        switch end {
        case .done(let accuracy?): emit(String(format: "[job %d] done (%@) accuracy %.4f  %@", index + 1, done, accuracy, label))
        case .done(nil): emit("[job \(index + 1)] done (\(done))  \(label)")
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
        if let eta = eta(s) { line += " | ETA " + formatDuration(eta) }
        return line
    }

    /// Seconds until every job is done: the predicted cost still to run, at the seconds per
    /// predicted operation the finished jobs took, less what the running jobs have done,
    /// shared by the workers. Nil until a job has finished.
    private static func eta(_ s: State, now: Double = Clock.now()) -> Double? {
        guard s.finishedCost > 0 else { return nil }
        let rate = s.finishedSeconds / s.finishedCost
        let underway = s.running.keys.reduce(0.0) { sum, run in
            sum + min(s.running[run]!.cost * rate, now - (s.jobStart[run] ?? now))
        }
        return max(0, s.remainingCost * rate - underway) / Double(max(1, s.workers))
    }
}

/// 75 -> "1m15s", 3700 -> "1h01m".
public func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
