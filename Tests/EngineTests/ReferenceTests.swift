import Foundation
import XCTest
@testable import Engine
import TestSupport

/// Fixed-value references computed with PyTorch 2.x and pasted here, so the tests need no
/// PyTorch: weights and inputs come from a formula both sides evaluate. Every literal is
/// printed by a function of `reference_values.py` (in this folder), named at its test.
final class ReferenceTests: XCTestCase {
    /// value_i = 0.5 · sin(0.37·i + salt), i running over PyTorch's row-major layout.
    func formula(_ i: Int, _ salt: Double) -> Float { Float(0.5 * sin(0.37 * Double(i) + salt)) }

    /// Sets a recurrent layer's parameters as PyTorch's weight_ih (G·H, I), weight_hh (G·H, H),
    /// bias_ih, bias_hh filled by `formula` with salts 1...4 (+ 4 per layer, + `salt`). Ours
    /// are stored transposed: W[in][out] = torch[out][in].
    func load(_ layer: RecurrentLayer, layerIndex: Int, salt: Double = 0) {
        let w = layer.gateCount * layer.hiddenSize
        let base = Double(4 * layerIndex) + salt
        for (salt, (parameter, rows)) in [(layer.inputWeight, layer.inputSize), (layer.recurrentWeight, layer.hiddenSize)].enumerated() {
            for out in 0..<w { for input in 0..<rows { parameter.value[input * w + out] = formula(out * rows + input, base + Double(salt + 1)) } }
        }
        for j in 0..<w {
            layer.inputBias.value[j] = formula(j, base + 3)
            layer.recurrentBias.value[j] = formula(j, base + 4)
        }
    }

    /// h_{T-1} of the second layer for x (T, B, I) = formula(i, 10 + salt).
    func runTwoLayers(cell: RecurrentLayer.Cell, activation: RecurrentActivation, salt: Double = 0) -> [Float] {
        let (input, hidden, steps, batch) = (3, 4, 5, 2)
        var g = SeededGenerator(seed: 0)
        let pool = ThreadPool(threads: 1)
        let layers = (0..<2).map { index in
            RecurrentLayer(cell: cell, activation: activation, inputSize: index == 0 ? input : hidden, hiddenSize: hidden,
                           name: "l\(index)", generator: &g)
        }
        for (index, layer) in layers.enumerated() { load(layer, layerIndex: index, salt: salt) }
        let x = FloatBuffer((0..<(steps * batch * input)).map { formula($0, 10 + salt) })  // (T, B, I), as PyTorch's default layout
        layers[0](x.pointer, steps: steps, batch: batch, pool: pool)
        layers[1](layers[0].outputs, steps: steps, batch: batch, pool: pool)
        return Array(UnsafeBufferPointer(start: layers[1].lastOutput, count: batch * hidden))
    }

    func assertClose(_ ours: [Float], _ reference: [Double], _ label: String = "", file: StaticString = #filePath,
                     line: UInt = #line) {
        XCTAssertEqual(ours.count, reference.count, file: file, line: line)
        for (a, b) in zip(ours, reference) {
            XCTAssert(isClose(Double(a), b, relative: 2e-5, absolute: 2e-6), "\(label) \(a) vs PyTorch \(b)", file: file, line: line)
        }
    }

    /// reference_values.py: lstm_forward
    func testLSTMMatchesPyTorch() {
        assertClose(runTwoLayers(cell: .lstm, activation: .tanh),
                    [-0.2899711407, -0.252917533, -0.3485836638, -0.2765336905, -0.3051390998, -0.2604169465, -0.3303134616, -0.284211539])
    }

    /// reference_values.py: rnn_tanh_forward
    func testRNNTanhMatchesPyTorch() {
        assertClose(runTwoLayers(cell: .rnn, activation: .tanh),
                    [0.7897787173, 0.8510729084, 0.5612870608, 0.2199570226, 0.7270648946, 0.8768690866, 0.6649206167, 0.1506915317])
    }

    /// reference_values.py: rnn_relu_forward
    func testRNNReLUMatchesPyTorch() {
        assertClose(runTwoLayers(cell: .rnn, activation: .relu),
                    [1.0274371836, 3.4858586966, 1.0817550081, 0.0, 0.8736772922, 3.5203261043, 1.2417653312, 0.0])
    }

    /// torch.nn.GRU, gates r, z, n.
    /// reference_values.py: gru_tanh_forward
    func testGRUTanhMatchesPyTorch() {
        assertClose(runTwoLayers(cell: .gru, activation: .tanh),
                    [-0.5891118124, -0.7579608875, -0.6357354081, -0.1982871683, -0.5432083504, -0.7322219497, -0.6734572465, -0.2400232509])
    }

