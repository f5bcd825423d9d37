import Dispatch
import Foundation
import HarnessKit

struct RunCommand: Subcommand {
    static let name = "run"
    static let summary = "run a spec's jobs that are not done yet, recording results in SQLite"
    let options: RunOptions

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments, valueOptions: ["db", "data", "jobs", "threads"],
                                 flagOptions: ["force"])
        let spec = try args.positionals(1...1, usage: "one spec file: harness run SPEC.json [--db PATH] [--data DIR] "
                                            + "[--jobs N] [--threads N] [--force]")[0]
        options = RunOptions(specPath: spec, databasePath: args.string("db") ?? defaultDatabase,
                             dataDirectory: args.string("data"), workers: try args.int("jobs", range: 1...256),
                             threadsPerJob: try args.int("threads", range: 1...256), force: args.flag("force"))
    }

    func run() throws -> Int32 {
        let stop = StopFlag()
        // Ctrl-C or SIGTERM: stop claiming, let running jobs record themselves as
        // interrupted, exit cleanly. A second signal exits at once.
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isSet { exit(128 + number) }
                stop.set(signal: number)
                standardError("harness run: stopping after recording the running jobs as interrupted (again to quit at once)")
            }
            source.resume()
            sources.append(source)
        }
        let summary = try Scheduler(options: options, stop: stop, log: .forStandardError()).run()
        sources.forEach { $0.cancel() }
        print("\(summary.total) jobs: \(summary.alreadyDone) already done, \(summary.completed) completed, "
              + "\(summary.failed) failed, \(summary.interrupted) interrupted; \(summary.notDone) not done")
        print("results in \(options.databasePath)")
        if let number = summary.stoppedBySignal { return 128 + number }
        return summary.allDone ? 0 : 1
    }
}

struct PlanCommand: Subcommand {
    static let name = "plan"
    static let summary = "print the jobs a spec expands into, without running anything"
    let specPath: String

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments, valueOptions: [])
        specPath = try args.positionals(1...1, usage: "one spec file: harness plan SPEC.json")[0]
    }

    func run() throws -> Int32 {
        let spec = try ExperimentSpec.load(path: specPath)
        print(Plan.render(spec, jobs: try spec.jobs()), terminator: "")
        return 0
    }
}

struct StatusCommand: Subcommand {
    static let name = "status"
    static let summary = "show each experiment's jobs by state"
    let databasePath: String

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments, valueOptions: ["db"])
        _ = try args.positionals(0...0, usage: "no positional arguments: harness status [--db PATH]")
        databasePath = args.string("db") ?? defaultDatabase
    }

    func run() throws -> Int32 {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw HarnessError("harness status: no database at \(databasePath) (run a spec first, or give --db PATH)")
        }
        let store = try Store(path: databasePath)
        mergeSlurmShards(into: store, command: Self.name)
        let rows = try store.statusSummary()
        print(StatusTable.render(rows), terminator: "")
        return 0
    }
}

let defaultDatabase = "results/harness.sqlite"
