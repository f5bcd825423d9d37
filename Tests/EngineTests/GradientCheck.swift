import XCTest
@testable import Engine

/// Finite-difference helpers shared by the gradient-check test classes.
extension XCTestCase {
    /// Compares the analytic gradient `analytic[k]` of `count` values at `values` with
    /// central differences of `loss`, for up to `samples` indices.
    func check(_ label: String, values: UnsafeMutablePointer<Float>, count: Int, analytic: [Float], samples: Int = 24,
               epsilon: Float = 1e-2, loss: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
        var generator = SeededGenerator(seed: 99, stream: label)
        let indices = count <= samples ? Array(0..<count) : (0..<samples).map { _ in generator.nextInt(below: count) }
        var worst = 0.0, kinks = 0
        let center = loss()
        for k in indices {
            let saved = values[k]
            values[k] = saved + epsilon
            let plus = loss()
            values[k] = saved - epsilon
            let minus = loss()
            values[k] = saved
            // ReLU is not differentiable at 0: where the one-sided slopes disagree, a
            // perturbation crossed a kink and the central difference means nothing.
            let forward = (plus - center) / Double(epsilon), backward = (center - minus) / Double(epsilon)
            if abs(forward - backward) > 0.1 * (abs(forward) + abs(backward)) + 1e-3 { kinks += 1; continue }
            let numeric = (plus - minus) / Double(2 * epsilon)
            let error = abs(numeric - Double(analytic[k])) / max(1e-2, abs(numeric) + abs(Double(analytic[k])))
            worst = max(worst, error)
            XCTAssert(error < 2e-2, "\(label)[\(k)]: analytic \(analytic[k]) vs numeric \(numeric)", file: file, line: line)
        }
        XCTAssertLessThan(worst, 2e-2, "\(label): worst relative error", file: file, line: line)
        XCTAssertLessThanOrEqual(kinks * 4, indices.count, "\(label): too many indices at a kink to check", file: file, line: line)
    }

    /// Checks every parameter of a whole classifier: `count` random images of its config's
    /// size, labels cycling through its classes, as one batch. One forward and backward
    /// pass gives the analytic gradients; the loss is the batch's mean cross-entropy.
    func checkWholeModel(_ model: Classifier, label: String, count: Int, epsilon: Float,
                         file: StaticString = #filePath, line: UInt = #line) {
        let (height, width, classes) = (model.config.imageHeight, model.config.imageWidth, model.config.classes)
        var g = SeededGenerator(seed: 4)
        let images = ImageSet(pixels: (0..<(count * height * width)).map { _ in UInt8(g.nextInt(below: 256)) },
                              labels: (0..<count).map { UInt8($0 % classes) }, height: height, width: width)
        var labels = images.labels.map(Int32.init)
        let indices = Array(0..<count)
        let lp = FloatBuffer(count: count * classes), d = FloatBuffer(count: count * classes)
        func loss() -> Double {
            indices.withUnsafeBufferPointer { idx in
                let logits = model.forward(images, indices: idx, training: true)
                return CrossEntropy.forward(logits: logits, labels: &labels, batch: count, classes: classes,
                                            logProbabilities: lp.pointer)
            }
        }
        _ = loss()
        CrossEntropy.backward(logProbabilities: lp.pointer, labels: &labels, batch: count, classes: classes, dLogits: d.pointer)
        model.backward(dLogits: d.pointer)
        for p in model.parameters {
            check("\(label).\(p.name)", values: p.value.pointer, count: p.count, analytic: p.gradient.array,
                  epsilon: epsilon, loss: loss, file: file, line: line)
        }
    }

    func randomBuffer(_ count: Int, seed: UInt64, scale: Float = 1) -> FloatBuffer {
        var g = SeededGenerator(seed: seed)
        return FloatBuffer((0..<count).map { _ in g.uniform(-scale, scale) })
    }

    func dot(_ a: UnsafePointer<Float>, _ b: FloatBuffer) -> Double {
        (0..<b.count).reduce(0.0) { $0 + Double(a[$1]) * Double(b[$1]) }
    }
}
