/// Structured unit pruning: whole hidden units leave the model, which is rebuilt
/// physically smaller (hidden 64 -> 32, say) with the surviving weights copied exactly,
/// so retraining and inference then run a smaller dense model. Magnitude pruning
/// (Pruning.swift) zeroes single weights and leaves the shapes as they were.
///
/// The units of a model are those of every recurrent layer and of every hidden dense
/// layer of the head; never the image's features (the first layer's inputs) or the
/// classes. Nor the CNN's conv channels: a channel would go the same way (a column of
/// its conv's W and b, rows of the next conv's W, and its H'·W' rows of the flattened
/// input in the head's first Dense), but only recurrent and dense units are asked for,
/// so it is not done. A recurrent unit j is one structure across its G gates, as
/// in Wen et al. 2018 ("Learning Intrinsic Sparse Structures within LSTM"): removing it
/// removes
///
///     incoming:  columns g·H + j (every gate g) of this layer's Wx (I, G·H) and Wh (H, G·H),
///                and entries g·H + j of bx and bh (G·H)
///     outgoing:  row j of this layer's Wh (H, G·H), and row j of what reads h: the next
///                layer's Wx (H, G'·H'), or the head's first Dense W (H, O) after the last layer
///
/// (the engine's matrices are input-major, the transpose of PyTorch's (G·H, I), so
/// PyTorch's gate rows are columns here). A hidden dense unit j of the head removes
/// column j of its W (I, O) and entry j of its b, and row j of the next Dense's W.
///
/// Score. A unit's score is the L2 norm of its incoming and outgoing weights: the
/// entries above of the weight matrices, each counted once (Wh[j, g·H + j] is both
/// incoming and outgoing for unit j and enters its sum once), summed in Double. Biases
/// are not scored, as in Wen et al., whose group Lasso covers weights: a unit with small
/// weights and a large bias feeds the next layer an almost constant value, which its
/// biases can learn back when the model is retrained. Weights that magnitude pruning
/// masked count as what they are, zeros. All scores are taken from the model as it is,
/// then every layer is cut at once (a layer's outgoing weights include those into the
/// next layer's units that go too).
///
/// Selection (`UnitPruningCriterion`) ranks each layer's units by score, lowest first,
/// equal scores lower index first (as magnitude pruning breaks ties by position), and
/// removes a prefix of that ranking; every layer keeps at least one unit.
///
/// Equivalence. `maskUnits` zeroes the same units' incoming and outgoing weights and
/// biases in place, through masks. Then every term a removed unit adds to a kept one is
/// 0 × w or h × 0 (even where the removed unit's own h is not exactly 0, as its cell's
/// nonlinearities at 0 need not be exact), and adding ±0 to a sum leaves it as it was.
/// `gemm` sums each output element in order within chunks of `gemmDepthBlock` (256)
/// inputs, so as long as every product's K (I + H of a recurrent layer, the inputs of a
/// Dense) is at most 256 in both models, the rebuilt model's logits are the masked
/// model's bit for bit (up to the sign of an exact 0); with a longer K the chunks group
/// the terms differently and they agree to rounding. The head's first Dense of a CNN has
/// K = the flattened conv output in both models, which pruning does not change.
/// Training the two need not agree bit for bit: dropout draws one number per unit, and
/// backward products over G·H columns chunk the removed units' zeros differently.

/// Which units to remove from each layer.
public enum UnitPruningCriterion: Sendable, Equatable {
    /// Remove the round(f·H) lowest-scoring of each layer's H units (at most H - 1); f in [0, 1].
    case fraction(Double)
    /// Remove every unit whose score is below the threshold; a layer all of whose units
    /// are below it keeps its highest-scoring one.
    case threshold(Double)
}

/// One prunable layer's units: their scores and which of them stay.
public struct UnitLayerSelection: Sendable, Equatable {
    /// The layer's parameter-name prefix: "lstm.0", "gru.1", "head.0".
    public let layer: String
    /// Per unit, the L2 norm of its incoming and outgoing weights (see the top of UnitPruning.swift).
    public let scores: [Double]
    /// The units that stay, in increasing order; never empty.
    public let kept: [Int]

