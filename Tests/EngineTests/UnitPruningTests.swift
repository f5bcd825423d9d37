import XCTest
@testable import Engine
import TestSupport

/// Structured unit pruning: which units go, the smaller model it rebuilds (against the
/// masked original, bit for bit), and that the rebuilt model trains, checkpoints and runs
/// sparse inference like any other.
final class UnitPruningTests: SmallModelTestCase {
    /// The shared small config with `layers` layers and `hidden` units; 20 units: a vector
    /// and a tail in the cell kernels.
    func config(_ kind: ModelConfig.Kind, layers: Int, hidden: Int = 20, activation: RecurrentActivation = .tanh,
                dropout: Float = 0) -> ModelConfig {
        var settings = config(kind, activation: activation, hidden: hidden, dropout: dropout)
        settings.layers = layers
        return settings
    }

    func cnnConfig() -> ModelConfig {
        ModelConfig(kind: .cnn, dense: [9, 7], dropout: 0.2, conv: [4], kernel: 3, pool: 2, classes: 5,
                    imageHeight: 7, imageWidth: 6)
    }

    /// `count` of `units` units, chosen by `seed`, in increasing order.
    func someUnits(_ count: Int, of units: Int, seed: UInt64) -> [Int] {
        var g = SeededGenerator(seed: seed)
        var all = Array(0..<units)
        for i in stride(from: units - 1, to: 0, by: -1) { all.swapAt(i, g.nextInt(below: i + 1)) }
        return all.prefix(count).sorted()
    }

    /// The rebuilt model's logits against the masked original's, bit for bit (== takes
    /// -0.0 for 0.0: a sum of only removed terms may be 0 of either sign). Returns the
    /// rebuilt model; `model` is masked afterwards.
    @discardableResult
    func assertRebuiltEqualsMasked(_ model: Classifier, keeping kept: [[Int]], _ label: String,
                                   file: StaticString = #filePath, line: UInt = #line) -> Classifier {
        let data = images(23, seed: 30)
        let original = logits(model, data)
        let smaller = rebuild(model, keepingUnits: kept, seed: 31)
        XCTAssertIdentical(smaller.pool, model.pool, label, file: file, line: line)
        XCTAssertEqual(logits(model, data), original, "\(label): rebuilding leaves the model as it was", file: file, line: line)
        maskUnits(model, keeping: kept)
        let masked = logits(model, data)
        XCTAssertNotEqual(masked, original, "\(label): removing units changes the model", file: file, line: line)
        XCTAssertEqual(logits(smaller, data), masked, label, file: file, line: line)
        return smaller
    }

    // MARK: exactness

    func testRebuiltRecurrentModelsComputeTheMaskedModelExactly() {
        for kind in [ModelConfig.Kind.lstm, .gru, .rnn] {
            for layers in [1, 2] {
                for activation in [RecurrentActivation.tanh, .relu] {
                    let label = "\(kind) \(layers) layers \(activation)"
                    let model = SequenceClassifier(config: config(kind, layers: layers, activation: activation, dropout: 0.2),
                                                   seed: 20, pool: pool1)
                    let selection = selectUnits(model, .fraction(0.4))
                    XCTAssertEqual(selection.map(\.layer), (0..<layers).map { "\(kind).\($0)" } + ["head.0"], label)
                    XCTAssertEqual(selection.map(\.kept.count), Array(repeating: 12, count: layers) + [5], label)
                    let smaller = assertRebuiltEqualsMasked(model, keeping: selection.map(\.kept), label)
                    XCTAssertEqual(smaller.config, config(kind, layers: layers, hidden: 12, activation: activation, dropout: 0.2)
                        .with { $0.dense = [5] }, label)
                    XCTAssert(smaller.parameters.allSatisfy { $0.mask == nil }, "\(label): an unmasked model gives an unmasked one")
                }
            }
        }
    }

