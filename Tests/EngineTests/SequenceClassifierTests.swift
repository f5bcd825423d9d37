import XCTest
@testable import Engine
import TestSupport

/// Recurrent classifiers as whole models: what `makeModel` builds for each recurrent
/// kind, and the determinism contract (the same bits for any thread count).
final class SequenceClassifierTests: SmallModelTestCase {
    func testMakeModelBuildsEveryRecurrentKind() throws {
        for kind in ModelConfig.Kind.allCases {
            XCTAssertEqual(kind.isRecurrent, kind.recurrentCell != nil, "\(kind)")
            guard let cell = kind.recurrentCell else { continue }
            XCTAssertEqual(cell.rawValue, kind.rawValue)
            // 28 rows of 28 pixels, two layers of 64, a dense head of 32 and 10 classes.
            let config = ModelConfig(kind: kind, layers: 2, hidden: 64, dense: [32])
            let model = try XCTUnwrap(try makeModel(config, seed: 1, threads: 1) as? SequenceClassifier)
            XCTAssertEqual(model.recurrent.map(\.cell), [cell, cell])
            let g = cell.gateCount
            XCTAssertEqual(model.parameters.map(\.name),
                           ["\(kind).0.weight_ih", "\(kind).0.weight_hh", "\(kind).0.bias_ih", "\(kind).0.bias_hh",
                            "\(kind).1.weight_ih", "\(kind).1.weight_hh", "\(kind).1.bias_ih", "\(kind).1.bias_hh",
                            "head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias"])
            XCTAssertEqual(model.parameters.map(\.shape),
                           [[28, g * 64], [64, g * 64], [g * 64], [g * 64], [64, g * 64], [64, g * 64], [g * 64], [g * 64],
                            [64, 32], [32], [32, 10], [10]])
            // torch.nn.LSTM / GRU / RNN(28, 64, num_layers=2) has G·64·(28 + 64 + 2) + G·64·(64 + 64 + 2) parameters.
            XCTAssertEqual(model.parameterCount, g * 64 * (28 + 64 + 2) + g * 64 * (64 + 64 + 2) + 64 * 32 + 32 + 32 * 10 + 10)
            // Per step, each layer multiplies (I + H) inputs into G·H gate pre-activations.
            let perStep = 2 * Double((28 + 64) * g * 64 + (64 + 64) * g * 64)
            XCTAssertEqual(model.forwardFlopsPerSample, 28 * perStep + 2 * Double(64 * 32 + 32 * 10), "\(kind)")
        }
        XCTAssertEqual(RecurrentLayer.Cell.gru.gateCount, 3)
        XCTAssertEqual(ModelConfig.Kind.allCases.filter(\.isRecurrent), [.lstm, .rnn, .gru])
    }

    /// One epoch of two uneven batches (13 samples: 7 and 6 rows per thread with two,
    /// 5, 4 and 4 with three) with dropout and Adam, for 1, 2 and 3 threads: the same
    /// losses and weights, bit for bit. 20 hidden units: a vector and a tail in the cells,
    /// and weight-gradient column parts of whole and partial panels.
    /// Inference keeps no caches for backward (one step's gates, two cell-state slabs); its
    /// logits are the training forward's bit for bit, and a training step after it is the
    /// same as one without it.
    func testInferenceWithoutCachesGivesTheTrainingForwardsLogits() throws {
        let data = images(13, seed: 8)
        let indices = Array(0..<13)
        for kind in ModelConfig.Kind.allCases where kind.isRecurrent {
            for threads in [1, 2] {
                let model = try makeModel(config(kind), seed: 9, threads: threads)
                func logits(training: Bool) -> [UInt32] {
                    indices.withUnsafeBufferPointer { idx in
                        Array(UnsafeBufferPointer(start: model.forward(data, indices: idx, training: training), count: 13 * 5))
                            .map(\.bitPattern)
                    }
                }
                let inference = logits(training: false)
                XCTAssertEqual(inference, logits(training: true), "\(kind), \(threads) threads")
                XCTAssertEqual(logits(training: false), inference, "\(kind): again after a training forward")
            }
            let options = TrainingOptions(epochs: 2, batchSize: 5, optimizer: .adam(learningRate: 0.01), seed: 3)
            let plain = try makeModel(config(kind), seed: 9, threads: 1), interleaved = try makeModel(config(kind), seed: 9, threads: 1)
            _ = try Trainer(model: plain, options: options).train(on: data)
            _ = try Trainer(model: interleaved, options: options).train(on: data, onEpoch: { _ in _ = interleaved.evaluate(on: data, batchSize: 4) })
            XCTAssertEqual(plain.parameters.flatMap(\.value.array), interleaved.parameters.flatMap(\.value.array), "\(kind)")
        }
    }

