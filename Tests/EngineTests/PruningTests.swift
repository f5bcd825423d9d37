import XCTest
@testable import Engine
import TestSupport

/// Magnitude pruning, masked retraining, sparse inference and checkpoints.
final class PruningTests: XCTestCase {
    let pool1 = ThreadPool(threads: 1)

    // MARK: helpers

    /// A small two-layer model with a hidden dense layer; non-square images so rows and columns differ.
    func config(_ kind: ModelConfig.Kind = .lstm, activation: RecurrentActivation = .tanh, sequence: SequenceAxis = .rows,
                hidden: Int = 12, dropout: Float = 0, height: Int = 7, width: Int = 6) -> ModelConfig {
        ModelConfig(kind: kind, layers: 2, hidden: hidden, activation: activation, sequence: sequence, dense: [9],
                    dropout: dropout, classes: 5, imageHeight: height, imageWidth: width)
    }

    func images(_ count: Int, seed: UInt64, height: Int = 7, width: Int = 6, classes: Int = 5) -> ImageSet {
        var g = SeededGenerator(seed: seed)
        return ImageSet(pixels: (0..<(count * height * width)).map { _ in UInt8(g.nextInt(below: 256)) },
                        labels: (0..<count).map { UInt8($0 % classes) }, height: height, width: width)
    }

    func logits(_ model: Classifier, _ data: ImageSet) -> [Float] {
        let indices = Array(0..<data.count)
        return indices.withUnsafeBufferPointer { idx in
            Array(UnsafeBufferPointer(start: model.forward(data, indices: idx, training: false),
                                      count: data.count * model.config.classes))
        }
    }

    func weightMatrices(_ model: Classifier) -> [Parameter] { model.parameters.filter(\.isWeightMatrix) }

    // MARK: pruning

    func testThresholdPrunesExactlyTheWeightsBelowIt() {
        let model = SequenceClassifier(config: config(), seed: 1, pool: pool1)
        let threshold: Float = 0.15
        let before = model.parameters.map(\.value.array)
        // The expected outcome, counted from the values alone.
        var expectedPruned = 0, expectedTotal = 0, expectedNonzero = 0
        var expectedLayer: [String: Double] = [:]
        for (parameter, values) in zip(model.parameters, before) {
            let small = values.filter { abs($0) < threshold }.count
            if parameter.isWeightMatrix {
                expectedPruned += small
                expectedTotal += values.count
                expectedLayer[parameter.name] = Double(small) / Double(values.count)
                expectedNonzero += values.filter { abs($0) >= threshold }.count
            } else {
                expectedNonzero += values.filter { $0 != 0 }.count
            }
        }
        XCTAssert(expectedPruned > expectedTotal / 10 && expectedPruned < expectedTotal * 9 / 10, "a meaningful threshold")

        let report = prune(model, .threshold(threshold))
        XCTAssertEqual(report.prunedCount, expectedPruned)
        XCTAssertEqual(report.prunableCount, expectedTotal)
        XCTAssertEqual(report.globalSparsity, Double(expectedPruned) / Double(expectedTotal))
        XCTAssertEqual(report.layerSparsity, expectedLayer)
        XCTAssertEqual(report.nonzeroParameters, expectedNonzero)
        XCTAssertEqual(report, pruningReport(model), "the report describes the installed masks")
        for (parameter, values) in zip(model.parameters, before) {
            guard parameter.isWeightMatrix else {
                XCTAssertNil(parameter.mask, parameter.name)
                XCTAssertEqual(parameter.value.array, values, "\(parameter.name) is a bias and untouched")
                continue
            }
            let mask = parameter.mask!.array
            for i in 0..<values.count {
                if abs(values[i]) < threshold {
                    XCTAssertEqual(mask[i], 0); XCTAssertEqual(parameter.value[i], 0)
                } else {
                    XCTAssertEqual(mask[i], 1); XCTAssertEqual(parameter.value[i].bitPattern, values[i].bitPattern)
                }
            }
        }
    }

