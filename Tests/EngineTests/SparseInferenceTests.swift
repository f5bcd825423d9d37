import XCTest
@testable import Engine
import TestSupport

/// Sparse inference on pruned recurrent models against the dense masked models.
final class SparseInferenceTests: SmallModelTestCase {
    func testSparseInferenceMatchesDenseMaskedModel() {
        let cases: [(ModelConfig.Kind, RecurrentActivation, SequenceAxis)] = [
            (.lstm, .tanh, .rows), (.lstm, .tanh, .columns), (.lstm, .relu, .rows),
            (.rnn, .tanh, .rows), (.rnn, .tanh, .columns), (.rnn, .relu, .columns),
        ]
        // 100 samples: a 64-lane tile and a padded 48-lane one (with two threads: one each);
        // 21 and 5: padded 32- and 16-lane tiles. Short sequences (5 rows of 4 pixels) keep
        // this affordable in debug builds.
        let sets = [images(100, seed: 8, height: 5, width: 4), images(21, seed: 9, height: 5, width: 4),
                    images(5, seed: 10, height: 5, width: 4)]
        for (index, (kind, activation, sequence)) in cases.enumerated() {
            for threads in index < 2 ? [1, 2] : [1] {
                let label = "\(kind) \(activation) \(sequence) threads \(threads)"
                // 20 hidden units: a full vector plus a tail in the dense model's cell kernels.
                let model = SequenceClassifier(config: config(kind, activation: activation, sequence: sequence, hidden: 20,
                                                              dropout: 0.3, height: 5, width: 4),
                                               seed: 11, pool: ThreadPool(threads: threads))
                for sparsity in [0.0, 0.8] {
                    if sparsity > 0 { prune(model, .sparsity(sparsity)) }
                    let sparse = SparseSequenceModel(model)
                    let nonzero = weightMatrices(model).reduce(0) { sum, p in sum + p.value.array.filter { $0 != 0 }.count }
                    XCTAssertEqual(sparse.nonzeroWeights, nonzero, label)
                    for data in sets {
                        let dense = logits(model, data)
                        let ours = Array(0..<data.count).withUnsafeBufferPointer { sparse.logits(data, indices: $0) }
                        XCTAssertEqual(ours.count, dense.count)
                        let scale = dense.map(abs).max()!
                        for (a, b) in zip(ours, dense) {
                            XCTAssert(isClose(a, b, relative: 1e-4, absolute: 1e-5 * scale),
                                      "\(label) sparsity \(sparsity): \(a) vs dense \(b)")
                        }
                    }
                    XCTAssertEqual(sparse.predict(sets[0], batchSize: 40).predictions, model.evaluate(on: sets[0]).predictions, label)
                }
                XCTAssertEqual(evaluatePruned(model, on: sets[0]).predictions, model.evaluate(on: sets[0]).predictions, label)
            }
        }
    }

    /// The same comparison for the GRU, whose sparse rows hold r, z and the candidate's
    /// x and h sides apart (four a unit); with 1 and 2 threads, tanh and relu, rows and columns.
    func testSparseInferenceMatchesDenseMaskedGRU() {
        let sets = [images(100, seed: 8, height: 5, width: 4), images(21, seed: 9, height: 5, width: 4)]
        for (activation, sequence, threads) in [(RecurrentActivation.tanh, SequenceAxis.rows, 1), (.tanh, .columns, 2),
                                                (.relu, .rows, 2)] {
            let label = "gru \(activation) \(sequence) threads \(threads)"
            let model = SequenceClassifier(config: config(.gru, activation: activation, sequence: sequence, hidden: 20,
                                                          dropout: 0.3, height: 5, width: 4),
                                           seed: 11, pool: ThreadPool(threads: threads))
            for sparsity in [0.0, 0.8] {
                if sparsity > 0 { prune(model, .sparsity(sparsity)) }
                let sparse = SparseSequenceModel(model)
                let nonzero = weightMatrices(model).reduce(0) { sum, p in sum + p.value.array.filter { $0 != 0 }.count }
                XCTAssertEqual(sparse.nonzeroWeights, nonzero, "\(label): the zero blocks of the padded rows are not stored")
                for data in sets {
                    let dense = logits(model, data)
                    let ours = Array(0..<data.count).withUnsafeBufferPointer { sparse.logits(data, indices: $0) }
                    XCTAssertEqual(ours.count, dense.count)
                    let scale = dense.map(abs).max()!
                    for (a, b) in zip(ours, dense) {
                        XCTAssert(isClose(a, b, relative: 1e-4, absolute: 1e-5 * scale), "\(label) sparsity \(sparsity): \(a) vs dense \(b)")
                    }
                }
                XCTAssertEqual(sparse.predict(sets[0], batchSize: 40).predictions, model.evaluate(on: sets[0]).predictions, label)
            }
            XCTAssertEqual(evaluatePruned(model, on: sets[0]).predictions, model.evaluate(on: sets[0]).predictions, label)
        }
    }
}
