/// A convolutional classifier (the Keras notebook's CNN): for each entry of `conv`,
/// Conv2D(k x k) + ReLU, then 2 x 2 max pooling when `pool` is 2; Flatten; the dense head.
///
/// Input x (B, H, W, 1) = pixels / 255; every activation is NHWC (see Convolution.swift),
/// so Flatten is a reinterpretation of the last stage's buffer.
///
/// With pooling, a stage runs conv → pool → ReLU one sample at a time, so the conv output
/// (86 KB a sample for the notebook's model) stays in cache and only the pooled output is
/// stored; backward likewise expands the pooled gradient per sample. ReLU comes after the
/// pool: max and ReLU are both monotone, so relu(maxpool(z)) = maxpool(relu(z)) value for
/// value, and the gradients agree too (an output routes its gradient to its window's
/// maximum, and ReLU passes it exactly when that maximum is > 0, in either order). So
/// ReLU touches a quarter of the values, and its backward is a gate on the routing.
public final class ConvClassifier: Classifier {
    /// One Conv2D (+ pooling) block and the shapes it sees.
    struct Stage {
        let conv: Conv2D
        let pooling: MaxPool2D?
        let inputHeight: Int, inputWidth: Int
        let convHeight: Int, convWidth: Int      // conv output
        let outputHeight: Int, outputWidth: Int  // after pooling (= conv output without pooling)
        var channels: Int { conv.outputChannels }
        var outputCount: Int { outputHeight * outputWidth * channels }  // per sample
    }

    public let config: ModelConfig
    public let pool: ThreadPool
    let stages: [Stage]
    let head: DenseHead
    private var inputSpace = Workspace()       // (B, H, W, 1) pixels / 255
    private var outputs: [Workspace]           // per stage (B, OH', OW', C): the stage output, post-ReLU
    // Per stage, same shape: the gradient with respect to the stage output, written by the
    // next conv's dx; without pooling, then turned in place into the conv output's gradient.
    private var outputGradients: [Workspace]
    private var batch = 0

    public var convolutions: [Conv2D] { stages.map(\.conv) }

    /// Throws `ModelError.unsupported` when the config does not describe a stack that fits the image.
    public init(config: ModelConfig, seed: UInt64, pool: ThreadPool) throws {
        precondition(config.kind == .cnn, "ConvClassifier builds CNN models")
        try ConvClassifier.validate(config)
        self.config = config
        self.pool = pool
        var generator = SeededGenerator(seed: seed, stream: "init")
        var built: [Stage] = []
        var (height, width, channels) = (config.imageHeight, config.imageWidth, 1)
        for (index, outputChannels) in config.conv.enumerated() {
            let conv = Conv2D(inputChannels: channels, outputChannels: outputChannels, kernelSize: config.kernel,
                              name: "conv.\(index)", initialization: config.initialization, generator: &generator)
            let (convHeight, convWidth) = conv.outputShape(height: height, width: width)
            let pooling = config.pool == 2 ? MaxPool2D(channels: outputChannels) : nil
            let (outputHeight, outputWidth) = pooling == nil
                ? (convHeight, convWidth) : MaxPool2D.outputShape(height: convHeight, width: convWidth)
            built.append(Stage(conv: conv, pooling: pooling, inputHeight: height, inputWidth: width,
                               convHeight: convHeight, convWidth: convWidth,
                               outputHeight: outputHeight, outputWidth: outputWidth))
            (height, width, channels) = (outputHeight, outputWidth, outputChannels)
        }
        stages = built
        head = DenseHead(inputSize: height * width * channels, hidden: config.dense, classes: config.classes,
                         dropout: config.dropout, initialization: config.initialization, seed: seed, generator: &generator)
        outputs = built.map { _ in Workspace() }
        outputGradients = built.map { _ in Workspace() }
    }

