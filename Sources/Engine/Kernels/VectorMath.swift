/// Vectorised nonlinearities for the gate activations.
///
/// `@_transparent` forces inlining: with `@inline(__always)` the optimiser still emitted
/// calls where a loop used them more than once, passing 16-lane vectors through memory.
///
/// A recurrent layer applies sigmoid or tanh to every gate of every sample at every
/// time step (about 18,000 per sample for the paper's LSTM); calling libm per element
/// would cost more than the matrix products. tanh is a rational minimax approximation
/// (the odd degree-13 / even degree-6 pair Eigen uses for float; absolute error below
/// 3e-7), sigmoid is derived from it: one division and a dozen fused multiply-adds per
/// 16 lanes, against an exp-based form that cost about 1.5x as much (two range
/// reductions, a division, sign fix-ups). They are pure functions of their input, so
/// results do not depend on where or when they run; NaN stays NaN, so divergence is seen.

public typealias Vector = SIMD16<Float>

/// tanh(x) = x·P(x²) / Q(x²), with x clamped to ±7.9053 where the fraction reaches 1 in float.
@_transparent
public func vtanh(_ x: Vector) -> Vector {
    // Comparisons with NaN are false, so a NaN lane passes the clamp unchanged.
    let bound = Vector(repeating: 7.905_311_107_635_498)
    var v = x.replacing(with: bound, where: x .> bound)
    v = v.replacing(with: -bound, where: v .< -bound)
    let v2 = v * v
    var p = Vector(repeating: 2.000_187_904_824_77e-13).addingProduct(Vector(repeating: -2.760_768_477_423_55e-16), v2)
    p = Vector(repeating: -8.604_671_522_137_35e-11).addingProduct(p, v2)
    p = Vector(repeating: 5.122_297_090_371_14e-08).addingProduct(p, v2)
    p = Vector(repeating: 1.485_722_357_179_79e-05).addingProduct(p, v2)
    p = Vector(repeating: 6.372_619_288_754_36e-04).addingProduct(p, v2)
    p = Vector(repeating: 4.893_524_558_917_86e-03).addingProduct(p, v2)
    var q = Vector(repeating: 1.185_347_056_866_54e-04).addingProduct(Vector(repeating: 1.198_258_394_667_02e-06), v2)
    q = Vector(repeating: 2.268_434_632_439_00e-03).addingProduct(q, v2)
    q = Vector(repeating: 4.893_525_185_543_85e-03).addingProduct(q, v2)
    return p * v / q
}

/// sigmoid(x) = (1 + tanh(x/2)) / 2. The absolute error stays below 2e-7; far in the
/// negative tail the result is ~1e-7 rather than ~0, which a gate cannot tell apart.
@_transparent
public func vsigmoid(_ x: Vector) -> Vector {
    let half = Vector(repeating: 0.5)
    return half.addingProduct(half, vtanh(x * half))
}

@_transparent
public func vrelu(_ x: Vector) -> Vector {
    x.replacing(with: 0, where: x .< 0)
}

/// √x for x >= 0 as x · rsqrt(x), rsqrt from the exponent-halving bit trick refined by
/// three Newton steps (relative error ~1e-7). The standard library's square root is a
/// libm call on Linux that keeps loops scalar; this one vectorises. No fused operations,
/// so `sqrtNewton` below computes every lane's value bit for bit.
@_transparent
public func vsqrt(_ x: Vector) -> Vector {
    let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
    var y = unsafeBitCast(0x5F37_5A86 &- (bits &>> 1), to: Vector.self)
    let half = x * 0.5
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    return x * y
}

/// The scalar twin of `vsqrt`.
@inline(__always)
public func sqrtNewton(_ x: Float) -> Float {
    var y = Float(bitPattern: 0x5F37_5A86 &- (x.bitPattern >> 1))
    let half = x * 0.5
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    return x * y
}
