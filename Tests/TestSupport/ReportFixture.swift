import Engine
import Foundation
import HarnessKit

/// A small results database built through the Store API for report tests: a pruning
/// experiment over pruning.threshold [0.05, 0.1] x model.hidden [32, 64] x seeds [1, 2],
/// whose outcomes follow simple formulas so tests can recompute every number.
///
/// Job i (0...7, the spec's job order: threshold slowest, seed fastest) has grid point
/// i / 2 and seed index i % 2. Job 5 failed, job 7 is pending, the others are done.
public enum ReportFixture {
    public static let experiment = "prune-grid"
    public static let fingerprint = "f0e1d2c3b4a59687"
    public static let failedJob = 5
    public static let pendingJob = 7
    /// Job 6 started from its base model's checkpoint, as a pruning job does when its base job
    /// ran first: it recorded only its retraining. The base job, registered as a support job
    /// under its real id, recorded job 6's training epochs.
    public static let jobWithBase = 6

    public static let specText = """
        {
          "name": "prune-grid",
          "description": "Magnitude pruning of a two-layer LSTM: threshold x hidden units.",
          "dataset": {"train_size": 20000, "stratified": true},
          "model": {"type": "lstm", "layers": 2},
          "training": {"epochs": 3, "batch_size": 100},
          "pruning": {"retrain_epochs": 2},
          "seeds": [1, 2],
          "grid": {"pruning.threshold": [0.05, 0.1], "model.hidden": [32, 64]},
          "reference": {
            "source": "Shen, Table 3",
            "note": "the paper's accuracy 'after pruning' is after retraining.",
            "rows": [
              {"pruning.threshold": 0.05, "accuracy_before_pruning": 0.8735, "accuracy": 0.8875,
               "update_seconds": 0.0007, "update_seconds_pruned": 0.0018},
              {"pruning.threshold": 0.1, "accuracy_before_pruning": 0.8784, "accuracy": 0.8772,
               "update_seconds": 0.0007, "update_seconds_pruned": 0.0026}
            ]
          }
        }
        """

    /// Added to every class's correct count per grid point, so point 1 (0.05, 64) is best.
    static let pointOffset = [2, 6, 0, 4]
    /// Point 0 gets this many fewer images of `shirtClass` right: the one class where it
    /// differs from the best by more than the offsets.
    public static let shirtPenalty = 20
    public static let shirtClass = 6

    /// Images of class c correctly classified by job `i`, of the class's 100:
    /// 80 + offset + seed index + c % 3, less the shirt penalty at point 0.
    public static func correct(job i: Int, class c: Int) -> Int {
        80 + pointOffset[i / 2] + i % 2 + c % 3 - (i / 2 == 0 && c == shirtClass ? shirtPenalty : 0)
    }

    /// The test set's labels: 100 images per class, class by class.
    public static let testLabels: [UInt8] = (0..<1000).map { UInt8($0 / 100) }

    /// Job `i`'s prediction for each test image: a class's first `correct` images right, the
    /// rest predicted as the next class.
    public static func predictions(job i: Int) -> [UInt8] {
        (0..<1000).map { image in
            let c = image / 100
            return UInt8(image % 100 < correct(job: i, class: c) ? c : (c + 1) % 10)
        }
    }

    /// The test-set confusion matrix of job `i` (the counts of `predictions(job:)`).
    public static func confusion(job i: Int) -> [[Int]] {
        (0..<10).map { c in
            let correct = correct(job: i, class: c)
            return (0..<10).map { j in j == c ? correct : (j == (c + 1) % 10 ? 100 - correct : 0) }
        }
    }

    /// Accuracy is the matrix's trace over its total.
    public static func accuracy(job i: Int) -> Double {
        let matrix = confusion(job: i)
        return Double((0..<10).reduce(0) { $0 + matrix[$1][$1] }) / 1000
    }

    public static func threshold(job i: Int) -> Double { i < 4 ? 0.05 : 0.1 }

