/// Test predictions counted by true class (row) and predicted class (column), and the one
/// definition of every metric derived from them, for evaluation, the results database and
/// reports alike.
///
/// - precision(c) = correct c / predicted as c; undefined (nil) when nothing was predicted as c.
/// - recall(c) = correct c / images of class c; undefined when the test set has none.
/// - f1(c) = 2·p·r / (p + r), 0 when p + r = 0; undefined when p or r is.
/// - The macro averages are unweighted means over *all* classes, an undefined value
///   counting as 0: scikit-learn's `precision_recall_fscore_support(average="macro",
///   zero_division=0)`. Every stored `macro_f1` is this `macroF1`.
public struct ConfusionMatrix: Sendable, Equatable {
    /// counts[true][predicted], classes x classes.
    public private(set) var counts: [[Int]]

    /// The counts as given, for checking by whoever reads them from outside (the store
    /// refuses a matrix that is not square or has a negative count).
    public init(counts: [[Int]]) { self.counts = counts }

    public init(classes: Int) {
        counts = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    /// Counts `predictions[i]` against `labels[i]`.
    public init(predictions: [Int], labels: [UInt8], classes: Int) {
        self.init(classes: classes)
        for (predicted, label) in zip(predictions, labels) { counts[Int(label)][predicted] += 1 }
    }

    public var classes: Int { counts.count }
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }

    /// correct / total; 0 for an empty matrix.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Images of class c.
    public func support(_ c: Int) -> Int { counts[c].reduce(0, +) }

    /// Images predicted as class c.
    public func predicted(_ c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }

    public func precision(_ c: Int) -> Double? {
        let predicted = predicted(c)
        return predicted > 0 ? Double(counts[c][c]) / Double(predicted) : nil
    }

    public func recall(_ c: Int) -> Double? {
        let support = support(c)
        return support > 0 ? Double(counts[c][c]) / Double(support) : nil
    }

    public func f1(_ c: Int) -> Double? {
        guard let p = precision(c), let r = recall(c) else { return nil }
        return p + r > 0 ? 2 * p * r / (p + r) : 0
    }

    public var macroPrecision: Double { macro(precision) }
    public var macroRecall: Double { macro(recall) }
    public var macroF1: Double { macro(f1) }

    private func macro(_ metric: (Int) -> Double?) -> Double {
        classes > 0 ? (0..<classes).reduce(0) { $0 + (metric($1) ?? 0) } / Double(classes) : 0
    }

    /// The element-wise sum of two matrices of the same size (several runs of one configuration).
    public static func + (a: ConfusionMatrix, b: ConfusionMatrix) -> ConfusionMatrix {
        precondition(a.classes == b.classes, "summing confusion matrices of \(a.classes) and \(b.classes) classes")
        return ConfusionMatrix(counts: zip(a.counts, b.counts).map { zip($0, $1).map(+) })
    }
}