    func testSparsityTargetIsExactWithTiesBrokenByPosition() {
        for sparsity in [0.0, 0.1, 0.37, 0.5, 0.8, 0.9, 1.0] {
            let model = SequenceClassifier(config: config(), seed: 2, pool: pool1)
            // Every third weight gets magnitude 0.1: long runs of ties that the cut falls into.
            var global: [(magnitude: Float, position: Int)] = []
            for parameter in weightMatrices(model) {
                for i in stride(from: 0, to: parameter.count, by: 3) { parameter.value[i] = i % 2 == 0 ? 0.1 : -0.1 }
                for i in 0..<parameter.count { global.append((abs(parameter.value[i]), global.count)) }
            }
            let target = Int((sparsity * Double(global.count)).rounded())
            let cut = Set(global.sorted { ($0.magnitude, $0.position) < ($1.magnitude, $1.position) }.prefix(target).map(\.position))

            let report = prune(model, .sparsity(sparsity))
            XCTAssertEqual(report.prunedCount, target, "sparsity \(sparsity)")
            XCTAssertEqual(report.globalSparsity, Double(target) / Double(global.count), accuracy: 1e-12)
            var position = 0
            for parameter in weightMatrices(model) {
                let mask = parameter.mask!
                for i in 0..<parameter.count {
                    XCTAssertEqual(mask[i], cut.contains(position) ? 0 : 1, "sparsity \(sparsity): \(parameter.name)[\(i)]")
                    position += 1
                }
            }
        }
    }

    func testBiasesAreNeverPruned() {
        let model = SequenceClassifier(config: config(.rnn), seed: 3, pool: pool1)
        let biases = model.parameters.filter { !$0.isWeightMatrix }
        let before = biases.map(\.value.array)
        let report = prune(model, .threshold(100))
        XCTAssertEqual(report.globalSparsity, 1)
        XCTAssertEqual(report.nonzeroParameters, before.joined().filter { $0 != 0 }.count)
        XCTAssertEqual(biases.map(\.value.array), before)
        XCTAssert(biases.allSatisfy { $0.mask == nil })
        XCTAssertEqual(prune(model, .sparsity(1)).nonzeroParameters, report.nonzeroParameters)
    }

