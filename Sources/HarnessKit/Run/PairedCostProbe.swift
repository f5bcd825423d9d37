import Engine
import Foundation

/// Measures what the dense base model and the pruned model cost, side by side in one
/// process: the same training batches and test images, rounds alternating which model goes
/// first, medians over the rounds. The step times a job records while retraining are not
/// comparable with its base job's: that ran at another time, under another load (the paper's
/// Table 3 compared exactly such figures). Here both sides see the same conditions, so their
/// ratio is the pruning's, not the machine's.
///
/// Training steps run on throwaway trainers (fresh optimizers over the given models, which
/// they change: pass models whose results are already recorded). The first round warms
/// buffers and caches and is not counted.
struct PairedCostProbe {
    /// Counted rounds (one more runs first, uncounted).
    var rounds = 5
    /// Training batches per model and round.
    var batchesPerRound = 4
    /// Test images inferred per model and round.
    var inferenceImages = 1000

    /// `prunedIsMasked`: the pruned model holds its pruned weights as masked zeros (magnitude
    /// and gradual), so its inference goes through `evaluatePruned`'s sparse path; a model
    /// rebuilt smaller (units) is a dense model. `stepsPerEpoch` turns a step's CPU time into
    /// an epoch's.
    func measure(dense: Classifier, pruned: Classifier, train: ImageSet, test: ImageSet,
                 options: TrainingOptions, stepsPerEpoch: Int) throws -> PairedCosts {
        let batch = min(options.batchSize, train.count)
        let trainSubset = train.prefix(batch * batchesPerRound), testSubset = test.prefix(inferenceImages)
        let oneEpoch = TrainingOptions(epochs: 1, batchSize: options.batchSize, optimizer: options.optimizer, seed: options.seed)
        let trainers = [Trainer(model: dense, options: oneEpoch), Trainer(model: pruned, options: oneEpoch)]
        var optimizer: [[Double]] = [[], []], step: [[Double]] = [[], []], cpu: [[Double]] = [[], []]
        var inference: [[Double]] = [[], []]
        for round in 0...rounds {
            // Alternate the order, so neither side always runs on a cache the other warmed.
            for side in round % 2 == 0 ? [0, 1] : [1, 0] {
                let history = try trainers[side].train(on: trainSubset)
                let evaluation = side == 0 ? dense.evaluate(on: testSubset, batchSize: options.batchSize)
                    : evaluatePruned(pruned, on: testSubset, batchSize: options.batchSize)
                guard round > 0, history.steps > 0 else { continue }
                optimizer[side].append(history.meanStepSeconds)
                step[side].append(history.trainSeconds / Double(history.steps))
                cpu[side].append(history.trainCPUSeconds / Double(history.steps))
                inference[side].append(evaluation.seconds / Double(max(1, testSubset.count)))
            }
        }
        func side(_ index: Int, _ model: Classifier) -> PairedCosts.Side {
            let stepCPU = median(cpu[index])
            return PairedCosts.Side(optimizerStepSeconds: median(optimizer[index]),
                                    trainStepSeconds: median(step[index]), trainStepCPUSeconds: stepCPU,
                                    epochCPUSeconds: stepCPU * Double(stepsPerEpoch),
                                    inferenceSecondsPerSample: median(inference[index]),
                                    flopsPerSample: effectiveForwardFlopsPerSample(model),
                                    parameters: model.parameterCount,
                                    nonzeroParameters: modelSparsity(model).nonzeroParameters)
        }
        return PairedCosts(dense: side(0, dense), pruned: side(1, pruned))
    }
}
