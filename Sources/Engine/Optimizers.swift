import Foundation

/// Which optimizer to build, with its hyper-parameters.
public enum OptimizerSettings: Sendable, Equatable {
    /// torch.optim.Adam defaults: beta1 0.9, beta2 0.999, eps 1e-8.
    case adam(learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)
    /// torch.optim.SGD with momentum: v = momentum·v + g; w -= lr·v.
    case sgd(learningRate: Float, momentum: Float)

    public func make(for parameters: [Parameter]) -> Optimizer {
        switch self {
        case let .adam(lr, b1, b2, eps): return Adam(parameters: parameters, learningRate: lr, beta1: b1, beta2: b2, epsilon: eps)
        case let .sgd(lr, momentum): return SGD(parameters: parameters, learningRate: lr, momentum: momentum)
        }
    }
}

/// Updates parameters from their accumulated gradients, then zeroes the gradients.
/// Masked parameters stay exactly zero where pruned: the mask is applied to the
/// gradient before the update and to the optimizer's state and the value after it.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    func step()
}

extension Optimizer {
    public func zeroGradients() { for p in parameters { p.gradient.zero() } }
}

public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
    private let firstMoment: [FloatBuffer]   // m, same shape as each parameter
    private let secondMoment: [FloatBuffer]  // v
    /// Per parameter: the mask whose zeros w, m and v already hold, and the positions it
    /// keeps. Set by a full masked pass; while the parameter keeps that mask, a step
    /// only visits the kept positions, since the pruned ones would stay 0 anyway.
    private var maskedState: [(mask: FloatBuffer, kept: [Int32])?]
    public private(set) var stepCount = 0

    public init(parameters: [Parameter], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        firstMoment = parameters.map { FloatBuffer(count: $0.count) }
        secondMoment = parameters.map { FloatBuffer(count: $0.count) }
        maskedState = parameters.map { _ in nil }
    }

    public func step() {
        stepCount += 1
        // As torch.optim.Adam: w -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps).
        let correction1 = 1 - pow(Double(beta1), Double(stepCount))
        let correction2 = 1 - pow(Double(beta2), Double(stepCount))
        let stepSize = Float(Double(learningRate) / correction1)
        let rootCorrection2 = Float(correction2.squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for (index, parameter) in parameters.enumerated() {
            let w = parameter.value.pointer, g = parameter.gradient.pointer
            let m = firstMoment[index].pointer, v = secondMoment[index].pointer
            // Plain loops over pointers. On Linux, squareRoot() goes through C's sqrtf,
            // whose errno check keeps them scalar, so the square root and division are
            // most of a step's cost: a pruned step skips them for pruned weights.
            if let maskBuffer = parameter.mask {
                if let state = maskedState[index], state.mask === maskBuffer {
                    // Kept positions only; the same arithmetic as the masked pass with mask 1.
                    state.kept.withUnsafeBufferPointer { kept in
                        for position in kept {
                            let i = Int(position)
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            w[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
                        }
                    }
                } else {
                    // A new mask: applied to g before and to m, v, w after the update, in one
                    // pass; from then on w, m and v are 0 wherever it prunes.
                    let mask = maskBuffer.pointer
                    for i in 0..<parameter.count {
                        let gi = g[i] * mask[i]
                        let mi = b1 * m[i] + (1 - b1) * gi
                        let vi = b2 * v[i] + (1 - b2) * gi * gi
                        let wi = w[i] - stepSize * mi / (vi.squareRoot() / rootCorrection2 + eps)
                        m[i] = mi * mask[i]; v[i] = vi * mask[i]; w[i] = wi * mask[i]
                    }
                    precondition(parameter.count <= Int(Int32.max), "parameter too large to index")
                    maskedState[index] = (maskBuffer, (0..<parameter.count).filter { mask[$0] != 0 }.map { Int32($0) })
                }
            } else {
                for i in 0..<parameter.count {
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    w[i] -= stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
                }
            }
            parameter.gradient.zero()
        }
    }
}

public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, momentum: Float
    private let velocity: [FloatBuffer]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        velocity = parameters.map { FloatBuffer(count: $0.count) }
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            let w = parameter.value.pointer, g = parameter.gradient.pointer, v = velocity[index].pointer
            if let mask = parameter.mask?.pointer {
                // The masking fused into the update pass (this loop vectorises; a pass
                // per mask application made a pruned step slower than a dense one).
                for i in 0..<parameter.count {
                    let vi = momentum * v[i] + g[i] * mask[i]
                    v[i] = vi * mask[i]
                    w[i] = (w[i] - learningRate * vi) * mask[i]
                }
            } else {
                for i in 0..<parameter.count {
                    v[i] = momentum * v[i] + g[i]
                    w[i] -= learningRate * v[i]
                }
            }
            parameter.gradient.zero()
        }
    }
}