    func testPrunedWeightsStayZeroThroughRetraining() throws {
        let data = images(60, seed: 4)
        for settings in [OptimizerSettings.adam(learningRate: 0.01), .sgd(learningRate: 0.05, momentum: 0.9)] {
            let model = SequenceClassifier(config: config(dropout: 0.2), seed: 5, pool: pool1)
            let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 10, optimizer: settings, seed: 6))
            // Train first, so the optimizer carries momentum for weights about to be pruned.
            _ = try trainer.train(on: data)
            prune(model, .sparsity(0.6))
            let pruned = weightMatrices(model).map { p in (0..<p.count).filter { p.mask![$0] == 0 } }
            let kept = model.parameters.map(\.value.array)
            _ = try trainer.train(on: data, epochs: 2)
            var moved = 0, keptCount = 0
            for (parameter, cut) in zip(weightMatrices(model), pruned) {
                for i in cut { XCTAssertEqual(parameter.value[i], 0, "\(settings): \(parameter.name)[\(i)] stays pruned") }
                let mask = parameter.mask!
                XCTAssertEqual((0..<parameter.count).filter { mask[$0] == 0 }, cut, "the mask is unchanged")
            }
            for (parameter, old) in zip(model.parameters, kept) {
                for i in 0..<parameter.count where parameter.mask?[i] ?? 1 == 1 {
                    keptCount += 1
                    if parameter.value[i] != old[i] { moved += 1 }
                }
            }
            XCTAssertGreaterThan(moved, keptCount * 9 / 10, "\(settings): unpruned weights keep learning")
        }
    }

    /// Adam visits only kept weights while a mask stays installed; that must give exactly
    /// what the full masked update gives, which it runs whenever the mask is new, and
    /// neither may depend on how many threads share the step.
    func testAdamKeptOnlyStepsEqualFullMaskedSteps() {
        // 1 in 10 kept: pruned past 7/8, where Adam takes the kept-only path.
        let mask: [Float] = (0..<300).map { $0 % 10 == 0 ? 1 : 0 }
        var g = SeededGenerator(seed: 20)
        let start = (0..<300).map { _ in g.uniform(-1, 1) }
        let gradients = (0..<5).map { _ in (0..<300).map { _ in g.uniform(-1, 1) } }
        /// The weights after the masked steps, and after two dense steps once the mask is gone.
        func run(reinstallEveryStep: Bool, threads: Int) -> (masked: [UInt32], unmasked: [UInt32]) {
            let pool = ThreadPool(threads: threads)
            let w = Parameter(name: "w", shape: [20, 15], isWeightMatrix: true)
            for i in 0..<300 { w.value[i] = start[i] }
            let adam = Adam(parameters: [w], learningRate: 0.01)
            // A dense step first, so the moments are non-zero where the mask will prune.
            for i in 0..<300 { w.gradient[i] = gradients[0][i] }
            adam.step(pool: pool)
            w.setMask(mask)
            for gradient in gradients.dropFirst() {
                if reinstallEveryStep { w.setMask(mask) }
                for i in 0..<300 { w.gradient[i] = gradient[i] }
                adam.step(pool: pool)
                XCTAssert(w.gradient.array.allSatisfy { $0 == 0 }, "the step zeroes the gradient")
            }
            let masked = w.value.array
            XCTAssert(zip(masked, mask).allSatisfy { $1 == 1 || $0 == 0 } && zip(masked, start).contains { $0 != $1 })
            // The kept-only steps keep m and v compact; dense steps need them back in place.
            w.clearMask()
            for gradient in gradients.prefix(2) {
                for i in 0..<300 { w.gradient[i] = gradient[i] }
                adam.step(pool: pool)
            }
            return (masked.map(\.bitPattern), w.value.array.map(\.bitPattern))
        }
        let kept = run(reinstallEveryStep: false, threads: 1), full = run(reinstallEveryStep: true, threads: 1)
        XCTAssertEqual(kept.masked, full.masked)
        XCTAssertEqual(kept.unmasked, full.unmasked)
        for threads in [2, 3] {
            for reinstall in [false, true] {
                let other = run(reinstallEveryStep: reinstall, threads: threads)
                XCTAssertEqual(other.masked, kept.masked, "reinstalled \(reinstall), \(threads) threads")
                XCTAssertEqual(other.unmasked, kept.unmasked, "reinstalled \(reinstall), \(threads) threads, unmasked")
            }
        }
    }

    /// Weight decay (Adam's L2, AdamW's decoupled, SGD's L2) never moves a pruned weight:
    /// decay of a zero weight is zero. Checked on Adam's full masked pass (a mask pruning
    /// half) and on its kept-only pass (a mask pruning 9 in 10), where the kept-only steps
    /// must also equal full masked steps bit for bit, for any thread count.
    func testWeightDecayKeepsPrunedWeightsZero() {
        var g = SeededGenerator(seed: 21)
        let start = (0..<300).map { _ in g.uniform(-1, 1) }
        let gradients = (0..<5).map { _ in (0..<300).map { _ in g.uniform(-1, 1) } }
        let settings: [OptimizerSettings] = [.adam(learningRate: 0.01, weightDecay: 0.1),
                                             .adamW(learningRate: 0.01, weightDecay: 0.5),
                                             .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 0.1)]
        for setting in settings {
            for keepEvery in [2, 10] {
                let mask: [Float] = (0..<300).map { $0 % keepEvery == 0 ? 1 : 0 }
                func run(reinstallEveryStep: Bool, threads: Int) -> [UInt32] {
                    let pool = ThreadPool(threads: threads)
                    let w = Parameter(name: "w", shape: [20, 15], isWeightMatrix: true)
                    for i in 0..<300 { w.value[i] = start[i] }
                    let optimizer = setting.make(for: [w])
                    // A dense step first, so the optimizer's state is non-zero where the mask will prune.
                    for i in 0..<300 { w.gradient[i] = gradients[0][i] }
                    optimizer.step(pool: pool)
                    w.setMask(mask)
                    for gradient in gradients.dropFirst() {
                        if reinstallEveryStep { w.setMask(mask) }
                        for i in 0..<300 { w.gradient[i] = gradient[i] }
                        optimizer.step(pool: pool)
                    }
                    return w.value.array.map(\.bitPattern)
                }
                let label = "\(setting.kind) keeping 1 in \(keepEvery)"
                let kept = run(reinstallEveryStep: false, threads: 1)
                for i in 0..<300 {
                    if mask[i] == 0 {
                        XCTAssertEqual(Float(bitPattern: kept[i]), 0, "\(label): [\(i)] stays pruned")
                    } else {
                        XCTAssertNotEqual(Float(bitPattern: kept[i]), start[i], "\(label): [\(i)] keeps learning")
                    }
                }
                XCTAssertEqual(run(reinstallEveryStep: true, threads: 1), kept, "\(label): kept-only = full masked steps")
                XCTAssertEqual(run(reinstallEveryStep: false, threads: 3), kept, "\(label): 3 threads")
            }
        }
    }

    func testHistogramsCountEveryNonzeroWeight() {
        let model = SequenceClassifier(config: config(), seed: 7, pool: pool1)
        prune(model, .sparsity(0.7))
        let matrices = weightMatrices(model)
        let largest = matrices.flatMap(\.value.array).map(abs).max()!
        for skipZeros in [true, false] {
            let histograms = weightHistograms(model, bins: 50, skipZeros: skipZeros)
            XCTAssertEqual(histograms.map(\.layer), matrices.map(\.name) + ["all"])
            var sum = 0
            for (histogram, parameter) in zip(histograms, matrices) {
                let expected = skipZeros ? parameter.value.array.filter { $0 != 0 }.count : parameter.count
                XCTAssertEqual(histogram.total, expected, "\(parameter.name), skipZeros \(skipZeros)")
                XCTAssertEqual(histogram.counts.count, 50)
                sum += expected
            }
            XCTAssertEqual(histograms.last!.total, sum)
            for histogram in histograms {
                XCTAssertEqual(histogram.upper, Double(largest))
                XCTAssertEqual(histogram.lower, -Double(largest))
            }
        }
    }

    // MARK: sparse inference

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

    /// Magnitude pruning reaches the GRU's weight matrices (not its biases), and masked
    /// retraining with each optimizer keeps the pruned weights at 0 while the rest learn.
    func testPrunedGRUWeightsStayZeroThroughRetraining() throws {
        let data = images(60, seed: 4)
        for settings in [OptimizerSettings.adam(learningRate: 0.01), .adamW(learningRate: 0.01, weightDecay: 0.1),
                         .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 0.01)] {
            let model = SequenceClassifier(config: config(.gru, dropout: 0.2), seed: 5, pool: pool1)
            let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 10, optimizer: settings, seed: 6))
            _ = try trainer.train(on: data)
            let report = prune(model, .sparsity(0.9))
            XCTAssertEqual(report.layerSparsity.keys.sorted(), weightMatrices(model).map(\.name).sorted())
            XCTAssert(report.layerSparsity.keys.contains("gru.1.weight_hh"))
            let pruned = weightMatrices(model).map { p in (0..<p.count).filter { p.mask![$0] == 0 } }
            let before = weightMatrices(model).map(\.value.array)
            _ = try trainer.train(on: data, epochs: 2)
            var moved = 0, keptCount = 0
            for ((parameter, cut), old) in zip(zip(weightMatrices(model), pruned), before) {
                for i in cut { XCTAssertEqual(parameter.value[i], 0, "\(settings.kind): \(parameter.name)[\(i)] stays pruned") }
                // The head's pruned ReLU units can die, and their weights with them: count the GRU's.
                guard parameter.name.hasPrefix("gru.") else { continue }
                let kept = (0..<parameter.count).filter { parameter.mask![$0] == 1 }
                keptCount += kept.count
                moved += kept.filter { parameter.value[$0] != old[$0] }.count
            }
            XCTAssertGreaterThan(moved, keptCount * 9 / 10, "\(settings.kind): unpruned weights keep learning")
        }
    }

    // MARK: checkpoints

    /// A model trained, pruned and retrained, so values, masks and -0.0 all occur.
    func trainedPrunedModel(_ config: ModelConfig) throws -> SequenceClassifier {
        let model = SequenceClassifier(config: config, seed: 12, pool: pool1)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 10,
                                                                     optimizer: .adam(learningRate: 0.01), seed: 13))
        let data = images(30, seed: 14)
        _ = try trainer.train(on: data)
        prune(model, .sparsity(0.5))
        _ = try trainer.train(on: data)
        return model
    }

    func testCheckpointRoundTripIsBitExact() throws {
        let settings = config(.lstm, sequence: .columns, dropout: 0.25)
        let source = try trainedPrunedModel(settings)
        let bytes = checkpointData(source)
        XCTAssertEqual(Array(bytes.prefix(8)), Array("HNSCKPT1".utf8))

        let target = SequenceClassifier(config: settings, seed: 99, pool: pool1)
        XCTAssertNotEqual(target.parameters[0].value.array, source.parameters[0].value.array)
        try loadCheckpoint(bytes, into: target)
        for (a, b) in zip(source.parameters, target.parameters) {
            XCTAssertEqual(a.value.array.map(\.bitPattern), b.value.array.map(\.bitPattern), a.name)
            XCTAssertEqual(a.mask?.array.map(\.bitPattern), b.mask?.array.map(\.bitPattern), a.name)
        }
        XCTAssert(weightMatrices(target).allSatisfy { $0.mask != nil })
        let data = images(12, seed: 15)
        XCTAssertEqual(logits(source, data).map(\.bitPattern), logits(target, data).map(\.bitPattern))
        XCTAssertEqual(checkpointData(target), bytes, "saving the loaded model gives the same bytes")

        // An unpruned checkpoint clears the masks of the model it is loaded into.
        let unpruned = SequenceClassifier(config: settings, seed: 16, pool: pool1)
        try loadCheckpoint(checkpointData(unpruned), into: target)
        XCTAssert(target.parameters.allSatisfy { $0.mask == nil })
        XCTAssertEqual(target.parameters.map(\.value.array), unpruned.parameters.map(\.value.array))
    }

    func testGRUCheckpointRoundTripIsBitExact() throws {
        let settings = config(.gru, activation: .relu, dropout: 0.25)
        let source = try trainedPrunedModel(settings)
        let bytes = checkpointData(source)
        let target = SequenceClassifier(config: settings, seed: 99, pool: pool1)
        try loadCheckpoint(bytes, into: target)
        for (a, b) in zip(source.parameters, target.parameters) {
            XCTAssertEqual(a.value.array.map(\.bitPattern), b.value.array.map(\.bitPattern), a.name)
            XCTAssertEqual(a.mask?.array.map(\.bitPattern), b.mask?.array.map(\.bitPattern), a.name)
        }
        let data = images(12, seed: 15)
        XCTAssertEqual(logits(source, data).map(\.bitPattern), logits(target, data).map(\.bitPattern))
        XCTAssertEqual(checkpointData(target), bytes)
        // The kind is part of the config a checkpoint must match: an LSTM's parameters have other shapes anyway.
        assertRejected(bytes, into: SequenceClassifier(config: config(.rnn, activation: .relu, dropout: 0.25), seed: 1, pool: pool1),
                       .configMismatch(field: "kind", checkpoint: "gru", model: "rnn"), mentioning: "kind")
    }

    func assertRejected(_ bytes: [UInt8], into model: Classifier, _ expected: CheckpointError, mentioning text: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loadCheckpoint(bytes, into: model), file: file, line: line) { error in
            XCTAssertEqual(error as? CheckpointError, expected, file: file, line: line)
            XCTAssert("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testCorruptCheckpointsAreRejected() throws {
        let settings = config()
        let model = try trainedPrunedModel(settings)
        let bytes = checkpointData(model)
        let target = SequenceClassifier(config: settings, seed: 17, pool: pool1)
        let untouched = target.parameters.map(\.value.array)

        var badMagic = bytes
        badMagic[0] = UInt8(ascii: "X")
        assertRejected(badMagic, into: target, .badMagic(found: Array("XNSCKPT1".utf8)), mentioning: "HNSCKPT1")
        assertRejected(Array(bytes.dropLast(100)), into: target, .truncated(expected: bytes.count, actual: bytes.count - 100),
                       mentioning: "expected \(bytes.count) bytes")
        assertRejected(Array(bytes.prefix(12)), into: target, .truncated(expected: 24, actual: 12), mentioning: "truncated")
        assertRejected(Array(bytes.prefix(3)), into: target, .truncated(expected: 24, actual: 3), mentioning: "truncated")
        assertRejected(Array("{\"model\": 1}".utf8), into: target, .badMagic(found: Array("{\"model\"".utf8)),
                       mentioning: "not a harness checkpoint")
        assertRejected(bytes + [0], into: target, .trailingBytes(expected: bytes.count, actual: bytes.count + 1),
                       mentioning: "trailing")
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        XCTAssertThrowsError(try loadCheckpoint(flipped, into: target)) { error in
            guard case .checksumMismatch(let stored, let computed)? = error as? CheckpointError else {
                return XCTFail("\(error)")
            }
            XCTAssertNotEqual(stored, computed)
            XCTAssert("\(error)".contains("checksum"), "\(error)")
        }

        var other = settings
        other.hidden = 13
        assertRejected(bytes, into: SequenceClassifier(config: other, seed: 1, pool: pool1),
                       .configMismatch(field: "hidden", checkpoint: "12", model: "13"), mentioning: "hidden")
        other = settings
        other.sequence = .columns
        assertRejected(bytes, into: SequenceClassifier(config: other, seed: 1, pool: pool1),
                       .configMismatch(field: "sequence", checkpoint: "rows", model: "columns"), mentioning: "sequence")

        // Same config, different parameters: only a model other than the engine's own can differ so.
        let first = model.parameters[0]
        let sameFirst = Parameter(name: first.name, shape: first.shape, isWeightMatrix: true)
        let wrongShape = ParameterOnlyClassifier(config: settings, parameters: [sameFirst] + model.parameters.dropFirst().map {
            $0 === model.parameters[1] ? Parameter(name: $0.name, shape: [$0.shape[0] + 1, $0.shape[1]], isWeightMatrix: true) : $0
        })
        let p1 = model.parameters[1]
        assertRejected(bytes, into: wrongShape,
                       .parameterMismatch(index: 1, checkpoint: "\(p1.name) \(p1.shape)", model: "\(p1.name) \([p1.shape[0] + 1, p1.shape[1]])"),
                       mentioning: p1.name)
        XCTAssert(sameFirst.value.array.allSatisfy { $0 == 0 } && sameFirst.mask == nil,
                  "a rejected checkpoint writes nothing, not even the parameters that matched")
        assertRejected(bytes, into: ParameterOnlyClassifier(config: settings, parameters: Array(model.parameters.dropLast())),
                       .parameterCountMismatch(checkpoint: model.parameters.count, model: model.parameters.count - 1),
                       mentioning: "\(model.parameters.count) parameters")

        XCTAssertEqual(target.parameters.map(\.value.array), untouched, "failed loads leave the model as it was")
        XCTAssert(target.parameters.allSatisfy { $0.mask == nil })
    }
}

/// A classifier that is only a config and parameters: enough for checkpoints, which
/// never run a model. Lets tests build parameter lists the engine's models never have.
private final class ParameterOnlyClassifier: Classifier {
    let config: ModelConfig
    let parameters: [Parameter]
    let pool = ThreadPool(threads: 1)
    var forwardFlopsPerSample: Double { 0 }

    init(config: ModelConfig, parameters: [Parameter]) {
        self.config = config
        self.parameters = parameters
    }

    func forward(_ images: ImageSet, indices: UnsafeBufferPointer<Int>, training: Bool) -> UnsafePointer<Float> {
        preconditionFailure("checkpoint tests never run the model")
    }

    func backward(dLogits: UnsafePointer<Float>) { preconditionFailure("checkpoint tests never run the model") }
}
