/// Matrix multiply over raw Float32 pointers:
///
///     C (M, N) = A (M, K) · B (K, N)        (or C += A · B when `accumulate`)
///
/// A is read through two strides, so the same kernel serves A and Aᵀ:
/// element (m, k) is `a[m * aRowStride + k * aColStride]`. C is row-major with row
/// stride `ldc`. B is either row-major or packed (see `MatrixB`).
///
/// The micro-kernel keeps a 6 x 16 block of C in registers (six `SIMD16<Float>`
/// accumulators: twelve AVX2 or six AVX-512 registers) and, for each k, broadcasts six
/// elements of A against one 16-wide row segment of B with fused multiply-adds. Row
/// tails of 1-4 rows use 2- and 4-row forms of the same kernel instead of computing
/// six rows and dropping some.
///
/// Blocking (as in GotoBLAS): K is taken in chunks of `gemmDepthBlock` and M in blocks
/// of `gemmRowBlock` rows, so a chunk of a B panel (256 x 16 floats, 16 KB) stays in L1
/// while every row block of the A block uses it, and the A block (at most 96 x 256, 96
/// KB) stays in L2 while every B panel passes. Without it a weight gradient, whose K is
/// every time step of the batch (2,800 for the paper's LSTM), re-read A from L3 once per
/// 16 output columns.
///
/// Every element of C is computed the same way wherever it falls (interior, row tail or
/// column tail, packed B or not): per K chunk in order, acc = 0; acc = fma(a_k, b_k, acc)
/// for k in the chunk in order; C = acc (first chunk, unless accumulating) or C + acc.
/// So the result does not depend on how a caller splits M or N across threads, or on
/// whether it packed B.
@inline(__always)
public func gemm(m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                 b: MatrixB,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 accumulate: Bool) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if !accumulate { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
        return
    }
    var k0 = 0
    while k0 < k {
        let depth = min(gemmDepthBlock, k - k0)
        let add = accumulate || k0 > 0
        var row0 = 0
        while row0 < m {
            let rowEnd = min(m, row0 + gemmRowBlock)
            var col = 0
            while col < n {
                let width = min(16, n - col)
                // A packed panel is 16 wide even at the tail (zero padded), so it always loads whole vectors.
                let (panel, stride, loadWidth): (UnsafePointer<Float>, Int, Int) = switch b {
                case let .rowMajor(pointer, ldb): (pointer + k0 * ldb + col, ldb, width)
                case let .packed(pointer, _): (pointer + col * k + k0 * 16, 16, 16)
                }
                var row = row0
                while row < rowEnd {
                    let height = min(6, rowEnd - row)
                    let aBlock = a + row * aRowStride + k0 * aColStride, cBlock = c + row * ldc + col
                    // The kernel's row count is a constant at each call, so each form is compiled on its own.
                    switch height {
                    case 5...:
                        gemmMicroKernel(rows: height, kernelRows: 6, cols: width, loadCols: loadWidth, k: depth,
                                        a: aBlock, aRowStride: aRowStride, aColStride: aColStride, b: panel, ldb: stride,
                                        c: cBlock, ldc: ldc, accumulate: add)
                    case 3...:
                        gemmMicroKernel(rows: height, kernelRows: 4, cols: width, loadCols: loadWidth, k: depth,
                                        a: aBlock, aRowStride: aRowStride, aColStride: aColStride, b: panel, ldb: stride,
                                        c: cBlock, ldc: ldc, accumulate: add)
                    default:
                        gemmMicroKernel(rows: height, kernelRows: 2, cols: width, loadCols: loadWidth, k: depth,
                                        a: aBlock, aRowStride: aRowStride, aColStride: aColStride, b: panel, ldb: stride,
                                        c: cBlock, ldc: ldc, accumulate: add)
                    }
                    row += height
                }
                col += 16
            }
            row0 = rowEnd
        }
        k0 += depth
    }
}

/// K chunk of `gemm` (see there).
public let gemmDepthBlock = 256
/// M block of `gemm`: a multiple of 6, so only the last block of a product has a row tail.
public let gemmRowBlock = 96