    /// Checks that every layer fits the image it gets, naming the first that does not.
    public static func validate(_ config: ModelConfig) throws {
        func fail(_ why: String) -> ModelError { .unsupported("cnn: \(why)") }
        guard config.kernel >= 1 else { throw fail("kernel must be at least 1, got \(config.kernel)") }
        guard config.pool == 1 || config.pool == 2 else {
            throw fail("pool must be 1 (none) or 2 (2x2 max pooling), got \(config.pool)")
        }
        guard config.imageHeight >= 1 && config.imageWidth >= 1 else {
            throw fail("image size must be positive, got \(config.imageHeight)x\(config.imageWidth)")
        }
        if let bad = config.conv.firstIndex(where: { $0 < 1 }) {
            throw fail("conv layer \(bad + 1) needs at least 1 channel, got \(config.conv[bad])")
        }
        if let bad = config.dense.firstIndex(where: { $0 < 1 }) {
            throw fail("dense layer \(bad + 1) needs at least 1 unit, got \(config.dense[bad])")
        }
        guard config.classes >= 1 else { throw fail("classes must be at least 1, got \(config.classes)") }
        var (height, width) = (config.imageHeight, config.imageWidth)
        let k = config.kernel
        for index in config.conv.indices {
            guard height >= k && width >= k else {
                throw fail("conv layer \(index + 1) has a \(k)x\(k) kernel but its input is only \(height)x\(width) "
                           + "(image \(config.imageHeight)x\(config.imageWidth), \(index) conv layers before it)")
            }
            (height, width) = (height - k + 1, width - k + 1)
            if config.pool == 2 {
                guard height >= 2 && width >= 2 else {
                    throw fail("the 2x2 pooling after conv layer \(index + 1) gets only \(height)x\(width)")
                }
                (height, width) = (height / 2, width / 2)
            }
        }
    }

    public var parameters: [Parameter] { stages.flatMap(\.conv.parameters) + head.parameters }

    public var forwardFlopsPerSample: Double {
        let conv = stages.reduce(0.0) { sum, stage in
            sum + 2 * Double(stage.convHeight * stage.convWidth * stage.conv.patchSize * stage.channels)
        }
        return conv + head.flopsPerSample
    }

    /// Writes x (B, H, W, 1) = pixel / 255.
    func loadBatch(_ images: ImageSet, indices: UnsafeBufferPointer<Int>) -> UnsafeMutablePointer<Float> {
        precondition(images.height == config.imageHeight && images.width == config.imageWidth,
                     "images are \(images.height)x\(images.width), the model expects \(config.imageHeight)x\(config.imageWidth)")
        let area = images.height * images.width
        let x = inputSpace.reserve(indices.count * area)
        images.pixels.withUnsafeBufferPointer { pixels in
            for (slot, index) in indices.enumerated() {
                let image = pixels.baseAddress! + index * area, row = x + slot * area
                for k in 0..<area { row[k] = Float(image[k]) * (1 / 255) }
            }
        }
        return x
    }

    public func forward(_ images: ImageSet, indices: UnsafeBufferPointer<Int>, training: Bool) -> UnsafePointer<Float> {
        batch = indices.count
        var input = UnsafePointer(loadBatch(images, indices: indices))
        for (index, stage) in stages.enumerated() {
            let perSample = stage.outputCount
            let y = outputs[index].reserve(batch * perSample)
            if let pooling = stage.pooling {
                pooling.prepare(batch: batch, height: stage.convHeight, width: stage.convWidth)
                stage.conv.forward(input, batch: batch, height: stage.inputHeight, width: stage.inputWidth,
                                   pool: pool) { s, z in
                    pooling.forward(sample: s, z, into: y + s * perSample)
                    reluForward(y + s * perSample, y + s * perSample, count: perSample)
                }
            } else {
                stage.conv(input, batch: batch, height: stage.inputHeight, width: stage.inputWidth, into: y, pool: pool)
                pool.parallelRanges(batch) { samples in
                    let offset = samples.lowerBound * perSample
                    reluForward(y + offset, y + offset, count: samples.count * perSample)
                }
            }
            input = UnsafePointer(y)
        }
        return head.forward(input, batch: batch, training: training, pool: pool)
    }

    public func backward(dLogits: UnsafePointer<Float>) {
        // Gradient with respect to the last stage's output.
        var upstream = head.backward(dLogits: dLogits, pool: pool)
        for index in stages.indices.reversed() {
            let stage = stages[index], perSample = stage.outputCount
            let y = UnsafePointer(outputs[index].buffer.pointer)
            let dy = upstream
            let dx = index > 0 ? outputGradients[index - 1].reserve(batch * stages[index - 1].outputCount) : nil
            if let pooling = stage.pooling {
                // The pooled output y gates the routing: ReLU's backward.
                stage.conv.backward(dx: dx, pool: pool) { s, channels, scratch in
                    pooling.backward(sample: s, dy: dy + s * perSample, gate: y + s * perSample, channels: channels,
                                     into: scratch)
                    return (UnsafePointer(scratch), channels.count)
                }
            } else {
                let dz = outputGradients[index].reserve(batch * perSample)
                pool.parallelRanges(batch) { samples in
                    let offset = samples.lowerBound * perSample
                    reluBackward(y: y + offset, dy: dy + offset, dx: dz + offset, count: samples.count * perSample)
                }
                stage.conv.backward(dy: dz, dx: dx, pool: pool)
            }
            if let dx { upstream = UnsafePointer(dx) }
        }
    }
}
