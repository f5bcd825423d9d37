/// Convolution and max pooling over images stored NHWC: (B, H, W, C), channels fastest.
///
/// Channels-last puts the channels of one pixel side by side, so a convolution is a
/// matrix product over (pixel, channel) rows and pooling vectorises across channels.
///
/// Flatten needs no layer: a (B, H, W, C) buffer read as (B, H·W·C) already is the
/// row-major matrix a Dense layer takes, with feature index (y·W + x)·C + c. That is
/// Keras's Flatten order for channels-last tensors; PyTorch's NCHW flatten orders
/// (c, y, x) instead, which only permutes the rows of the next layer's weight.
///
/// Conventions are Dense's: forward writes its output; backward accumulates (`+=`) into
/// parameter gradients and writes the gradient with respect to its input. Work is done
/// one sample at a time: threads split the samples for outputs and input gradients, and
/// split the output channels (granule 16) for the weight and bias gradients, each thread
/// summing over all samples in order. So every number is computed the same way for any
/// thread count.

/// y (B, OH, OW, Cout) = x (B, H, W, Cin) ⋆ W + b with a k x k kernel, stride 1 and no
/// padding: OH = H - k + 1, OW = W - k + 1.
///
/// One matrix product per sample (im2col): the input patch under each output pixel
/// becomes a row of P (OH·OW, K), K = k·k·Cin, in (ky, kx, c) order, and y = P · W + b.
/// W (K, Cout) has its rows in the same order: W[(ky·k + kx)·Cin + c, o] is
/// torch.nn.Conv2d's weight[o, c, ky, kx].
///
/// P is stored transposed, Pᵀ (K, OH·OW): row t of Pᵀ is the input shifted by patch
/// element t, which im2col fills with runs of OW contiguous (for Cin = 1) copies instead
/// of the 3-float runs of a P row. `gemm` reads A through two strides, so Pᵀ serves as
/// A for both y = P · W and dW = Pᵀ · dy. Below its K rows, each sample's Pᵀ has a row
/// of ones, and the forward product uses W with b appended as row K: the product then
/// ends with + 1·b, the same single rounding as adding b to the sum, without first
/// filling y with b (which costs a quarter of the forward pass for the first layer).
public final class Conv2D: @unchecked Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let kernelSize: Int
    public let weight: Parameter  // (k, k, Cin, Cout) = (K, Cout)
    public let bias: Parameter    // (Cout)
    private var patchSpace = Workspace()        // Pᵀ (B, K+1, OH·OW) of the last forward (row K: ones)
    private var weightAndBias = Workspace()     // (K+1, Cout): W, then b as row K; refreshed each forward
    private var outputScratch = Workspace()     // (threads, OH·OW, Cout): one sample's output or output gradient
    private var patchGradientSpace = Workspace() // (threads, OH·OW, K): one sample's dP
    private var weightTransposed = Workspace()  // Wᵀ (Cout, K), refreshed by each backward that computes dx
    // Input shape of the last forward.
    public private(set) var batch = 0
    public private(set) var height = 0
    public private(set) var width = 0

    /// `pytorch`: as torch.nn.Conv2d, weight and bias U(-1/√K, 1/√K), K = Cin·k·k.
    /// `keras`: as keras.layers.Conv2D, Glorot-uniform weight (fan in Cin·k·k, fan out
    /// Cout·k·k), zero bias.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, name: String,
                initialization: WeightInitialization = .pytorch, generator: inout SeededGenerator) {
        precondition(inputChannels >= 1 && outputChannels >= 1 && kernelSize >= 1, "conv sizes must be positive")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        weight = Parameter(name: "\(name).weight", shape: [kernelSize, kernelSize, inputChannels, outputChannels],
                           isWeightMatrix: true)
        bias = Parameter(name: "\(name).bias", shape: [outputChannels], isWeightMatrix: false)
        let area = kernelSize * kernelSize
        switch initialization {
        case .pytorch:
            let bound = 1 / Float(area * inputChannels).squareRoot()
            weight.initializeUniform(bound: bound, using: &generator)
            bias.initializeUniform(bound: bound, using: &generator)
        case .keras:
            weight.initializeGlorotUniform(fanIn: area * inputChannels, fanOut: area * outputChannels, using: &generator)
            bias.value.zero()
        }
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// K = k·k·Cin: the length of one patch row.
    public var patchSize: Int { kernelSize * kernelSize * inputChannels }

    /// (OH, OW) for an (H, W) input; either is <= 0 when the kernel does not fit.
    public func outputShape(height: Int, width: Int) -> (height: Int, width: Int) {
        (height - kernelSize + 1, width - kernelSize + 1)
    }

    /// OH·OW of the last forward.
    private var pixels: Int {
        let (oh, ow) = outputShape(height: height, width: width)
        return oh * ow
    }

    /// x (B, H, W, Cin) -> y (B, OH, OW, Cout). Keeps the patches for `backward`.
    public func callAsFunction(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
                               into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        prepare(batch: batch, height: height, width: width)
        let (inputStride, outputStride) = (height * width * inputChannels, pixels * outputChannels)
        pool.parallelRanges(batch) { samples in
            for s in samples { forward(sample: s, x + s * inputStride, into: y + s * outputStride) }
        }
    }

    /// The same forward pass, handing each sample's output y_s (OH, OW, Cout) to
    /// `consume(s, y_s)` instead of storing it: y_s lives in a per-thread scratch that is
    /// reused for the thread's next sample, so a following layer (pooling) reads it from
    /// cache and the batch's full conv output is never written to memory. `consume` runs
    /// on the pool's threads, concurrently for different samples.
    public func forward(_ x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, pool: ThreadPool,
                        consume: (Int, UnsafeMutablePointer<Float>) -> Void) {
        prepare(batch: batch, height: height, width: width)
        let (inputStride, outputStride) = (height * width * inputChannels, pixels * outputChannels)
        let scratch = outputScratch.reserve(pool.threadCount * outputStride)
        pool.run { thread in
            let y = scratch + thread * outputStride
            for s in ThreadPool.part(thread, of: pool.threadCount, total: batch) {
                forward(sample: s, x + s * inputStride, into: y)
                consume(s, y)
            }
        }
    }

    /// Backward of the last forward pass from dy (B, OH, OW, Cout):
    /// dW (K, Cout) += Pᵀ · dy; db (Cout) += Σ dy; and, when `dx` is given,
    /// dx (B, H, W, Cin) = col2im(dy · Wᵀ). The first layer of a model passes nil: its
    /// input is the image.
    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, pool: ThreadPool) {
        let (o, stride) = (outputChannels, pixels * outputChannels)
        backward(dx: dx, pool: pool) { s, channels, _ in (dy + s * stride + channels.lowerBound, o) }
    }

    /// The same backward pass, asking for dy one sample at a time:
    /// `outputGradient(s, channels, scratch)` returns the block dy_s[:, channels]
    /// (OH·OW rows) and its row stride; it may write the block into `scratch`
    /// (room for OH·OW x Cout floats, private to the calling thread) and return that.
    /// A pooling layer above can so expand its gradient per sample, in cache.
    /// `outputGradient` runs on the pool's threads, concurrently; a thread asks for every
    /// sample of its output channels (for dW, db) and, with `dx`, for all channels of its
    /// samples.
    public func backward(dx: UnsafeMutablePointer<Float>?, pool: ThreadPool,
                         outputGradient: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> (UnsafePointer<Float>, Int)) {
        let (k, o, pixels, batch, threads) = (patchSize, outputChannels, pixels, batch, pool.threadCount)
        let inputStride = height * width * inputChannels
        let scratch = outputScratch.reserve(threads * pixels * o)
        var wT: UnsafeMutablePointer<Float>?, dP: UnsafeMutablePointer<Float>?
        if dx != nil {
            wT = weightTransposed.reserve(o * k)
            transpose(weight.value.pointer, rows: k, cols: o, into: wT!)
            dP = patchGradientSpace.reserve(threads * pixels * k)
        }
        let (packed, patchGradients) = (wT, dP)
        let patches = UnsafePointer(patchSpace.buffer.pointer)
        let dW = weight.gradient.pointer, db = bias.gradient.pointer
        pool.run { thread in
            let dyScratch = scratch + thread * pixels * o
            if let dx, let packed, let patchGradients {
                let dPs = patchGradients + thread * pixels * k
                for s in ThreadPool.part(thread, of: threads, total: batch) {
                    let (dys, ld) = outputGradient(s, 0..<o, dyScratch)
                    // dP_s (OH·OW, K) = dy_s (OH·OW, Cout) · Wᵀ (Cout, K)
                    gemm(m: pixels, n: k, k: o, a: dys, aRowStride: ld, aColStride: 1, b: packed, ldb: k,
                         c: dPs, ldc: k, accumulate: false)
                    col2im(dPs, into: dx + s * inputStride)
                }
            }
            let cols = ThreadPool.part(thread, of: threads, total: o, granule: 16)
            guard !cols.isEmpty else { return }
            let c0 = cols.lowerBound
            for s in 0..<batch {
                let (dys, ld) = outputGradient(s, cols, dyScratch)
                // dW[:, cols] += P_sᵀ (K, OH·OW) · dy_s[:, cols]
                gemm(m: k, n: cols.count, k: pixels, a: patches + s * pixels * (k + 1), aRowStride: pixels, aColStride: 1,
                     b: dys, ldb: ld, c: dW + c0, ldc: o, accumulate: true)
                columnSums(rows: pixels, n: cols.count, x: dys, ldx: ld, out: db + c0, accumulate: true)
            }
        }
    }

    /// Records the input shape, sizes the patch workspace and packs [W; b].
    private func prepare(batch: Int, height: Int, width: Int) {
        let (oh, ow) = outputShape(height: height, width: width)
        precondition(oh >= 1 && ow >= 1, "a \(kernelSize)x\(kernelSize) kernel does not fit a \(height)x\(width) input")
        self.batch = batch
        self.height = height
        self.width = width
        _ = patchSpace.reserve(batch * oh * ow * (patchSize + 1))
        let packed = weightAndBias.reserve((patchSize + 1) * outputChannels)
        packed.update(from: weight.value.pointer, count: weight.count)
        (packed + weight.count).update(from: bias.value.pointer, count: outputChannels)
    }

    /// One sample s: x_s (H, W, Cin) -> y_s (OH, OW, Cout), keeping P_s.
    private func forward(sample s: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let (k, o, pixels) = (patchSize, outputChannels, pixels)
        let p = patchSpace.buffer.pointer + s * pixels * (k + 1)
        im2col(x, into: p)
        (p + k * pixels).update(repeating: 1, count: pixels)
        // y_s (OH·OW, Cout) = [P_s, 1] (OH·OW, K+1) · [W; b] (K+1, Cout), read from [P_s, 1]ᵀ
        gemm(m: pixels, n: o, k: k + 1, a: p, aRowStride: 1, aColStride: pixels, b: weightAndBias.buffer.pointer,
             ldb: o, c: y, ldc: o, accumulate: false)
    }

    /// One sample: x (H, W, Cin) -> Pᵀ (K, OH·OW). Row t = (ky, kx, c) of Pᵀ holds
    /// x[oy + ky, ox + kx, c] for every output pixel (oy, ox).
    private func im2col(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        let (oh, ow) = outputShape(height: height, width: width)
        let cin = inputChannels
        var dst = p
        for ky in 0..<kernelSize {
            for kx in 0..<kernelSize {
                for c in 0..<cin {
                    for oy in 0..<oh {
                        var src = x + ((oy + ky) * width + kx) * cin + c
                        if cin == 1 {
                            dst.update(from: src, count: ow)
                        } else {
                            for ox in 0..<ow { dst[ox] = src.pointee; src += cin }
                        }
                        dst += ow
                    }
                }
            }
        }
    }

    /// One sample: dP (OH·OW, K) -> dx (H, W, Cin), the adjoint of `im2col` in the same
    /// order: each patch element's gradient is added to the input element it came from.
    private func col2im(_ dp: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let (oh, ow) = outputShape(height: height, width: width)
        let (k, cin) = (patchSize, inputChannels)
        dx.update(repeating: 0, count: height * width * cin)
        var t = 0
        for ky in 0..<kernelSize {
            for kx in 0..<kernelSize {
                for c in 0..<cin {
                    for oy in 0..<oh {
                        var dst = dx + ((oy + ky) * width + kx) * cin + c, src = dp + oy * ow * k + t
                        for _ in 0..<ow {
                            dst.pointee += src.pointee
                            src += k
                            dst += cin
                        }
                    }
                    t += 1
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
///
/// Loops run over channels in 16-lane vectors (a scalar loop finishes channels past the
/// last multiple of 16); compares and selects on whole vectors compile to vector blends.
public final class MaxPool2D: @unchecked Sendable {
    public let channels: Int
    /// Window position 0...3 of each maximum, (B, H/2, W/2, C), as Float so that the
    /// backward pass compares it in the same vectors as the gradients.
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
        prepare(batch: batch, height: height, width: width)
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let (inputStride, outputStride) = (height * width * channels, oh * ow * channels)
        pool.parallelRanges(batch) { samples in
            for s in samples { forward(sample: s, x + s * inputStride, into: y + s * outputStride) }
        }
    }

    /// dy (B, H/2, W/2, C) of the last forward -> dx (B, H, W, C): each dy goes to its
    /// window's maximum, every other input (including a dropped odd row or column) gets 0.
    public func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let (inputStride, outputStride) = (height * width * channels, oh * ow * channels)
        pool.parallelRanges(batch) { samples in
            for s in samples {
                backward(sample: s, dy: dy + s * outputStride, channels: 0..<channels, into: dx + s * inputStride)
            }
        }
    }

    /// Records the input shape of a forward pass and sizes the argmax workspace.
    func prepare(batch: Int, height: Int, width: Int) {
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        precondition(oh >= 1 && ow >= 1, "2x2 pooling needs an input of at least 2x2, got \(height)x\(width)")
        self.batch = batch
        self.height = height
        self.width = width
        _ = argmaxSpace.reserve(batch * oh * ow * channels)
    }

    /// One sample s (after `prepare`): x_s (H, W, C) -> y_s (H/2, W/2, C), recording its argmax.
    func forward(sample s: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let c = channels
        let argmax = argmaxSpace.buffer.pointer + s * oh * ow * c
        for oy in 0..<oh {
            for ox in 0..<ow {
                // The window's four pixels, each C floats.
                let p0 = x + (2 * oy * width + 2 * ox) * c, p1 = p0 + c, p2 = p0 + width * c, p3 = p2 + c
                let out = (oy * ow + ox) * c
                let best = y + out, index = argmax + out
                // Strictly greater: a tie keeps the earlier position.
                var j = 0
                while j + 16 <= c {
                    var value = load(p0 + j), position = Vector()
                    challenge(&value, &position, load(p1 + j), at: 1)
                    challenge(&value, &position, load(p2 + j), at: 2)
                    challenge(&value, &position, load(p3 + j), at: 3)
                    store(value, best + j)
                    store(position, index + j)
                    j += 16
                }
                while j < c {
                    var value = p0[j], position: Float = 0
                    if p1[j] > value { value = p1[j]; position = 1 }
                    if p2[j] > value { value = p2[j]; position = 2 }
                    if p3[j] > value { value = p3[j]; position = 3 }
                    best[j] = value
                    index[j] = position
                    j += 1
                }
            }
        }
    }

    /// Takes `candidate` where it is strictly greater than `value`.
    @inline(__always)
    private func challenge(_ value: inout Vector, _ position: inout Vector, _ candidate: Vector, at: Float) {
        let greater = candidate .> value
        value = value.replacing(with: candidate, where: greater)
        position = position.replacing(with: Vector(repeating: at), where: greater)
    }

    /// One sample s of the last forward, some channels: dy_s (H/2, W/2, C) ->
    /// dx (H, W, n) for the n = channels.count channels, dx's pixels n floats apart.
    ///
    /// `gate` (H/2, W/2, C), when given, is the pooled output after a ReLU: where it is
    /// not > 0 the gradient is dropped, which is ReLU's backward folded into the routing.
    func backward(sample s: Int, dy: UnsafePointer<Float>, gate: UnsafePointer<Float>? = nil, channels range: Range<Int>,
                  into dx: UnsafeMutablePointer<Float>) {
        let (height, width, c, n, c0) = (height, width, channels, range.count, range.lowerBound)
        let (oh, ow) = MaxPool2D.outputShape(height: height, width: width)
        let argmax = UnsafePointer(argmaxSpace.buffer.pointer) + s * oh * ow * c
        for oy in 0..<oh {
            for ox in 0..<ow {
                let p0 = dx + (2 * oy * width + 2 * ox) * n, p1 = p0 + n, p2 = p0 + width * n, p3 = p2 + n
                let out = (oy * ow + ox) * c + c0
                let g = dy + out, index = argmax + out, open = gate.map { $0 + out }
                var j = 0
                while j + 16 <= n {
                    let gj = load(g + j), zero = Vector()
                    var at = load(index + j)
                    if let open { at = at.replacing(with: Vector(repeating: -1), where: .!(load(open + j) .> 0)) }
                    store(zero.replacing(with: gj, where: at .== 0), p0 + j)
                    store(zero.replacing(with: gj, where: at .== 1), p1 + j)
                    store(zero.replacing(with: gj, where: at .== 2), p2 + j)
                    store(zero.replacing(with: gj, where: at .== 3), p3 + j)
                    j += 16
                }
                while j < n {
                    let at = open.map { $0[j] > 0 } ?? true ? index[j] : -1
                    p0[j] = at == 0 ? g[j] : 0
                    p1[j] = at == 1 ? g[j] : 0
                    p2[j] = at == 2 ? g[j] : 0
                    p3[j] = at == 3 ? g[j] : 0
                    j += 1
                }
            }
        }
        if width % 2 == 1 {
            for row in 0..<(2 * oh) { (dx + (row * width + width - 1) * n).update(repeating: 0, count: n) }
        }
        if height % 2 == 1 {
            (dx + (height - 1) * width * n).update(repeating: 0, count: width * n)
        }
    }
}