    /// torch.nn.GRU's equations with a relu candidate (written out in the script, as
    /// torch.nn.GRU has tanh only); salts + 3, where no output is clipped to 0.
    /// reference_values.py: gru_relu_forward
    func testGRUReLUMatchesPyTorch() {
        assertClose(runTwoLayers(cell: .gru, activation: .relu, salt: 3),
                    [0.6016136543, 0.3858388224, 0.30214076, 0.6361782225, 0.5958876042, 0.3802834653, 0.3087255722, 0.6340754037])
    }

    /// torch.optim.Adam(lr=0.01) and SGD(lr=0.1, momentum=0.9), two steps from w = [1, -2, 0.5, 0].
    /// reference_values.py: optimizer_steps
    func testOptimizerStepsMatchPyTorch() {
        let gradients: [[Float]] = [[0.1, -0.2, 0.3, 0.0], [-0.05, 0.4, 0.3, 1.0]]
        let expected: [(OptimizerSettings, [[Double]])] = [
            (.adam(learningRate: 0.01), [[0.9900000095367432, -1.9900000095367432, 0.49000000953674316, 0.0],
                                         [0.9873366355895996, -1.9936610460281372, 0.48000001907348633, -0.007441367954015732]]),
            (.sgd(learningRate: 0.1, momentum: 0.9), [[0.9900000095367432, -1.9800000190734863, 0.4699999988079071, 0.0],
                                                      [0.9860000014305115, -2.002000093460083, 0.4129999876022339, -0.10000000149011612]]),
        ]
        for (settings, steps) in expected {
            let w = Parameter(name: "w", shape: [4], isWeightMatrix: true)
            for (i, v) in [Float(1), -2, 0.5, 0].enumerated() { w.value[i] = v }
            let optimizer = settings.make(for: [w])
            for (g, after) in zip(gradients, steps) {
                for i in 0..<4 { w.gradient[i] = g[i] }
                optimizer.step()
                assertClose(w.value.array, after)
                XCTAssertEqual(w.gradient.array, [0, 0, 0, 0], "step zeroes the gradient")
            }
        }
    }

    /// Three steps of torch.optim.Adam(lr=0.01, weight_decay=0.1) (L2), AdamW(lr=0.01,
    /// weight_decay=0.5) (decoupled) and SGD(lr=0.1, momentum=0.9, weight_decay=0.05), in
    /// float32 like the engine. The fourth weight is 0 with zero gradients: decay leaves it 0.
    /// The tolerance is the optimizer test's: float32 steps, where the engine's update
    /// differs from PyTorch's only in rounding (its own square root, β1·m + (1-β1)·g for
    /// PyTorch's lerp), a few float32 ulps per step.
    /// reference_values.py: weight_decay_steps
    func testWeightDecayMatchesPyTorch() {
        let start: [Float] = [1, -2, 0.5, 0, 3]
        let gradients: [[Float]] = [[0.1, -0.2, 0.3, 0, -0.4], [-0.05, 0.4, 0.3, 0, 0.2], [0.2, 0.1, -0.3, 0, 0]]
        let expected: [(OptimizerSettings, [[Double]])] = [
            (.adam(learningRate: 0.01, weightDecay: 0.1),
             [[0.9900000095367432, -1.9900000095367432, 0.49000000953674316, 0.0, 3.009999990463257],
              [0.981720507144928, -1.9873559474945068, 0.480000764131546, 0.0, 3.0040132999420166],
              [0.9728278517723083, -1.983983039855957, 0.4760190546512604, 0.0, 2.9967854022979736]]),
            (.adamW(learningRate: 0.01, weightDecay: 0.5),
             [[0.9850000143051147, -1.9800000190734863, 0.48750001192092896, 0.0, 2.995000123977661],
              [0.9774116277694702, -1.9737610816955566, 0.4750625193119049, 0.0, 2.9826884269714355],
              [0.965943455696106, -1.9680488109588623, 0.4700672924518585, 0.0, 2.9698338508605957]]),
            (.sgd(learningRate: 0.1, momentum: 0.9, weightDecay: 0.05),
             [[0.9850000143051147, -1.9700000286102295, 0.4675000011920929, 0.0, 3.0250000953674316],
              [0.9715750217437744, -1.9731500148773193, 0.40591248869895935, 0.0, 3.0123751163482666],
              [0.9346346259117126, -1.9761192798614502, 0.37845417857170105, 0.0, 2.9859507083892822]]),
        ]
        for (settings, steps) in expected {
            let w = Parameter(name: "w", shape: [5], isWeightMatrix: true)
            for (i, v) in start.enumerated() { w.value[i] = v }
            let optimizer = settings.make(for: [w])
            for (step, (g, after)) in zip(gradients, steps).enumerated() {
                for i in 0..<5 { w.gradient[i] = g[i] }
                optimizer.step()
                assertClose(w.value.array, after, "\(settings.kind) step \(step + 1)")
                XCTAssertEqual(w.value[3], 0, "\(settings.kind): decay of a zero weight is zero")
            }
        }
    }

