/// One number a finished run records in the `results` table: its SQL column (the same name
/// in the `job_results` view, for `--metric` and for `reference` rows), where the outcome
/// holds it, and how reports show it. `Store.finish` inserts these columns, `Store.results`
/// reads them back by name, the `job_results` view lists them, and `ReportMetric.all` is
/// made from them. A new metric is a row here, a property of `JobOutcome` that gives its
/// value, and a migration that adds its column.
public struct ResultColumn: Sendable {
    /// The column name in `results` and `job_results`.
    public let name: String
    /// Table header, unit included.
    public let title: String
    let format: NumberFormat
    /// Integers are stored as INTEGER, the rest as REAL (NULL where undefined).
    let isInteger: Bool
    /// The value to record; nil (NULL) when the job has none (pruning columns of a plain job).
    let value: @Sendable (JobOutcome) -> Double?

    init(_ name: String, _ title: String, _ format: NumberFormat, integer: Bool = false,
         value: @escaping @Sendable (JobOutcome) -> Double?) {
        self.name = name
        self.title = title
        self.format = format
        isInteger = integer
        self.value = value
    }

    /// In the view's column order.
    public static let all: [ResultColumn] = [
        ResultColumn("accuracy", "accuracy (%)", .percent(2)) { $0.accuracy },
        ResultColumn("macro_f1", "macro F1", .fixed(4)) { $0.macroF1 },
        ResultColumn("train_seconds", "train wall time (s)", .fixed(1)) { $0.trainSeconds },
        ResultColumn("mean_epoch_seconds", "s / epoch (wall)", .fixed(2)) { $0.meanEpochSeconds },
        ResultColumn("mean_step_seconds", "step wall time (ms)", .milliseconds(3)) { $0.meanStepSeconds },
        ResultColumn("inference_seconds", "inference wall time (s)", .fixed(3)) { $0.inferenceSeconds },
        ResultColumn("train_cpu_seconds", "train CPU time (s)", .fixed(2)) { $0.trainCPUSeconds },
        ResultColumn("mean_step_cpu_seconds", "step CPU time (ms)", .milliseconds(3)) { $0.meanStepCPUSeconds },
        ResultColumn("parameter_count", "parameters", .fixed(0), integer: true) { Double($0.parameterCount) },
        ResultColumn("accuracy_before_pruning", "before pruning (%)", .percent(2)) { $0.pruning?.accuracyBeforePruning },
        ResultColumn("accuracy_pruned", "right after pruning (%)", .percent(2)) { $0.pruning?.accuracyPruned },
        ResultColumn("sparsity", "sparsity (%)", .percent(2)) { $0.pruning?.sparsity },
        ResultColumn("nonzero_parameters", "nonzero parameters", .fixed(0), integer: true) {
            $0.pruning.map { Double($0.nonzeroParameters) }
        },
        ResultColumn("update_seconds", "update wall time (ms)", .milliseconds(3)) { $0.pruning?.updateSeconds },
        ResultColumn("update_seconds_pruned", "update wall time pruned (ms)", .milliseconds(3)) { $0.pruning?.updateSecondsPruned },
        // Measured side by side in the pruning job (PairedCosts); NULL for jobs recorded before.
        ResultColumn("train_step_seconds", "train step wall time (ms)", .milliseconds(3)) { $0.pruning?.costs?.dense.trainStepSeconds },
        ResultColumn("train_step_seconds_pruned", "train step wall time pruned (ms)", .milliseconds(3)) {
            $0.pruning?.costs?.pruned.trainStepSeconds
        },
        ResultColumn("epoch_cpu_seconds", "epoch CPU time (s)", .fixed(2)) { $0.pruning?.costs?.dense.epochCPUSeconds },
        ResultColumn("epoch_cpu_seconds_pruned", "epoch CPU time pruned (s)", .fixed(2)) { $0.pruning?.costs?.pruned.epochCPUSeconds },
        ResultColumn("inference_sample_seconds", "inference wall time (µs / image)", .microseconds(2)) {
            $0.pruning?.costs?.dense.inferenceSecondsPerSample
        },
        ResultColumn("inference_sample_seconds_pruned", "inference wall time pruned (µs / image)", .microseconds(2)) {
            $0.pruning?.costs?.pruned.inferenceSecondsPerSample
        },
        ResultColumn("flops_per_sample", "MFLOPs / image", .millions(3)) { $0.pruning?.costs?.dense.flopsPerSample },
        ResultColumn("flops_per_sample_pruned", "MFLOPs / image pruned", .millions(3)) { $0.pruning?.costs?.pruned.flopsPerSample },
        // Pattern selection: what training saw, and what scoring its patterns cost.
        ResultColumn("pattern_epochs", "patterns trained (all epochs)", .fixed(0), integer: true) { $0.patternEpochs.map(Double.init) },
        ResultColumn("scoring_cpu_seconds", "scoring CPU time (s)", .fixed(2)) { $0.scoring?.cpuSeconds },
        ResultColumn("scores_run_id", "scores' run", .fixed(0), integer: true) { $0.scoring?.runID.map(Double.init) },
    ]

    public static let names: [String] = all.map(\.name)

    static func named(_ name: String) -> ResultColumn? { all.first { $0.name == name } }

    /// The value bound for the insert: INTEGER columns as Int, REAL ones as Double (NaN
    /// becomes NULL in SQLite), nil as NULL.
    func binding(_ outcome: JobOutcome) -> any SQLiteBindable {
        let x = value(outcome)
        return isInteger ? x.map { Int($0) } : x
    }
}
