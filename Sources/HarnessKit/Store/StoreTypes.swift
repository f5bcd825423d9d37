import Engine
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process that owns a run. `token` tells a process from a later one that reuses its
/// pid: on Linux it is the boot id plus the process start time (field 22 of
/// /proc/<pid>/stat), which another process can read back to check the owner; elsewhere a
/// random UUID, and liveness falls back to the pid alone.
public struct WorkerIdentity: Sendable, Equatable {
    public let host: String
    public let pid: Int32
    public let token: String

    public init(host: String, pid: Int32, token: String) {
        self.host = host
        self.pid = pid
        self.token = token
    }

    /// This process. Computed once, so the UUID fallback stays the same all its life.
    public static func current() -> WorkerIdentity { currentProcess }

    private static let currentProcess: WorkerIdentity = {
        let pid = getpid()
        return WorkerIdentity(host: hostName(), pid: pid,
                              token: processToken(pid: pid) ?? "uuid-\(UUID().uuidString)")
    }()

    /// False when the owner certainly died: no process has the pid, or the process that
    /// has it now started at another time (the pid was reused). Only meaningful on the
    /// owner's own host.
    func isAliveOnThisHost() -> Bool {
        guard pid > 0 else { return false }   // kill(0, ...) would address a process group
        if kill(pid, 0) != 0 && errno == ESRCH { return false }
        if let now = WorkerIdentity.processToken(pid: pid), now != token { return false }
        return true
    }

    /// "<boot id>/<start time in clock ticks since boot>", or nil without a readable /proc.
    static func processToken(pid: Int32) -> String? {
        guard let stat = readSmallFile("/proc/\(pid)/stat"),
              let bootID = readSmallFile("/proc/sys/kernel/random/boot_id") else { return nil }
        // Field 2 is the command name in parentheses and may itself contain spaces and
        // parentheses, so fields are counted from the last ')': field 3 comes first.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let startTimeIndex = 22 - 3
        guard fields.count > startTimeIndex else { return nil }
        return "\(bootID.trimmingCharacters(in: .whitespacesAndNewlines))/\(fields[startTimeIndex])"
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        let name = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        return String(decoding: name, as: UTF8.self)
    }

    /// /proc files report size 0, so they are read until end of file rather than by size.
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 { return nil }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A job as an experiment lists it. `id` is a hash of the resolved config and the data
/// fingerprint (computed by the caller); `configJSON` is that resolved config.
public struct JobRegistration: Sendable, Equatable {
    public let id: String
    public let configJSON: String
    public let seed: Int
    /// The data set the job reads, when it is not the one the registration call names
    /// (a grid over `dataset.path`).
    public let datasetFingerprint: String?
    /// An adaptive seed's job that no round has added yet, or one has: it stays in the
    /// experiment if it already is a member, and is not added otherwise (see
    /// `Store.registerExperiment`).
    public let onlyIfMember: Bool

    public init(id: String, configJSON: String, seed: Int, datasetFingerprint: String? = nil, onlyIfMember: Bool = false) {
        self.id = id
        self.configJSON = configJSON
        self.seed = seed
        self.datasetFingerprint = datasetFingerprint
        self.onlyIfMember = onlyIfMember
    }
}

/// A job claimed by a worker: the new 'running' run and what is needed to train it.
public struct ClaimedJob: Sendable, Equatable {
    public let runID: Int64
    public let jobID: String
    public let configJSON: String
    public let seed: Int

    public init(runID: Int64, jobID: String, configJSON: String, seed: Int) {
        self.runID = runID
        self.jobID = jobID
        self.configJSON = configJSON
        self.seed = seed
    }
}

/// One class's metrics as `ConfusionMatrix` defines them; NaN (stored as NULL) where undefined.
public struct ClassMetrics: Sendable, Equatable {
    public let precision: Double
    public let recall: Double
    public let f1: Double
    public let support: Int

    public init(precision: Double, recall: Double, f1: Double, support: Int) {
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }

    /// Class `c`'s metrics in `matrix`.
    public init(_ matrix: ConfusionMatrix, class c: Int) {
        self.init(precision: matrix.precision(c) ?? .nan, recall: matrix.recall(c) ?? .nan, f1: matrix.f1(c) ?? .nan,
                  support: matrix.support(c))
    }