    /// Different counts per layer (a per-layer-width model), two threads, and a model
    /// magnitude-pruned first: the masks come along with the values.
    func testPerLayerWidthsAndMagnitudeMasksAreKeptExactly() {
        for kind in [ModelConfig.Kind.lstm, .gru, .rnn] {
            let label = "\(kind)"
            let model = SequenceClassifier(config: config(kind, layers: 2), seed: 21, pool: ThreadPool(threads: 2))
            prune(model, .sparsity(0.5))
            let kept = [someUnits(7, of: 20, seed: 1), someUnits(13, of: 20, seed: 2), someUnits(4, of: 9, seed: 3)]
            let smaller = assertRebuiltEqualsMasked(model, keeping: kept, label) as! SequenceClassifier
            XCTAssertEqual(smaller.config.hiddenSizes, [7, 13], label)
            XCTAssertEqual(smaller.config.layerHidden, [7, 13], label)
            XCTAssertEqual(smaller.config.hidden, 13, label)
            XCTAssertEqual(smaller.config.dense, [4], label)
            let g = kind.recurrentCell!.gateCount
            XCTAssertEqual(smaller.parameters.map(\.shape),
                           [[6, g * 7], [7, g * 7], [g * 7], [g * 7], [7, g * 13], [13, g * 13], [g * 13], [g * 13],
                            [13, 4], [4], [4, 5], [5]], label)
            for parameter in smaller.parameters {
                XCTAssertEqual(parameter.mask != nil, parameter.isWeightMatrix, "\(label) \(parameter.name)")
            }
            // The masked original: layer 1's Wx (20, G·20) reads layer 0's units, its Wh (20, G·20)
            // and bx (G·20) its own; an entry goes when its row's or its column's unit does.
            let layer1 = model.recurrent[1]
            for (parameter, rowUnits) in [(layer1.inputWeight, kept[0]), (layer1.recurrentWeight, kept[1]),
                                          (layer1.inputBias, [0])] {
                let mask = parameter.mask!
                for r in 0..<(parameter.count / (g * 20)) {
                    for c in 0..<(g * 20) where !rowUnits.contains(r) || !kept[1].contains(c % 20) {
                        XCTAssertEqual(mask[r * g * 20 + c], 0, "\(label) \(parameter.name)[\(r), \(c)]")
                        XCTAssertEqual(parameter.value[r * g * 20 + c], 0, "\(label) \(parameter.name)[\(r), \(c)]")
                    }
                }
            }
            // Entry by entry: Wh of layer 1 (13, G·13) is the kept rows and gate columns of the original.
            let (old, new) = (model.recurrent[1].recurrentWeight, smaller.recurrent[1].recurrentWeight)
            for (r, row) in kept[1].enumerated() {
                for gate in 0..<g {
                    for (c, column) in kept[1].enumerated() {
                        let (i, j) = (r * g * 13 + gate * 13 + c, row * g * 20 + gate * 20 + column)
                        XCTAssertEqual(new.value[i].bitPattern, old.value[j].bitPattern, label)
                        XCTAssertEqual(new.mask![i], old.mask![j], label)
                    }
                }
            }
        }
    }

    func testRebuiltCNNComputesTheMaskedModelExactly() throws {
        for threads in [1, 2] {
            let model = try ConvClassifier(config: cnnConfig(), seed: 22, pool: ThreadPool(threads: threads))
            let selection = selectUnits(model, .fraction(0.4))
            XCTAssertEqual(selection.map(\.layer), ["head.0", "head.1"], "conv channels are not pruned")
            XCTAssertEqual(selection.map(\.kept.count), [5, 4])  // round(3.6) = 4 and round(2.8) = 3 removed
            let smaller = assertRebuiltEqualsMasked(model, keeping: selection.map(\.kept), "cnn \(threads) threads")
            XCTAssertEqual(smaller.config, cnnConfig().with { $0.dense = [5, 4] })
            XCTAssertEqual(smaller.parameters[0].value.array, model.parameters[0].value.array, "the conv weights are copied")
            XCTAssertEqual(smaller.parameters.map(\.shape), [[3, 3, 1, 4], [4], [16, 5], [5], [5, 4], [4], [4, 5], [5]])
        }
    }

