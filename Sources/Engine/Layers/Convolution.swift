/// Convolution and max pooling over images stored NHWC: (B, H, W, C), channels fastest.
///
/// Channels-last makes each row of a k x k input patch one contiguous run of k·C floats,
/// so im2col is k short copies per output pixel, and pooling vectorises across channels.
///
/// Flatten needs no layer: a (B, H, W, C) buffer read as (B, H·W·C) already is the
/// row-major matrix a Dense layer takes, with feature index (y·W + x)·C + c. That is
/// Keras's Flatten order for channels-last tensors; PyTorch's NCHW flatten orders
/// (c, y, x) instead, which only permutes the rows of the next layer's weight.
///
/// Conventions are Dense's: forward writes its output; backward accumulates (`+=`) into
/// parameter gradients and writes the gradient with respect to its input. Threads split
/// samples for everything computed per sample and split output columns (granule 16) for
/// the weight and bias gradients, so every number is computed the same way for any
/// thread count.

/// y (B, OH, OW, Cout) = x (B, H, W, Cin) ⋆ W + b with a k x k kernel, stride 1 and no
/// padding: OH = H - k + 1, OW = W - k + 1.
///
/// Computed as one matrix product per sample (im2col): the input patch under each
/// output pixel becomes a row of P (OH·OW, K), K = k·k·Cin, in (ky, kx, c) order, and
/// y = P · W + b. W (K, Cout) has its rows in the same order: W[(ky·k + kx)·Cin + c, o]
/// is torch.nn.Conv2d's weight[o, c, ky, kx].
public final class Conv2D: @unchecked Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let weight: Parameter  // (k, k, Cin, Cout) = (K, Cout)
    public let bias: Parameter    // (Cout)
    private var patchSpace = Workspace()          // P (B, OH·OW, K) of the last forward, reused by backward
    private var patchGradientSpace = Workspace()  // dP (threads, OH·OW, K): one sample per thread at a time
    private var weightTransposed = Workspace()    // Wᵀ (Cout, K), refreshed each backward that needs dx
    // Input shape of the last forward.
    public private(set) var batch = 0
    public private(set) var height = 0
    public private(set) var width = 0

    /// Initialised as torch.nn.Conv2d: weight and bias U(-1/√K, 1/√K), K = Cin·k·k.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, name: String,
                generator: inout SeededGenerator) {
        precondition(inputChannels >= 1 && outputChannels >= 1 && kernelSize >= 1, "conv sizes must be positive")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        let patch = kernelSize * kernelSize * inputChannels
        weight = Parameter(name: "\(name).weight", shape: [kernelSize, kernelSize, inputChannels, outputChannels],
                           isWeightMatrix: true)
        bias = Parameter(name: "\(name).bias", shape: [outputChannels], isWeightMatrix: false)
        let bound = 1 / Float(patch).squareRoot()
        weight.initializeUniform(bound: bound, using: &generator)
        bias.initializeUniform(bound: bound, using: &generator)
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// K = k·k·Cin: the length of one patch row.
    public var patchSize: Int { kernelSize * kernelSize * inputChannels }

    /// (OH, OW) for an (H, W) input; either may be <= 0 when the kernel does not fit.
    public func outputShape(height: Int, width: Int) -> (height: Int, width: Int) {
        (height - kernelSize + 1, width - kernelSize + 1)
    }

    /// x (B, H, W, Cin) -> y (B, OH, OW, Cout). Keeps the patches for `backward`.
    public func callAsFunction(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                               into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (oh, ow) = outputShape(height: height, width: width)
        precondition(oh >= 1 && ow >= 1, "a \(kernelSize)x\(kernelSize) kernel does not fit a \(height)x\(width) input")
        self.batch = batch
        self.height = height
        self.width = width
        let (k, o, pixels) = (patchSize, outputChannels, oh * ow)
        let inputStride = height * width * inputChannels
        let patches = patchSpace.reserve(batch * pixels * k)
        let w = UnsafePointer(weight.value.pointer), b = UnsafePointer(bias.value.pointer)
        pool.parallelRanges(batch) { samples in
            for s in samples {
                let p = patches + s * pixels * k, ys = y + s * pixels * o
                im2col(x + s * inputStride, into: p)
                for r in 0..<pixels { (ys + r * o).update(from: b, count: o) }
                // y_s (OH·OW, Cout) += P_s (OH·OW, K) · W (K, Cout)
                gemm(m: pixels, n: o, k: k, a: p, aRowStride: k, aColStride: 1, b: w, ldb: o,
                     c: ys, ldc: o, accumulate: true)
            }
        }
    }

    /// Backward of the last forward pass, from dy (B, OH, OW, Cout):
    /// dW (K, Cout) += Pᵀ · dy; db (Cout) += Σ dy; and, when `dx` is given,
    /// dx (B, H, W, Cin) = col2im(dy · Wᵀ). The first layer of a model passes nil: its
    /// input is the image.
    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let (oh, ow) = outputShape(height: height, width: width)
        let (k, o, pixels, batch) = (patchSize, outputChannels, oh * ow, batch)
        let rows = batch * pixels
        let patches = UnsafePointer(patchSpace.buffer.pointer)
        var wT: UnsafeMutablePointer<Float>?, dP: UnsafeMutablePointer<Float>?
        if dx != nil {
            wT = weightTransposed.reserve(o * k)
            transpose(weight.value.pointer, rows: k, cols: o, into: wT!)
            dP = patchGradientSpace.reserve(pool.threadCount * pixels * k)
        }
        let (packed, patchGradients) = (wT, dP)
        let inputStride = height * width * inputChannels
        pool.run { thread in
            let parts = pool.threadCount
            if let dx, let packed, let patchGradients {
                let scratch = patchGradients + thread * pixels * k
                for s in ThreadPool.part(thread, of: parts, total: batch) {
                    // dP_s (OH·OW, K) = dy_s (OH·OW, Cout) · Wᵀ (Cout, K)
                    gemm(m: pixels, n: k, k: o, a: dy + s * pixels * o, aRowStride: o, aColStride: 1,
                         b: packed, ldb: k, c: scratch, ldc: k, accumulate: false)
                    col2im(scratch, into: dx + s * inputStride)
                }
            }
            let cols = ThreadPool.part(thread, of: parts, total: o, granule: 16)
            guard !cols.isEmpty else { return }
            let c0 = cols.lowerBound
            // dW[:, cols] += Pᵀ (K, B·OH·OW) · dy[:, cols]
            gemm(m: k, n: cols.count, k: rows, a: patches, aRowStride: 1, aColStride: k,
                 b: dy + c0, ldb: o, c: weight.gradient.pointer + c0, ldc: o, accumulate: true)
            columnSums(rows: rows, n: cols.count, x: dy + c0, ldx: o, out: bias.gradient.pointer + c0, accumulate: true)
        }
    }

    /// One sample: x (H, W, Cin) -> P (OH·OW, K). Row (oy, ox) of P is k runs of k·Cin
    /// floats, run ky starting at x[oy + ky, ox, 0].
    private func im2col(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        let (kernel, run) = (kernelSize, kernelSize * inputChannels)
        let (oh, ow) = outputShape(height: height, width: width)
        let rowStride = width * inputChannels
        var dst = p
        for oy in 0..<oh {
            for ox in 0..<ow {
                var src = x + oy * rowStride + ox * inputChannels
                for _ in 0..<kernel {
                    for j in 0..<run { dst[j] = src[j] }
                    dst += run
                    src += rowStride
                }
            }
        }
    }

    /// One sample: dP (OH·OW, K) -> dx (H, W, Cin), the adjoint of `im2col`: every patch
    /// element's gradient is added to the input pixel it was copied from, in row order.
    private func col2im(_ dp: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let (kernel, run) = (kernelSize, kernelSize * inputChannels)
        let (oh, ow) = outputShape(height: height, width: width)
        let rowStride = width * inputChannels
        dx.update(repeating: 0, count: height * rowStride)
        var src = dp
        for oy in 0..<oh {
            for ox in 0..<ow {
                var dst = dx + oy * rowStride + ox * inputChannels
                for _ in 0..<kernel {
                    for j in 0..<run { dst[j] += src[j] }
                    src += run
                    dst += rowStride
                }
            }
        }
    }
}

