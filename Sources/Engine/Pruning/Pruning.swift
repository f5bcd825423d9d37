/// Magnitude pruning (the paper's section 2.4): weights of small magnitude are cut and
/// held at exactly zero while the model is retrained.
///
/// Only weight matrices (`Parameter.isWeightMatrix`) are pruned, never biases. Pruning
/// installs a mask on every weight matrix; the optimizers apply it to gradients, their
/// own state and the values, so a pruned weight stays 0 through any number of steps.

/// Which weights to prune.
public enum PruningCriterion: Sendable, Equatable {
    /// Prune every weight with |w| < threshold.
    case threshold(Float)
    /// Prune the round(s·N) weights of smallest magnitude among all N prunable weights,
    /// ranked globally across layers; s in [0, 1].
    case sparsity(Double)
}

/// The pruned state of a model's weight matrices.
public struct ModelSparsity: Sendable, Equatable {
    /// prunedCount / prunableCount (0 for a model without weight matrices).
    public var globalSparsity: Double
    /// Fraction pruned in each weight matrix, by parameter name.
    public var layerSparsity: [String: Double]
    /// Weights in all weight matrices.
    public var prunableCount: Int
    /// Weights whose mask entry is 0.
    public var prunedCount: Int
    /// Non-zero values among all parameters, biases included.
    public var nonzeroParameters: Int
}

/// Masks every weight matrix of `model` by `criterion` and zeroes the pruned weights.
///
/// The masks are computed afresh from the current values (a previous mask is replaced):
/// weights pruned earlier are 0, so they are pruned again by any positive threshold and
/// ranked first by any sparsity target.
@discardableResult
public func prune(_ model: Classifier, _ criterion: PruningCriterion) -> ModelSparsity {
    let matrices = model.parameters.filter(\.isWeightMatrix)
    var masks = matrices.map { [Float](repeating: 1, count: $0.count) }
    switch criterion {
    case .threshold(let threshold):
        for (index, parameter) in matrices.enumerated() {
            let w = parameter.value.pointer
            for i in 0..<parameter.count where abs(w[i]) < threshold { masks[index][i] = 0 }
        }
    case .sparsity(let sparsity):
        precondition((0...1).contains(sparsity), "sparsity \(sparsity) is outside [0, 1]")
        let total = matrices.reduce(0) { $0 + $1.count }
        let target = Int((sparsity * Double(total)).rounded())
        // One sortable key per weight: the bit pattern of |w| (ordered like the magnitude
        // for non-negative floats) above its global position, so equal magnitudes are
        // ranked by parameter order, then index, and exactly `target` weights are cut.
        precondition(total < 1 << 32, "too many weights to rank")
        var keys: [UInt64] = []
        keys.reserveCapacity(total)
        for parameter in matrices {
            let w = parameter.value.pointer
            for i in 0..<parameter.count { keys.append(UInt64(abs(w[i]).bitPattern) << 32 | UInt64(keys.count)) }
        }
        keys.sort()
        var owner: [(start: Int, matrix: Int)] = []  // where each matrix's weights begin in the global order
        var start = 0
        for (index, parameter) in matrices.enumerated() { owner.append((start, index)); start += parameter.count }
        for key in keys.prefix(target) {
            let position = Int(key & 0xFFFF_FFFF)
            let entry = owner.last { $0.start <= position }!
            masks[entry.matrix][position - entry.start] = 0
        }
    }
    for (parameter, mask) in zip(matrices, masks) { parameter.setMask(mask) }
    return modelSparsity(model)
}

/// Describes the masks currently installed on `model` (a matrix without a mask counts as unpruned).
public func modelSparsity(_ model: Classifier) -> ModelSparsity {
    var layerSparsity: [String: Double] = [:]
    var prunable = 0, pruned = 0, nonzero = 0
    for parameter in model.parameters {
        let w = parameter.value.pointer
        for i in 0..<parameter.count where w[i] != 0 { nonzero += 1 }
        guard parameter.isWeightMatrix else { continue }
        var cut = 0
        if let mask = parameter.mask?.pointer {
            for i in 0..<parameter.count where mask[i] == 0 { cut += 1 }
        }
        layerSparsity[parameter.name] = parameter.count > 0 ? Double(cut) / Double(parameter.count) : 0
        prunable += parameter.count
        pruned += cut
    }
    return ModelSparsity(globalSparsity: prunable > 0 ? Double(pruned) / Double(prunable) : 0,
                         layerSparsity: layerSparsity, prunableCount: prunable, prunedCount: pruned,
                         nonzeroParameters: nonzero)
}