    // MARK: scores and selection

    /// One LSTM layer of 4 units and a head layer of 3 with weights set by hand, so every
    /// score is known: LSTM [3, √2, 2, 0.5], head [√2, √0.5, 2].
    func testScoresAndSelectionOfAHandSetModel() {
        var settings = ModelConfig(kind: .lstm, layers: 1, hidden: 4, dense: [3], classes: 2, imageHeight: 3, imageWidth: 2)
        settings.dropout = 0
        let model = SequenceClassifier(config: settings, seed: 1, pool: pool1)
        for parameter in model.parameters { parameter.value.zero() }
        let lstm = model.recurrent[0], head = model.head.layers
        lstm.inputWeight.value[0 * 16 + 1 * 4 + 0] = 3      // Wx (2, 16): input 0 into unit 0's f gate
        lstm.recurrentWeight.value[3 * 16 + 0 * 4 + 3] = 0.5  // Wh (4, 16): unit 3 into its own i gate, counted once
        lstm.recurrentWeight.value[1 * 16 + 3 * 4 + 1] = -1   // unit 1 into its own o gate
        head[0].weight.value[1 * 3 + 0] = 1                  // W (4, 3): LSTM unit 1 into head unit 0
        head[0].weight.value[2 * 3 + 2] = -2                 // LSTM unit 2 into head unit 2
        head[1].weight.value[1 * 2 + 0] = 0.5                // W (3, 2): head unit 1 into both classes
        head[1].weight.value[1 * 2 + 1] = -0.5
        head[1].weight.value[0 * 2 + 1] = 1                  // head unit 0 into class 1
        lstm.inputBias.value[3] = 100                        // biases are not scored
        head[0].bias.value[1] = 50

        func kept(_ criterion: UnitPruningCriterion) -> [[Int]] { selectUnits(model, criterion).map(\.kept) }
        let selection = selectUnits(model, .fraction(0.5))
        XCTAssertEqual(selection.map(\.layer), ["lstm.0", "head.0"])
        XCTAssertEqual(selection[0].scores, [3, Double(2).squareRoot(), 2, 0.5])
        XCTAssertEqual(selection[1].scores, [Double(2).squareRoot(), Double(0.5).squareRoot(), 2])
        // round(0.5·4) = 2 and round(0.5·3) = 2 lowest go.
        XCTAssertEqual(selection.map(\.kept), [[0, 2], [2]])
        XCTAssertEqual(selection.map(\.removed), [[1, 3], [0, 1]])
        XCTAssertEqual(kept(.fraction(0.25)), [[0, 1, 2], [0, 2]])
        XCTAssertEqual(kept(.fraction(0)), [[0, 1, 2, 3], [0, 1, 2]])
        XCTAssertEqual(kept(.fraction(1)), [[0], [2]], "every layer keeps its best unit")
        XCTAssertEqual(kept(.threshold(1.5)), [[0, 2], [2]])
        XCTAssertEqual(kept(.threshold(1)), [[0, 1, 2], [0, 2]])
        XCTAssertEqual(kept(.threshold(0.5)), [[0, 1, 2, 3], [0, 1, 2]], "a score equal to the threshold stays")
        XCTAssertEqual(kept(.threshold(100)), [[0], [2]])

        // Masked weights are zeros: masking unit 0's only weight makes it the lowest.
        let mask = [Float](repeating: 1, count: lstm.inputWeight.count).enumerated().map { $0.offset == 4 ? 0 : $0.element }
        lstm.inputWeight.setMask(mask)
        XCTAssertEqual(selectUnits(model, .fraction(0.25))[0].scores[0], 0)
        XCTAssertEqual(kept(.fraction(0.25))[0], [1, 2, 3])

        // Ties go by index, lowest first, as magnitude pruning's.
        for parameter in model.parameters { parameter.value.zero() }
        XCTAssertEqual(kept(.fraction(0.5)), [[2, 3], [2]])
        XCTAssertEqual(kept(.threshold(1)), [[3], [2]])
    }

