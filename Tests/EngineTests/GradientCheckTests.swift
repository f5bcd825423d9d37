import XCTest
@testable import Engine
import TestSupport

/// Finite-difference checks: for a scalar loss L, the analytic gradient of every layer
/// must match (L(w + ε) - L(w - ε)) / 2ε for sampled weights and inputs.
///
/// The losses are Σ r ⊙ y with fixed random r (so every output element matters), summed
/// in Double. Float32 forward passes limit agreement to about 1e-3 relative.
final class GradientCheckTests: XCTestCase {
    let pool1 = ThreadPool(threads: 1)

    // MARK: layers

    func testDense() {
        var g = SeededGenerator(seed: 1)
        let layer = Dense(inputSize: 5, outputSize: 19, name: "d", generator: &g)  // 19 columns: vector + tail path
        let batch = 7
        let x = randomBuffer(batch * 5, seed: 2), r = randomBuffer(batch * 19, seed: 3)
        let y = FloatBuffer(count: batch * 19), dx = FloatBuffer(count: batch * 5)
        func loss() -> Double { layer(x.pointer, batch: batch, into: y.pointer, pool: pool1); return dot(y.pointer, r) }
        _ = loss()
        layer.backward(x: x.pointer, dy: r.pointer, dx: dx.pointer, batch: batch, pool: pool1)
        check("dense.weight", values: layer.weight.value.pointer, count: layer.weight.count, analytic: layer.weight.gradient.array, loss: loss)
        check("dense.bias", values: layer.bias.value.pointer, count: layer.bias.count, analytic: layer.bias.gradient.array, loss: loss)
        check("dense.input", values: x.pointer, count: x.count, analytic: dx.array, loss: loss)
    }