    /// Job `i`'s dense and pruned costs. FLOPs per image: the dense model 2 million at hidden
    /// 32 and 2.5 million at 64, the pruned one keeps (1 − sparsity) of them, plus 10,000 for
    /// the second seed. Inference per image: dense 100 µs at hidden 32 and 200 µs at 64, the
    /// pruned one (1.45 − sparsity) times that (slower than dense at these sparsities), plus
    /// 1 µs for the second seed. Step times are the outcome's update times.
    public static func costs(job i: Int) -> PairedCosts {
        let hidden = Double(i / 2 % 2), seed = Double(i % 2), sparsity = threshold(job: i) * 4
        let denseFlops = 2_000_000 + 500_000 * hidden, denseInference = 0.0001 * (1 + hidden)
        let parameters = 20_000 + 1000 * (i / 2 % 2)
        let dense = PairedCosts.Side(optimizerStepSeconds: 0.0005 + 0.0001 * seed, trainStepSeconds: 0.004,
                                     trainStepCPUSeconds: 0.0038, epochCPUSeconds: 0.76, inferenceSecondsPerSample: denseInference,
                                     flopsPerSample: denseFlops, parameters: parameters, nonzeroParameters: parameters)
        let pruned = PairedCosts.Side(optimizerStepSeconds: 0.0012 + 0.0002 * Double(i / 2), trainStepSeconds: 0.005,
                                      trainStepCPUSeconds: 0.0047, epochCPUSeconds: 0.94,
                                      inferenceSecondsPerSample: denseInference * (1.45 - sparsity) + 0.000001 * seed,
                                      flopsPerSample: denseFlops * (1 - sparsity) + 10_000 * seed, parameters: parameters,
                                      nonzeroParameters: 1000 - i)
        return PairedCosts(dense: dense, pruned: pruned)
    }

    /// Job `i`'s outcome; with `pruned: false`, the same without the pruning figures (a
    /// plain training job's); with `costs: false`, without the paired costs (a pruning job
    /// recorded before harness measured them).
    public static func outcome(job i: Int, pruned: Bool = true, costs: Bool = true) -> JobOutcome {
        let matrix = confusion(job: i)
        let classes = (0..<10).map { c -> ClassMetrics in
            let predicted = matrix.reduce(0) { $0 + $1[c] }
            let precision = Double(matrix[c][c]) / Double(predicted)
            let recall = Double(matrix[c][c]) / 100
            return ClassMetrics(precision: precision, recall: recall, f1: 2 * precision * recall / (precision + recall),
                                support: 100)
        }
        let accuracy = accuracy(job: i)
        let pruning = PruningOutcome(accuracyBeforePruning: accuracy + 0.01, accuracyPruned: accuracy - threshold(job: i),
                                     sparsity: threshold(job: i) * 4, layerSparsity: ["lstm.0": 0.3],
                                     nonzeroParameters: 1000 - i, updateSeconds: 0.0005 + 0.0001 * Double(i % 2),
                                     updateSecondsPruned: 0.0012 + 0.0002 * Double(i / 2),
                                     costs: costs ? Self.costs(job: i) : nil)
        return JobOutcome(accuracy: accuracy, macroF1: classes.map(\.f1).reduce(0, +) / 10, classes: classes,
                          confusion: ConfusionMatrix(counts: matrix), trainSeconds: 30 + Double(i), meanEpochSeconds: 10 + Double(i / 2),
                          meanStepSeconds: 0.002, inferenceSeconds: 0.5, parameterCount: 20_000 + 1000 * (i / 2 % 2),
                          pruning: pruned ? pruning : nil, trainCPUSeconds: 25 + Double(i), meanStepCPUSeconds: 0.0018,
                          predictions: predictions(job: i))
    }

    /// Training loss of job `i` at a 1-based epoch; retraining continues lower.
    public static func loss(job i: Int, phase: TrainingPhase, epoch: Int) -> Double {
        let base = phase == .train ? 0.9 / Double(epoch) : 0.32 - 0.02 * Double(epoch)
        return base + 0.01 * Double(i / 2) + 0.005 * Double(i % 2)
    }

    /// Bell-shaped weights over two layers; after pruning, bins within the threshold are empty.
    public static func histograms(job i: Int, stage: HistogramStage) -> [WeightHistogram] {
        [("lstm.0", 0.5, 0.15), ("head", 1.0, 0.3)].map { layer, range, spread in
            let bins = 40
            let counts = (0..<bins).map { bin -> Int in
                let centre = -range + (Double(bin) + 0.5) * 2 * range / Double(bins)
                if stage == .after && abs(centre) < threshold(job: i) { return 0 }
                return Int((1000 * exp(-0.5 * (centre / spread) * (centre / spread))).rounded())
            }
            return WeightHistogram(layer: layer, lower: -range, upper: range, counts: counts)
        }
    }

