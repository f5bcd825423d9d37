import Dispatch
import Foundation
import HarnessKit

/// Runs `body` with SIGINT (Ctrl-C) and SIGTERM (kill, scancel, Slurm's time limit)
/// turned into a request to stop: the first sets `stop` and says so on standard error
/// ("harness COMMAND: stopping: <what happens>"), so the command can finish cleanly,
/// typically recording its running jobs as interrupted; a second exits at once with
/// 128 + the signal. The default handling is back once `body` returns.
func withStopSignals<T>(command: String, whatHappens: String, _ body: (StopFlag) throws -> T) rethrows -> T {
    let stop = StopFlag()
    let signals = [SIGINT, SIGTERM]
    let sources = signals.map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            if stop.isSet { exit(128 + number) }
            stop.set(signal: number)
            standardError("harness \(command): stopping: \(whatHappens) (signal again to quit at once)")
        }
        source.resume()
        return source
    }
    defer {
        sources.forEach { $0.cancel() }
        signals.forEach { signal($0, SIG_DFL) }
    }
    return try body(stop)
}
