/// Test-set results: predictions, their confusion matrix (which defines every metric), and
/// how long predicting took.
public struct Evaluation: Sendable {
    public let predictions: [Int]
    public let confusion: ConfusionMatrix
    public let seconds: Double

    public var count: Int { predictions.count }
    public var classes: Int { confusion.classes }
    public var accuracy: Double { confusion.accuracy }

    public init(predictions: [Int], labels: [UInt8], classes: Int, seconds: Double) {
        self.predictions = predictions
        confusion = ConfusionMatrix(predictions: predictions, labels: labels, classes: classes)
        self.seconds = seconds
    }
}

/// The index of the first largest of `count` values: a row's predicted class, from its
/// logits or its log-probabilities alike.
@inline(__always)
func argmax(_ row: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for j in 1..<count where row[j] > row[best] { best = j }
    return best
}

extension Evaluation {
    /// Predicts every image of `data` in batches of `batchSize` (the class with the largest
    /// logit) and scores the predictions, timing the whole pass. `logits(indices, use)` calls
    /// `use` with the logits (B, classes) of the images at `indices`. `shouldStop` is asked
    /// before each batch; when it says stop, the pass ends and this throws
    /// `TrainingError.cancelled`, so a stop request is honoured within one batch.
    public static func predicting(_ data: ImageSet, classes: Int, batchSize: Int, shouldStop: () -> Bool = { false },
                                  logits: (UnsafeBufferPointer<Int>, (UnsafePointer<Float>) -> Void) -> Void) throws -> Evaluation {
        let start = Clock.now()
        var predictions = [Int](repeating: 0, count: data.count)
        let order = Array(0..<data.count)
        var lower = 0
        while lower < data.count {
            if shouldStop() { throw TrainingError.cancelled }
            let upper = min(data.count, lower + max(1, batchSize))
            order.withUnsafeBufferPointer { all in
                logits(UnsafeBufferPointer(rebasing: all[lower..<upper])) { batchLogits in
                    for slot in 0..<(upper - lower) {
                        predictions[lower + slot] = argmax(batchLogits + slot * classes, count: classes)
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
        // Without a stop request there is nothing to throw.
        try! evaluate(on: data, batchSize: batchSize, shouldStop: { false })
    }

    /// As `evaluate(on:batchSize:)`, throwing `TrainingError.cancelled` as soon as
    /// `shouldStop` says so (it is asked before each batch).
    public func evaluate(on data: ImageSet, batchSize: Int, shouldStop: () -> Bool) throws -> Evaluation {
        try Evaluation.predicting(data, classes: config.classes, batchSize: batchSize, shouldStop: shouldStop) { indices, use in
            use(forward(data, indices: indices, training: false))
        }
    }
}