    func testThreadCountDoesNotChangeResults() throws {
        let data = images(26, seed: 10, height: 6, width: 5, classes: 4)
        for kind in ModelConfig.Kind.allCases where kind.isRecurrent {
            for activation in [RecurrentActivation.tanh, .relu] {
                let config = ModelConfig(kind: kind, layers: 2, hidden: 20, activation: activation, dense: [9], dropout: 0.2,
                                         classes: 4, imageHeight: 6, imageWidth: 5)
                func train(threads: Int) throws -> (losses: [UInt64], weights: [[UInt32]]) {
                    let model = try makeModel(config, seed: 11, threads: threads)
                    let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 13,
                                                                                 optimizer: .adam(learningRate: 0.01), seed: 12))
                    var losses: [UInt64] = []
                    _ = try trainer.train(on: data, onBatch: { _, _, _, loss in losses.append(loss.bitPattern) })
                    return (losses, model.parameters.map { $0.value.array.map(\.bitPattern) })
                }
                let one = try train(threads: 1)
                XCTAssertEqual(one.losses.count, 2)
                for threads in [2, 3] {
                    let other = try train(threads: threads)
                    XCTAssertEqual(one.losses, other.losses, "\(kind) \(activation), \(threads) threads")
                    XCTAssertEqual(one.weights, other.weights, "\(kind) \(activation), \(threads) threads")
                }
                let initial = try makeModel(config, seed: 11, threads: 1).parameters.map { $0.value.array.map(\.bitPattern) }
                XCTAssertNotEqual(initial, one.weights, "\(kind) \(activation): training changed the weights")
            }
        }
    }

    /// A small GRU learns a task that needs memory: the class is which of four quarters
    /// of the sequence holds a bright row, and the classifier sees only the last step.
    func testTinyGRULearnsWhereTheBrightRowWas() throws {
        func rows(count: Int, seed: UInt64) -> ImageSet {
            var g = SeededGenerator(seed: seed)
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for _ in 0..<count {
                var image = (0..<64).map { _ in UInt8(g.nextInt(below: 60)) }
                let label = g.nextInt(below: 4), row = label * 2 + g.nextInt(below: 2)
                for col in 0..<8 { image[row * 8 + col] = UInt8(200 + g.nextInt(below: 56)) }
                pixels += image
                labels.append(UInt8(label))
            }
            return ImageSet(pixels: pixels, labels: labels, height: 8, width: 8)
        }
        let config = ModelConfig(kind: .gru, layers: 1, hidden: 16, classes: 4, imageHeight: 8, imageWidth: 8)
        let model = try makeModel(config, seed: 5, threads: 2)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 10, batchSize: 20,
                                                                     optimizer: .adam(learningRate: 0.02), seed: 6))
        let test = rows(count: 200, seed: 8)
        XCTAssertLessThan(model.evaluate(on: test).accuracy, 0.5, "an untrained model is near chance")
        _ = try trainer.train(on: rows(count: 600, seed: 7))
        XCTAssertGreaterThanOrEqual(model.evaluate(on: test).accuracy, 0.95)
    }
}