/// The sparsity of `model`, a model rebuilt smaller from `dense` (`pruneUnits`), counted
/// against `dense`'s weight matrices: an entry the smaller model lacks counts as pruned, as
/// does a masked one it keeps, so methods that shrink and methods that mask compare on the
/// same scale. Layers are matched by parameter name.
public func modelSparsity(_ model: Classifier, relativeTo dense: Classifier) -> ModelSparsity {
    let denseCounts = Dictionary(uniqueKeysWithValues: dense.parameters.filter(\.isWeightMatrix).map { ($0.name, $0.count) })
    let prunable = denseCounts.values.reduce(0, +)
    var layerSparsity: [String: Double] = [:]
    var kept = 0
    for parameter in model.parameters where parameter.isWeightMatrix {
        var keptHere = parameter.count
        if let mask = parameter.mask?.pointer {
            for i in 0..<parameter.count where mask[i] == 0 { keptHere -= 1 }
        }
        kept += keptHere
        if let count = denseCounts[parameter.name], count > 0 { layerSparsity[parameter.name] = 1 - Double(keptHere) / Double(count) }
    }
    return ModelSparsity(globalSparsity: prunable > 0 ? 1 - Double(kept) / Double(prunable) : 0, layerSparsity: layerSparsity,
                         prunableCount: prunable, prunedCount: prunable - kept,
                         nonzeroParameters: modelSparsity(model).nonzeroParameters)
}

/// Histograms of the weight matrices (the paper's Fig. 5 density plots): one per matrix,
/// in parameter order, then one named "all" over every matrix. All share the range
/// [-m, m], m = the largest finite |w| (1 when every weight is 0), so they can be
/// overlaid. `skipZeros` leaves out exact zeros, i.e. pruned weights; non-finite values
/// are left out as they have no bin.
public func weightHistograms(_ model: Classifier, bins: Int = 200, skipZeros: Bool) -> [WeightHistogram] {
    let matrices = model.parameters.filter(\.isWeightMatrix)
    var largest: Float = 0
    for parameter in matrices {
        let w = parameter.value.pointer
        for i in 0..<parameter.count where w[i].isFinite { largest = max(largest, abs(w[i])) }
    }
    let bound = largest > 0 ? Double(largest) : 1
    var all: [Float] = []
    var histograms: [WeightHistogram] = []
    for parameter in matrices {
        let values = UnsafeBufferPointer(start: parameter.value.pointer, count: parameter.count).filter(\.isFinite)
        all += values
        histograms.append(values.withUnsafeBufferPointer {
            WeightHistogram(layer: parameter.name, values: $0, lower: -bound, upper: bound, bins: bins, skipZeros: skipZeros)
        })
    }
    histograms.append(all.withUnsafeBufferPointer {
        WeightHistogram(layer: "all", values: $0, lower: -bound, upper: bound, bins: bins, skipZeros: skipZeros)
    })
    return histograms
}

/// Multiply-add FLOPs per sample of a forward pass that skips pruned weights, as sparse
/// inference does: each weight matrix's share of `forwardFlopsPerSample` scaled by the
/// fraction of its entries that are not zero. A recurrent layer's matrices are used once
/// per time step, a convolution's once per output position, a dense layer's once per
/// sample; for a model without zeros this is `forwardFlopsPerSample`.
public func effectiveForwardFlopsPerSample(_ model: Classifier) -> Double {
    func density(_ parameter: Parameter) -> Double {
        guard parameter.count > 0 else { return 0 }
        let w = parameter.value.pointer
        var nonzero = 0
        for i in 0..<parameter.count where w[i] != 0 { nonzero += 1 }
        return Double(nonzero) / Double(parameter.count)
    }
    func dense(_ layers: [Dense]) -> Double {
        layers.reduce(0) { $0 + 2 * Double($1.inputSize * $1.outputSize) * density($1.weight) }
    }
    switch model {
    case let sequence as SequenceClassifier:
        let perStep = sequence.recurrent.reduce(0.0) { sum, layer in
            sum + 2 * Double(layer.inputSize * layer.gateCount * layer.hiddenSize) * density(layer.inputWeight)
                + 2 * Double(layer.hiddenSize * layer.gateCount * layer.hiddenSize) * density(layer.recurrentWeight)
        }
        return perStep * Double(sequence.steps) + dense(sequence.head.layers)
    case let conv as ConvClassifier:
        let convolutions = conv.stages.reduce(0.0) { sum, stage in
            sum + 2 * Double(stage.convHeight * stage.convWidth * stage.conv.patchSize * stage.channels) * density(stage.conv.weight)
        }
        return convolutions + dense(conv.head.layers)
    default:
        return model.forwardFlopsPerSample
    }
}