    /// The input gradient is split by input columns across the threads, each packing its
    /// own panels of Wᵀ: 37 inputs give whole panels on some threads and the tail on another.
    func testDenseGradientsAreTheSameBitsForAnyThreadCount() {
        let (inputs, outputs, batch) = (37, 19, 7)
        let x = randomBuffer(batch * inputs, seed: 2), dy = randomBuffer(batch * outputs, seed: 3)
        var results: [[Float]] = []
        for threads in 1...3 {
            var g = SeededGenerator(seed: 1)
            let layer = Dense(inputSize: inputs, outputSize: outputs, name: "d", generator: &g)
            let dx = FloatBuffer(count: batch * inputs)
            layer.backward(x: x.pointer, dy: dy.pointer, dx: dx.pointer, batch: batch, pool: ThreadPool(threads: threads))
            results.append(dx.array + layer.weight.gradient.array + layer.bias.gradient.array)
            if threads == 3 {
                // dx = dy · Wᵀ, against a plain sum in Double
                for b in 0..<batch {
                    for i in 0..<inputs {
                        var sum = 0.0
                        for o in 0..<outputs { sum += Double(dy[b * outputs + o]) * Double(layer.weight.value[i * outputs + o]) }
                        XCTAssertEqual(Double(dx[b * inputs + i]), sum, accuracy: 1e-5 * max(1, abs(sum)))
                    }
                }
            }
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    func testCrossEntropy() {
        let batch = 4, classes = 10
        let logits = randomBuffer(batch * classes, seed: 5, scale: 3)
        var labels: [Int32] = [3, 0, 9, 5]
        let lp = FloatBuffer(count: batch * classes), d = FloatBuffer(count: batch * classes)
        func loss() -> Double {
            CrossEntropy.forward(logits: logits.pointer, labels: &labels, batch: batch, classes: classes, logProbabilities: lp.pointer)
        }
        _ = loss()
        CrossEntropy.backward(logProbabilities: lp.pointer, labels: &labels, batch: batch, classes: classes, dLogits: d.pointer)
        check("cross-entropy.logits", values: logits.pointer, count: logits.count, analytic: d.array, epsilon: 1e-2, loss: loss)
    }

    func testReLUAndDropout() {
        let count = 40
        let x = randomBuffer(count, seed: 6), r = randomBuffer(count, seed: 7)
        // Keep inputs away from ReLU's kink so central differences are valid.
        for i in 0..<count where abs(x[i]) < 0.05 { x[i] = 0.3 }
        let y = FloatBuffer(count: count), dx = FloatBuffer(count: count), mask = FloatBuffer(count: count)
        let dropout = Dropout(probability: 0.3)
        func loss() -> Double {
            reluForward(x.pointer, y.pointer, count: count)
            var g = SeededGenerator(seed: 11)  // the same mask on every evaluation
            dropout.forward(y.pointer, y.pointer, mask: mask.pointer, count: count, generator: &g)
            return dot(y.pointer, r)
        }
        _ = loss()
        dropout.backward(dy: r.pointer, mask: mask.pointer, dx: dx.pointer, count: count)
        reluForward(x.pointer, y.pointer, count: count)
        reluBackward(y: y.pointer, dy: dx.pointer, dx: dx.pointer, count: count)
        check("relu+dropout.input", values: x.pointer, count: count, analytic: dx.array, loss: loss)
        XCTAssert((0..<count).contains { mask[$0] == 0 } && (0..<count).contains { mask[$0] > 1 }, "mask drops and scales")
    }

    /// A stack of recurrent layers with loss Σ r1 ⊙ (all outputs of the top layer) + Σ r2 ⊙ (its last output).
    func checkRecurrent(cell: RecurrentLayer.Cell, activation: RecurrentActivation, layers count: Int,
                        hidden: Int = 5, file: StaticString = #filePath, line: UInt = #line) {
        var g = SeededGenerator(seed: 21)
        let (steps, batch, input) = (4, 3, 3)
        var layers: [RecurrentLayer] = []
        for index in 0..<count {
            layers.append(RecurrentLayer(cell: cell, activation: activation, inputSize: index == 0 ? input : hidden,
                                         hiddenSize: hidden, name: "l\(index)", generator: &g))
        }
        let x = randomBuffer(steps * batch * input, seed: 22)
        let r1 = randomBuffer(steps * batch * hidden, seed: 23), r2 = randomBuffer(batch * hidden, seed: 24)
        func loss() -> Double {
            var current = UnsafePointer(x.pointer)
            for layer in layers {
                layer(current, steps: steps, batch: batch, pool: pool1)
                current = UnsafePointer(layer.outputs)
            }
            return dot(layers.last!.outputs, r1) + dot(layers.last!.lastOutput, r2)
        }
        _ = loss()
        var dOutputs: UnsafePointer<Float>? = UnsafePointer(r1.pointer)
        for index in stride(from: count - 1, through: 0, by: -1) {
            let layerInput = index == 0 ? UnsafePointer(x.pointer) : UnsafePointer(layers[index - 1].outputs)
            layers[index].backward(x: layerInput, dOutputs: dOutputs, dLast: index == count - 1 ? r2.pointer : nil,
                                   needInputGradient: true, pool: pool1)
            dOutputs = UnsafePointer(layers[index].inputGradient)
        }
        let dx = Array(UnsafeBufferPointer(start: layers[0].inputGradient, count: x.count))
        for layer in layers {
            for p in layer.parameters {
                check("\(cell)-\(activation).\(p.name)", values: p.value.pointer, count: p.count, analytic: p.gradient.array,
                      epsilon: activation == .relu ? 2e-3 : 1e-2, loss: loss, file: file, line: line)
            }
        }
        check("\(cell)-\(activation).input", values: x.pointer, count: x.count, analytic: dx,
              epsilon: activation == .relu ? 2e-3 : 1e-2, loss: loss, file: file, line: line)
    }

    func testRNNTanh() { checkRecurrent(cell: .rnn, activation: .tanh, layers: 1) }
    func testRNNReLU() { checkRecurrent(cell: .rnn, activation: .relu, layers: 2) }
    func testLSTMTanhTwoLayers() { checkRecurrent(cell: .lstm, activation: .tanh, layers: 2) }
    func testLSTMReLUTwoLayers() { checkRecurrent(cell: .lstm, activation: .relu, layers: 2) }
    /// 18 hidden units: one full 16-lane vector plus a partial one in every cell kernel.
    func testLSTMVectorTail() { checkRecurrent(cell: .lstm, activation: .tanh, layers: 1, hidden: 18) }

    func testGRUTanhTwoLayers() { checkRecurrent(cell: .gru, activation: .tanh, layers: 2) }
    func testGRUReLUTwoLayers() { checkRecurrent(cell: .gru, activation: .relu, layers: 2) }
    /// 18 hidden units: a full vector plus a partial one in both GRU cell kernels, and
    /// packed panels whose r, z (36 columns) and candidate (18) blocks end mid-panel.
    func testGRUVectorTail() { checkRecurrent(cell: .gru, activation: .tanh, layers: 1, hidden: 18) }

    // MARK: whole model

    func testSequenceClassifierEndToEnd() throws {
        for sequence in [SequenceAxis.rows, .columns] {
            let config = ModelConfig(kind: .lstm, layers: 2, hidden: 6, sequence: sequence, dense: [7],
                                     classes: 4, imageHeight: 5, imageWidth: 3)
            let model = SequenceClassifier(config: config, seed: 3, pool: pool1)
            checkWholeModel(model, label: "model-\(sequence)", count: 6, epsilon: 5e-3)
        }
    }

    func testGRUClassifierEndToEnd() {
        let config = ModelConfig(kind: .gru, layers: 2, hidden: 6, sequence: .columns, dense: [7],
                                 classes: 4, imageHeight: 5, imageWidth: 3)
        let model = SequenceClassifier(config: config, seed: 3, pool: pool1)
        checkWholeModel(model, label: "gru-model", count: 6, epsilon: 5e-3)
    }
}