    /// The mean cross-entropy of a 2-layer LSTM classifier (4 rows of 3 pixels, 5 hidden
    /// units, Linear to 3 classes) on 6 fixed images, before and after each of three
    /// torch.optim.Adam(lr=0.02) steps: forward, loss, backward and optimizer together.
    /// Parameter k of the model (PyTorch's order and layout) is formula(i, 20 + k); image b
    /// holds pixels (37·n + 11) % 256 in reading order, n counted across the batch; label b % 3.
    ///
    /// Tolerance: 1e-6 relative. PyTorch runs in float64 from the same float32 weights and
    /// inputs, so the gap is the engine's float32 arithmetic and its tanh/sigmoid (absolute
    /// error < 3e-7), carried through the steps: Adam moves a weight by about lr·m/√v,
    /// which float32 gradients reproduce closely except where a gradient is as small as
    /// their noise (the script prints the smallest: 8e-9 at step 2), and such a weight
    /// hardly moves the loss. The gap measured is at most 3e-8 (relative) in every loss,
    /// so 1e-6 leaves 30x for other compilers and CPUs; a step off by 0.5% (lr 0.0201)
    /// already puts the losses 1e-4 away.
    /// reference_values.py: lstm_adam_losses
    func testTwoLayerLSTMAdamLossesMatchPyTorch() {
        let (steps, features, hidden, classes, batch) = (4, 3, 5, 3, 6)
        let config = ModelConfig(kind: .lstm, layers: 2, hidden: hidden, classes: classes,
                                 imageHeight: steps, imageWidth: features)
        let model = SequenceClassifier(config: config, seed: 0, pool: ThreadPool(threads: 1))
        for (k, parameter) in model.parameters.enumerated() {
            let salt = Double(20 + k)
            if parameter.shape.count == 2 {
                // Ours is (in, out), PyTorch's (out, in): W[in][out] = torch[out][in].
                let (inputs, outputs) = (parameter.shape[0], parameter.shape[1])
                for o in 0..<outputs { for i in 0..<inputs { parameter.value[i * outputs + o] = formula(o * inputs + i, salt) } }
            } else {
                for j in 0..<parameter.count { parameter.value[j] = formula(j, salt) }
            }
        }
        let images = ImageSet(pixels: (0..<(batch * steps * features)).map { UInt8((37 * $0 + 11) % 256) },
                              labels: (0..<batch).map { UInt8($0 % classes) }, height: steps, width: features)
        var labels = images.labels.map(Int32.init)
        let optimizer = OptimizerSettings.adam(learningRate: 0.02).make(for: model.parameters)
        let logProbabilities = FloatBuffer(count: batch * classes), dLogits = FloatBuffer(count: batch * classes)
        var losses: [Double] = []
        Array(0..<batch).withUnsafeBufferPointer { indices in
            for step in 0...3 {
                let logits = model.forward(images, indices: indices, training: true)
                losses.append(CrossEntropy.forward(logits: logits, labels: &labels, batch: batch, classes: classes,
                                                   logProbabilities: logProbabilities.pointer))
                guard step < 3 else { break }
                CrossEntropy.backward(logProbabilities: logProbabilities.pointer, labels: &labels, batch: batch,
                                      classes: classes, dLogits: dLogits.pointer)
                model.backward(dLogits: dLogits.pointer)
                optimizer.step()
            }
        }
        let reference = [1.1583350825634597, 1.1306058301809954, 1.113927012721641, 1.1042550609298176]
        for (step, (ours, theirs)) in zip(losses, reference).enumerated() {
            XCTAssert(isClose(ours, theirs, relative: 1e-6), "loss after \(step) steps: \(ours) vs PyTorch \(theirs)")
        }
        XCTAssertEqual(losses.count, 4)
    }

    /// reference_values.py: log_softmax_extreme
    func testLogSoftmaxOnExtremeLogitsIsFinite() {
        var logits: [Float] = [1000, -1000, 0, 1, 2, 3]
        var labels: [Int32] = [1, 2]
        var lp = [Float](repeating: 0, count: 6), d = [Float](repeating: 0, count: 6)
        let loss = CrossEntropy.forward(logits: &logits, labels: &labels, batch: 2, classes: 3, logProbabilities: &lp)
        CrossEntropy.backward(logProbabilities: &lp, labels: &labels, batch: 2, classes: 3, dLogits: &d)
        // torch.log_softmax and torch.nn.functional.cross_entropy on the same logits:
        assertClose(lp, [0.0, -2000.0, -1000.0, -2.4076058864593506, -1.4076058864593506, -0.40760594606399536])
        XCTAssert(isClose(loss, 1000.2037963867188, relative: 1e-6))
        XCTAssert(d.allSatisfy(\.isFinite))
        XCTAssertEqual(d[0], 0.5, accuracy: 1e-6)   // softmax 1 for the winning logit, / batch
        XCTAssertEqual(d[1], -0.5, accuracy: 1e-6)  // true class with probability 0
    }
}
