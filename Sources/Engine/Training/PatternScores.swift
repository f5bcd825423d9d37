import Foundation

// Scoring training patterns by how hard a model finds them, and training on the hard ones:
// the paper's future work, "reduce the training pattern based on the error loss rather than
// randomly". Static selection scores every pattern once (EL2N, forgetting events) and keeps
// the highest-scoring fraction; the active pattern set (the dynamic form of Gedeon and
// Bowden's heuristic pattern reduction) sets learned patterns aside during training.

/// EL2N (Paul, Ganguli & Dziugaite 2021, "Deep Learning on a Data Diet"): the L2 norm of
/// softmax(logits) − one-hot(label), per pattern, from 0 (confidently right) to √2
/// (confidently wrong). Evaluated without dropout, in batches of `batchSize`.
public func el2nScores(_ model: Classifier, on data: ImageSet, batchSize: Int) -> [Float] {
    let classes = model.config.classes
    var scores = [Float](repeating: 0, count: data.count)
    // Evaluation's batching, scoring each batch's logits on the way (its predictions are not
    // needed). Without a stop request there is nothing to throw.
    _ = try! Evaluation.predicting(data, classes: classes, batchSize: batchSize) { indices, use in
        let logits = model.forward(data, indices: indices, training: false)  // (B, C)
        for (slot, index) in indices.enumerated() {
            scores[index] = el2n(logits: logits + slot * classes, label: Int(data.labels[index]), classes: classes)
        }
        use(logits)
    }
    return scores
}

/// One pattern's EL2N: ‖softmax(logits) − one-hot(label)‖₂, the softmax in double and
/// shifted by the row's maximum.
public func el2n(logits row: UnsafePointer<Float>, label: Int, classes: Int) -> Float {
    var peak = row[0]
    for c in 1..<classes { peak = max(peak, row[c]) }
    var total = 0.0
    for c in 0..<classes { total += exp(Double(row[c] - peak)) }
    var squared = 0.0
    for c in 0..<classes {
        let error = exp(Double(row[c] - peak)) / total - (c == label ? 1 : 0)
        squared += error * error
    }
    return Float(squared.squareRoot())
}

/// Forgetting events (Toneva et al. 2019, "An Empirical Study of Example Forgetting"): a
/// pattern is forgotten when a presentation classifies it wrongly after the previous one
/// classified it correctly. Fed every presentation of a training run (`Trainer.train`'s
/// `observe`), in order.
public struct ForgettingCounter: Sendable {
    /// Per pattern: forgetting events so far, whether it was ever classified correctly,
    /// whether its last presentation was correct, and that presentation's loss.
    public private(set) var events: [Int]
    public private(set) var learned: [Bool]
    private var lastCorrect: [Bool]
    public private(set) var lastLoss: [Float]
    /// Per pattern: how many times training presented it.
    private var presentations: [Int]

    public init(patterns: Int) {
        events = Array(repeating: 0, count: patterns)
        learned = Array(repeating: false, count: patterns)
        lastCorrect = Array(repeating: false, count: patterns)
        lastLoss = Array(repeating: .infinity, count: patterns)
        presentations = Array(repeating: 0, count: patterns)
    }

    public mutating func record(_ presentation: PatternPresentation) {
        let i = presentation.index
        if lastCorrect[i] && !presentation.correct { events[i] += 1 }
        lastCorrect[i] = presentation.correct
        learned[i] = learned[i] || presentation.correct
        lastLoss[i] = presentation.loss
        presentations[i] += 1
    }

    /// One ranking score per pattern, higher = more informative: the forgetting events, a
    /// never-learned pattern counting as many as it had presentations (more than any learned
    /// one can have: events need a correct presentation before each), plus the last
    /// presentation's loss mapped to [0, 1) by loss / (1 + loss), which orders the many
    /// patterns with equal counts by how hard the model found them at the end.
    public var scores: [Float] {
        (0..<events.count).map { i in
            let count = learned[i] ? Float(events[i]) : Float(max(presentations[i], 1))
            let loss = lastLoss[i].isFinite ? lastLoss[i] : .greatestFiniteMagnitude
            return count + loss / (1 + loss)
        }
    }
}

/// The indices of the `keep` highest-scoring patterns after the `dropHardest` highest are set
/// aside (Paul et al.: at small kept fractions the very hardest are often mislabelled), in
/// ascending index order. Ties go to the lower index, so the choice is a function of the
/// scores alone. When fewer than `dropHardest + keep` patterns exist, fewer are dropped.
public func highestScoring(_ scores: [Float], keep: Int, dropHardest: Int = 0) -> [Int] {
    precondition(keep >= 0 && keep <= scores.count && dropHardest >= 0, "keep \(keep) of \(scores.count) patterns")
    let ranked = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    let dropped = min(dropHardest, scores.count - keep)
    return Array(ranked[dropped..<(dropped + keep)]).sorted()
}

/// The active pattern set: each epoch trains only on the patterns whose last loss was at
/// least `threshold`, plus any pattern not trained on for `revisit` epochs (so a pattern
/// the model has since forgotten comes back). Every pattern starts active (its loss is
/// unknown). Fed the presentations of training (`Trainer.train`'s `observe`).
public struct ActivePatternSet: Sendable {
    public let threshold: Float
    public let revisit: Int
    private var lastLoss: [Float]
    /// The epoch (1-based) each pattern was last trained in; 0 = never.
    private var lastEpoch: [Int]
    private var epoch = 0

    public init(patterns: Int, threshold: Float, revisit: Int) {
        precondition(revisit >= 1, "revisit must be at least 1 epoch")
        self.threshold = threshold
        self.revisit = revisit
        lastLoss = Array(repeating: .infinity, count: patterns)
        lastEpoch = Array(repeating: 0, count: patterns)
    }

    /// The patterns epoch `epoch` (1-based, called in order) trains on.
    public mutating func patterns(forEpoch epoch: Int) -> [Int] {
        self.epoch = epoch
        return lastLoss.indices.filter { lastLoss[$0] >= threshold || epoch - lastEpoch[$0] >= revisit }
    }

    public mutating func record(_ presentation: PatternPresentation) {
        lastLoss[presentation.index] = presentation.loss
        lastEpoch[presentation.index] = epoch
    }
}
