import Engine
import Foundation
import HarnessKit

struct BenchCommand: Subcommand {
    static let name = "bench"
    static let summary = "measure training and inference throughput on generated data"
    let options: BenchmarkOptions
    let json: Bool
    /// Measure the machine's FMA peak instead of a model (for "% of peak" figures).
    let peak: Bool

    init(arguments: [String]) throws {
        let args = try Arguments(command: Self.name, arguments,
                                 valueOptions: ["model", "layers", "hidden", "batch", "threads", "activation",
                                                "batches", "repeats", "prune-sparsity", "conv", "kernel", "pool", "dense",
                                                "dropout"],
                                 flagOptions: ["json", "peak"])
        _ = try args.positionals(0...0, usage: "no positional arguments")
        let kind = ModelConfig.Kind(rawValue: try args.choice("model", ["lstm", "rnn", "cnn"], default: "lstm"))!
        // The CNN's defaults are the Keras notebook's: Conv2D(32, 3x3) + MaxPool 2x2, Dense 128 and 32, dropout 0.2.
        let isCNN = kind == .cnn
        let config = ModelConfig(kind: kind,
                                 layers: try args.int("layers", default: 2, range: 1...8)!,
                                 hidden: try args.int("hidden", default: 64, range: 1...2048)!,
                                 activation: RecurrentActivation(rawValue: try args.choice("activation", ["tanh", "relu"],
                                                                                           default: "tanh"))!,
                                 dense: try Self.sizes(args, "dense", default: isCNN ? [128, 32] : []),
                                 dropout: Float(try args.double("dropout", range: 0...0.99) ?? (isCNN ? 0.2 : 0)),
                                 conv: try Self.sizes(args, "conv", default: [32]),
                                 kernel: try args.int("kernel", default: 3, range: 1...28)!,
                                 pool: try args.int("pool", default: 2, range: 1...2)!)
        options = BenchmarkOptions(model: config,
                                   batchSize: try args.int("batch", default: 100, range: 1...10_000)!,
                                   threads: try args.int("threads", default: 1, range: 1...256)!,
                                   batchesPerRepeat: try args.int("batches", default: 20, range: 1...100_000)!,
                                   repeats: try args.int("repeats", default: 5, range: 1...1000)!,
                                   pruneSparsity: try args.double("prune-sparsity", range: 0...1))
        json = args.flag("json")
        peak = args.flag("peak")
    }

    /// A comma-separated list of layer sizes, e.g. `--dense 128,32`; "none" for an empty list.
    static func sizes(_ args: Arguments, _ name: String, default value: [Int]) throws -> [Int] {
        guard let text = args.string(name) else { return value }
        if text == "none" { return [] }
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
            guard let size = Int(part.trimmingCharacters(in: .whitespaces)), (1...4096).contains(size) else {
                throw HarnessError("harness bench: --\(name) expects sizes 1...4096 separated by commas "
                                   + "(or none), got \"\(text)\"")
            }
            return size
        }
    }

    func run() throws -> Int32 {
        if peak {
            let perCore = PeakFlops.measure(threads: options.threads)
            print(json ? "{\"peak_gflops_per_core\":\(String(format: "%.1f", perCore)),\"threads\":\(options.threads)}"
                       : "FMA peak: \(String(format: "%.1f", perCore)) GFLOP/s per core with \(options.threads) "
                         + (options.threads == 1 ? "thread running" : "threads running"))
            return 0
        }
        let result = try Benchmark.run(options)
        print(json ? result.json() : result.text())
        return 0
    }
}