    /// The scores against their definition written out unit by unit: the set of weight
    /// entries a unit's group holds (so an entry is counted once), squared and summed.
    func testScoresMatchTheirDefinition() {
        for kind in [ModelConfig.Kind.lstm, .gru, .rnn] {
            let model = SequenceClassifier(config: config(kind, layers: 2, hidden: 7), seed: 23, pool: pool1)
            prune(model, .sparsity(0.3))
            var expected: [[Double]] = []
            func norm(_ entries: Set<[Int]>, _ matrices: [Parameter]) -> Double {
                entries.map { Double(matrices[$0[0]].value[$0[1]]) }.map { $0 * $0 }.reduce(0, +).squareRoot()
            }
            let recurrent = model.recurrent, head = model.head.layers
            for (l, layer) in recurrent.enumerated() {
                let (h, g, i) = (layer.hiddenSize, layer.gateCount, layer.inputSize)
                let next = l + 1 < recurrent.count ? recurrent[l + 1].inputWeight : head[0].weight
                let matrices = [layer.inputWeight, layer.recurrentWeight, next]
                expected.append((0..<h).map { j in
                    var entries = Set<[Int]>()
                    for gate in 0..<g {
                        for k in 0..<i { entries.insert([0, k * g * h + gate * h + j]) }
                        for k in 0..<h { entries.insert([1, k * g * h + gate * h + j]) }
                    }
                    for c in 0..<(g * h) { entries.insert([1, j * g * h + c]) }
                    let width = next.shape[1]
                    for c in 0..<width { entries.insert([2, j * width + c]) }
                    return norm(entries, matrices)
                })
            }
            for k in 0..<(head.count - 1) {
                let (inputs, outputs, width) = (head[k].inputSize, head[k].outputSize, head[k + 1].outputSize)
                expected.append((0..<outputs).map { j in
                    norm(Set((0..<inputs).map { [0, $0 * outputs + j] } + (0..<width).map { [1, j * width + $0] }),
                         [head[k].weight, head[k + 1].weight])
                })
            }
            let scores = selectUnits(model, .fraction(0)).map(\.scores)
            XCTAssertEqual(scores.map(\.count), [7, 7, 9], "\(kind)")
            for (ours, theirs) in zip(scores.joined(), expected.joined()) {
                XCTAssertEqual(ours, theirs, accuracy: 1e-12 * theirs, "\(kind)")
            }
        }
    }

    /// The paper's model (2-layer LSTM, 64 units, rows) halved: 32 units a layer, a plain
    /// config (the same as one built with hidden 32), and its forward FLOPs per sample.
    func testHalvingThePaperModel() throws {
        let model = try makeModel(.paperLSTM, seed: 1, threads: 1)
        let result = pruneUnits(model, .fraction(0.5), seed: 2)
        XCTAssertEqual(result.model.config, ModelConfig(kind: .lstm, layers: 2, hidden: 32))
        XCTAssertNil(result.model.config.layerHidden)
        XCTAssertEqual(result.layers.map(\.kept.count), [32, 32])
        XCTAssertEqual(result.layers.map(\.units), [64, 64])
        // 4·64·(28 + 64 + 2) + 4·64·(64 + 64 + 2) + 64·10 + 10, and the same at 32.
        XCTAssertEqual(result.parametersBefore, 57_994)
        XCTAssertEqual(result.parametersAfter, 4 * 32 * (28 + 32 + 2) + 4 * 32 * (32 + 32 + 2) + 32 * 10 + 10)
        XCTAssertEqual(result.parametersAfter, 16_714)
        // 28 steps of 2·(I + H)·4H per layer, then the head's 2·H·10.
        XCTAssertEqual(model.forwardFlopsPerSample, 3_155_200)
        XCTAssertEqual(result.model.forwardFlopsPerSample, 889_472)
        XCTAssertEqual(result.model.forwardFlopsPerSample, 28 * 2 * Double((28 + 32) * 128 + (32 + 32) * 128) + 2 * 320)
    }

