/// Loads and stores of 16-lane vectors (`Vector`, see VectorMath.swift) over raw Float
/// pointers, shared by every vectorised loop in the engine.
///
/// Loads and stores are unaligned: rows of a matrix start at any multiple of 4 bytes.
/// `loadPartial`/`storePartial` handle the tail of a row shorter than 16 lanes; `get` and
/// `put` pick the whole or the partial form from a lane count, so a loop body written
/// once serves whole vectors and the tail.

@inline(__always) func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
@inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
@inline(__always) func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

/// Loads `count` (< 16) floats into the low lanes of a vector, zeros elsewhere.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for j in 0..<count { v[j] = p[j] }
    return v
}

/// Stores the low `count` lanes of `v`.
@inline(__always)
func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for j in 0..<count { p[j] = v[j] }
}

/// `count` (1...16) floats: a whole vector when 16, else the low lanes (zeros elsewhere).
@inline(__always) func get(_ p: UnsafePointer<Float>, _ n: Int) -> Vector { n == 16 ? load(p) : loadPartial(p, n) }
@inline(__always) func get(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Vector { get(UnsafePointer(p), n) }
@inline(__always) func put(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 16 { store(v, p) } else { storePartial(v, p, n) }
}