/// Row-major B with row stride `ldb`.
@inline(__always)
public func gemm(m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                 b: UnsafePointer<Float>, ldb: Int,
                 c: UnsafeMutablePointer<Float>, ldc: Int,
                 accumulate: Bool) {
    gemm(m: m, n: n, k: k, a: a, aRowStride: aRowStride, aColStride: aColStride, b: .rowMajor(b, ldb: ldb),
         c: c, ldc: ldc, accumulate: accumulate)
}

/// The B operand of `gemm`.
public enum MatrixB {
    /// (K, N) row-major with row stride `ldb`.
    case rowMajor(UnsafePointer<Float>, ldb: Int)
    /// (K, N) in 16-column panels, as written by `packPanels`: panel p holds columns
    /// 16p ..< 16p+16 as K contiguous rows of 16 (zero padded past N). Every B row the
    /// micro-kernel reads is then one aligned, contiguous vector, streamed in order.
    /// `n` is the matrix's column count.
    case packed(UnsafePointer<Float>, n: Int)
}

/// Writes rows firstRow ..< firstRow+rows of a panel-packed (totalRows, N) matrix from
/// row-major `source` (rows, N): lets each thread pack the rows it produced.
@inline(__always)
public func copyRowsToPanels(_ source: UnsafePointer<Float>, rows: Int, n: Int, firstRow: Int, totalRows: Int,
                             panels: UnsafeMutablePointer<Float>) {
    var col = 0
    while col < n {
        let width = min(16, n - col)
        let target = panels + col * totalRows + firstRow * 16
        for r in 0..<rows {
            let row = source + r * n + col, out = target + r * 16
            if width == 16 {
                out.update(from: row, count: 16)
            } else {
                for j in 0..<width { out[j] = row[j] }
                for j in width..<16 { out[j] = 0 }
            }
        }
        col += 16
    }
}

/// Floats needed to pack a (K, N) matrix into panels.
public func packedPanelCount(k: Int, n: Int) -> Int { ((n + 15) / 16) * 16 * k }

/// Packs B (K, N), element (k, n) at `b[k * kStride + n * nStride]`, into 16-column panels
/// (see `MatrixB.packed`). kStride = ldb, nStride = 1 packs a row-major matrix;
/// kStride = 1, nStride = ldw packs the transpose of a row-major W (N, K).
///
/// B may be the rows firstRow ..< firstRow+K of a taller packed matrix of `totalRows`
/// rows: packing several matrices that way stacks them ([Wx; Wh] of a recurrent layer).
public func packPanels(_ b: UnsafePointer<Float>, k: Int, n: Int, kStride: Int, nStride: Int,
                       into packed: UnsafeMutablePointer<Float>, firstRow: Int = 0, totalRows: Int? = nil) {
    let rows = totalRows ?? k
    var col = 0
    while col < n {
        let width = min(16, n - col)
        let panel = packed + col * rows + firstRow * 16
        for row in 0..<k {
            let source = b + row * kStride + col * nStride
            let target = panel + row * 16
            if nStride == 1 && width == 16 {
                target.update(from: source, count: 16)
            } else {
                for j in 0..<width { target[j] = source[j * nStride] }
                for j in width..<16 { target[j] = 0 }
            }
        }
        col += 16
    }
}