    /// A threshold cuts each layer by its own scores: layer 1's weights are scaled up, so
    /// it keeps more units than layer 0, and the rebuilt model has a width per layer.
    func testThresholdKeepsPerLayerCounts() {
        for kind in [ModelConfig.Kind.lstm, .gru] {
            let model = SequenceClassifier(config: config(kind, layers: 2), seed: 24, pool: pool1)
            for parameter in model.recurrent[1].parameters where parameter.isWeightMatrix {
                for i in 0..<parameter.count { parameter.value[i] *= 1.5 }
            }
            let scores = selectUnits(model, .fraction(0)).map(\.scores)
            let threshold = scores[0].sorted()[12]  // layer 0 keeps 8 of 20
            let result = pruneUnits(model, .threshold(threshold), seed: 3)
            let counts = scores.map { layer in max(1, layer.filter { $0 >= threshold }.count) }
            XCTAssertEqual(counts[0], 8, "\(kind)")
            XCTAssertGreaterThan(counts[1], counts[0], "\(kind)")
            XCTAssertEqual(result.layers.map(\.kept.count), counts, "\(kind)")
            for (layer, selection) in zip(scores.prefix(2), result.layers) {
                XCTAssertEqual(selection.kept, layer.indices.filter { layer[$0] >= threshold }, "\(kind)")
            }
            XCTAssertEqual(result.model.config.hiddenSizes, Array(counts.prefix(2)), "\(kind)")
            XCTAssertEqual(result.model.config.layerHidden, Array(counts.prefix(2)), "\(kind)")
            XCTAssertEqual(result.model.config.dense, [counts[2]], "\(kind)")
            XCTAssertEqual(result.parametersAfter, result.model.parameterCount)
            XCTAssertLessThan(result.parametersAfter, result.parametersBefore)
            assertRebuiltEqualsMasked(model, keeping: result.layers.map(\.kept), "\(kind) threshold")
        }
    }

    func testWithHiddenSizesNormalises() {
        let base = config(.lstm, layers: 2)
        XCTAssertEqual(base.hiddenSizes, [20, 20])
        XCTAssertEqual(base.withHiddenSizes([20, 20]), base)
        XCTAssertEqual(base.withHiddenSizes([9, 9]), config(.lstm, layers: 2, hidden: 9))
        let uneven = base.withHiddenSizes([9, 4, 6])
        XCTAssertEqual(uneven.layers, 3)
        XCTAssertEqual(uneven.hidden, 9)
        XCTAssertEqual(uneven.layerHidden, [9, 4, 6])
        XCTAssertEqual(uneven.hiddenSizes, [9, 4, 6])
        let model = SequenceClassifier(config: uneven, seed: 1, pool: pool1)
        XCTAssertEqual(model.recurrent.map(\.inputSize), [6, 9, 4])
        XCTAssertEqual(model.recurrent.map(\.hiddenSize), [9, 4, 6])
        XCTAssertEqual(model.head.layers[0].inputSize, 6)
        XCTAssertEqual(model.forwardFlopsPerSample,
                       7 * 2 * 4 * Double((6 + 9) * 9 + (9 + 4) * 4 + (4 + 6) * 6) + 2 * Double(6 * 9 + 9 * 5))
    }

    // MARK: the rebuilt model at work

