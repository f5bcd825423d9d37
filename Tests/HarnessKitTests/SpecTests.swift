import Foundation
import XCTest
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import HarnessKit

final class SpecTests: XCTestCase {
    static let file = "experiments/x.json"

    private func parse(_ text: String) throws -> ExperimentSpec {
        try ExperimentSpec.parse(text: text, filePath: Self.file)
    }

    /// The full error message for `text`, or nil (and a failure) if it parses.
    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        do {
            _ = try parse(text)
            XCTFail("spec was accepted", file: file, line: line)
            return nil
        } catch let error as HarnessError {
            return error.description
        } catch {
            XCTFail("not a HarnessError: \(error)", file: file, line: line)
            return nil
        }
    }

    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(error(text, file: file, line: line), "\(Self.file): \(expected)", file: file, line: line)
    }

    // MARK: Accepted specs

    func testParsesTheExampleSpec() throws {
        let text = """
            { "name": "layers", "description": "Paper 3.1: layers x hidden x batch",
              "dataset": {"train_size": 60000, "sequence": "rows"},
              "model": {"type": "lstm", "layers": 2, "hidden": 64},
              "training": {"epochs": 10, "batch_size": 100, "optimizer": "adam", "learning_rate": 0.001},
              "seeds": [1, 2, 3],
              "grid": {"model.layers": [1, 2, 3], "model.hidden": [32, 64, 128]} }
            """
        let spec = try parse(text)
        XCTAssertEqual(spec.name, "layers")
        XCTAssertEqual(spec.description, "Paper 3.1: layers x hidden x batch")
        XCTAssertEqual(spec.dataset, DatasetSettings(trainSize: 60000, sequence: .rows))
        var model = ModelSettings(type: .lstm)
        model.layers = 2
        model.hidden = 64
        XCTAssertEqual(spec.model, model)
        XCTAssertEqual(spec.training, TrainingSettings(epochs: 10, batchSize: 100, optimizer: .adam, learningRate: 0.001))
        XCTAssertNil(spec.pruning)
        XCTAssertEqual(spec.seeds, [1, 2, 3])
        XCTAssertEqual(spec.grid.map(\.path), ["model.layers", "model.hidden"])
        XCTAssertEqual(spec.grid.map(\.values), [[.int(1), .int(2), .int(3)], [.int(32), .int(64), .int(128)]])
        XCTAssertEqual(spec.gridPointCount, 9)
        XCTAssertEqual(spec.sourceJSON, text)
        XCTAssertEqual(spec.filePath, Self.file)
        XCTAssertNil(spec.reference)
    }

    func testDefaultsAreFilledIn() throws {
        let lstm = try parse(#"{"name": "m", "model": {"type": "lstm"}}"#)
        XCTAssertEqual(lstm.description, "")
        XCTAssertEqual(lstm.seeds, [1])
        XCTAssertTrue(lstm.grid.isEmpty)
        XCTAssertNil(lstm.pruning)
        XCTAssertEqual(lstm.dataset, DatasetSettings(path: nil, trainSize: nil, stratified: false, sequence: .rows))
        XCTAssertEqual(lstm.model.layers, 1)
        XCTAssertEqual(lstm.model.hidden, 64)
        XCTAssertEqual(lstm.model.activation, .tanh)
        XCTAssertEqual(lstm.model.dense, [])
        XCTAssertEqual(lstm.model.dropout, 0)
        XCTAssertEqual(lstm.training, TrainingSettings(epochs: 10, batchSize: 100, optimizer: .adam,
                                                       learningRate: 0.001, momentum: 0.9, threads: nil))

        // The cnn defaults are the Keras notebook's model.
        let cnn = try parse(#"{"name": "m", "model": {"type": "cnn"}}"#)
        XCTAssertEqual(cnn.model.conv, [32])
        XCTAssertEqual(cnn.model.kernel, 3)
        XCTAssertEqual(cnn.model.pool, 2)
        XCTAssertEqual(cnn.model.dense, [128, 32])
        XCTAssertEqual(cnn.model.dropout, 0.2)

        let pruned = try parse(#"{"name": "m", "model": {"type": "rnn"}, "pruning": {"threshold": 0.1}}"#)
        XCTAssertEqual(pruned.pruning, PruningSettings(threshold: 0.1, sparsity: nil, retrainEpochs: 10))
    }

    func testAcceptsEveryFieldAndKeepsTheReference() throws {
        let spec = try parse("""
            { "name": "all.fields_1-b", "description": "d", "seeds": [0, 7],
              "reference": {"source": "the paper", "rows": [{"accuracy": 0.8826}]},
              "dataset": {"path": "data/fashion", "train_size": 20000, "stratified": true, "sequence": "columns"},
              "model": {"type": "rnn", "layers": 3, "hidden": 128, "activation": "relu", "dense": [32], "dropout": 0.5},
              "training": {"epochs": 5, "batch_size": 32, "optimizer": "sgd", "learning_rate": 1, "momentum": 0.5, "threads": 4},
              "pruning": {"sparsity": 0.9, "retrain_epochs": 0} }
            """)
        XCTAssertEqual(spec.dataset, DatasetSettings(path: "data/fashion", trainSize: 20000, stratified: true, sequence: .columns))
        XCTAssertEqual(spec.model.type, .rnn)
        XCTAssertEqual(spec.model.layers, 3)
        XCTAssertEqual(spec.model.hidden, 128)
        XCTAssertEqual(spec.model.activation, .relu)
        XCTAssertEqual(spec.model.dense, [32])
        XCTAssertEqual(spec.model.dropout, 0.5)
        // An integer is fine where a double is expected.
        XCTAssertEqual(spec.training, TrainingSettings(epochs: 5, batchSize: 32, optimizer: .sgd,
                                                       learningRate: 1.0, momentum: 0.5, threads: 4))
        XCTAssertEqual(spec.pruning, PruningSettings(threshold: nil, sparsity: 0.9, retrainEpochs: 0))
        XCTAssertEqual(spec.seeds, [0, 7])
        XCTAssertEqual(spec.reference, try JSONValue.parse(#"{"source": "the paper", "rows": [{"accuracy": 0.8826}]}"#))
    }

    func testLoadReadsTheFileAndNamesItInErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = directory.file("good.json")
        let text = #"{"name": "g", "model": {"type": "cnn", "kernel": 5}}"#
        try text.write(toFile: good, atomically: true, encoding: .utf8)
        let spec = try ExperimentSpec.load(path: good)
        XCTAssertEqual(spec.model.kernel, 5)
        XCTAssertEqual(spec.sourceJSON, text)
        XCTAssertEqual(spec.filePath, good)

        let bad = directory.file("bad.json")
        try #"{"name": "b", "model": {"type": "cnn", "kernel": 9}}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentSpec.load(path: bad)) { error in
            XCTAssertEqual("\(error)", "\(bad): $.model.kernel: 9 is out of range 1...7")
        }
        let missing = directory.file("missing.json")
        XCTAssertThrowsError(try ExperimentSpec.load(path: missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): no such spec file")
        }
    }

    func testGridDimensionsListEverySettingButThreads() {
        XCTAssertEqual(ExperimentSpec.gridDimensions, [
            "dataset.path", "dataset.train_size", "dataset.train_fraction", "dataset.stratified", "dataset.selection",
            "dataset.score_epochs", "dataset.score_models", "dataset.drop_hardest", "dataset.threshold", "dataset.revisit",
            "dataset.sequence",
            "model.type", "model.layers", "model.hidden", "model.activation", "model.conv", "model.kernel", "model.pool",
            "model.dense", "model.dropout", "model.init",
            "training.epochs", "training.batch_size", "training.optimizer", "training.learning_rate", "training.momentum",
            "training.weight_decay",
            "pruning.method", "pruning.threshold", "pruning.sparsity", "pruning.units", "pruning.frequency",
            "pruning.retrain_epochs",
        ])
    }

    // MARK: Rejected specs, one per kind of mistake

    func testSyntaxErrorGivesLineAndColumn() {
        XCTAssertEqual(error("{\"name\": \"x\",\n  \"model\": {\"type\": \"lstm\",}\n}"),
                       "\(Self.file):2:28: trailing comma before '}' is not allowed in JSON")
        XCTAssertEqual(error("{\"name\": \"x\", \"name\": \"y\"}"),
                       "\(Self.file):1:15: duplicate key \"name\" in the same object")
    }

    func testUnknownKeySuggestsTheClosestValidKey() {
        assertError(#"{"name": "x", "model": {"type": "lstm", "hiden": 64}}"#,
                    #"$.model.hiden: unknown key; did you mean "hidden"?"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"batchsize": 10}}"#,
                    #"$.training.batchsize: unknown key; did you mean "batch_size"?"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "seed": [1]}"#,
                    #"$.seed: unknown key; did you mean "seeds"?"#)
        // Nothing close: list what is allowed instead.
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "dataset": {"colour": true}}"#,
                    #"$.dataset.colour: unknown key; expected one of "path", "train_size", "train_fraction", "stratified", "selection", "#
                        + #""score_epochs", "score_models", "drop_hardest", "threshold", "revisit", "sequence""#)
    }

    func testUnknownGridPathSuggestsADimension() {
        let base = #""name": "x", "model": {"type": "lstm"}"#
        assertError("{\(base), \"grid\": {\"model.hiden\": [32]}}",
                    #"$.grid["model.hiden"]: unknown setting; did you mean "model.hidden"?"#)
        assertError("{\(base), \"grid\": {\"layers\": [1, 2]}}",
                    #"$.grid.layers: unknown setting; did you mean "model.layers"?"#)
        assertError("{\(base), \"grid\": {\"model.colour\": [1]}}",
                    #"$.grid["model.colour"]: unknown setting; grid keys are dotted paths such as "model.layers" or "training.batch_size""#)
        assertError("{\(base), \"grid\": {\"seed\": [1, 2]}}",
                    #"$.grid.seed: seeds are not a grid dimension; list them in "seeds" at the top level"#)
        assertError("{\(base), \"grid\": {\"training.threads\": [1, 2]}}",
                    #"$.grid["training.threads"]: training.threads is a scheduling hint, not an experiment setting, so it cannot be a grid dimension"#)
    }

    func testWrongTypeNamesWhatWasExpected() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"batch_size": "100"}}"#,
                    #"$.training.batch_size: expected an integer, found "100""#)
        // A fraction where a count is expected, even a whole one written with a point.
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"epochs": 2.5}}"#,
                    "$.training.epochs: expected an integer, found 2.5")
        assertError(#"{"name": "x", "model": {"type": "lstm", "layers": 2.0}}"#,
                    "$.model.layers: expected an integer, found 2.0")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"learning_rate": "fast"}}"#,
                    #"$.training.learning_rate: expected a number, found "fast""#)
        assertError(#"{"name": "x", "model": {"type": "lstm", "dense": 64}}"#,
                    "$.model.dense: expected a list of integers like [128, 32], found 64")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "dataset": {"stratified": "yes"}}"#,
                    #"$.dataset.stratified: expected true or false, found "yes""#)
        assertError(#"{"name": "x", "model": {"type": "LSTM"}}"#,
                    #"$.model.type: expected one of "lstm", "rnn", "gru", "cnn", found "LSTM"; did you mean "lstm"?"#)
        assertError(#"{"name": "x", "model": {"type": "lstm", "init": "kera"}}"#,
                    #"$.model.init: expected one of "pytorch", "keras", found "kera"; did you mean "keras"?"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.init": ["keras", 1]}}"#,
                    #"$.grid["model.init"][1]: expected one of "pytorch", "keras", found 1"#)
        assertError(#"{"name": "x", "model": [1]}"#, "$.model: expected an object, found [1]")
        assertError(#"["name"]"#, #"$: expected an object with at least "name" and "model", found ["name"]"#)
    }

    func testEmptyListIsRejected() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.layers": []}}"#,
                    #"$.grid["model.layers"]: empty list; give at least one value"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "seeds": []}"#,
                    "$.seeds: empty list; give at least one seed")
        assertError(#"{"name": "x", "model": {"type": "cnn", "conv": []}}"#,
                    "$.model.conv: empty list; give at least one value")
    }

    func testOutOfRangeNamesTheRange() {
        assertError(#"{"name": "x", "model": {"type": "lstm", "layers": 0}}"#, "$.model.layers: 0 is out of range 1...8")
        assertError(#"{"name": "x", "model": {"type": "lstm", "dense": [64, 5000]}}"#,
                    "$.model.dense[1]: 5000 is out of range 1...4096")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"learning_rate": 0}}"#,
                    "$.training.learning_rate: 0 is out of range; expected 0 < learning_rate <= 10")
        assertError(#"{"name": "x", "model": {"type": "cnn", "dropout": 1.0}}"#,
                    "$.model.dropout: 1.0 is out of range; expected 0 <= dropout < 1")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "pruning": {"threshold": -0.1}}"#,
                    "$.pruning.threshold: -0.1 is out of range; expected threshold >= 0")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "dataset": {"train_size": 60001}}"#,
                    "$.dataset.train_size: 60001 is out of range 1...60000")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "seeds": [-1]}"#, "$.seeds[0]: -1 is out of range; expected an integer >= 0")
    }

    func testMissingRequiredFields() {
        assertError(#"{"model": {"type": "lstm"}}"#,
                    #"$.name: missing required field; give the experiment a name of letters, digits, ".", "_" and "-""#)
        assertError(#"{"name": "x", "model": {"layers": 2}}"#,
                    #"$.model.type: missing required field; give one of "lstm", "rnn", "gru", "cnn""#)
        assertError(#"{"name": "x"}"#,
                    #"$.model: missing required section; give at least {"type": "lstm"} (model types: "lstm", "rnn", "gru", "cnn")"#)
        assertError(#"{"name": "two words", "model": {"type": "lstm"}}"#,
                    #"$.name: "two words" is not a valid name; use only letters, digits, ".", "_" and "-""#)
    }

    func testFieldsOfAnotherModelTypeAreRejected() {
        assertError(#"{"name": "x", "model": {"type": "lstm", "kernel": 3}}"#,
                    "$.model.kernel: model.kernel applies to cnn models, not lstm")
        assertError(#"{"name": "x", "model": {"type": "cnn", "hidden": 64}}"#,
                    "$.model.hidden: model.hidden applies to lstm, rnn and gru models, not cnn")
        assertError(#"{"name": "x", "model": {"type": "cnn"}, "dataset": {"sequence": "columns"}}"#,
                    "$.dataset.sequence: dataset.sequence applies to lstm, rnn and gru models, not cnn")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "training": {"momentum": 0.5}}"#,
                    "$.training.momentum: training.momentum applies to the sgd optimizer, not adam")
    }

    func testPruningNeedsExactlyOneOfThresholdAndSparsity() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "pruning": {"threshold": 0.1, "sparsity": 0.5}}"#,
                    "$.pruning: pruning takes either a threshold or a sparsity, not both")
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "pruning": {"retrain_epochs": 5}}"#,
                    #"$.pruning: give a "threshold" (prune weights with |w| below it) or a "sparsity" (fraction of weights to prune), in the section or in the grid"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "pruning": {"sparsity": 0.5}, "grid": {"pruning.threshold": [0.1]}}"#,
                    #"$.grid["pruning.threshold"]: pruning takes either a threshold or a sparsity, not both"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"pruning.threshold": [0.1]}}"#,
                    #"$.grid["pruning.threshold"]: a grid over pruning.threshold needs a "pruning" section in the base spec, e.g. "pruning": {"retrain_epochs": 10}"#)
    }

    func testDuplicateSeedsAreRejected() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "seeds": [1, 2, 1]}"#,
                    "$.seeds[2]: duplicate seed 1 (also at $.seeds[0]); seeds must be distinct")
    }

    func testBadGridValueNamesItsIndex() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.hidden": [32, 64, 0]}}"#,
                    #"$.grid["model.hidden"][2]: 0 is out of range 1...2048"#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.dense": [[], [64, "32"]]}}"#,
                    #"$.grid["model.dense"][1][1]: expected an integer, found "32""#)
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.layers": 3}}"#,
                    #"$.grid["model.layers"]: expected a list of values, found 3"#)
        // 1 and 1.0 are the same learning rate.
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"training.learning_rate": [1, 0.1, 1.0]}}"#,
                    #"$.grid["training.learning_rate"][2]: 1.0 repeats $.grid["training.learning_rate"][0]; grid values must be distinct"#)
    }

    func testGridFieldMustApplyToEveryJobItIsIn() {
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.type": ["lstm", "cnn"], "model.hidden": [32, 64]}}"#,
                    #"$.grid["model.hidden"][0]: model.hidden applies to lstm, rnn and gru models, not cnn (in grid point 3: model.type = cnn, model.hidden = 32)"#)
    }

    func testGridPointsThatDescribeTheSameJobAreRejected() {
        // Dropout follows hidden dense layers; an lstm without any ignores it.
        assertError(#"{"name": "x", "model": {"type": "lstm"}, "grid": {"model.dropout": [0.1, 0.2]}}"#,
                    #"$.grid: grid points 1 (model.dropout = 0.1) and 2 (model.dropout = 0.2) describe the same job; a value that differs between them has no effect on these settings"#)
    }
}