    /// The full Fashion-MNIST's files, as `registerDataset` records them.
    public static let datasetDescription = """
        {"directory":"data/fashion-mnist","files":[\
        {"md5":"8d4fb7e6c68d591d4c3dfef9ec88bf0d","name":"train-images-idx3-ubyte.gz","path":"data/fashion-mnist/train-images-idx3-ubyte.gz","records":60000},\
        {"md5":"25c81989df183df01b3e8a0aad5dffbe","name":"train-labels-idx1-ubyte.gz","path":"data/fashion-mnist/train-labels-idx1-ubyte.gz","records":60000},\
        {"md5":"bef4ecab320f06d8554ea6380940ec79","name":"t10k-images-idx3-ubyte.gz","path":"data/fashion-mnist/t10k-images-idx3-ubyte.gz","records":10000},\
        {"md5":"bb300cfdad3c16e7a12a480ee83cd310","name":"t10k-labels-idx1-ubyte.gz","path":"data/fashion-mnist/t10k-labels-idx1-ubyte.gz","records":10000}],\
        "fingerprint":"\(fingerprint)","test":{"columns":28,"records":10000,"rows":28},"train":{"columns":28,"records":60000,"rows":28}}
        """

    /// Creates the database at `path` and returns the store; with `costs: false` the pruning
    /// jobs have no paired costs, as jobs recorded before harness measured them.
    @discardableResult
    public static func build(at path: String, costs: Bool = true) throws -> Store {
        let store = try Store(path: path)
        try store.registerDataset(fingerprint: fingerprint, descriptionJSON: datasetDescription, testLabels: testLabels)
        let spec = try ExperimentSpec.parse(text: specText, filePath: "prune-grid.json")
        let jobs = try spec.jobs()
        try store.registerExperiment(name: experiment, description: spec.description, specJSON: specText,
                                     datasetFingerprint: fingerprint,
                                     jobs: jobs.enumerated().map { JobRegistration(id: "job-\($0)", configJSON: $1.canonicalJSON(),
                                                                                   seed: $1.seed) })
        for i in jobs.indices where i != pendingJob {
            guard let claimed = try store.claimNextJob(among: ["job-\(i)"], worker: .current(), rerunStartedBefore: nil) else {
                throw HarnessError("fixture: job-\(i) could not be claimed")
            }
            if i == failedJob {
                try store.recordEpoch(runID: claimed.runID, phase: .train, epoch: 1, loss: 2.3, seconds: 9)
                try store.fail(runID: claimed.runID, error: "loss became nan at epoch 2, batch 7: training diverged\n(try a lower learning rate)")
                continue
            }
            if i == jobWithBase {
                try recordBase(of: jobs[i], job: i, in: store)
            } else {
                for epoch in 1...3 {
                    try store.recordEpoch(runID: claimed.runID, phase: .train, epoch: epoch,
                                          loss: loss(job: i, phase: .train, epoch: epoch), seconds: 10)
                }
            }
            for epoch in 1...2 {
                try store.recordEpoch(runID: claimed.runID, phase: .retrain, epoch: epoch,
                                      loss: loss(job: i, phase: .retrain, epoch: epoch), seconds: 12)
            }
            for stage in HistogramStage.allCases {
                try store.recordWeightHistograms(runID: claimed.runID, stage: stage, histograms: histograms(job: i, stage: stage))
            }
            try store.finish(runID: claimed.runID, engineVersion: "engine-test-1", outcome: outcome(job: i, costs: costs))
        }
        return store
    }

    /// Registers and runs the base job of pruning job `i`, with job `i`'s training losses.
    private static func recordBase(of config: JobConfig, job i: Int, in store: Store) throws {
        let baseJSON = config.baseConfigJSON()
        let baseID = JobIdentity.jobID(canonicalConfig: baseJSON, dataFingerprint: fingerprint)
        try store.registerSupportJobs([JobRegistration(id: baseID, configJSON: baseJSON, seed: config.seed)],
                                      datasetFingerprint: fingerprint)
        guard let claimed = try store.claimNextJob(among: [baseID], worker: .current(), rerunStartedBefore: nil) else {
            throw HarnessError("fixture: base job \(baseID) could not be claimed")
        }
        for epoch in 1...3 {
            try store.recordEpoch(runID: claimed.runID, phase: .train, epoch: epoch,
                                  loss: loss(job: i, phase: .train, epoch: epoch), seconds: 10)
        }
        try store.finish(runID: claimed.runID, engineVersion: "engine-test-1", outcome: outcome(job: i, pruned: false))
    }
}
