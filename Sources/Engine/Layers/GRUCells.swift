/// The GRU's cells (see Recurrent.swift for the equations and the layer around them),
/// vectorised across H like the LSTM's: 16 lanes, a partial vector for the tail, each
/// loop specialised for the candidate's activation.
extension RecurrentLayer {
    func gruCellForward(z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                        h: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        switch activation {
        case .tanh: gruCellForward(TanhActivation.self, z: z, bias: bias, hPrev: hPrev, h: h, rows: rows, hidden: hidden)
        case .relu: gruCellForward(ReLUActivation.self, z: z, bias: bias, hPrev: hPrev, h: h, rows: rows, hidden: hidden)
        }
    }

    /// z (rows, 4H) in: the products for r and z (x and h sides summed), x_t · Wx_n and
    /// h_{t-1} · Wh_n, all less the bias (4H: bx_r + bh_r, bx_z + bh_z, bx_n, bh_n).
    /// Out, in place: r, z, n and hn = h_{t-1} · Wh_n + bh_n, which backward needs for dr.
    /// hPrev, h: (rows, H).
    private func gruCellForward<A: CellActivation>(_: A.Type, z: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>,
                                                   hPrev: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                                   rows: Int, hidden: Int) {
        @_transparent func unit(_ zr: UnsafeMutablePointer<Float>, _ off: Int, _ j: Int, _ n: Int) {
            let rv = vsigmoid(get(zr + j, n) + get(bias + j, n))
            let zv = vsigmoid(get(zr + hidden + j, n) + get(bias + hidden + j, n))
            let hnv = get(zr + 3 * hidden + j, n) + get(bias + 3 * hidden + j, n)
            let nv = A.apply((get(zr + 2 * hidden + j, n) + get(bias + 2 * hidden + j, n)).addingProduct(rv, hnv))
            let hv = nv.addingProduct(zv, get(hPrev + off + j, n) - nv)
            put(rv, zr + j, n); put(zv, zr + hidden + j, n); put(nv, zr + 2 * hidden + j, n); put(hnv, zr + 3 * hidden + j, n)
            put(hv, h + off + j, n)
        }
        let whole = hidden / 16 * 16
        for r in 0..<rows {
            let zr = z + r * 4 * hidden, off = r * hidden
            var j = 0
            while j < whole { unit(zr, off, j, 16); j += 16 }
            if whole < hidden { unit(zr, off, whole, hidden - whole) }
        }
    }

    func gruCellBackward(gates: UnsafePointer<Float>, hPrev: UnsafePointer<Float>, dh: UnsafeMutablePointer<Float>,
                         dzx: UnsafeMutablePointer<Float>, dzh: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        switch activation {
        case .tanh: gruCellBackward(TanhActivation.self, gates: gates, hPrev: hPrev, dh: dh, dzx: dzx, dzh: dzh,
                                    rows: rows, hidden: hidden)
        case .relu: gruCellBackward(ReLUActivation.self, gates: gates, hPrev: hPrev, dh: dh, dzx: dzx, dzh: dzh,
                                    rows: rows, hidden: hidden)
        }
    }

    /// gates (rows, 4H) = r, z, n, hn; hPrev (rows, H).
    /// dh (rows, H): dh_t in, z ⊙ dh_t out (h_{t-1}'s direct share of the gradient).
    /// dzx (rows, 3H) out: the pre-activations' gradients dr, dz, dn (x side: Wx, bx, x).
    /// dzh (rows, 3H) out: dr, dz and r ⊙ dn, the gradient of hn (h side: Wh, bh, h_{t-1}).
    private func gruCellBackward<A: CellActivation>(_: A.Type, gates: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                                                    dh: UnsafeMutablePointer<Float>, dzx: UnsafeMutablePointer<Float>,
                                                    dzh: UnsafeMutablePointer<Float>, rows: Int, hidden: Int) {
        @_transparent func unit(_ gr: UnsafePointer<Float>, _ dxr: UnsafeMutablePointer<Float>,
                                _ dhr: UnsafeMutablePointer<Float>, _ off: Int, _ j: Int, _ n: Int) {
            let rv = get(gr + j, n), zv = get(gr + hidden + j, n)
            let nv = get(gr + 2 * hidden + j, n), hnv = get(gr + 3 * hidden + j, n)
            let dhv = get(dh + off + j, n)
            // h_t = n + z ⊙ (h_{t-1} - n): ∂/∂n = 1 - z, ∂/∂z = h_{t-1} - n, ∂/∂h_{t-1} = z.
            let dn = dhv * (1 - zv) * A.derivative(output: nv)
            let dzv = dhv * (get(hPrev + off + j, n) - nv) * zv * (1 - zv)
            let dr = dn * hnv * rv * (1 - rv)
            put(dr, dxr + j, n); put(dzv, dxr + hidden + j, n); put(dn, dxr + 2 * hidden + j, n)
            put(dr, dhr + j, n); put(dzv, dhr + hidden + j, n); put(dn * rv, dhr + 2 * hidden + j, n)
            put(dhv * zv, dh + off + j, n)
        }
        let whole = hidden / 16 * 16
        for r in 0..<rows {
            let gr = gates + r * 4 * hidden, dxr = dzx + r * 3 * hidden, dhr = dzh + r * 3 * hidden, off = r * hidden
            var j = 0
            while j < whole { unit(gr, dxr, dhr, off, j, 16); j += 16 }
            if whole < hidden { unit(gr, dxr, dhr, off, whole, hidden - whole) }
        }
    }
}