    public init(layer: String, scores: [Double], kept: [Int]) {
        self.layer = layer
        self.scores = scores
        self.kept = kept
    }

    /// Units before pruning.
    public var units: Int { scores.count }

    /// The units that go, in increasing order.
    public var removed: [Int] {
        var keep = [Bool](repeating: false, count: units)
        for unit in kept { keep[unit] = true }
        return (0..<units).filter { !keep[$0] }
    }
}

/// What `pruneUnits` made.
public struct UnitPruningResult {
    /// The smaller model: the same kind on the same thread pool, its config's widths
    /// reduced, the surviving weights, biases and masks copied exactly.
    public let model: Classifier
    /// Every prunable layer in the order of `selectUnits`: the recurrent layers, then the head's hidden layers.
    public let layers: [UnitLayerSelection]
    /// `parameterCount` (weights and biases) of the model pruned and of `model`.
    public let parametersBefore: Int
    public let parametersAfter: Int
}

/// Scores every prunable layer's units of `model` and chooses those to keep by
/// `criterion`. Layers come in model order: the recurrent layers first to last (none for
/// the CNN), then the head's hidden Dense layers (all but the output layer).
public func selectUnits(_ model: Classifier, _ criterion: UnitPruningCriterion) -> [UnitLayerSelection] {
    if case .fraction(let fraction) = criterion {
        precondition((0...1).contains(fraction), "unit fraction \(fraction) is outside [0, 1]")
    }
    let structure = UnitStructure(model)
    let scores = structure.scores(model.parameters)
    return zip(structure.layers, scores).map { layer, scores in
        precondition(scores.allSatisfy(\.isFinite), "\(layer.name): unit scores must be finite (has training diverged?)")
        let units = scores.count
        let ranked = scores.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }  // lowest score first
        let cut = switch criterion {
        case .fraction(let fraction): Int((fraction * Double(units)).rounded())
        case .threshold(let threshold): scores.filter { $0 < threshold }.count  // a prefix of the ranking
        }
        var keep = [Bool](repeating: true, count: units)
        for unit in ranked.prefix(min(cut, units - 1)) { keep[unit] = false }
        return UnitLayerSelection(layer: layer.name, scores: scores, kept: (0..<units).filter { keep[$0] })
    }
}

/// Removes units of `model` by `criterion`: `selectUnits`, then `rebuild`. `model` is
/// left as it was. `seed` seeds the new model's dropout stream (every weight is copied).
public func pruneUnits(_ model: Classifier, _ criterion: UnitPruningCriterion, seed: UInt64) -> UnitPruningResult {
    let layers = selectUnits(model, criterion)
    let smaller = rebuild(model, keepingUnits: layers.map(\.kept), seed: seed)
    return UnitPruningResult(model: smaller, layers: layers, parametersBefore: model.parameterCount,
                             parametersAfter: smaller.parameterCount)
}

