import XCTest
@testable import Engine
import TestSupport

/// Conv2D, MaxPool2D and ConvClassifier: finite-difference gradients, hand-computed
/// forward values, learning a synthetic task, and bit-identical results for 1 and 2 threads.
final class ConvolutionTests: XCTestCase {
    let pool1 = ThreadPool(threads: 1)
    let pool2 = ThreadPool(threads: 2)

    // MARK: Conv2D

    func testConv2DGradients() {
        var g = SeededGenerator(seed: 1)
        let (batch, height, width, cin, cout) = (2, 6, 5, 2, 3)
        let conv = Conv2D(inputChannels: cin, outputChannels: cout, kernelSize: 3, name: "c", generator: &g)
        let (oh, ow) = conv.outputShape(height: height, width: width)
        XCTAssertEqual([oh, ow], [4, 3])
        let x = randomBuffer(batch * height * width * cin, seed: 2), r = randomBuffer(batch * oh * ow * cout, seed: 3)
        let y = FloatBuffer(count: r.count), dx = FloatBuffer(count: x.count)
        func loss() -> Double {
            conv(x.pointer, batch: batch, height: height, width: width, into: y.pointer, pool: pool1)
            return dot(y.pointer, r)
        }
        _ = loss()
        conv.backward(dy: r.pointer, dx: dx.pointer, pool: pool1)
        check("conv.weight", values: conv.weight.value.pointer, count: conv.weight.count,
              analytic: conv.weight.gradient.array, samples: conv.weight.count, loss: loss)
        check("conv.bias", values: conv.bias.value.pointer, count: conv.bias.count, analytic: conv.bias.gradient.array, loss: loss)
        check("conv.input", values: x.pointer, count: x.count, analytic: dx.array, samples: x.count, loss: loss)
    }

    /// Backward accumulates parameter gradients: a second call adds the same amount again.
    func testConv2DBackwardAccumulatesParameterGradients() {
        var g = SeededGenerator(seed: 4)
        let conv = Conv2D(inputChannels: 1, outputChannels: 18, kernelSize: 2, name: "c", generator: &g)
        let x = randomBuffer(3 * 4 * 4, seed: 5), dy = randomBuffer(3 * 3 * 3 * 18, seed: 6)
        let y = FloatBuffer(count: dy.count)
        conv(x.pointer, batch: 3, height: 4, width: 4, into: y.pointer, pool: pool2)
        conv.backward(dy: dy.pointer, dx: nil, pool: pool2)
        let once = conv.weight.gradient.array, onceBias = conv.bias.gradient.array
        conv.backward(dy: dy.pointer, dx: nil, pool: pool2)
        for (a, b) in zip(conv.weight.gradient.array, once) { XCTAssert(isClose(a, 2 * b), "\(a) vs 2 x \(b)") }
        for (a, b) in zip(conv.bias.gradient.array, onceBias) { XCTAssert(isClose(a, 2 * b), "\(a) vs 2 x \(b)") }
    }

