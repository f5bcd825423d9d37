import Engine
import HarnessKit

struct BenchCommand: Subcommand {
    static let name = "bench"
    static let summary = "measure training and inference throughput on generated data"
    let options: BenchmarkOptions
    let json: Bool

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments,
                                 valueOptions: ["model", "layers", "hidden", "batch", "threads", "activation",
                                                "batches", "repeats", "prune-sparsity"],
                                 flagOptions: ["json"])
        _ = try args.positionals(0...0, usage: "no positional arguments")
        let kind = ModelConfig.Kind(rawValue: try args.choice("model", ["lstm", "rnn"], default: "lstm"))!
        let config = ModelConfig(kind: kind,
                                 layers: try args.int("layers", default: 2, range: 1...8)!,
                                 hidden: try args.int("hidden", default: 64, range: 1...2048)!,
                                 activation: RecurrentActivation(rawValue: try args.choice("activation", ["tanh", "relu"],
                                                                                           default: "tanh"))!)
        options = BenchmarkOptions(model: config,
                                   batchSize: try args.int("batch", default: 100, range: 1...10_000)!,
                                   threads: try args.int("threads", default: 1, range: 1...256)!,
                                   batchesPerRepeat: try args.int("batches", default: 20, range: 1...100_000)!,
                                   repeats: try args.int("repeats", default: 5, range: 1...1000)!,
                                   pruneSparsity: try args.double("prune-sparsity", range: 0...1))
        json = args.flag("json")
    }

    func run() throws -> Int32 {
        let result = try Benchmark.run(options)
        print(json ? result.json() : result.text())
        return 0
    }
}