/// y (B, H/2, W/2, C) = the maximum of each 2 x 2 window, stride 2. A last odd row or
/// column is dropped (floor), as in torch.nn.MaxPool2d(2) and Keras's MaxPooling2D((2, 2)).
///
/// Backward sends each output's gradient to the input that was the maximum; among equal
/// values, the first in row-major window order (top-left, top-right, bottom-left,
/// bottom-right), as PyTorch does.
public final class MaxPool2D: @unchecked Sendable {
    public let channels: Int
    /// Window position 0...3 of each maximum, (B, H/2, W/2, C), as Float so that the
    /// backward pass selects with vector compares.
    private var argmaxSpace = Workspace()
    // Input shape of the last forward.
    public private(set) var batch = 0
    public private(set) var height = 0
    public private(set) var width = 0

    public init(channels: Int) {
        precondition(channels >= 1, "pooling needs at least one channel")
        self.channels = channels
    }

    public static func outputShape(height: Int, width: Int) -> (height: Int, width: Int) { (height / 2, width / 2) }

    /// x (B, H, W, C) -> y (B, H/2, W/2, C)
    public func callAsFunction(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                               into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        precondition(oh >= 1 && ow >= 1, "2x2 pooling needs an input of at least 2x2, got \(height)x\(width)")
        self.batch = batch
        self.height = height
        self.width = width
        let c = channels
        let argmax = argmaxSpace.reserve(batch * oh * ow * c)
        pool.parallelRanges(batch) { samples in
            for s in samples {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let top = x + ((s * height + 2 * oy) * width + 2 * ox) * c, bottom = top + width * c
                        let out = (s * oh + oy) * ow + ox
                        var j = 0
                        while j < c {
                            let n = min(16, c - j)
                            var best = get(top + j, n), index = Vector()
                            challenge(&best, &index, get(top + c + j, n), position: 1)
                            challenge(&best, &index, get(bottom + j, n), position: 2)
                            challenge(&best, &index, get(bottom + c + j, n), position: 3)
                            put(best, y + out * c + j, n)
                            put(index, argmax + out * c + j, n)
                            j += 16
                        }
                    }
                }
            }
        }
    }

    /// Takes `candidate` where it is strictly greater, so a tie keeps the earlier position.
    @inline(__always)
    private func challenge(_ best: inout Vector, _ index: inout Vector, _ candidate: Vector, position: Float) {
        let better = candidate .> best
        best = best.replacing(with: candidate, where: better)
        index = index.replacing(with: position, where: better)
    }

    /// dy (B, H/2, W/2, C) of the last forward -> dx (B, H, W, C): each dy goes to its
    /// window's maximum, every other input (including a dropped odd row or column) gets 0.
    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (height, width, c) = (height, width, channels)
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let argmax = UnsafePointer(argmaxSpace.buffer.pointer)
        pool.parallelRanges(batch) { samples in
            for s in samples {
                let sample = dx + s * height * width * c
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let top = sample + (2 * oy * width + 2 * ox) * c, bottom = top + width * c
                        let out = (s * oh + oy) * ow + ox
                        var j = 0
                        while j < c {
                            let n = min(16, c - j)
                            let g = get(dy + out * c + j, n), index = get(argmax + out * c + j, n)
                            let zero = Vector()
                            put(zero.replacing(with: g, where: index .== 0), top + j, n)
                            put(zero.replacing(with: g, where: index .== 1), top + c + j, n)
                            put(zero.replacing(with: g, where: index .== 2), bottom + j, n)
                            put(zero.replacing(with: g, where: index .== 3), bottom + c + j, n)
                            j += 16
                        }
                    }
                }
                if width % 2 == 1 {
                    for row in 0..<(2 * oh) { (sample + (row * width + width - 1) * c).update(repeating: 0, count: c) }
                }
                if height % 2 == 1 {
                    (sample + (height - 1) * width * c).update(repeating: 0, count: width * c)
                }
            }
        }
    }
}
