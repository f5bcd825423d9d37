import XCTest
@testable import Engine
import TestSupport

/// Checkpoints: bit-exact round trips (values, masks, -0.0) and every way a load is refused.
final class CheckpointTests: SmallModelTestCase {
    /// A model trained, pruned and retrained, so values, masks and -0.0 all occur.
    func trainedPrunedModel(_ config: ModelConfig) throws -> SequenceClassifier {
        let model = SequenceClassifier(config: config, seed: 12, pool: pool1)
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 1, batchSize: 10,
                                                                     optimizer: .adam(learningRate: 0.01), seed: 13))
        let data = images(30, seed: 14)
        _ = try trainer.train(on: data)
        prune(model, .sparsity(0.5))
        _ = try trainer.train(on: data)
        return model
    }

    func testCheckpointRoundTripIsBitExact() throws {
        let settings = config(.lstm, sequence: .columns, dropout: 0.25)
        let source = try trainedPrunedModel(settings)
        let bytes = checkpointData(source)
        XCTAssertEqual(Array(bytes.prefix(8)), Array("HNSCKPT1".utf8))

        let target = SequenceClassifier(config: settings, seed: 99, pool: pool1)
        XCTAssertNotEqual(target.parameters[0].value.array, source.parameters[0].value.array)
        try loadCheckpoint(bytes, into: target)
        for (a, b) in zip(source.parameters, target.parameters) {
            XCTAssertEqual(a.value.array.map(\.bitPattern), b.value.array.map(\.bitPattern), a.name)
            XCTAssertEqual(a.mask?.array.map(\.bitPattern), b.mask?.array.map(\.bitPattern), a.name)
        }
        XCTAssert(weightMatrices(target).allSatisfy { $0.mask != nil })
        let data = images(12, seed: 15)
        XCTAssertEqual(logits(source, data).map(\.bitPattern), logits(target, data).map(\.bitPattern))
        XCTAssertEqual(checkpointData(target), bytes, "saving the loaded model gives the same bytes")

        // An unpruned checkpoint clears the masks of the model it is loaded into.
        let unpruned = SequenceClassifier(config: settings, seed: 16, pool: pool1)
        try loadCheckpoint(checkpointData(unpruned), into: target)
        XCTAssert(target.parameters.allSatisfy { $0.mask == nil })
        XCTAssertEqual(target.parameters.map(\.value.array), unpruned.parameters.map(\.value.array))
    }

    func testGRUCheckpointRoundTripIsBitExact() throws {
        let settings = config(.gru, activation: .relu, dropout: 0.25)
        let source = try trainedPrunedModel(settings)
        let bytes = checkpointData(source)
        let target = SequenceClassifier(config: settings, seed: 99, pool: pool1)
        try loadCheckpoint(bytes, into: target)
        for (a, b) in zip(source.parameters, target.parameters) {
            XCTAssertEqual(a.value.array.map(\.bitPattern), b.value.array.map(\.bitPattern), a.name)
            XCTAssertEqual(a.mask?.array.map(\.bitPattern), b.mask?.array.map(\.bitPattern), a.name)
        }
        let data = images(12, seed: 15)
        XCTAssertEqual(logits(source, data).map(\.bitPattern), logits(target, data).map(\.bitPattern))
        XCTAssertEqual(checkpointData(target), bytes)
        // The kind is part of the config a checkpoint must match: an LSTM's parameters have other shapes anyway.
        assertRejected(bytes, into: SequenceClassifier(config: config(.rnn, activation: .relu, dropout: 0.25), seed: 1, pool: pool1),
                       .configMismatch(field: "kind", checkpoint: "gru", model: "rnn"), mentioning: "kind")
    }

    func assertRejected(_ bytes: [UInt8], into model: Classifier, _ expected: CheckpointError, mentioning text: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try loadCheckpoint(bytes, into: model), file: file, line: line) { error in
            XCTAssertEqual(error as? CheckpointError, expected, file: file, line: line)
            XCTAssert("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testCorruptCheckpointsAreRejected() throws {
        let settings = config()
        let model = try trainedPrunedModel(settings)
        let bytes = checkpointData(model)
        let target = SequenceClassifier(config: settings, seed: 17, pool: pool1)
        let untouched = target.parameters.map(\.value.array)

        var badMagic = bytes
        badMagic[0] = UInt8(ascii: "X")
        assertRejected(badMagic, into: target, .badMagic(found: Array("XNSCKPT1".utf8)), mentioning: "HNSCKPT1")
        assertRejected(Array(bytes.dropLast(100)), into: target, .truncated(expected: bytes.count, actual: bytes.count - 100),
                       mentioning: "expected \(bytes.count) bytes")
        assertRejected(Array(bytes.prefix(12)), into: target, .truncated(expected: 24, actual: 12), mentioning: "truncated")
        assertRejected(Array(bytes.prefix(3)), into: target, .truncated(expected: 24, actual: 3), mentioning: "truncated")
        assertRejected(Array("{\"model\": 1}".utf8), into: target, .badMagic(found: Array("{\"model\"".utf8)),
                       mentioning: "not a harness checkpoint")
        assertRejected(bytes + [0], into: target, .trailingBytes(expected: bytes.count, actual: bytes.count + 1),
                       mentioning: "trailing")
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        XCTAssertThrowsError(try loadCheckpoint(flipped, into: target)) { error in
            guard case .checksumMismatch(let stored, let computed)? = error as? CheckpointError else {
                return XCTFail("\(error)")
            }
            XCTAssertNotEqual(stored, computed)
            XCTAssert("\(error)".contains("checksum"), "\(error)")
        }

        var other = settings
        other.hidden = 13
        assertRejected(bytes, into: SequenceClassifier(config: other, seed: 1, pool: pool1),
                       .configMismatch(field: "hidden", checkpoint: "12", model: "13"), mentioning: "hidden")
        other = settings
        other.sequence = .columns
        assertRejected(bytes, into: SequenceClassifier(config: other, seed: 1, pool: pool1),
                       .configMismatch(field: "sequence", checkpoint: "rows", model: "columns"), mentioning: "sequence")

        // Same config, different parameters: only a model other than the engine's own can differ so.
        let first = model.parameters[0]
        let sameFirst = Parameter(name: first.name, shape: first.shape, isWeightMatrix: true)
        let wrongShape = ParameterOnlyClassifier(config: settings, parameters: [sameFirst] + model.parameters.dropFirst().map {
            $0 === model.parameters[1] ? Parameter(name: $0.name, shape: [$0.shape[0] + 1, $0.shape[1]], isWeightMatrix: true) : $0
        })
        let p1 = model.parameters[1]
        assertRejected(bytes, into: wrongShape,
                       .parameterMismatch(index: 1, checkpoint: "\(p1.name) \(p1.shape)", model: "\(p1.name) \([p1.shape[0] + 1, p1.shape[1]])"),
                       mentioning: p1.name)
        XCTAssert(sameFirst.value.array.allSatisfy { $0 == 0 } && sameFirst.mask == nil,
                  "a rejected checkpoint writes nothing, not even the parameters that matched")
        assertRejected(bytes, into: ParameterOnlyClassifier(config: settings, parameters: Array(model.parameters.dropLast())),
                       .parameterCountMismatch(checkpoint: model.parameters.count, model: model.parameters.count - 1),
                       mentioning: "\(model.parameters.count) parameters")

        XCTAssertEqual(target.parameters.map(\.value.array), untouched, "failed loads leave the model as it was")
        XCTAssert(target.parameters.allSatisfy { $0.mask == nil })
    }
}


/// A classifier that is only a config and parameters: enough for checkpoints, which
/// never run a model. Lets tests build parameter lists the engine's models never have.
private final class ParameterOnlyClassifier: Classifier {
    let config: ModelConfig
    let parameters: [Parameter]
    let pool = ThreadPool(threads: 1)
    var forwardFlopsPerSample: Double { 0 }

    init(config: ModelConfig, parameters: [Parameter]) {
        self.config = config
        self.parameters = parameters
    }

    func forward(_ images: ImageSet, indices: UnsafeBufferPointer<Int>, training: Bool) -> UnsafePointer<Float> {
        preconditionFailure("checkpoint tests never run the model")
    }

    func backward(dLogits: UnsafePointer<Float>) { preconditionFailure("checkpoint tests never run the model") }
}