/// A new model of `model`'s kind with only the units `kept` (one increasing, non-empty
/// list per prunable layer, in the order of `selectUnits`), on the same thread pool.
///
/// Its config has the kept counts as widths: the recurrent layers' through
/// `ModelConfig.withHiddenSizes` (equal counts give a plain `hidden`), the head's hidden
/// layers' as `dense`. Every parameter is the old one's kept rows and columns (all gates
/// of a kept recurrent unit), values and masks bit for bit; a parameter without a mask
/// gets none. The new model's weights are drawn from `seed` and then overwritten, so the
/// seed only matters for its dropout stream. `model` is left as it was.
public func rebuild(_ model: Classifier, keepingUnits kept: [[Int]], seed: UInt64) -> Classifier {
    let structure = UnitStructure(model)
    structure.check(kept)
    let widths = kept.map(\.count)
    let smaller: Classifier
    switch model {
    case let sequence as SequenceClassifier:
        let layers = sequence.recurrent.count
        var config = sequence.config.withHiddenSizes(Array(widths.prefix(layers)))
        config.dense = Array(widths.dropFirst(layers))
        smaller = SequenceClassifier(config: config, seed: seed, pool: sequence.pool)
    case let conv as ConvClassifier:
        var config = conv.config
        config.dense = widths
        do {
            smaller = try ConvClassifier(config: config, seed: seed, pool: conv.pool)
        } catch {
            preconditionFailure("a CNN with fewer dense units than a valid one is valid: \(error)")
        }
    default:
        preconditionFailure("unit pruning rebuilds the engine's SequenceClassifier and ConvClassifier, not \(type(of: model))")
    }
    let old = model.parameters, new = smaller.parameters
    precondition(old.count == new.count && old.map(\.name) == new.map(\.name), "the rebuilt model has other parameters")
    for (index, (source, target)) in zip(old, new).enumerated() {
        let (rows, columns) = structure.keptIndices(of: source, axes: structure.axes[index], kept: kept)
        let width = columns.count
        precondition(target.count == rows.count * width && target.shape.last == width,
                     "\(target.name): shape \(target.shape) is not the kept \(rows.count) x \(width)")
        func restricted(_ buffer: FloatBuffer) -> [Float] {
            let from = buffer.pointer, sourceWidth = source.shape.last!
            var out = [Float](repeating: 0, count: target.count)
            for (r, row) in rows.enumerated() {
                for (c, column) in columns.enumerated() { out[r * width + c] = from[row * sourceWidth + column] }
            }
            return out
        }
        // The mask first: setMask multiplies the values by it, and the copied values then
        // overwrite them exactly (a pruned -0.0 stays -0.0), as loading a checkpoint does.
        if let mask = source.mask { target.setMask(restricted(mask)) } else { target.clearMask() }
        let values = restricted(source.value)
        for i in 0..<target.count { target.value[i] = values[i] }
    }
    return smaller
}

/// Masks `model` in place so that it computes what `rebuild(model, keepingUnits: kept, ...)`
/// does: every removed unit's incoming and outgoing weights and its biases are 0 and
/// held there by masks (combined with any mask already installed), so retraining keeps
/// them 0 as it keeps magnitude-pruned weights. Unlike magnitude pruning this masks
/// biases too. Parameters no removed unit touches are left alone.
public func maskUnits(_ model: Classifier, keeping kept: [[Int]]) {
    let structure = UnitStructure(model)
    structure.check(kept)
    let keep = zip(structure.layers, kept).map { layer, kept in
        var flags = [Bool](repeating: false, count: layer.units)
        for unit in kept { flags[unit] = true }
        return flags
    }
    for (parameter, axes) in zip(model.parameters, structure.axes) where axes.rows != nil || axes.columns != nil {
        let width = parameter.shape.last!, rows = parameter.count / width
        let rowKept: (Int) -> Bool = axes.rows.map { layer in { keep[layer][$0] } } ?? { _ in true }
        let columnKept: (Int) -> Bool = axes.columns.map { layer in
            let units = structure.layers[layer].units
            return { keep[layer][$0 % units] }
        } ?? { _ in true }
        var mask = parameter.mask?.array ?? [Float](repeating: 1, count: parameter.count)
        var changed = false
        for r in 0..<rows {
            for c in 0..<width where !(rowKept(r) && columnKept(c)) {
                mask[r * width + c] = 0
                changed = true
            }
        }
        if changed { parameter.setMask(mask) }
    }
}

/// The prunable layers of a model and how each parameter's axes index their units.
///
/// Every parameter is seen as a matrix (rows, columns) with columns = its last dimension
/// (a bias is one row; a conv weight (k, k, Cin, Cout) is (k·k·Cin, Cout), and never
/// pruned). Its rows may be the units of one prunable layer (a weight that reads that
/// layer's output) and its columns those of one prunable layer, in G blocks of H, one a
/// gate (a weight or bias that produces it).
struct UnitStructure {
    struct Layer {
        let name: String
        let units: Int
    }

    struct Axes {
        /// The prunable layer whose units the rows are, or nil.
        let rows: Int?
        /// The prunable layer whose units the columns are (column g·H + j is unit j), or nil.
        let columns: Int?
    }

    let layers: [Layer]
    /// One per parameter, in `Classifier.parameters` order.
    let axes: [Axes]

