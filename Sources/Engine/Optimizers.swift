import Foundation

/// The optimizers the engine has, named as in torch.optim (Adam, AdamW, SGD).
public enum OptimizerKind: String, Sendable, CaseIterable {
    case adam, adamw, sgd
}

/// Which optimizer to build, with its hyper-parameters. Fields an optimizer does not
/// use are ignored by it (momentum by Adam and AdamW; the betas and epsilon by SGD).
public struct OptimizerSettings: Sendable, Equatable {
    public var kind: OptimizerKind
    public var learningRate: Float
    /// SGD only: v = momentum·v + g (torch.optim.SGD without dampening or Nesterov).
    public var momentum: Float
    /// As torch.optim's `weight_decay`: Adam and SGD add weightDecay·w to the gradient (L2);
    /// AdamW multiplies w by 1 - lr·weightDecay before its update (decoupled). 0 is off.
    public var weightDecay: Float
    /// torch.optim.Adam's defaults.
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8

    public init(kind: OptimizerKind, learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0,
                beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// torch.optim.Adam(lr, weight_decay): L2 decay, added to the gradient before the moments.
    public static func adam(learningRate: Float, weightDecay: Float = 0) -> OptimizerSettings {
        OptimizerSettings(kind: .adam, learningRate: learningRate, weightDecay: weightDecay)
    }

    /// torch.optim.AdamW(lr, weight_decay): decoupled decay, w *= 1 - lr·weightDecay before the Adam update.
    public static func adamW(learningRate: Float, weightDecay: Float) -> OptimizerSettings {
        OptimizerSettings(kind: .adamw, learningRate: learningRate, weightDecay: weightDecay)
    }

    /// torch.optim.SGD(lr, momentum, weight_decay): v = momentum·v + g + weightDecay·w; w -= lr·v.
    public static func sgd(learningRate: Float, momentum: Float, weightDecay: Float = 0) -> OptimizerSettings {
        OptimizerSettings(kind: .sgd, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    }

    public func make(for parameters: [Parameter]) -> Optimizer {
        switch kind {
        case .adam, .adamw:
            return Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                        weightDecay: weightDecay, decoupledWeightDecay: kind == .adamw)
        case .sgd:
            return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        }
    }
}

/// Updates parameters from their accumulated gradients, then zeroes the gradients.
/// Masked parameters stay exactly zero where pruned, whatever gradient reaches them
/// (Adam and SGD each say how).
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

/// torch.optim.Adam, and torch.optim.AdamW when the weight decay is decoupled.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
    /// 0: none. Otherwise L2 (weightDecay·w added to the gradient) or, when
    /// `decoupledWeightDecay`, AdamW's w *= 1 - lr·weightDecay before the update.
    public let weightDecay: Float
    public let decoupledWeightDecay: Bool
    private let firstMoment: [FloatBuffer]   // m, same shape as each parameter
    private let secondMoment: [FloatBuffer]  // v

    /// The mask a parameter's state has been brought under, and the positions it keeps.
    ///
    /// When a mask is installed (or changes, or goes), `bringUnder` sets each pruned
    /// position's w and m to +0 and its v to +∞ once. From then on the ordinary update
    /// leaves the weight at +0 whatever gradient reaches it: √∞ makes the step m/∞ = ±0,
    /// and +0 - (±0) = +0 (decay of +0 is +0 too). So below 15/16 pruned a masked step is
    /// the dense step, with no per-step mask work: reading the mask, even as one bit per
    /// weight spread to lanes by shifts, made the step 1.04-1.09x a dense one, the multiply
    /// by a float mask 1.2x. The pruned m takes garbage from the gradients meanwhile; it is
    /// never read, and is reset with v when the position is kept again.
    ///
    /// Past 15/16 pruned a step visits only the kept positions, and their m and v live
    /// compact, m[kept[j]] at compact.m[j]: scattered moments would cost a cache miss per
    /// kept weight, since the forward and backward passes evict them between steps. The
    /// dense m and v are stale for the kept positions meanwhile, and get the compact values
    /// back when the mask changes or goes.
    private struct MaskedState {
        let mask: FloatBuffer
        let kept: [Int32]
        let compact: (m: FloatBuffer, v: FloatBuffer)?
    }
    private var maskedState: [MaskedState?]
    public private(set) var stepCount = 0

