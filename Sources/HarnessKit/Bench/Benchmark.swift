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
    /// When set, the model is then pruned to this sparsity and measured again: masked
    /// training (dense kernels) and sparse inference.
    public var pruneSparsity: Double?

    public init(model: ModelConfig, batchSize: Int = 100, threads: Int = 1, batchesPerRepeat: Int = 20, repeats: Int = 5,
                pruneSparsity: Double? = nil) {
        self.model = model
        self.batchSize = batchSize
        self.threads = threads
        self.batchesPerRepeat = batchesPerRepeat
        self.repeats = repeats
        self.pruneSparsity = pruneSparsity
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
    /// The same measurements after pruning (medians), when asked for; absent otherwise.
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
            row("", "dense", "pruned \(f(prunedSparsity * 100, 1))%", "pruned/dense"),
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
        let model = try makeModel(config, seed: 1, threads: options.threads)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: batch,
                                                                     optimizer: .adam(learningRate: 1e-3), seed: 1))
        // Warm-up (up to two batches): sizes every workspace and faults in the pages.
        let warmUp = min(count, 2 * batch)
        _ = try trainer.train(on: ImageSet(pixels: Array(data.pixels[0..<(warmUp * area)]),
                                           labels: Array(data.labels[0..<warmUp]),
                                           height: data.height, width: data.width))
        var trainRates: [Double] = [], inferRates: [Double] = [], stepSeconds: [Double] = []
        for _ in 0..<options.repeats {
            let history = try trainer.train(on: data)
            trainRates.append(Double(count) / history.trainSeconds)
            stepSeconds.append(history.meanStepSeconds)
            let evaluation = model.evaluate(on: data, batchSize: batch)
            inferRates.append(Double(count) / evaluation.seconds)
        }
        let forward = model.forwardFlopsPerSample
        let train = median(trainRates), infer = median(inferRates)
        var result = BenchmarkResult(model: config.kind.rawValue, layers: config.layers, hidden: config.hidden, batch: batch,
                                     threads: options.threads, parameters: model.parameterCount,
                                     trainSamplesPerSecond: train, inferSamplesPerSecond: infer,
                                     gflops: train * 3 * forward / 1e9, inferGflops: infer * forward / 1e9,
                                     forwardMflopsPerSample: forward / 1e6, meanStepSeconds: median(stepSeconds))
        guard let sparsity = options.pruneSparsity else { return result }

        // The same loop on the pruned model: masked training keeps the dense kernels;
        // inference goes through evaluatePruned, i.e. the sparse model for recurrent
        // models (built from the weights of each repeat, outside the timed prediction).
        let pruning = prune(model, .sparsity(sparsity))
        _ = evaluatePruned(model, on: ImageSet(pixels: Array(data.pixels[0..<(batch * area)]),
                                               labels: Array(data.labels[0..<batch]), height: data.height, width: data.width),
                           batchSize: batch)
        trainRates = []; inferRates = []; stepSeconds = []
        for _ in 0..<options.repeats {
            let history = try trainer.train(on: data)
            trainRates.append(Double(count) / history.trainSeconds)
            stepSeconds.append(history.meanStepSeconds)
            inferRates.append(Double(count) / evaluatePruned(model, on: data, batchSize: batch).seconds)
        }
        result.prunedSparsity = pruning.globalSparsity
        result.prunedTrainSamplesPerSecond = median(trainRates)
        result.prunedInferSamplesPerSecond = median(inferRates)
        result.prunedStepSeconds = median(stepSeconds)
        return result
    }
}

public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
