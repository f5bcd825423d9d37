import Foundation

/// LogSoftmax followed by the negative log-likelihood of the true class, averaged over
/// the batch: torch.nn.CrossEntropyLoss (the paper's LogSoftmax + NLLLoss).
///
/// log_softmax(z)_j = z_j - max(z) - log Σ_k exp(z_k - max(z)): subtracting the max
/// keeps every exponent <= 0, so extreme logits neither overflow nor produce NaN.
public enum CrossEntropy {
    /// logits (B, C), labels (B) -> mean loss; writes logProbabilities (B, C).
    public static func forward(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int, classes: Int,
                               logProbabilities: UnsafeMutablePointer<Float>) -> Double {
        var total = 0.0
        for b in 0..<batch {
            let z = logits + b * classes, out = logProbabilities + b * classes
            var maximum = -Float.infinity
            for j in 0..<classes { maximum = max(maximum, z[j]) }
            var sum = 0.0
            for j in 0..<classes { sum += exp(Double(z[j] - maximum)) }
            let logSum = Float(log(sum))
            for j in 0..<classes { out[j] = z[j] - maximum - logSum }
            total -= Double(out[Int(labels[b])])
        }
        return total / Double(batch)
    }

    /// dlogits (B, C) = (softmax - onehot(label)) / B
    public static func backward(logProbabilities: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batch: Int,
                                classes: Int, dLogits: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(batch)
        for b in 0..<batch {
            let lp = logProbabilities + b * classes, d = dLogits + b * classes
            for j in 0..<classes { d[j] = exp(lp[j]) * scale }
            d[Int(labels[b])] -= scale
        }
    }
}