/// C (rows, cols) (+)= A (rows, k) · B (k, cols) for rows <= kernelRows (6, 4 or 2),
/// cols <= 16. Missing rows re-read row 0 of A (their sums are computed and discarded),
/// which keeps one code path and the same arithmetic for every element.
///
/// Two layouts of A get their own loop so the A addresses stay in registers:
/// row-major A (aColStride == 1: rows, each advancing by one) and transposed A
/// (aRowStride == 1: neighbours, advancing by aColStride).
@inline(__always)
private func gemmMicroKernel(rows: Int, kernelRows: Int, cols: Int, loadCols: Int, k: Int,
                             a: UnsafePointer<Float>, aRowStride: Int, aColStride: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    var acc = Accumulators()
    if aRowStride == 1 && rows == kernelRows {
        if loadCols == 16 {
            acc.run(kernelRows, k: k, a: a, aStep: aColStride, b: b, ldb: ldb) { UnsafeRawPointer($0).loadUnaligned(as: Vector.self) }
        } else {
            acc.run(kernelRows, k: k, a: a, aStep: aColStride, b: b, ldb: ldb) { loadPartial($0, cols) }
        }
    } else {
        let rowOffsets = (0, rows > 1 ? aRowStride : 0, rows > 2 ? 2 * aRowStride : 0, rows > 3 ? 3 * aRowStride : 0,
                          rows > 4 ? 4 * aRowStride : 0, rows > 5 ? 5 * aRowStride : 0)
        if loadCols == 16 {
            acc.run(kernelRows, k: k, a: a, rowOffsets: rowOffsets, aStep: aColStride, b: b, ldb: ldb) {
                UnsafeRawPointer($0).loadUnaligned(as: Vector.self)
            }
        } else {
            acc.run(kernelRows, k: k, a: a, rowOffsets: rowOffsets, aStep: aColStride, b: b, ldb: ldb) { loadPartial($0, cols) }
        }
    }
    storeRow(acc.c0, c, cols, accumulate)
    if rows > 1 { storeRow(acc.c1, c + ldc, cols, accumulate) }
    if rows > 2 { storeRow(acc.c2, c + 2 * ldc, cols, accumulate) }
    if rows > 3 { storeRow(acc.c3, c + 3 * ldc, cols, accumulate) }
    if rows > 4 { storeRow(acc.c4, c + 4 * ldc, cols, accumulate) }
    if rows > 5 { storeRow(acc.c5, c + 5 * ldc, cols, accumulate) }
}

/// Up to six 16-wide accumulators of one micro-kernel call; `kernelRows` (a constant
/// where the kernel is inlined) says how many are live.
private struct Accumulators {
    var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector(), c4 = Vector(), c5 = Vector()

    /// A's values for step k are a[k·aStep + 0 ..< kernelRows] (transposed A, all rows present).
    @inline(__always)
    mutating func run(_ kernelRows: Int, k: Int, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>, ldb: Int,
                      loadB: (UnsafePointer<Float>) -> Vector) {
        var ap = a, bp = b
        for _ in 0..<k {
            let bv = loadB(bp)
            c0 = c0.addingProduct(Vector(repeating: ap[0]), bv)
            c1 = c1.addingProduct(Vector(repeating: ap[1]), bv)
            if kernelRows > 2 {
                c2 = c2.addingProduct(Vector(repeating: ap[2]), bv)
                c3 = c3.addingProduct(Vector(repeating: ap[3]), bv)
            }
            if kernelRows > 4 {
                c4 = c4.addingProduct(Vector(repeating: ap[4]), bv)
                c5 = c5.addingProduct(Vector(repeating: ap[5]), bv)
            }
            ap = ap.advanced(by: aStep)
            bp = bp.advanced(by: ldb)
        }
    }

    /// A's values for step k are a[offset_r + k·aStep].
    @inline(__always)
    mutating func run(_ kernelRows: Int, k: Int, a: UnsafePointer<Float>, rowOffsets o: (Int, Int, Int, Int, Int, Int),
                      aStep: Int, b: UnsafePointer<Float>, ldb: Int, loadB: (UnsafePointer<Float>) -> Vector) {
        let a0 = a + o.0, a1 = a + o.1, a2 = a + o.2, a3 = a + o.3, a4 = a + o.4, a5 = a + o.5
        var bp = b
        var offset = 0
        for _ in 0..<k {
            let bv = loadB(bp)
            c0 = c0.addingProduct(Vector(repeating: a0[offset]), bv)
            c1 = c1.addingProduct(Vector(repeating: a1[offset]), bv)
            if kernelRows > 2 {
                c2 = c2.addingProduct(Vector(repeating: a2[offset]), bv)
                c3 = c3.addingProduct(Vector(repeating: a3[offset]), bv)
            }
            if kernelRows > 4 {
                c4 = c4.addingProduct(Vector(repeating: a4[offset]), bv)
                c5 = c5.addingProduct(Vector(repeating: a5[offset]), bv)
            }
            offset &+= aStep
            bp = bp.advanced(by: ldb)
        }
    }
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