    public init(parameters: [Parameter], learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        firstMoment = parameters.map { FloatBuffer(count: $0.count) }
        secondMoment = parameters.map { FloatBuffer(count: $0.count) }
        maskedState = parameters.map { _ in nil }
    }

    /// Brings parameter `index`'s w, m and v under its current mask (or none): positions the
    /// old mask pruned start afresh (m = v = 0, as never updated; w is already 0), positions
    /// the new one prunes get w = m = +0 and v = +∞.
    private func bringUnder(_ index: Int) {
        let parameter = parameters[index]
        let w = parameter.value.pointer, m = firstMoment[index].pointer, v = secondMoment[index].pointer
        if let old = maskedState[index] {
            if let compact = old.compact {
                for (j, i) in old.kept.enumerated() { m[Int(i)] = compact.m[j]; v[Int(i)] = compact.v[j] }
            }
            let oldMask = old.mask.pointer
            for i in 0..<parameter.count where oldMask[i] == 0 { m[i] = 0; v[i] = 0 }
            maskedState[index] = nil
        }
        guard let maskBuffer = parameter.mask else { return }
        precondition(parameter.count <= Int(Int32.max), "parameter too large to index")
        let mask = maskBuffer.pointer
        var kept: [Int32] = []
        for i in 0..<parameter.count {
            if mask[i] != 0 { kept.append(Int32(i)) } else { w[i] = 0; m[i] = 0; v[i] = .infinity }
        }
        var compact: (m: FloatBuffer, v: FloatBuffer)?
        if kept.count * 16 < parameter.count {
            compact = (FloatBuffer(kept.map { m[Int($0)] }), FloatBuffer(kept.map { v[Int($0)] }))
        }
        maskedState[index] = MaskedState(mask: maskBuffer, kept: kept, compact: compact)
    }

