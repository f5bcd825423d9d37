import XCTest
@testable import Engine
import TestSupport

/// Magnitude pruning, masked retraining and weight histograms.
final class PruningTests: SmallModelTestCase {
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
        XCTAssertEqual(report, modelSparsity(model), "the report describes the installed masks")
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

    // MARK: gradual pruning

    /// Zhu & Gupta's cubic schedule: s(t) = s_f (1 − t / (n Δt))³ from s_i = 0; with s_f = 0.8,
    /// Δt = 2 and the target at step 8: s(2) = 0.8 − 0.8·0.75³ = 0.4625, s(4) = 0.7, s(6) = 0.7875.
    func testGradualScheduleIsCubicAndReachesItsTarget() {
        let schedule = GradualPruning(target: 0.8, frequency: 2, start: 0, end: 9)
        XCTAssertEqual(schedule.end, 8, "rounded down to a pruning step")
        let expected: [(Int, Double)] = [(0, 0), (2, 0.4625), (4, 0.7), (6, 0.7875), (8, 0.8), (20, 0.8)]
        for (step, sparsity) in expected { XCTAssertEqual(schedule.sparsity(atStep: step), sparsity, accuracy: 1e-12, "step \(step)") }
        XCTAssertEqual((0..<12).filter(schedule.prunes(atStep:)), [0, 2, 4, 6, 8])
        // Sparsity never decreases.
        let values = (0...10).map(schedule.sparsity(atStep:))
        XCTAssertEqual(values, values.sorted())
        // Over retraining: the target is reached when the last epoch begins.
        let retraining = GradualPruning.overRetraining(target: 0.5, frequency: 5, steps: 30, stepsPerEpoch: 10)
        XCTAssertEqual(retraining.end, 20)
        XCTAssertEqual(retraining.sparsity(atStep: 20), 0.5)
        let single = GradualPruning.overRetraining(target: 0.5, frequency: 5, steps: 10, stepsPerEpoch: 10)
        XCTAssertEqual(single.sparsity(atStep: 0), 0.5, "one epoch: one-shot pruning at the first step")
        XCTAssertEqual((0..<10).filter(single.prunes(atStep:)), [0])
    }

    /// Pruning before each scheduled step during training ends at exactly the target, with
    /// every weight pruned on the way still zero.
    func testGradualPruningDuringTrainingEndsAtTheTarget() throws {
        let data = images(60, seed: 4)
        let model = SequenceClassifier(config: config(), seed: 5, pool: pool1)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 3, batchSize: 10,
                                                                     optimizer: .adam(learningRate: 0.01), seed: 6))
        let schedule = GradualPruning.overRetraining(target: 0.7, frequency: 2, steps: 18, stepsPerEpoch: 6)
        var reached: [Double] = []
        var everPruned: [Set<Int>] = weightMatrices(model).map { _ in [] }
        _ = try trainer.train(on: data, beforeStep: { step in
            guard schedule.prunes(atStep: step) else { return }
            reached.append(prune(model, .sparsity(schedule.sparsity(atStep: step))).globalSparsity)
            for (index, parameter) in weightMatrices(model).enumerated() {
                everPruned[index].formUnion((0..<parameter.count).filter { parameter.mask![$0] == 0 })
            }
        })
        XCTAssertEqual(reached.count, 7, "steps 0, 2, ..., 12")
        XCTAssertEqual(reached, reached.sorted())
        XCTAssertEqual(modelSparsity(model).globalSparsity, 0.7, accuracy: 1e-3)
        for (parameter, pruned) in zip(weightMatrices(model), everPruned) {
            for i in pruned { XCTAssertEqual(parameter.value[i], 0, "\(parameter.name)[\(i)] stays pruned") }
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
}
