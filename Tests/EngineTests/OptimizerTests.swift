import XCTest
@testable import Engine
import TestSupport

/// Optimizers beyond their PyTorch known answers (ReferenceTests): the settings, masks
/// (pruned weights stay 0, the kept-only Adam step equals the full masked one) and
/// thread counts.
final class OptimizerTests: XCTestCase {
    /// With weightDecay 0 each factory builds exactly the optimizer it did before decay
    /// existed, and every kind is built.
    func testOptimizerSettingsFactories() throws {
        XCTAssertEqual(OptimizerSettings.adam(learningRate: 0.01),
                       OptimizerSettings(kind: .adam, learningRate: 0.01, momentum: 0.9, weightDecay: 0))
        XCTAssertEqual(OptimizerSettings.sgd(learningRate: 0.1, momentum: 0.5),
                       OptimizerSettings(kind: .sgd, learningRate: 0.1, momentum: 0.5, weightDecay: 0))
        let adamW = OptimizerSettings.adamW(learningRate: 0.002, weightDecay: 0.01)
        XCTAssertEqual([adamW.kind.rawValue, "\(adamW.weightDecay)"], ["adamw", "0.01"])
        let w = [Parameter(name: "w", shape: [3], isWeightMatrix: true)]
        for kind in OptimizerKind.allCases {
            let optimizer = OptimizerSettings(kind: kind, learningRate: 0.1, weightDecay: 0.2).make(for: w)
            switch kind {
            case .adam, .adamw:
                let adam = try XCTUnwrap(optimizer as? Adam)
                XCTAssertEqual(adam.decoupledWeightDecay, kind == .adamw)
                XCTAssertEqual(adam.weightDecay, 0.2)
            case .sgd:
                XCTAssertEqual(try XCTUnwrap(optimizer as? SGD).weightDecay, 0.2)
            }
        }
    }

    /// Adam visits only kept weights while a mask stays installed; that must give exactly
    /// what the full masked update gives, which it runs whenever the mask is new, and
    /// neither may depend on how many threads share the step.
    func testAdamKeptOnlyStepsEqualFullMaskedSteps() {
        // 1 in 20 kept: pruned past 15/16, where Adam takes the kept-only path.
        checkStepsUnderAnInstalledMaskEqualFullMaskedSteps((0..<300).map { $0 % 20 == 0 ? 1 : 0 })
    }

    /// Below 15/16, steps under a mask already applied are the dense step over state that
    /// holds v = +inf where pruned; they must equal steps under a mask installed afresh every
    /// step bit for bit, on any thread count.
    func testAdamStepsUnderAnAppliedMaskEqualStepsUnderAFreshMask() {
        var bits = SeededGenerator(seed: 21)
        checkStepsUnderAnInstalledMaskEqualFullMaskedSteps((0..<300).map { _ in bits.uniform(0, 1) < 0.55 ? 0 : 1 })
        checkStepsUnderAnInstalledMaskEqualFullMaskedSteps((0..<300).map { $0 % 3 == 0 ? 0 : 1 })
    }

    private func checkStepsUnderAnInstalledMaskEqualFullMaskedSteps(_ mask: [Float], file: StaticString = #filePath,
                                                                     line: UInt = #line) {
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
            // Pruned weights are +0 exactly (not -0, not a tiny step): 5 gradients reached them.
            XCTAssert(zip(masked, mask).allSatisfy { $1 == 1 || $0.bitPattern == 0 } && zip(masked, start).contains { $0 != $1 })
            // The kept-only steps keep m and v compact; dense steps need them back in place.
            // A pruned position starts afresh (m = v = 0), so its first step is Adam's first
            // update from 0 at this step count: -lr/(1-β1^t)·(1-β1)g / (√((1-β2)g²)/√(1-β2^t) + ε).
            w.clearMask()
            for (k, gradient) in gradients.prefix(2).enumerated() {
                for i in 0..<300 { w.gradient[i] = gradient[i] }
                adam.step(pool: pool)
                guard k == 0 else { continue }
                let t = Double(adam.stepCount)
                for i in 0..<300 where mask[i] == 0 {
                    let g = Double(gradient[i])
                    let expected = -0.01 / (1 - pow(0.9, t)) * 0.1 * g / ((0.001 * g * g).squareRoot() / (1 - pow(0.999, t)).squareRoot() + 1e-8)
                    XCTAssertEqual(Double(w.value[i]), expected, accuracy: 1e-6 * abs(expected), "[\(i)] restarts after the mask goes",
                                   file: file, line: line)
                }
            }
            return (masked.map(\.bitPattern), w.value.array.map(\.bitPattern))
        }
        let kept = run(reinstallEveryStep: false, threads: 1), full = run(reinstallEveryStep: true, threads: 1)
        XCTAssertEqual(kept.masked, full.masked, file: file, line: line)
        XCTAssertEqual(kept.unmasked, full.unmasked, file: file, line: line)
        for threads in [2, 3] {
            for reinstall in [false, true] {
                let other = run(reinstallEveryStep: reinstall, threads: threads)
                XCTAssertEqual(other.masked, kept.masked, "reinstalled \(reinstall), \(threads) threads", file: file, line: line)
                XCTAssertEqual(other.unmasked, kept.unmasked, "reinstalled \(reinstall), \(threads) threads, unmasked",
                               file: file, line: line)
            }
        }
    }

    /// Weight decay (Adam's L2, AdamW's decoupled, SGD's L2) never moves a pruned weight:
    /// decay of a zero weight is zero. Checked on Adam's vector pass (a mask pruning
    /// half) and on its kept-only pass (a mask pruning 19 in 20), where the kept-only steps
    /// must also equal full masked steps bit for bit, for any thread count.
    func testWeightDecayKeepsPrunedWeightsZero() {
        var g = SeededGenerator(seed: 21)
        let start = (0..<300).map { _ in g.uniform(-1, 1) }
        let gradients = (0..<5).map { _ in (0..<300).map { _ in g.uniform(-1, 1) } }
        let settings: [OptimizerSettings] = [.adam(learningRate: 0.01, weightDecay: 0.1),
                                             .adamW(learningRate: 0.01, weightDecay: 0.5),
                                             .sgd(learningRate: 0.05, momentum: 0.9, weightDecay: 0.1)]
        for setting in settings {
            for keepEvery in [2, 20] {
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
                        // Adam's pruned weights are +0 exactly; SGD's, multiplied by the mask, ±0.
                        if setting.kind == .sgd {
                            XCTAssertEqual(Float(bitPattern: kept[i]), 0, "\(label): [\(i)] stays pruned")
                        } else {
                            XCTAssertEqual(kept[i], 0, "\(label): [\(i)] stays pruned, +0 exactly")
                        }
                    } else {
                        XCTAssertNotEqual(Float(bitPattern: kept[i]), start[i], "\(label): [\(i)] keeps learning")
                    }
                }
                XCTAssertEqual(run(reinstallEveryStep: true, threads: 1), kept, "\(label): kept-only = full masked steps")
                XCTAssertEqual(run(reinstallEveryStep: false, threads: 3), kept, "\(label): 3 threads")
            }
        }
    }
}