    public func step(pool: ThreadPool) {
        for (index, parameter) in parameters.enumerated() where maskedState[index]?.mask !== parameter.mask {
            bringUnder(index)
        }
        stepCount += 1
        // As torch.optim.Adam: w -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps).
        let correction1 = 1 - pow(Double(beta1), Double(stepCount))
        let correction2 = 1 - pow(Double(beta2), Double(stepCount))
        let stepSize = Float(Double(learningRate) / correction1)
        let rootCorrection2 = Float(correction2.squareRoot())
        // PyTorch forms 1 - lr·wd in double and rounds it once to the parameter's float type.
        let decay: AdamConstants.Decay = weightDecay == 0 ? .none
            : decoupledWeightDecay ? .decoupled(factor: Float(1 - Double(learningRate) * Double(weightDecay)))
            : .l2(weightDecay)
        let constants = AdamConstants(beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                                      rootCorrection2: rootCorrection2, decay: decay)
        // Per parameter: the kept positions to visit and their compact moments when it is
        // mostly pruned (over 15/16: a scalar visit costs about what 8-16 vector lanes do), else
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
                    // ones stay +0 anyway and only have their gradients zeroed.
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
                // One vector pass over every position, masked or not (see MaskedState).
                @_transparent func update(_ i: Int, _ n: Int) {
                    var wv = get(w + i, n), mv = get(m + i, n), vv = get(v + i, n)
                    constants.update(&wv, gradient: get(g + i, n), &mv, &vv)
                    put(wv, w + i, n); put(mv, m + i, n); put(vv, v + i, n); put(Vector(), g + i, n)
                }
                let whole = range.lowerBound + range.count / 16 * 16
                for i in stride(from: range.lowerBound, to: whole, by: 16) { update(i, 16) }
                if whole < range.upperBound { update(whole, range.upperBound - whole) }
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
///     g += wd·w  (L2)   or   w *= 1 - lr·wd  (decoupled, AdamW)
///     m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g·g;  w -= step · m / (√v / √(1-β2^t) + ε)
///
/// Without decay neither extra operation runs, so results are those of plain Adam bit
/// for bit (g + 0·w could turn a -0 gradient into +0). A pruned weight is 0, so neither
/// decay moves it.
struct AdamConstants {
    enum Decay {
        case none
        /// torch.optim.Adam(weight_decay=wd): g + wd·w, fused as PyTorch's CPU kernel does.
        case l2(Float)
        /// torch.optim.AdamW: w · (1 - lr·wd).
        case decoupled(factor: Float)
    }

    let beta1: Float, beta2: Float, epsilon: Float, stepSize: Float, rootCorrection2: Float
    let decay: Decay

    @inline(__always)
    func update(_ w: inout Vector, gradient: Vector, _ m: inout Vector, _ v: inout Vector) {
        var g = gradient
        switch decay {
        case .none: break
        case .l2(let wd): g = g.addingProduct(Vector(repeating: wd), w)
        case .decoupled(let factor): w *= factor
        }
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        w -= stepSize * m / (vsqrt(v) / rootCorrection2 + epsilon)
    }

    @inline(__always)
    func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>) {
        var gradient = g.pointee
        switch decay {
        case .none: break
        case .l2(let wd): gradient = gradient.addingProduct(wd, w.pointee)
        case .decoupled(let factor): w.pointee *= factor
        }
        m.pointee = beta1 * m.pointee + (1 - beta1) * gradient
        v.pointee = beta2 * v.pointee + (1 - beta2) * gradient * gradient
        w.pointee -= stepSize * m.pointee / (sqrtNewton(v.pointee) / rootCorrection2 + epsilon)
    }
}

/// torch.optim.SGD with momentum (no dampening, no Nesterov) and optional L2 weight decay.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public let learningRate: Float, momentum: Float
    /// Added to the gradient as weightDecay·w; 0 is off.
    public let weightDecay: Float
    private let velocity: [FloatBuffer]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = parameters.map { FloatBuffer(count: $0.count) }
    }

    public func step(pool: ThreadPool) {
        let decay = weightDecay
        pool.run { thread in
            for (index, parameter) in parameters.enumerated() {
                let range = ThreadPool.part(thread, of: pool.threadCount, total: parameter.count, granule: 16)
                let w = parameter.value.pointer, g = parameter.gradient.pointer, v = velocity[index].pointer
                // Decay gets loops of its own: without it the loops are today's, bit for bit
                // (g + 0·w could turn a -0 gradient into +0), and each loop stays branch-free
                // so it vectorises. g + wd·w is fused, as in PyTorch's CPU kernel; a pruned
                // weight is 0, so its decay is too.
                if let mask = parameter.mask?.pointer {
                    // The masking fused into the update pass (this loop vectorises; a pass
                    // per mask application made a pruned step slower than a dense one).
                    if decay == 0 {
                        for i in range {
                            let vi = momentum * v[i] + g[i] * mask[i]
                            v[i] = vi * mask[i]
                            w[i] = (w[i] - learningRate * vi) * mask[i]
                            g[i] = 0
                        }
                    } else {
                        for i in range {
                            let vi = momentum * v[i] + (g[i] * mask[i]).addingProduct(decay, w[i])
                            v[i] = vi * mask[i]
                            w[i] = (w[i] - learningRate * vi) * mask[i]
                            g[i] = 0
                        }
                    }
                } else if decay == 0 {
                    for i in range {
                        v[i] = momentum * v[i] + g[i]
                        w[i] -= learningRate * v[i]
                        g[i] = 0
                    }
                } else {
                    for i in range {
                        v[i] = momentum * v[i] + g[i].addingProduct(decay, w[i])
                        w[i] -= learningRate * v[i]
                        g[i] = 0
                    }
                }
            }
        }
    }
}