    /// Two 3x3 two-channel images (the second the negation of the first) through a 2x2
    /// kernel with two outputs, worked out by hand.
    func testConv2DKnownAnswer() {
        var g = SeededGenerator(seed: 7)
        let conv = Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 2, name: "c", generator: &g)
        // kernels[o][c] is the 2x2 kernel from input channel c to output o, as [[ky=0], [ky=1]].
        let kernels: [[[[Float]]]] = [[[[1, 2], [3, 4]], [[0, 0], [0, -1]]],
                                      [[[0, 1], [0, 0]], [[2, 0], [0, 1]]]]
        for o in 0..<2 { for c in 0..<2 { for ky in 0..<2 { for kx in 0..<2 {
            conv.weight.value[((ky * 2 + kx) * 2 + c) * 2 + o] = kernels[o][c][ky][kx]
        } } } }
        conv.bias.value[0] = 0.5
        conv.bias.value[1] = -1
        let channel0: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9], channel1: [Float] = [1, 0, 2, 0, 3, 0, 1, 0, 1]
        var image: [Float] = []
        for i in 0..<9 { image += [channel0[i], channel1[i]] }  // NHWC
        let x = FloatBuffer(image + image.map { -$0 })
        // out0 = x0[y,x] + 2 x0[y,x+1] + 3 x0[y+1,x] + 4 x0[y+1,x+1] - x1[y+1,x+1] + 0.5
        // out1 = x0[y,x+1] + 2 x1[y,x] + x1[y+1,x+1] - 1
        let expected: [Float] = [34.5, 6, 47.5, 2, 67.5, 4, 76.5, 12,
                                 -33.5, -8, -46.5, -4, -66.5, -6, -75.5, -14]
        for pool in [pool1, pool2] {
            let y = FloatBuffer(count: expected.count)
            conv(x.pointer, batch: 2, height: 3, width: 3, into: y.pointer, pool: pool)
            XCTAssertEqual(y.array, expected, "threads \(pool.threadCount)")
        }
    }

    // MARK: MaxPool2D

    func testMaxPoolGradient() {
        // Odd height and width (the last row and column are dropped) and 18 channels
        // (a full 16-lane vector plus a partial one).
        let (batch, height, width, channels) = (2, 5, 7, 18)
        let pooling = MaxPool2D(channels: channels)
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let x = randomBuffer(batch * height * width * channels, seed: 8), r = randomBuffer(batch * oh * ow * channels, seed: 9)
        let y = FloatBuffer(count: r.count), dx = FloatBuffer(count: x.count)
        func loss() -> Double {
            pooling(x.pointer, batch: batch, height: height, width: width, into: y.pointer, pool: pool1)
            return dot(y.pointer, r)
        }
        _ = loss()
        dx.update(repeating: .nan)
        pooling.backward(dy: r.pointer, dx: dx.pointer, pool: pool1)
        check("maxpool.input", values: x.pointer, count: x.count, analytic: dx.array, samples: 200, epsilon: 1e-3, loss: loss)
        XCTAssertEqual(dx.array.filter { $0 != 0 }.count, r.count, "one input per window receives the gradient")
    }

    func testMaxPoolKnownAnswerAndTies() {
        // One 3x5 image with 2 channels -> 1x2. Channel 0 has distinct values; channel 1
        // has ties, which go to the first position in row-major window order.
        let channel0: [Float] = [1, 5, 2, 0, 9,
                                 3, 4, 8, 7, 9,
                                 9, 9, 9, 9, 9]
        let channel1: [Float] = [2, 1, -1, -1, 0,
                                 2, 2, 3, -1, 0,
                                 0, 0, 0, 0, 0]
        var image: [Float] = []
        for i in 0..<15 { image += [channel0[i], channel1[i]] }
        let x = FloatBuffer(image), y = FloatBuffer(count: 4), dx = FloatBuffer(count: 30)
        let pooling = MaxPool2D(channels: 2)
        pooling(x.pointer, batch: 1, height: 3, width: 5, into: y.pointer, pool: pool1)
        XCTAssertEqual(y.array, [5, 2, 8, 3])
        dx.update(repeating: .nan)
        let dy = FloatBuffer([10, 20, 30, 40])
        pooling.backward(dy: dy.pointer, dx: dx.pointer, pool: pool1)
        var expected = [Float](repeating: 0, count: 30)
        expected[(0 * 5 + 1) * 2 + 0] = 10  // channel 0, window 0: 5 at (0, 1)
        expected[(0 * 5 + 0) * 2 + 1] = 20  // channel 1, window 0: 2 at (0, 0), (1, 0), (1, 1): first wins
        expected[(1 * 5 + 2) * 2 + 0] = 30  // channel 0, window 1: 8 at (1, 2)
        expected[(1 * 5 + 2) * 2 + 1] = 40  // channel 1, window 1: 3 at (1, 2)
        XCTAssertEqual(dx.array, expected)
    }

    // MARK: ConvClassifier

    /// Every parameter of two conv stages and the head, with and without pooling.
    ///
    /// Images are small and epsilon is 1e-3 because a bias or weight perturbation moves
    /// every pre-activation of its channel: the more ReLUs there are near 0, the more of
    /// them a perturbation pushes across their kink, each bending the loss slightly.
    func testConvClassifierEndToEnd() throws {
        // pool 2: 9x8 -> conv 2x2 -> 8x7 -> pool 4x3 -> conv -> 3x2 -> pool 1x1 (x18 channels) -> 5 -> 3
        // pool 1: 6x5 -> conv 3x3 -> 4x3 -> conv -> 2x1 (x4 channels) -> 5 -> 3
        // (18 channels: the pooling's 16-lane vector path and its scalar tail.)
        for (kernel, pool, height, width, channels) in [(2, 2, 9, 8, 18), (3, 1, 6, 5, 4)] {
            let config = ModelConfig(kind: .cnn, dense: [5], dropout: 0, conv: [3, channels], kernel: kernel, pool: pool,
                                     classes: 3, imageHeight: height, imageWidth: width)
            let model = try ConvClassifier(config: config, seed: 3, pool: pool1)
            XCTAssertEqual(model.parameters.map(\.name),
                           ["conv.0.weight", "conv.0.bias", "conv.1.weight", "conv.1.bias",
                            "head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias"])
            checkWholeModel(model, label: "cnn-pool\(pool)", count: 5, epsilon: 1e-3)
        }
    }

    func testNotebookModelShape() throws {
        let config = ModelConfig(kind: .cnn, dense: [128, 32], dropout: 0.2, conv: [32], kernel: 3, pool: 2)
        let model = try makeModel(config, seed: 1, threads: 1)
        // Keras's summary of the notebook's CNN: 320 + 692,352 + 4,128 + 330.
        XCTAssertEqual(model.parameterCount, 697_130)
        XCTAssertEqual(model.parameters.first(where: { $0.name == "head.0.weight" })?.shape, [5408, 128])
        // 2 x (26·26·32·9 + 5408·128 + 128·32 + 32·10)
        XCTAssertEqual(model.forwardFlopsPerSample, 2 * Double(26 * 26 * 32 * 9 + 5408 * 128 + 128 * 32 + 32 * 10))
    }

    func testConfigsThatDoNotFitAreRejected() {
        func message(_ config: ModelConfig) -> String? {
            do { _ = try makeModel(config, seed: 1, threads: 1); return nil } catch { return "\(error)" }
        }
        XCTAssertEqual(message(ModelConfig(kind: .cnn, conv: [8, 8, 8, 8])),
                       "cnn: conv layer 4 has a 3x3 kernel but its input is only 1x1 (image 28x28, 3 conv layers before it)")
        XCTAssertEqual(message(ModelConfig(kind: .cnn, conv: [8], kernel: 28)),
                       "cnn: the 2x2 pooling after conv layer 1 gets only 1x1")
        XCTAssertEqual(message(ModelConfig(kind: .cnn, conv: [8], pool: 3)), "cnn: pool must be 1 (none) or 2 (2x2 max pooling), got 3")
        XCTAssertEqual(message(ModelConfig(kind: .cnn, conv: [8, 0])), "cnn: conv layer 2 needs at least 1 channel, got 0")
        XCTAssertNil(message(ModelConfig(kind: .cnn, conv: [8], kernel: 27, pool: 2)))
    }

    /// Four classes of 10x10 images: a bright bar, horizontal in the top or bottom half
    /// or vertical in the left or right half, at a random place on a noisy background.
    func barImages(count: Int, seed: UInt64) -> ImageSet {
        var g = SeededGenerator(seed: seed)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for _ in 0..<count {
            var image = (0..<100).map { _ in UInt8(g.nextInt(below: 80)) }
            let label = g.nextInt(below: 4)
            let along = g.nextInt(below: 7), across = g.nextInt(below: 5) + (label % 2 == 0 ? 0 : 5)
            for step in 0..<4 {
                let (row, col) = label < 2 ? (across, along + step) : (along + step, across)
                image[row * 10 + col] = UInt8(180 + g.nextInt(below: 76))
            }
            pixels += image
            labels.append(UInt8(label))
        }
        return ImageSet(pixels: pixels, labels: labels, height: 10, width: 10)
    }

    func testTinyCNNLearnsBars() throws {
        let config = ModelConfig(kind: .cnn, dense: [16], dropout: 0, conv: [6], kernel: 3, pool: 2,
                                 classes: 4, imageHeight: 10, imageWidth: 10)
        let model = try makeModel(config, seed: 5, threads: 2)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 8, batchSize: 20,
                                                                     optimizer: .adam(learningRate: 0.01), seed: 6))
        let before = model.evaluate(on: barImages(count: 300, seed: 8)).accuracy
        _ = try trainer.train(on: barImages(count: 800, seed: 7))
        let accuracy = model.evaluate(on: barImages(count: 300, seed: 8)).accuracy
        XCTAssertLessThan(before, 0.5, "an untrained model is near chance")
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
    }

    /// Two training batches with 1 and with 2 threads: the same losses and weights, bit for bit.
    /// 32 and 20 output channels split into column parts of 16 (and a tail), the second
    /// conv computes dx, 13 samples split unevenly, and odd sizes are pooled.
    func testThreadCountDoesNotChangeResults() throws {
        let config = ModelConfig(kind: .cnn, dense: [40], dropout: 0.2, conv: [32, 20], kernel: 3, pool: 2,
                                 classes: 5, imageHeight: 12, imageWidth: 11)
        var g = SeededGenerator(seed: 10)
        let count = 26
        let data = ImageSet(pixels: (0..<(count * 132)).map { _ in UInt8(g.nextInt(below: 256)) },
                            labels: (0..<count).map { _ in UInt8(g.nextInt(below: 5)) }, height: 12, width: 11)
        func train(threads: Int) throws -> (losses: [Double], weights: [[UInt32]]) {
            let model = try makeModel(config, seed: 11, threads: threads)
            let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 13,
                                                                         optimizer: .adam(learningRate: 0.01), seed: 12))
            var losses: [Double] = []
            _ = try trainer.train(on: data, onBatch: { _, _, _, loss in losses.append(loss) })
            return (losses, model.parameters.map { $0.value.array.map(\.bitPattern) })
        }
        let one = try train(threads: 1), two = try train(threads: 2)
        XCTAssertEqual(one.losses.count, 2)
        XCTAssertEqual(one.losses.map(\.bitPattern), two.losses.map(\.bitPattern))
        XCTAssertEqual(one.weights, two.weights)
        let initial = try makeModel(config, seed: 11, threads: 1).parameters.map { $0.value.array.map(\.bitPattern) }
        XCTAssertNotEqual(initial, one.weights, "training changed the weights")
    }
}

private extension FloatBuffer {
    func update(repeating value: Float) { pointer.update(repeating: value, count: count) }
}