    /// NaN == NaN here: an undefined metric equals an undefined metric.
    public static func == (a: ClassMetrics, b: ClassMetrics) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.precision, b.precision) && same(a.recall, b.recall) && same(a.f1, b.f1) && a.support == b.support
    }
}

public struct PruningOutcome: Sendable, Equatable {
    public let accuracyBeforePruning: Double
    /// NaN where the method has no "right after" (gradual pruning prunes during retraining).
    public let accuracyPruned: Double
    public let sparsity: Double
    /// Layer name -> fraction of its weights that are zero.
    public let layerSparsity: [String: Double]
    public let nonzeroParameters: Int
    /// One optimizer step of the dense and the pruned model: from `costs` when the job
    /// measured them side by side.
    public let updateSeconds: Double
    public let updateSecondsPruned: Double
    /// The dense and pruned models' costs measured side by side in the job; nil for jobs
    /// recorded before harness measured them.
    public let costs: PairedCosts?

    public init(accuracyBeforePruning: Double, accuracyPruned: Double, sparsity: Double,
                layerSparsity: [String: Double], nonzeroParameters: Int,
                updateSeconds: Double, updateSecondsPruned: Double, costs: PairedCosts? = nil) {
        self.accuracyBeforePruning = accuracyBeforePruning
        self.accuracyPruned = accuracyPruned
        self.sparsity = sparsity
        self.layerSparsity = layerSparsity
        self.nonzeroParameters = nonzeroParameters
        self.updateSeconds = updateSeconds
        self.updateSecondsPruned = updateSecondsPruned
        self.costs = costs
    }
}

/// What the dense (base) model and the pruned model cost, measured in the same process,
/// interleaved, under the same conditions (`PairedCostProbe`), so their ratio is not the
/// ratio of two loads.
public struct PairedCosts: Sendable, Equatable {
    public struct Side: Sendable, Equatable {
        /// One optimizer step, wall seconds (median over rounds).
        public var optimizerStepSeconds: Double
        /// One training step: forward, backward and optimizer step, wall seconds (median).
        public var trainStepSeconds: Double
        /// One training step's CPU seconds (median), and times the training set's steps per epoch.
        public var trainStepCPUSeconds: Double
        public var epochCPUSeconds: Double
        /// Test-set inference, wall seconds per image (median).
        public var inferenceSecondsPerSample: Double
        /// Multiply-add FLOPs of one forward pass, pruned weights skipped.
        public var flopsPerSample: Double
        /// Parameters, and those not zero.
        public var parameters: Int
        public var nonzeroParameters: Int

        public init(optimizerStepSeconds: Double, trainStepSeconds: Double, trainStepCPUSeconds: Double,
                    epochCPUSeconds: Double, inferenceSecondsPerSample: Double, flopsPerSample: Double,
                    parameters: Int, nonzeroParameters: Int) {
            self.optimizerStepSeconds = optimizerStepSeconds
            self.trainStepSeconds = trainStepSeconds
            self.trainStepCPUSeconds = trainStepCPUSeconds
            self.epochCPUSeconds = epochCPUSeconds
            self.inferenceSecondsPerSample = inferenceSecondsPerSample
            self.flopsPerSample = flopsPerSample
            self.parameters = parameters
            self.nonzeroParameters = nonzeroParameters
        }
    }

    public var dense: Side
    public var pruned: Side

    public init(dense: Side, pruned: Side) {
        self.dense = dense
        self.pruned = pruned
    }
}

/// Everything a finished job reports. `classes[i]` and `confusion[i]` describe true class
/// i; `confusion[i][j]` counts test samples of class i predicted as j (classes x classes).
public struct JobOutcome: Sendable, Equatable {
    public let accuracy: Double
    public let macroF1: Double
    public let classes: [ClassMetrics]
    public let confusion: ConfusionMatrix
    public let trainSeconds: Double
    public let meanEpochSeconds: Double
    public let meanStepSeconds: Double
    public let inferenceSeconds: Double
    public let parameterCount: Int
    public let pruning: PruningOutcome?
    /// CPU seconds of the job's threads while training (wall seconds are `trainSeconds`).
    public let trainCPUSeconds: Double
    /// Mean CPU seconds of one optimizer step over the job's threads.
    public let meanStepCPUSeconds: Double
    /// The predicted class of each test image, in the test set's order (empty if not kept).
    public let predictions: [UInt8]
    /// Training patterns presented over the training (the sum of each epoch's patterns).
    public var patternEpochs: Int?
    /// For a job that selected its patterns by score, what computing the scores cost.
    public var scoring: ScoringCost?