    func testGradientsOfPerLayerWidthModels() throws {
        for kind in [ModelConfig.Kind.lstm, .gru, .rnn] {
            let model = SequenceClassifier(config: config(kind, layers: 2, hidden: 8), seed: 25, pool: pool1)
            let smaller = rebuild(model, keepingUnits: [[0, 2, 3, 7], [1, 2, 4, 5, 6], [0, 3, 4, 8]], seed: 4)
            XCTAssertEqual(smaller.config.hiddenSizes, [4, 5])
            checkWholeModel(smaller, label: "rebuilt-\(kind)", count: 6, epsilon: 5e-3)
        }
        let built = try makeModel(config(.lstm, layers: 3).withHiddenSizes([5, 3, 6]), seed: 26, threads: 1)
        checkWholeModel(built, label: "lstm-5-3-6", count: 6, epsilon: 5e-3)
        let cnn = try ConvClassifier(config: cnnConfig().with { $0.dropout = 0 }, seed: 27, pool: pool1)
        checkWholeModel(rebuild(cnn, keepingUnits: [[1, 4, 8], [0, 2, 5, 6]], seed: 5), label: "rebuilt-cnn", count: 5,
                        epsilon: 1e-3)
    }

    /// Train, magnitude-prune, unit-prune and retrain, with 1 and 2 threads: the same bits;
    /// the rebuilt model learns and keeps its magnitude-pruned weights at 0.
    func testRetrainingARebuiltModelIsDeterministic() throws {
        let data = images(26, seed: 32)
        for kind in [ModelConfig.Kind.lstm, .gru] {
            func run(threads: Int) throws -> (losses: [UInt64], weights: [[UInt32]]) {
                let model = SequenceClassifier(config: config(kind, layers: 2, dropout: 0.2), seed: 28,
                                               pool: ThreadPool(threads: threads))
                let options = TrainingOptions(epochs: 1, batchSize: 13, optimizer: .adam(learningRate: 0.01), seed: 29)
                _ = try Trainer(model: model, options: options).train(on: data)
                prune(model, .sparsity(0.5))
                let result = pruneUnits(model, .fraction(0.3), seed: 30)
                let smaller = result.model
                XCTAssertEqual(smaller.pool.threadCount, threads)
                let before = smaller.parameters.map(\.value.array)
                var losses: [UInt64] = []
                _ = try Trainer(model: smaller, options: options).train(on: data, epochs: 2, onBatch: { _, _, _, loss in
                    losses.append(loss.bitPattern)
                })
                XCTAssertEqual(losses.count, 4)
                XCTAssert(losses.allSatisfy { Double(bitPattern: $0).isFinite })
                for (parameter, old) in zip(smaller.parameters, before) {
                    XCTAssertNotEqual(parameter.value.array, old, "\(kind) \(parameter.name) learns")
                    if let mask = parameter.mask {
                        for i in 0..<parameter.count where mask[i] == 0 { XCTAssertEqual(parameter.value[i], 0) }
                    }
                }
                return (losses, smaller.parameters.map { $0.value.array.map(\.bitPattern) })
            }
            let one = try run(threads: 1), two = try run(threads: 2)
            XCTAssertEqual(one.losses, two.losses, "\(kind)")
            XCTAssertEqual(one.weights, two.weights, "\(kind)")
        }
    }

    func testCheckpointOfAPerLayerWidthModel() throws {
        let model = SequenceClassifier(config: config(.gru, layers: 2), seed: 33, pool: pool1)
        prune(model, .sparsity(0.4))
        let smaller = rebuild(model, keepingUnits: [someUnits(11, of: 20, seed: 4), someUnits(6, of: 20, seed: 5), [2, 7]],
                              seed: 6)
        let bytes = checkpointData(smaller)
        let fields = checkpointConfigFields(smaller.config)
        XCTAssertEqual(fields.last?.0, "layerHidden")
        XCTAssertEqual(fields.last?.1, "[11,6]")

        let target = try makeModel(smaller.config, seed: 99, threads: 1)
        try loadCheckpoint(bytes, into: target)
        for (a, b) in zip(smaller.parameters, target.parameters) {
            XCTAssertEqual(a.value.array.map(\.bitPattern), b.value.array.map(\.bitPattern), a.name)
            XCTAssertEqual(a.mask?.array.map(\.bitPattern), b.mask?.array.map(\.bitPattern), a.name)
        }
        let data = images(12, seed: 34)
        XCTAssertEqual(logits(smaller, data).map(\.bitPattern), logits(target, data).map(\.bitPattern))
        XCTAssertEqual(checkpointData(target), bytes)

        // Widths that differ, and a uniform model of the same `hidden`, are refused by the field.
        let other = try makeModel(smaller.config.withHiddenSizes([6, 11]), seed: 1, threads: 1)
        XCTAssertThrowsError(try loadCheckpoint(bytes, into: other)) { error in
            XCTAssertEqual(error as? CheckpointError, .configMismatch(field: "layerHidden", checkpoint: "[11,6]", model: "[6,11]"))
        }
        let uniform = try makeModel(smaller.config.withHiddenSizes([11, 11]), seed: 1, threads: 1)
        XCTAssertThrowsError(try loadCheckpoint(bytes, into: uniform)) { error in
            XCTAssertEqual(error as? CheckpointError, .configMismatch(field: "layerHidden", checkpoint: "[11,6]", model: "missing"))
        }
        XCTAssertThrowsError(try loadCheckpoint(checkpointData(uniform), into: target)) { error in
            XCTAssertEqual(error as? CheckpointError, .configMismatch(field: "layerHidden", checkpoint: "missing", model: "[11,6]"))
        }
        XCTAssertEqual(target.parameters.map(\.value.array), smaller.parameters.map(\.value.array), "refused loads write nothing")
    }

