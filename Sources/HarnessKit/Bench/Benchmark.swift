import Engine
import Foundation

/// `harness bench`: training and inference throughput of one model on generated data.
public struct BenchmarkOptions: Sendable {
    public var model: ModelConfig
    public var batchSize: Int
    public var threads: Int
    /// Training batches per timed repeat (after warm-up).
    public var batchesPerRepeat: Int
    public var repeats: Int
    /// When set, a copy of the model is pruned to this sparsity and measured beside it:
    /// masked training (dense kernels) and sparse inference.
    public var pruneSparsity: Double?
    /// When set, a copy of the model loses this share of its hidden units and is rebuilt
    /// smaller (`pruneUnits`), and measured beside it. At most one of the two.
    public var pruneUnits: Double?

    public init(model: ModelConfig, batchSize: Int = 100, threads: Int = 1, batchesPerRepeat: Int = 20, repeats: Int = 5,
                pruneSparsity: Double? = nil, pruneUnits: Double? = nil) {
        self.model = model
        self.batchSize = batchSize
        self.threads = threads
        self.batchesPerRepeat = batchesPerRepeat
        self.repeats = repeats
        self.pruneSparsity = pruneSparsity
        self.pruneUnits = pruneUnits
    }
}

public struct BenchmarkResult: Sendable, Codable {
    public var model: String
    public var layers: Int
    public var hidden: Int
    public var batch: Int
    public var threads: Int
    public var parameters: Int
    /// Median over repeats.
    public var trainSamplesPerSecond: Double
    public var inferSamplesPerSecond: Double
    /// Achieved training GFLOP/s, counting a training sample as 3x a forward pass
    /// (forward, plus backward's two products per forward product).
    public var gflops: Double
    public var inferGflops: Double
    public var forwardMflopsPerSample: Double
    public var meanStepSeconds: Double
    /// The same measurements of the pruned copy (medians, each repeat run right after the
    /// dense model's, alternating which goes first), when asked for; absent otherwise.
    /// `prunedSparsity` is the share of weight-matrix entries that are zero, or that the
    /// smaller model lacks (units).
    public var prunedMethod: String?
    public var prunedParameters: Int?
    public var prunedSparsity: Double?
    public var prunedTrainSamplesPerSecond: Double?
    public var prunedInferSamplesPerSecond: Double?
    public var prunedStepSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case model, layers, hidden, batch, threads, parameters
        case trainSamplesPerSecond = "train_samples_per_second"
        case inferSamplesPerSecond = "infer_samples_per_second"
        case gflops
        case inferGflops = "infer_gflops"
        case forwardMflopsPerSample = "forward_mflops_per_sample"
        case meanStepSeconds = "mean_step_seconds"
        case prunedMethod = "pruned_method"
        case prunedParameters = "pruned_parameters"
        case prunedSparsity = "pruned_sparsity"
        case prunedTrainSamplesPerSecond = "pruned_train_samples_per_second"
        case prunedInferSamplesPerSecond = "pruned_infer_samples_per_second"
        case prunedStepSeconds = "pruned_step_seconds"
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    public func text() -> String {
        func f(_ x: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", x) }
        // Layers and hidden units describe recurrent models only.
        let shape = model == "cnn" ? "" : " layers \(layers) hidden \(hidden)"
        let dense = """
        model \(model)\(shape) batch \(batch) threads \(threads) (\(parameters) parameters, \
        \(f(forwardMflopsPerSample, 2)) MFLOP forward per sample)
        train:     \(f(trainSamplesPerSecond)) samples/s  \(f(gflops, 1)) GFLOP/s  (optimizer step \(f(meanStepSeconds * 1e6, 1)) us)
        inference: \(f(inferSamplesPerSecond)) samples/s  \(f(inferGflops, 1)) GFLOP/s
        """
        guard let prunedSparsity, let prunedTrainSamplesPerSecond, let prunedInferSamplesPerSecond,
              let prunedStepSeconds else { return dense }
        func row(_ name: String, _ a: String, _ b: String, _ ratio: String) -> String {
            name.padding(toLength: 24, withPad: " ", startingAt: 0) + a.padding(toLength: 12, withPad: " ", startingAt: 0)
                + b.padding(toLength: 14, withPad: " ", startingAt: 0) + ratio
        }
        func row(_ name: String, _ a: String, _ b: String, _ ratio: Double) -> String { row(name, a, b, f(ratio, 2) + "x") }
        return dense + "\n" + [
            row("", "dense", (prunedMethod == "units" ? "units " : "pruned ") + "\(f(prunedSparsity * 100, 1))%",
                "pruned/dense"),
            row("train samples/s", f(trainSamplesPerSecond), f(prunedTrainSamplesPerSecond),
                prunedTrainSamplesPerSecond / trainSamplesPerSecond),
            row("optimizer step (us)", f(meanStepSeconds * 1e6, 1), f(prunedStepSeconds * 1e6, 1),
                prunedStepSeconds / meanStepSeconds),
            row("inference samples/s", f(inferSamplesPerSecond), f(prunedInferSamplesPerSecond),
                prunedInferSamplesPerSecond / inferSamplesPerSecond),
        ].joined(separator: "\n")
    }
}

public enum Benchmark {
    public static func run(_ options: BenchmarkOptions) throws -> BenchmarkResult {
        let config = options.model
        let batch = options.batchSize
        let count = batch * options.batchesPerRepeat
        var generator = SeededGenerator(seed: 1, stream: "bench-data")
        let area = config.imageHeight * config.imageWidth
        let data = ImageSet(pixels: (0..<(count * area)).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
                            labels: (0..<count).map { _ in UInt8(generator.nextInt(below: config.classes)) },
                            height: config.imageHeight, width: config.imageWidth)
        let warmUpSet = data.prefix(2 * batch)
        let dense = try makeModel(config, seed: 1, threads: options.threads)
        // The pruned copy: the same weights, then pruned (masked, or rebuilt smaller).
        var pruned: (model: Classifier, method: String, sparsity: Double)?
        if options.pruneSparsity != nil || options.pruneUnits != nil {
            let copy = try makeModel(config, seed: 1, threads: options.threads)
            try loadCheckpoint(checkpointData(dense), into: copy)
            if let units = options.pruneUnits {
                let smaller = pruneUnits(copy, .fraction(units), seed: 1).model
                pruned = (smaller, "units", modelSparsity(smaller, relativeTo: dense).globalSparsity)
            } else if let sparsity = options.pruneSparsity {
                pruned = (copy, "magnitude", prune(copy, .sparsity(sparsity)).globalSparsity)
            }
        }
        let models = [dense] + (pruned.map { [$0.model] } ?? [])
        let trainers = models.map { model in
            Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: batch, optimizer: .adam(learningRate: 1e-3), seed: 1))
        }
        // Warm-up (up to two batches): sizes every workspace, faults in the pages, and gives
        // a masked model's optimizer its first (full) masked pass.
        for (index, trainer) in trainers.enumerated() {
            _ = try trainer.train(on: warmUpSet)
            _ = index == 0 ? dense.evaluate(on: warmUpSet, batchSize: batch) : evaluatePruned(models[index], on: warmUpSet, batchSize: batch)
        }
        var trainRates = models.map { _ in [Double]() }, inferRates = trainRates, stepSeconds = trainRates
        for repeatIndex in 0..<options.repeats {
            // Alternating which model goes first, so neither always runs on caches the other warmed.
            let order = repeatIndex % 2 == 0 ? Array(models.indices) : Array(models.indices.reversed())
            for index in order {
                let history = try trainers[index].train(on: data)
                trainRates[index].append(Double(count) / history.trainSeconds)
                stepSeconds[index].append(history.meanStepSeconds)
                // Masked recurrent models go through the sparse model (built outside the timed prediction).
                let evaluation = index == 0 ? dense.evaluate(on: data, batchSize: batch)
                    : evaluatePruned(models[index], on: data, batchSize: batch)
                inferRates[index].append(Double(count) / evaluation.seconds)
            }
        }
        let forward = dense.forwardFlopsPerSample
        let train = median(trainRates[0]), infer = median(inferRates[0])
        var result = BenchmarkResult(model: config.kind.rawValue, layers: config.layers, hidden: config.hidden, batch: batch,
                                     threads: options.threads, parameters: dense.parameterCount,
                                     trainSamplesPerSecond: train, inferSamplesPerSecond: infer,
                                     gflops: train * 3 * forward / 1e9, inferGflops: infer * forward / 1e9,
                                     forwardMflopsPerSample: forward / 1e6, meanStepSeconds: median(stepSeconds[0]))
        if let pruned {
            result.prunedMethod = pruned.method
            result.prunedParameters = pruned.model.parameterCount
            result.prunedSparsity = pruned.sparsity
            result.prunedTrainSamplesPerSecond = median(trainRates[1])
            result.prunedInferSamplesPerSecond = median(inferRates[1])
            result.prunedStepSeconds = median(stepSeconds[1])
        }
        return result
    }
}

public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
