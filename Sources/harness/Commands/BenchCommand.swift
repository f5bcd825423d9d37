import Engine
import Foundation
import HarnessKit

struct BenchCommand: Subcommand {
    // ModelConfig.Kind and RecurrentActivation are not CaseIterable; once they are, these
    // lists become `.allCases`.
    static let model = Option<ModelConfig.Kind>.choice("model", "KIND", cases: [.lstm, .rnn, .cnn],
                                                       help: "the model to time", default: .lstm)
    static let layers = Option<Int>.integer("layers", range: 1...8, help: "recurrent layers", default: 2)
    static let hidden = Option<Int>.integer("hidden", range: 1...2048, help: "hidden units per recurrent layer",
                                            default: 64)
    static let activation = Option<RecurrentActivation>.choice("activation", "A", cases: [.tanh, .relu],
                                                               help: "the recurrent cell's activation", default: .tanh)
    // The CNN's defaults are the Keras notebook's: Conv2D(32, 3x3) + MaxPool 2x2, Dense 128 and 32, dropout 0.2.
    static let conv = sizes("conv", help: "CNN: filters of each Conv2D layer", defaultText: "32")
    static let kernel = Option<Int>.integer("kernel", range: 1...28, help: "CNN: convolution kernel size", default: 3)
    static let pool = Option<Int>.integer("pool", range: 1...2, help: "CNN: max-pool size, 1 for none", default: 2)
    static let dense = sizes("dense", help: "hidden Dense+ReLU layers of the classifier head",
                             defaultText: "128,32 for cnn, none otherwise")
    static let dropout = Option<Double>.number("dropout", range: 0...0.99, help: "dropout after each hidden Dense layer",
                                               defaultText: "0.2 for cnn, 0 otherwise")
    static let batch = Option<Int>.integer("batch", range: 1...10_000, help: "samples per batch", default: 100)
    static let threads = Option<Int>.integer("threads", range: 1...256, help: "engine threads", default: 1)
    static let batches = Option<Int>.integer("batches", range: 1...100_000,
                                             help: "training batches per timed repeat, after warm-up", default: 20)
    static let repeats = Option<Int>.integer("repeats", range: 1...1000,
                                             help: "timed repeats; the median is reported", default: 5)
    static let pruneSparsity = Option<Double>.number("prune-sparsity", "S", range: 0...1,
                                                     help: "then prune to this sparsity and time masked training and "
                                                     + "sparse inference too", defaultText: "no pruning")
    /// Measure the machine's FMA peak instead of a model (for "% of peak" figures).
    static let peak = Flag("peak", help: "measure the machine's FMA peak per core with --threads threads running, "
                           + "instead of a model")

    static let command = CommandDescription(
        name: "bench",
        summary: "measure training and inference throughput on generated data",
        options: [model, layers, hidden, activation, conv, kernel, pool, dense, dropout, batch, threads, batches,
                  repeats, pruneSparsity, SharedOptions.json, peak],
        examples: ["harness bench --model lstm --layers 2 --hidden 64 --batch 100 --threads 2",
                   "harness bench --model cnn --prune-sparsity 0.9 --json",
                   "harness bench --peak --threads 2"])

    let options: BenchmarkOptions
    let json: Bool
    let peak: Bool

    init(_ arguments: ParsedArguments) throws {
        let kind = try arguments.value(Self.model)
        let isCNN = kind == .cnn
        let config = ModelConfig(kind: kind,
                                 layers: try arguments.value(Self.layers),
                                 hidden: try arguments.value(Self.hidden),
                                 activation: try arguments.value(Self.activation),
                                 dense: try arguments.optional(Self.dense) ?? (isCNN ? [128, 32] : []),
                                 dropout: Float(try arguments.optional(Self.dropout) ?? (isCNN ? 0.2 : 0)),
                                 conv: try arguments.optional(Self.conv) ?? [32],
                                 kernel: try arguments.value(Self.kernel),
                                 pool: try arguments.value(Self.pool))
        options = BenchmarkOptions(model: config,
                                   batchSize: try arguments.value(Self.batch),
                                   threads: try arguments.value(Self.threads),
                                   batchesPerRepeat: try arguments.value(Self.batches),
                                   repeats: try arguments.value(Self.repeats),
                                   pruneSparsity: try arguments.optional(Self.pruneSparsity))
        json = arguments.flag(SharedOptions.json)
        peak = arguments.flag(Self.peak)
    }

    /// A comma-separated list of layer sizes, e.g. `--dense 128,32`; "none" for an empty list.
    static func sizes(_ name: String, help: String, defaultText: String) -> Option<[Int]> {
        Option(name, "N,N...", help: help, accepted: "sizes 1...4096 separated by commas, or none",
               defaultText: defaultText) { text in
            if text == "none" { return [] }
            return try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
                guard let size = Int(part.trimmingCharacters(in: .whitespaces)), (1...4096).contains(size) else {
                    throw InvalidValue(reason: "expects sizes 1...4096 separated by commas (or none), got \"\(text)\"")
                }
                return size
            }
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