    /// A model with one width for all layers writes the fields it always wrote, so
    /// checkpoints from before per-layer widths load as they did.
    func testUniformModelsKeepTheirCheckpointFields() {
        XCTAssertEqual(checkpointConfigFields(config(.lstm, layers: 2)).map(\.0),
                       ["kind", "layers", "hidden", "activation", "sequence", "dense", "dropout", "conv", "kernel", "pool",
                        "classes", "image"])
        XCTAssertEqual(checkpointConfigFields(config(.lstm, layers: 2).withHiddenSizes([5, 5])).map(\.0).count, 12)
    }

    /// Sparse inference of a rebuilt, magnitude-pruned model: the same bits as of the
    /// masked original (the compressed rows hold the same non-zero weights in the same
    /// order), and the dense model's logits to rounding.
    func testSparseInferenceOfARebuiltModel() {
        let sets = [images(100, seed: 35), images(21, seed: 36)]
        for (kind, threads) in [(ModelConfig.Kind.lstm, 1), (.gru, 2), (.rnn, 1)] {
            let label = "\(kind) threads \(threads)"
            let model = SequenceClassifier(config: config(kind, layers: 2, dropout: 0.3), seed: 37,
                                           pool: ThreadPool(threads: threads))
            prune(model, .sparsity(0.7))
            let kept = [someUnits(9, of: 20, seed: 6), someUnits(14, of: 20, seed: 7), someUnits(5, of: 9, seed: 8)]
            let smaller = rebuild(model, keepingUnits: kept, seed: 9) as! SequenceClassifier
            maskUnits(model, keeping: kept)
            let sparse = SparseSequenceModel(smaller), sparseMasked = SparseSequenceModel(model)
            XCTAssertEqual(sparse.nonzeroWeights, sparseMasked.nonzeroWeights, label)
            for data in sets {
                let ours = Array(0..<data.count).withUnsafeBufferPointer { sparse.logits(data, indices: $0) }
                let masked = Array(0..<data.count).withUnsafeBufferPointer { sparseMasked.logits(data, indices: $0) }
                XCTAssertEqual(ours, masked, label)
                let dense = logits(smaller, data)
                let scale = dense.map(abs).max()!
                for (a, b) in zip(ours, dense) {
                    XCTAssert(isClose(a, b, relative: 1e-4, absolute: 1e-5 * scale), "\(label): \(a) vs dense \(b)")
                }
            }
            XCTAssertEqual(evaluatePruned(smaller, on: sets[0]).predictions, smaller.evaluate(on: sets[0]).predictions, label)
        }
    }
}

extension ModelConfig {
    /// This config changed by `change`.
    func with(_ change: (inout ModelConfig) -> Void) -> ModelConfig {
        var config = self
        change(&config)
        return config
    }
}