    public init(accuracy: Double, macroF1: Double, classes: [ClassMetrics], confusion: ConfusionMatrix,
                trainSeconds: Double, meanEpochSeconds: Double, meanStepSeconds: Double,
                inferenceSeconds: Double, parameterCount: Int, pruning: PruningOutcome?,
                trainCPUSeconds: Double = .nan, meanStepCPUSeconds: Double = .nan, predictions: [UInt8] = [],
                patternEpochs: Int? = nil, scoring: ScoringCost? = nil) {
        self.predictions = predictions
        self.patternEpochs = patternEpochs
        self.scoring = scoring
        self.trainCPUSeconds = trainCPUSeconds
        self.meanStepCPUSeconds = meanStepCPUSeconds
        self.accuracy = accuracy
        self.macroF1 = macroF1
        self.classes = classes
        self.confusion = confusion
        self.trainSeconds = trainSeconds
        self.meanEpochSeconds = meanEpochSeconds
        self.meanStepSeconds = meanStepSeconds
        self.inferenceSeconds = inferenceSeconds
        self.parameterCount = parameterCount
        self.pruning = pruning
    }
}

/// What choosing a job's patterns by score cost: the CPU seconds its scores took, and the
/// score job's run that computed them (nil when the job computed them itself).
public struct ScoringCost: Sendable, Equatable {
    public var runID: Int64?
    public var cpuSeconds: Double

    public init(runID: Int64?, cpuSeconds: Double) {
        self.runID = runID
        self.cpuSeconds = cpuSeconds
    }
}

/// A job's state as the `job_results` view derives it: the status of its latest 'done'
/// run if it has one, else of its latest run, else `pending`.
public enum JobState: String, Sendable, CaseIterable {
    case pending, running, done, failed, interrupted
}

/// One row of the `job_results` view. Run fields are nil for a pending job; metrics are
/// nil until the shown run is done, pruning metrics nil for jobs without pruning, and any
/// metric nil where it was undefined (NaN).
public struct JobResult: Sendable, Equatable {
    public let experiment: String
    public let position: Int
    public let jobID: String
    public let runID: Int64?
    public let state: JobState
    public let configJSON: String
    public let seed: Int
    /// The content fingerprint of the data the job was registered with (part of its id).
    public let datasetFingerprint: String
    /// How many runs (attempts) the job has, of any status.
    public let attempts: Int
    /// The run's `ResultColumn` values by column name; a metric the run does not have (a
    /// pending job, a pruning column of a plain job, an undefined value) is absent.
    public let metrics: [String: Double]
    public let host: String?
    public let engineVersion: String?
    public let startedAt: String?
    public let finishedAt: String?
    public let error: String?

    /// The value of the result column called `name`, if the run has one.
    public func metric(_ name: String) -> Double? { metrics[name] }

    /// The test accuracy, the headline metric.
    public var accuracy: Double? { metrics["accuracy"] }
}

/// The part of a job an epoch belongs to: training, or retraining after pruning.
public enum TrainingPhase: String, Sendable, CaseIterable {
    case train, retrain
}

/// When a pruning run's weight histograms were taken: before pruning, or after retraining.
public enum HistogramStage: String, Sendable, CaseIterable {
    case before, after
}

/// One epoch's record.
/// `loss` is nil when it was NaN (the training diverged).
public struct EpochRecord: Sendable, Equatable {
    public let phase: TrainingPhase
    public let epoch: Int
    public let loss: Double?
    public let seconds: Double
    /// CPU seconds of the job's threads; nil for epochs recorded before it was measured.
    public var cpuSeconds: Double? = nil
}

/// An experiment as registered: its description and the spec's JSON text.
public struct ExperimentRecord: Sendable, Equatable {
    public let name: String
    public let description: String
    public let specJSON: String
    /// The spec file it was registered from (absolute, symbolic links resolved); nil when unknown.
    public var specPath: String? = nil
}

/// A data set an experiment's jobs ran on: its description JSON (directory, files, record
/// counts; see `FashionMNIST.descriptionJSON`) and how many of the experiment's jobs use it.
public struct DatasetRecord: Sendable, Equatable {
    public let fingerprint: String
    public let descriptionJSON: String
    public let jobCount: Int
}
