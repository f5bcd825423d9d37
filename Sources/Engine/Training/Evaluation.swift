/// Test-set results: predictions, accuracy, confusion matrix and per-class metrics.
public struct Evaluation: Sendable {
    public let predictions: [Int]
    /// confusion[true][predicted]
    public let confusion: [[Int]]
    public let seconds: Double

    public var count: Int { predictions.count }
    public var classes: Int { confusion.count }
    public var accuracy: Double {
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        return count > 0 ? Double(correct) / Double(count) : 0
    }

    /// Of the images predicted as class c, the fraction that are c (0 when none are).
    public func precision(_ c: Int) -> Double {
        let predicted = (0..<classes).reduce(0) { $0 + confusion[$1][c] }
        return predicted > 0 ? Double(confusion[c][c]) / Double(predicted) : 0
    }

    /// Of the images of class c, the fraction predicted as c (0 when there are none).
    public func recall(_ c: Int) -> Double {
        let actual = confusion[c].reduce(0, +)
        return actual > 0 ? Double(confusion[c][c]) / Double(actual) : 0
    }

    public func f1(_ c: Int) -> Double {
        let p = precision(c), r = recall(c)
        return p + r > 0 ? 2 * p * r / (p + r) : 0
    }

    public func support(_ c: Int) -> Int { confusion[c].reduce(0, +) }

    /// Unweighted mean of the per-class F1 (sklearn's f1_score(average='macro')).
    public var macroF1: Double { (0..<classes).reduce(0) { $0 + f1($1) } / Double(classes) }

    public init(predictions: [Int], labels: [UInt8], classes: Int, seconds: Double) {
        var matrix = Array(repeating: Array(repeating: 0, count: classes), count: classes)
        for (p, y) in zip(predictions, labels) { matrix[Int(y)][p] += 1 }
        self.predictions = predictions
        self.confusion = matrix
        self.seconds = seconds
    }
}

extension Evaluation {
    /// Predicts every image of `data` in batches of `batchSize` (the class with the largest
    /// logit) and scores the predictions, timing the whole pass. `logits(indices, use)` calls
    /// `use` with the logits (B, classes) of the images at `indices`.
    public static func predicting(_ data: ImageSet, classes: Int, batchSize: Int,
                                  logits: (UnsafeBufferPointer<Int>, (UnsafePointer<Float>) -> Void) -> Void) -> Evaluation {
        let start = Clock.now()
        var predictions = [Int](repeating: 0, count: data.count)
        let order = Array(0..<data.count)
        var lower = 0
        while lower < data.count {
            let upper = min(data.count, lower + max(1, batchSize))
            order.withUnsafeBufferPointer { all in
                logits(UnsafeBufferPointer(rebasing: all[lower..<upper])) { batchLogits in
                    for slot in 0..<(upper - lower) {
                        let row = batchLogits + slot * classes
                        var best = 0
                        for j in 1..<classes where row[j] > row[best] { best = j }
                        predictions[lower + slot] = best
                    }
                }
            }
            lower = upper
        }
        return Evaluation(predictions: predictions, labels: data.labels, classes: classes, seconds: Clock.now() - start)
    }
}

extension Classifier {
    /// Predicts every image of `data` in batches (no dropout) and scores the predictions.
    public func evaluate(on data: ImageSet, batchSize: Int = 500) -> Evaluation {
        Evaluation.predicting(data, classes: config.classes, batchSize: batchSize) { indices, use in
            use(forward(data, indices: indices, training: false))
        }
    }
}