    init(_ model: Classifier) {
        var layers: [Layer] = [], axes: [Axes] = []
        let head: DenseHead
        /// The prunable layer the head's input comes from, if any.
        var headInput: Int?
        switch model {
        case let sequence as SequenceClassifier:
            for (index, layer) in sequence.recurrent.enumerated() {
                layers.append(Layer(name: "\(sequence.config.kind.rawValue).\(index)", units: layer.hiddenSize))
                let previous = index > 0 ? index - 1 : nil  // layer 0 reads the image's features
                // Wx (I, G·H), Wh (H, G·H), bx (G·H), bh (G·H): `RecurrentLayer.parameters`.
                axes += [Axes(rows: previous, columns: index), Axes(rows: index, columns: index),
                         Axes(rows: nil, columns: index), Axes(rows: nil, columns: index)]
            }
            head = sequence.head
            headInput = sequence.recurrent.isEmpty ? nil : sequence.recurrent.count - 1
        case let conv as ConvClassifier:
            axes += conv.stages.flatMap(\.conv.parameters).map { _ in Axes(rows: nil, columns: nil) }
            head = conv.head
        default:
            preconditionFailure("unit pruning knows the engine's SequenceClassifier and ConvClassifier, not \(type(of: model))")
        }
        for (k, dense) in head.layers.enumerated() {
            let hidden = k < head.layers.count - 1  // the output layer's units are the classes
            let output: Int? = hidden ? layers.count : nil
            if hidden { layers.append(Layer(name: "head.\(k)", units: dense.outputSize)) }
            // W (I, O), b (O): `Dense.parameters`.
            axes += [Axes(rows: headInput, columns: output), Axes(rows: nil, columns: output)]
            headInput = output
        }
        precondition(axes.count == model.parameters.count, "every parameter is described")
        self.layers = layers
        self.axes = axes
    }

    /// Checks that `kept` gives each layer an increasing, non-empty list of its units.
    func check(_ kept: [[Int]]) {
        precondition(kept.count == layers.count, "kept units are for \(kept.count) layers, the model has \(layers.count)")
        for (layer, units) in zip(layers, kept) {
            precondition(!units.isEmpty, "\(layer.name) must keep at least one unit")
            precondition(zip(units, units.dropFirst()).allSatisfy { $0 < $1 }, "\(layer.name): kept units must increase")
            precondition(units.allSatisfy { (0..<layer.units).contains($0) },
                         "\(layer.name): kept units must be in 0..<\(layer.units), got \(units)")
        }
    }

    /// Squared weights summed per unit, then square roots: the scores (see the top of the file).
    func scores(_ parameters: [Parameter]) -> [[Double]] {
        var squares = layers.map { [Double](repeating: 0, count: $0.units) }
        for (parameter, axes) in zip(parameters, axes) where parameter.isWeightMatrix {
            guard axes.rows != nil || axes.columns != nil else { continue }
            let width = parameter.shape.last!, rows = parameter.count / width
            let units = axes.columns.map { layers[$0].units } ?? 1
            let w = parameter.value.pointer
            for r in 0..<rows {
                for c in 0..<width {
                    let value = Double(w[r * width + c]), square = value * value
                    if let layer = axes.rows { squares[layer][r] += square }
                    if let layer = axes.columns {
                        let unit = c % units
                        // Wh[j, g·H + j] is in unit j's group once, not as incoming and outgoing both.
                        if !(axes.rows == layer && unit == r) { squares[layer][unit] += square }
                    }
                }
            }
        }
        return squares.map { $0.map { $0.squareRoot() } }
    }

    /// The rows and columns of `parameter` that stay when each layer keeps `kept`.
    func keptIndices(of parameter: Parameter, axes: Axes, kept: [[Int]]) -> (rows: [Int], columns: [Int]) {
        let width = parameter.shape.last!, rows = parameter.count / width
        let keptRows = axes.rows.map { kept[$0] } ?? Array(0..<rows)
        guard let layer = axes.columns else { return (keptRows, Array(0..<width)) }
        let units = layers[layer].units
        precondition(width % units == 0, "\(parameter.name): \(width) columns are not gates of \(units) units")
        return (keptRows, (0..<(width / units)).flatMap { gate in kept[layer].map { gate * units + $0 } })
    }
}
