/// Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune"): instead of
/// cutting a trained model to its target sparsity at once, the sparsity is raised from an
/// initial value to the target over training, pruning every `frequency` steps on a cubic
/// schedule that prunes fast while there are many redundant weights and slowly near the end:
///
///     s(t) = s_f + (s_i − s_f) · (1 − (t − t_0) / (n·Δt))³   for t_0 ≤ t ≤ t_0 + n·Δt
///
/// with s_i the initial and s_f the final sparsity, Δt the pruning frequency in steps and
/// n the number of pruning steps. Each pruning step ranks all weights globally by magnitude
/// (`prune(_:_:)` with `.sparsity`), so a weight pruned earlier (now 0) stays pruned.
public struct GradualPruning: Sendable, Equatable {
    /// s_f, in [0, 1).
    public let target: Double
    /// s_i.
    public let initial: Double
    /// Δt: steps between pruning steps (≥ 1).
    public let frequency: Int
    /// t_0: the step of the first pruning (0 = before the first optimizer step).
    public let start: Int
    /// t_0 + n·Δt: the step at which the target is reached; later steps keep the masks.
    public let end: Int

    /// Ramps from `initial` at `start` to `target` at `end`; `end` is rounded down to a
    /// pruning step (start + k·frequency).
    public init(target: Double, initial: Double = 0, frequency: Int, start: Int = 0, end: Int) {
        precondition((0..<1).contains(target) && (0...target).contains(initial), "sparsities must satisfy 0 ≤ initial ≤ target < 1")
        precondition(frequency >= 1 && start >= 0 && end >= start, "need frequency ≥ 1 and 0 ≤ start ≤ end")
        self.target = target
        self.initial = initial
        self.frequency = frequency
        self.start = start
        self.end = start + (end - start) / frequency * frequency
    }

    /// The schedule for retraining of `steps` optimizer steps: from 0 to `target`, pruning
    /// every `frequency` steps, the target reached when the last epoch of `stepsPerEpoch`
    /// begins so that one epoch trains at the target sparsity (for a single epoch, at the
    /// first step: one-shot pruning).
    public static func overRetraining(target: Double, frequency: Int, steps: Int, stepsPerEpoch: Int) -> GradualPruning {
        GradualPruning(target: target, frequency: frequency, start: 0, end: max(0, steps - stepsPerEpoch))
    }

    /// Whether the masks are recomputed before optimizer step `step` (0-based).
    public func prunes(atStep step: Int) -> Bool {
        step >= start && step <= end && (step - start) % frequency == 0
    }

    /// s(t), clamped to `initial` before `start` and `target` after `end`.
    public func sparsity(atStep step: Int) -> Double {
        guard end > start else { return step >= start ? target : initial }
        if step <= start { return initial }
        if step >= end { return target }
        let remaining = 1 - Double(step - start) / Double(end - start)
        return target + (initial - target) * remaining * remaining * remaining
    }
}
