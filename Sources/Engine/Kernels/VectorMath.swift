/// Vectorised transcendental functions for the gate nonlinearities.
///
/// `@_transparent` forces inlining: with `@inline(__always)` the optimiser still emitted
/// calls where a loop used them more than once, passing 16-lane vectors through memory.
///
/// A recurrent layer applies sigmoid or tanh to every gate of every sample at every
/// time step (about 14,000 per sample for the paper's LSTM); calling libm per element
/// would cost more than the matrix products. These evaluate 16 lanes at a time with
/// the Cephes single-precision polynomial (relative error ~2 ulp), and are pure
/// functions of their input, so results do not depend on where or when they run.

public typealias Vector = SIMD16<Float>

@_transparent
public func vexp(_ x: Vector) -> Vector {
    // exp(x) = 2^n · exp(r), n = round(x / ln 2), |r| <= ln 2 / 2.
    // Only operations that lower to vector instructions are used: the standard
    // library's SIMD clamp and rounding conversions run lane by lane.
    let high = Vector(repeating: 88.3), low = Vector(repeating: -87.3)
    var v = x.replacing(with: high, where: x .> high)
    v = v.replacing(with: low, where: v .< low)
    // Adding 1.5·2^23 rounds to an integer (pushing the fraction out of the mantissa)
    // and leaves n in the low bits of the float's bit pattern.
    let magic = Vector(repeating: 12_582_912)
    let shifted = v * Vector(repeating: 1.442_695_04) + magic  // round(v · log2 e) + magic
    let n = shifted - magic
    var r = v.addingProduct(n, Vector(repeating: -0.693_359_375))
    r = r.addingProduct(n, Vector(repeating: 2.121_944_4e-4))
    // Horner's rule for the polynomial part of exp(r) = 1 + r + r²·p(r).
    var p = Vector(repeating: 1.398_199_950_7e-3).addingProduct(Vector(repeating: 1.987_569_15e-4), r)
    p = Vector(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
    p = Vector(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
    p = Vector(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
    p = Vector(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
    let expR = (r + 1).addingProduct(p, r * r)
    // 2^n: n + 127 into the exponent field (the low 9 bits of the shifted pattern hold n mod 512).
    let bits = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &+ 127) &<< 23
    return expR * unsafeBitCast(bits, to: Vector.self)
}

@_transparent
public func vsigmoid(_ x: Vector) -> Vector {
    1 / (1 + vexp(-x))
}

@_transparent
public func vtanh(_ x: Vector) -> Vector {
    // tanh(x) = sign(x) · (1 - e) / (1 + e), e = exp(-2|x|): never overflows.
    let magnitude = x.replacing(with: -x, where: x .< 0)
    let e = vexp(-2 * magnitude)
    let t = (1 - e) / (1 + e)
    return t.replacing(with: -t, where: x .< 0)
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

/// Scalar forms, through the same vector code so that they agree bit for bit.
@inline(__always) public func sigmoid(_ x: Float) -> Float { vsigmoid(Vector(repeating: x))[0] }
@inline(__always) public func tanhApprox(_ x: Float) -> Float { vtanh(Vector(repeating: x))[0] }

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
@inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
@inline(__always) func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }
