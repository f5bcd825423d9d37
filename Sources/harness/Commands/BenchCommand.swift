import Engine
import Foundation
import HarnessKit

struct BenchCommand: Subcommand {
    // Every model setting defaults to what a spec means when it leaves the setting out
    // (`ModelSettings(type:)`, the one definition of defaults).
    static let model = Option<ModelConfig.Kind>.choice("model", "KIND", cases: ModelConfig.Kind.allCases,
                                                       help: "the model to time", default: .lstm)
    static let layers = Option<Int>.integer("layers", range: 1...8, help: "recurrent layers",
                                            defaultText: specDefault(\.layers))
    static let hidden = Option<Int>.integer("hidden", range: 1...2048, help: "hidden units per recurrent layer",
                                            defaultText: specDefault(\.hidden))
    static let activation = Option<RecurrentActivation>.choice("activation", "A", cases: RecurrentActivation.allCases,
                                                               help: "the recurrent cell's activation",
                                                               default: ModelSettings(type: .lstm).activation)
    static let conv = sizes("conv", help: "CNN: filters of each Conv2D layer", defaultText: specDefault(\.conv, of: .cnn))
    static let kernel = Option<Int>.integer("kernel", range: 1...28, help: "CNN: convolution kernel size",
                                            defaultText: specDefault(\.kernel, of: .cnn))
    static let pool = Option<Int>.integer("pool", range: 1...2, help: "CNN: max-pool size, 1 for none",
                                          defaultText: specDefault(\.pool, of: .cnn))
    static let dense = sizes("dense", help: "hidden Dense+ReLU layers of the classifier head",
                             defaultText: "\(specDefault(\.dense, of: .cnn)) for cnn, \(specDefault(\.dense)) otherwise")
    static let dropout = Option<Double>.number("dropout", range: 0...0.99, help: "dropout after each hidden Dense layer",
                                               defaultText: "\(specDefault(\.dropout, of: .cnn)) for cnn, "
                                                   + "\(specDefault(\.dropout)) otherwise")
    static let batch = Option<Int>.integer("batch", range: 1...10_000, help: "samples per batch", default: 100)
    static let threads = Option<Int>.integer("threads", range: 1...256, help: "engine threads", default: 1)
    static let batches = Option<Int>.integer("batches", range: 1...100_000,
                                             help: "training batches per timed repeat, after warm-up", default: 20)
    static let repeats = Option<Int>.integer("repeats", range: 1...1000,
                                             help: "timed repeats; the median is reported", default: 5)
    static let pruneSparsity = Option<Double>.number("prune-sparsity", "S", range: 0...1,
                                                     help: "also time a copy pruned to this sparsity (masked training, "
                                                     + "sparse inference), interleaved with the dense model",
                                                     defaultText: "no pruning")
    static let pruneUnits = Option<Double>.number("prune-units", "F", range: 0...0.99,
                                                  help: "also time a copy with this share of its hidden units removed and "
                                                  + "rebuilt smaller, interleaved with the dense model",
                                                  defaultText: "no pruning")
    /// Measure the machine's FMA peak instead of a model (for "% of peak" figures).
    static let peak = Flag("peak", help: "measure the machine's FMA peak per core with --threads threads running, "
                           + "instead of a model")

    static let command = CommandDescription(
        name: "bench",
        summary: "measure training and inference throughput on generated data",
        options: [model, layers, hidden, activation, conv, kernel, pool, dense, dropout, batch, threads, batches,
                  repeats, pruneSparsity, pruneUnits, SharedOptions.json, peak],
        examples: ["harness bench --model lstm --layers 2 --hidden 64 --batch 100 --threads 2",
                   "harness bench --model cnn --prune-sparsity 0.9 --json",
                   "harness bench --layers 2 --hidden 64 --prune-units 0.5",
                   "harness bench --peak --threads 2"])

    let options: BenchmarkOptions
    let json: Bool
    let peak: Bool

    init(_ arguments: ParsedArguments) throws {
        var model = ModelSettings(type: try arguments.value(Self.model))
        model.layers = try arguments.optional(Self.layers) ?? model.layers
        model.hidden = try arguments.optional(Self.hidden) ?? model.hidden
        model.activation = try arguments.value(Self.activation)
        model.conv = try arguments.optional(Self.conv) ?? model.conv
        model.kernel = try arguments.optional(Self.kernel) ?? model.kernel
        model.pool = try arguments.optional(Self.pool) ?? model.pool
        model.dense = try arguments.optional(Self.dense) ?? model.dense
        model.dropout = try arguments.optional(Self.dropout) ?? model.dropout
        options = BenchmarkOptions(model: model.engineConfig(sequence: .rows),
                                   batchSize: try arguments.value(Self.batch),
                                   threads: try arguments.value(Self.threads),
                                   batchesPerRepeat: try arguments.value(Self.batches),
                                   repeats: try arguments.value(Self.repeats),
                                   pruneSparsity: try arguments.optional(Self.pruneSparsity),
                                   pruneUnits: try arguments.optional(Self.pruneUnits))
        if options.pruneSparsity != nil && options.pruneUnits != nil {
            throw HarnessError("harness bench: give --prune-sparsity or --prune-units, not both")
        }
        json = arguments.flag(SharedOptions.json)
        peak = arguments.flag(Self.peak)
    }

    /// The spec's default of a model setting, as help text: "64", "[128,32]".
    static func specDefault<Value>(_ setting: KeyPath<ModelSettings, Value>, of type: ModelConfig.Kind = .lstm) -> String {
        let value = ModelSettings(type: type)[keyPath: setting]
        if let sizes = value as? [Int] { return sizes.isEmpty ? "none" : sizes.map(String.init).joined(separator: ",") }
        return "\(value)"
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
            standardOutput(json ? "{\"peak_gflops_per_core\":\(String(format: "%.1f", perCore)),\"threads\":\(options.threads)}"
                           : "FMA peak: \(String(format: "%.1f", perCore)) GFLOP/s per core with \(options.threads) "
                             + (options.threads == 1 ? "thread running" : "threads running"))
            return 0
        }
        let result = try Benchmark.run(options)
        standardOutput(json ? result.json() : result.text())
        return 0
    }
}
