/// Matrix multiply over raw Float32 pointers:
///
///     C (M, N) = A (M, K) · B (K, N)        (or C += A · B when `accumulate`)
///
/// A is read through two strides, so the same kernel serves A and Aᵀ:
/// element (m, k) is `a[m * aRowStride + k * aColStride]`. B and C are row-major with
/// row strides `ldb` and `ldc`.
///
/// The micro-kernel keeps a 6 x 16 block of C in registers (six `SIMD16<Float>`
/// accumulators: twelve AVX2 or six AVX-512 registers) and, for each k, broadcasts six
/// elements of A against one 16-wide row segment of B with fused multiply-adds.
///
/// Every element of C is computed the same way wherever it falls (interior, row tail or
/// column tail): acc = 0; acc = fma(a_k, b_k, acc) for k in order; C = acc (or C + acc).
/// So the result does not depend on how a caller splits M or N across threads.
@inline(__always)
public func gemm(m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if !accumulate { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
        return
    }
    var col = 0
    while col < n {
        let width = min(16, n - col)
        var row = 0
        while row < m {
            let height = min(6, m - row)
            gemmMicroKernel(rows: height, cols: width, k: k,
                            a: a + row * aRowStride, aRowStride: aRowStride, aColStride: aColStride,
                            b: b + col, ldb: ldb,
                            c: c + row * ldc + col, ldc: ldc, accumulate: accumulate)
            row += 6
        }
        col += 16
    }
}

/// C (rows, cols) (+)= A (rows, k) · B (k, cols) for rows <= 6, cols <= 16.
/// Missing rows re-read row 0 of A (their sums are computed and discarded), which keeps
/// one code path and the same arithmetic for every element.
@inline(__always)
private func gemmMicroKernel(rows: Int, cols: Int, k: Int,
                             a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let a0 = a
    let a1 = rows > 1 ? a + aRowStride : a
    let a2 = rows > 2 ? a + 2 * aRowStride : a
    let a3 = rows > 3 ? a + 3 * aRowStride : a
    let a4 = rows > 4 ? a + 4 * aRowStride : a
    let a5 = rows > 5 ? a + 5 * aRowStride : a
    var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>()
    var c3 = SIMD16<Float>(), c4 = SIMD16<Float>(), c5 = SIMD16<Float>()
    var offsetA = 0
    var bp = b
    if cols == 16 {
        for _ in 0..<k {
            let bv = UnsafeRawPointer(bp).loadUnaligned(as: SIMD16<Float>.self)
            c0 = c0.addingProduct(SIMD16(repeating: a0[offsetA]), bv)
            c1 = c1.addingProduct(SIMD16(repeating: a1[offsetA]), bv)
            c2 = c2.addingProduct(SIMD16(repeating: a2[offsetA]), bv)
            c3 = c3.addingProduct(SIMD16(repeating: a3[offsetA]), bv)
            c4 = c4.addingProduct(SIMD16(repeating: a4[offsetA]), bv)
            c5 = c5.addingProduct(SIMD16(repeating: a5[offsetA]), bv)
            offsetA += aColStride
            bp += ldb
        }
    } else {
        for _ in 0..<k {
            let bv = loadPartial(bp, cols)
            c0 = c0.addingProduct(SIMD16(repeating: a0[offsetA]), bv)
            c1 = c1.addingProduct(SIMD16(repeating: a1[offsetA]), bv)
            c2 = c2.addingProduct(SIMD16(repeating: a2[offsetA]), bv)
            c3 = c3.addingProduct(SIMD16(repeating: a3[offsetA]), bv)
            c4 = c4.addingProduct(SIMD16(repeating: a4[offsetA]), bv)
            c5 = c5.addingProduct(SIMD16(repeating: a5[offsetA]), bv)
            offsetA += aColStride
            bp += ldb
        }
    }
    storeRow(c0, c, cols, accumulate)
    if rows > 1 { storeRow(c1, c + ldc, cols, accumulate) }
    if rows > 2 { storeRow(c2, c + 2 * ldc, cols, accumulate) }
    if rows > 3 { storeRow(c3, c + 3 * ldc, cols, accumulate) }
    if rows > 4 { storeRow(c4, c + 4 * ldc, cols, accumulate) }
    if rows > 5 { storeRow(c5, c + 5 * ldc, cols, accumulate) }
}

@inline(__always)
private func storeRow(_ value: SIMD16<Float>, _ c: UnsafeMutablePointer<Float>, _ cols: Int, _ accumulate: Bool) {
    if cols == 16 {
        let raw = UnsafeMutableRawPointer(c)
        let sum = accumulate ? raw.loadUnaligned(as: SIMD16<Float>.self) + value : value
        raw.storeBytes(of: sum, as: SIMD16<Float>.self)
    } else {
        for j in 0..<cols { c[j] = accumulate ? c[j] + value[j] : value[j] }
    }
}

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

/// out (N) (+)= Σ_rows x (rows, N), summed over rows in order (bias gradients).
@inline(__always)
public func columnSums(rows: Int, n: Int, x: UnsafePointer<Float>, ldx: Int,
                       out: UnsafeMutablePointer<Float>, accumulate: Bool) {
    var col = 0
    while col < n {
        let width = min(16, n - col)
        var acc = SIMD16<Float>()
        var p = x + col
        if width == 16 {
            for _ in 0..<rows { acc += UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self); p += ldx }
        } else {
            for _ in 0..<rows { acc += loadPartial(p, width); p += ldx }
        }
        storeRow(acc, out + col, width, accumulate)
        col += 16
    }
}

/// Transposes src (rows, cols) into dst (cols, rows).
public func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
    // Blocked so that both sides stay in cache for the sizes that occur here.
    let block = 32
    var r0 = 0
    while r0 < rows {
        var c0 = 0
        while c0 < cols {
            for r in r0..<min(rows, r0 + block) {
                for c in c0..<min(cols, c0 + block) { dst[c * rows + r] = src[r * cols + c] }
            }
            c0 += block
        }
        r0 += block
    }
}
