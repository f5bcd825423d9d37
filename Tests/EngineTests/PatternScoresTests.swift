import XCTest
@testable import Engine

/// Pattern scores (EL2N, forgetting events), the choice of the highest-scoring patterns, the
/// active pattern set, and the trainer's hooks they use, on hand-checked examples.
final class PatternScoresTests: SmallModelTestCase {
    /// EL2N = ‖softmax(z) − onehot(y)‖₂, by hand:
    ///   z = (0, 0), y = 0:      p = (.5, .5),   error (−.5, .5)     → √0.5
    ///   z = (ln 3, 0), y = 1:   p = (.75, .25), error (.75, −.75)   → √1.125
    ///   z = (0, 0, 0), y = 2:   p = 1/3 each,   error (1/3, 1/3, −2/3) → √(6/9)
    ///   z = (30, 0), y = 0:     p ≈ (1, e^−30): nearly 0, and no overflow
    func testEL2NOfHandCheckedLogits() {
        func score(_ logits: [Float], _ label: Int) -> Float {
            logits.withUnsafeBufferPointer { el2n(logits: $0.baseAddress!, label: label, classes: logits.count) }
        }
        XCTAssertEqual(score([0, 0], 0), Float(0.5.squareRoot()), accuracy: 1e-7)
        XCTAssertEqual(score([Float(log(3.0)), 0], 1), Float(1.125.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(score([0, 0, 0], 2), Float((6.0 / 9).squareRoot()), accuracy: 1e-7)
        XCTAssertEqual(score([30, 0], 0), Float(2.0.squareRoot() * exp(-30.0)), accuracy: 1e-12)
        XCTAssertEqual(score([-1000, 1000], 0), Float(2.0.squareRoot()), accuracy: 1e-7)
    }

    /// A model's EL2N scores are its logits' EL2N pattern by pattern, whatever the batch size.
    func testEL2NScoresOfAModelFollowItsLogits() throws {
        let model = try makeModel(config(), seed: 3, threads: 1)
        let data = images(11, seed: 4)
        let logits = logits(model, data)
        let expected = (0..<data.count).map { i in
            logits.withUnsafeBufferPointer { el2n(logits: $0.baseAddress! + i * 5, label: Int(data.labels[i]), classes: 5) }
        }
        XCTAssertEqual(el2nScores(model, on: data, batchSize: 4), expected)
        XCTAssertEqual(el2nScores(model, on: data, batchSize: 100), expected)
        XCTAssert(expected.allSatisfy { $0 > 0 && $0 < Float(2.0.squareRoot()) })
    }

    /// Forgetting: an event is a correct presentation followed by a wrong one; a pattern
    /// never classified correctly counts its presentations; the last loss orders ties.
    func testForgettingCountsEventsAndRanksNeverLearnedHighest() {
        var counter = ForgettingCounter(patterns: 4)
        let history: [[(correct: Bool, loss: Float)]] = [
            [(true, 0.1), (false, 2.0), (true, 0.2), (false, 1.0)],  // forgotten twice
            [(false, 3.0), (false, 2.5), (false, 2.2), (false, 2.0)],  // never learned
            [(true, 0.1), (true, 0.1), (true, 0.05), (true, 0.5)],    // learned, never forgotten
            [(false, 1.0), (true, 0.3), (true, 0.2), (true, 1.0)],    // learned late, never forgotten
        ]
        for presentation in 0..<4 {
            for (index, pattern) in history.enumerated() {
                counter.record(PatternPresentation(index: index, loss: pattern[presentation].loss,
                                                   correct: pattern[presentation].correct))
            }
        }
        XCTAssertEqual(counter.events, [2, 0, 0, 0])
        XCTAssertEqual(counter.learned, [true, false, true, true])
        let expected: [Float] = [2 + Float(1) / 2, 4 + Float(2) / 3, Float(0.5) / Float(1.5), Float(1) / 2]
        XCTAssertEqual(counter.scores, expected)
        XCTAssertEqual(highestScoring(counter.scores, keep: 2), [0, 1])
        XCTAssertEqual(highestScoring(counter.scores, keep: 1), [1], "never learned ranks first")
    }

    /// The kept patterns: the highest scores after the hardest are dropped, ties to the lower
    /// index, returned in index order.
    func testHighestScoringKeepsTopAfterDroppingHardest() {
        let scores: [Float] = [0.5, 0.9, 0.1, 0.9, 0.7, 0.3]
        XCTAssertEqual(highestScoring(scores, keep: 3), [1, 3, 4])
        XCTAssertEqual(highestScoring(scores, keep: 1), [1], "a tie goes to the lower index")
        XCTAssertEqual(highestScoring(scores, keep: 2, dropHardest: 1), [3, 4])
        XCTAssertEqual(highestScoring(scores, keep: 3, dropHardest: 2), [0, 4, 5])
        // Dropping 5 and keeping 3 of 6 is impossible: only 3 are dropped.
        XCTAssertEqual(highestScoring(scores, keep: 3, dropHardest: 5), [0, 2, 5])
        XCTAssertEqual(highestScoring(scores, keep: 6), Array(0..<6))
        XCTAssertEqual(highestScoring(scores, keep: 0), [])
    }

    /// The active set: all patterns at first; then those whose last loss is >= the threshold,
    /// plus every pattern left out for `revisit` epochs.
    func testActiveSetShrinksAndRevisits() {
        var active = ActivePatternSet(patterns: 4, threshold: 0.5, revisit: 3)
        func train(_ epoch: Int, losses: [Int: Float]) -> [Int] {
            let patterns = active.patterns(forEpoch: epoch)
            for index in patterns { active.record(PatternPresentation(index: index, loss: losses[index]!, correct: true)) }
            return patterns
        }
        XCTAssertEqual(train(1, losses: [0: 0.1, 1: 0.9, 2: 0.2, 3: 0.5]), [0, 1, 2, 3])
        // 0 and 2 were learned (loss below 0.5); 3 sits at the threshold and stays.
        XCTAssertEqual(train(2, losses: [1: 0.4, 3: 0.6]), [1, 3])
        XCTAssertEqual(train(3, losses: [3: 0.2]), [3])
        // Epoch 4: 0 and 2 were last trained in epoch 1, three epochs ago: revisited. 1 (epoch 2) waits.
        XCTAssertEqual(train(4, losses: [0: 0.8, 2: 0.1]), [0, 2])
        XCTAssertEqual(train(5, losses: [0: 0.3, 1: 0.3]), [0, 1])
        // Epoch 6: 3 was last trained in epoch 3; 0 and 1 learned in 5, 2 learned in 4.
        XCTAssertEqual(train(6, losses: [3: 0.1]), [3])
        // revisit 1 trains everything every epoch.
        var everyEpoch = ActivePatternSet(patterns: 3, threshold: 10, revisit: 1)
        _ = everyEpoch.patterns(forEpoch: 1)
        for i in 0..<3 { everyEpoch.record(PatternPresentation(index: i, loss: 0, correct: true)) }
        XCTAssertEqual(everyEpoch.patterns(forEpoch: 2), [0, 1, 2])
    }

    /// The trainer trains each epoch on the patterns asked for, shows each exactly once to
    /// `observe` with its loss and correctness, and counts them in the epoch's summary.
    /// Without `patterns` it trains on all of them, as before the hook existed.
    func testTrainerTrainsTheEpochsPatternsAndObservesEach() throws {
        let data = images(23, seed: 5)
        let options = TrainingOptions(epochs: 2, batchSize: 5, optimizer: .adam(learningRate: 0.01), seed: 6)
        let model = try makeModel(config(), seed: 7, threads: 1)
        var seen: [[Int]] = [[], []]
        var epoch = 0
        var lossSum = 0.0
        let subsets = [Array(0..<23), [1, 4, 9, 16, 22, 3, 0]]
        let history = try Trainer(model: model, options: options).train(
            on: data, patterns: { e in epoch = e - 1; return subsets[e - 1] },
            observe: { presentation in
                seen[epoch].append(presentation.index)
                if epoch == 1 { lossSum += Double(presentation.loss) }
                XCTAssert(presentation.loss > 0 && presentation.loss.isFinite)
            })
        XCTAssertEqual(seen.map { $0.sorted() }, subsets.map { $0.sorted() })
        XCTAssertEqual(history.epochs.map(\.patterns), [23, 7])
        XCTAssertEqual(history.steps, 5 + 2)
        XCTAssertEqual(history.epochs[1].meanLoss, lossSum / 7, accuracy: 1e-5, "the mean over the epoch's patterns")

        // No `patterns`: the same weights as a trainer that never heard of the hook would give.
        let a = try makeModel(config(), seed: 7, threads: 1), b = try makeModel(config(), seed: 7, threads: 1)
        _ = try Trainer(model: a, options: options).train(on: data)
        _ = try Trainer(model: b, options: options).train(on: data, patterns: { _ in Array(0..<23) }, observe: { _ in })
        XCTAssertEqual(a.parameters.flatMap(\.value.array), b.parameters.flatMap(\.value.array))
    }
}
