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
///
/// Updates are elementwise, so `pool`'s threads each take a contiguous share of every
/// parameter (one parallel region per step) and the result is the same for any thread
/// count. The step streams w, g and the state through memory once: for the CNN's 700,000
/// weights that is ~14 MB a step, which one core alone reads at a fraction of the rate two do.
public protocol Optimizer: AnyObject {
    var parameters: [Parameter] { get }
    func step(pool: ThreadPool)
}

extension Optimizer {
    public func zeroGradients() { for p in parameters { p.gradient.zero() } }
    /// A step on the calling thread.
    public func step() { step(pool: ThreadPool(threads: 1)) }
}

public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
    private let firstMoment: [FloatBuffer]   // m, same shape as each parameter
    private let secondMoment: [FloatBuffer]  // v
    /// Per parameter: the mask whose zeros w, m and v already hold, and the positions it
    /// keeps. Set by a full masked pass. While the parameter keeps that mask and it prunes
    /// over 7/8, a step only visits the kept positions (the pruned ones would stay 0 anyway),
    /// and their m and v live compact, m[kept[j]] at compact.m[j]: scattered moments would
    /// cost a cache miss per kept weight, since the forward and backward passes evict them
    /// between steps. The dense m and v are stale for the kept positions meanwhile, and get
    /// the compact values back when the mask changes or goes.
    private var maskedState: [(mask: FloatBuffer, kept: [Int32], compact: (m: FloatBuffer, v: FloatBuffer)?)?]
    public private(set) var stepCount = 0

    public init(parameters: [Parameter], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        firstMoment = parameters.map { FloatBuffer(count: $0.count) }
        secondMoment = parameters.map { FloatBuffer(count: $0.count) }
        maskedState = parameters.map { _ in nil }
    }

    public func step(pool: ThreadPool) {
        for (index, parameter) in parameters.enumerated() {
            guard let state = maskedState[index], state.mask !== parameter.mask else { continue }
            if let compact = state.compact {
                let m = firstMoment[index], v = secondMoment[index]
                for (j, i) in state.kept.enumerated() { m[Int(i)] = compact.m[j]; v[Int(i)] = compact.v[j] }
            }
            maskedState[index] = nil
        }
        stepCount += 1
        // As torch.optim.Adam: w -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps).
        let correction1 = 1 - pow(Double(beta1), Double(stepCount))
        let correction2 = 1 - pow(Double(beta2), Double(stepCount))
        let stepSize = Float(Double(learningRate) / correction1)
        let rootCorrection2 = Float(correction2.squareRoot())
        let constants = AdamConstants(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                                      rootCorrection2: rootCorrection2)
        // Per parameter: the kept positions to visit and their compact moments when it is
        // mostly pruned (over 7/8: a scalar visit costs about what 8 vector lanes do), else
        // nil for one vector pass.
        let sparseVisits: [(kept: [Int32], m: FloatBuffer, v: FloatBuffer)?] = maskedState.map { state in
            guard let state, let compact = state.compact else { return nil }
            return (state.kept, compact.m, compact.v)
        }
        pool.run { thread in
            for (index, parameter) in parameters.enumerated() {
                let w = parameter.value.pointer, g = parameter.gradient.pointer
                let m = firstMoment[index].pointer, v = secondMoment[index].pointer
                let range = ThreadPool.part(thread, of: pool.threadCount, total: parameter.count, granule: 16)
                if let (kept, keptM, keptV) = sparseVisits[index] {
                    // The kept positions inside this thread's range (kept is sorted); the pruned
                    // ones stay 0 anyway and only have their gradients zeroed.
                    let m = keptM.pointer, v = keptV.pointer
                    kept.withUnsafeBufferPointer { kept in
                        var j = firstIndex(in: kept, notBelow: range.lowerBound)
                        while j < kept.count, Int(kept[j]) < range.upperBound {
                            let i = Int(kept[j])
                            constants.update(w + i, g + i, m + j, v + j)
                            j += 1
                        }
                    }
                    (g + range.lowerBound).update(repeating: 0, count: range.count)
                    continue
                }
                // One vector pass; with a mask, the gradient is masked before and w, m, v
                // after the update, so they are 0 wherever it prunes. Once a mask has been
                // applied they are already 0 there and a masked gradient keeps them so:
                // only the first pass under a new mask must mask them too.
                let mask = parameter.mask.map { UnsafePointer($0.pointer) }
                let firstMaskedPass = parameter.mask != nil && maskedState[index]?.mask !== parameter.mask
                @_transparent func update(_ i: Int, _ n: Int) {
                    var wv = get(w + i, n), mv = get(m + i, n), vv = get(v + i, n), gv = get(g + i, n)
                    if let mask { gv *= get(mask + i, n) }
                    constants.update(&wv, gradient: gv, &mv, &vv)
                    if firstMaskedPass, let mask {
                        let keep = get(mask + i, n)
                        wv *= keep; mv *= keep; vv *= keep
                    }
                    put(wv, w + i, n); put(mv, m + i, n); put(vv, v + i, n); put(Vector(), g + i, n)
                }
                let whole = range.lowerBound + range.count / 16 * 16
                for i in stride(from: range.lowerBound, to: whole, by: 16) { update(i, 16) }
                if whole < range.upperBound { update(whole, range.upperBound - whole) }
            }
        }
        for (index, parameter) in parameters.enumerated() {
            if let maskBuffer = parameter.mask, maskedState[index]?.mask !== maskBuffer {
                precondition(parameter.count <= Int(Int32.max), "parameter too large to index")
                let p = maskBuffer.pointer
                let kept = (0..<parameter.count).filter { p[$0] != 0 }.map { Int32($0) }
                var compact: (m: FloatBuffer, v: FloatBuffer)?
                if kept.count * 8 < parameter.count {
                    let m = firstMoment[index], v = secondMoment[index]
                    compact = (FloatBuffer(kept.map { m[Int($0)] }), FloatBuffer(kept.map { v[Int($0)] }))
                }
                maskedState[index] = (maskBuffer, kept, compact)
            }
        }
    }
}

/// The first index of sorted `values` whose value is >= `bound` (values.count if none).
private func firstIndex(in values: UnsafeBufferPointer<Int32>, notBelow bound: Int) -> Int {
    var (low, high) = (0, values.count)
    while low < high {
        let middle = (low + high) / 2
        if Int(values[middle]) < bound { low = middle + 1 } else { high = middle }
    }
    return low
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

    public func step(pool: ThreadPool) {
        pool.run { thread in
            for (index, parameter) in parameters.enumerated() {
                let range = ThreadPool.part(thread, of: pool.threadCount, total: parameter.count, granule: 16)
                let w = parameter.value.pointer, g = parameter.gradient.pointer, v = velocity[index].pointer
                if let mask = parameter.mask?.pointer {
                    // The masking fused into the update pass (this loop vectorises; a pass
                    // per mask application made a pruned step slower than a dense one).
                    for i in range {
                        let vi = momentum * v[i] + g[i] * mask[i]
                        v[i] = vi * mask[i]
                        w[i] = (w[i] - learningRate * vi) * mask[i]
                        g[i] = 0
                    }
                } else {
                    for i in range {
                        v[i] = momentum * v[i] + g[i]
                        w[i] -= learningRate * v[i]
                        g[i] = 0
                    }
                }
            }
        }
    }
}