/// Messages about what a spec file holds quote it as written (reliability issue, smaller defects).
final class SpecAsWrittenTests: XCTestCase {
    static let file = "experiments/x.json"

    private func message(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try ExperimentSpec.parse(text: text, filePath: Self.file)
            XCTFail("spec was accepted", file: file, line: line)
        } catch {
            return "\(error)"
        }
        return ""
    }

    /// 1e-400 underflows to 0 and a 20-digit integer does not fit an Int: they used to be
    /// reported as "0.0" and "1e+20", numbers the file does not contain.
    func testNumbersThatADoubleOrIntCannotHoldAreQuotedAsWritten() {
        let underflow = message(#"{"name": "x", "model": {"type": "lstm"}, "training": {"learning_rate": 1e-400}}"#)
        XCTAssert(underflow.hasPrefix("\(Self.file):1:"), underflow)
        XCTAssert(underflow.contains("1e-400"), underflow)
        XCTAssertFalse(underflow.contains("0.0"), underflow)

        let huge = message(#"{"name": "x", "model": {"type": "lstm"}, "seeds": [100000000000000000000]}"#)
        XCTAssert(huge.hasPrefix("\(Self.file):1:"), huge)
        XCTAssert(huge.contains("100000000000000000000"), huge)
        XCTAssertFalse(huge.contains("e+20"), huge)
    }

    /// A FIFO used to be reported as a permission problem ("cannot read"); it is refused by
    /// its type, without waiting for a writer.
    func testASpecPathThatIsNotARegularFileIsRefusedByItsType() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let fifo = directory.file("spec.json")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var text = ""
        DispatchQueue.global().async {
            do { _ = try ExperimentSpec.load(path: fifo) } catch { text = "\(error)" }
            finished.signal()
        }
        guard finished.wait(timeout: .now() + 10) == .success else {
            // Unblock the reader so the test process can go on.
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            return XCTFail("ExperimentSpec.load blocked on a FIFO")
        }
        XCTAssertEqual(text, "\(fifo): is not a regular file but a FIFO (named pipe); a spec must be a JSON file")
        XCTAssertThrowsError(try ExperimentSpec.load(path: directory.path)) { error in
            XCTAssertEqual("\(error)", "\(directory.path): is not a regular file but a directory; a spec must be a JSON file")
        }
    }
}
