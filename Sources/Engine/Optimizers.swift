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
        let constants = AdamConstants(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                                      rootCorrection2: rootCorrection2)
        for (index, parameter) in parameters.enumerated() {
            let w = parameter.value.pointer, g = parameter.gradient.pointer
            let m = firstMoment[index].pointer, v = secondMoment[index].pointer
            let count = parameter.count
            if let maskBuffer = parameter.mask, let state = maskedState[index], state.mask === maskBuffer,
               state.kept.count * 8 < count {
                // Mostly pruned (over 7/8): visit only the kept positions, the pruned ones stay 0
                // anyway. A scalar visit costs about what 8 vector lanes do, hence the bound.
                state.kept.withUnsafeBufferPointer { kept in
                    for position in kept {
                        let i = Int(position)
                        constants.update(w + i, g + i, m + i, v + i)
                    }
                }
            } else {
                // One vectorised pass; with a mask, the gradient is masked before and
                // w, m, v after the update, so they are 0 wherever it prunes.
                // Once a mask has been applied, w, m and v are already 0 where it prunes and a
                // masked gradient keeps them so: only the first pass must mask them too.
                let mask = parameter.mask?.pointer
                let firstMaskedPass = parameter.mask != nil && maskedState[index]?.mask !== parameter.mask
                var i = 0
                while i < count {
                    let n = min(16, count - i)
                    var wv = get(w + i, n), mv = get(m + i, n), vv = get(v + i, n), gv = get(g + i, n)
                    if let mask { gv *= get(mask + i, n) }
                    constants.update(&wv, gradient: gv, &mv, &vv)
                    if firstMaskedPass, let mask {
                        let keep = get(mask + i, n)
                        wv *= keep; mv *= keep; vv *= keep
                    }
                    put(wv, w + i, n); put(mv, m + i, n); put(vv, v + i, n)
                    i += 16
                }
                if let maskBuffer = parameter.mask, maskedState[index]?.mask !== maskBuffer {
                    precondition(count <= Int(Int32.max), "parameter too large to index")
                    let p = maskBuffer.pointer
                    maskedState[index] = (maskBuffer, (0..<count).filter { p[$0] != 0 }.map { Int32($0) })
                }
            }
            parameter.gradient.zero()
        }
    }
}

/// One Adam update, the same arithmetic in vector and scalar form (so skipping pruned
/// positions gives bit-identical results to a masked pass over all of them):
///
///     m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g·g;  w -= step · m / (√v / √(1-β2^t) + ε)
struct AdamConstants {
    let beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, rootCorrection2: Float

    @inline(__always)
    func update(_ w: inout Vector, gradient g: Vector, _ m: inout Vector, _ v: inout Vector) {
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w -= stepSize * m / (vsqrt(v) / rootCorrection2 + epsilon)
    }


    @inline(__always)
    func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>) {
        m.pointee = beta1 * m.pointee + (1 - beta1) * g.pointee
        v.pointee = beta2 * v.pointee + (1 - beta2) * g.pointee * g.pointee
        w.pointee -= stepSize * m.pointee / (sqrtNewton(v.pointee) / rootCorrection2 + epsilon)
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

