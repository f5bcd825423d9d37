import TestSupport
import XCTest
@testable import Engine

final class InitializationTests: XCTestCase {
    /// The (rows, cols) value of `p` as rows of Doubles.
    private func matrix(_ p: Parameter) -> [[Double]] {
        let rows = p.shape[0], cols = p.shape[1]
        return (0..<rows).map { r in (0..<cols).map { Double(p.value[r * cols + $0]) } }
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Every pair of `vectors` is orthonormal: dot products 1 on the diagonal, 0 off it.
    private func assertOrthonormal(_ vectors: [[Double]], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for i in vectors.indices {
            for j in vectors.indices {
                let expected = i == j ? 1.0 : 0.0
                XCTAssertEqual(dot(vectors[i], vectors[j]), expected, accuracy: 1e-5, "\(what) \(i)·\(j)", file: file, line: line)
            }
        }
    }

    private func transpose(_ m: [[Double]]) -> [[Double]] { (0..<m[0].count).map { c in m.map { $0[c] } } }

    func testOrthogonalMatricesHaveOrthonormalRowsOrColumns() {
        var generator = SeededGenerator(seed: 3)
        for (rows, cols) in [(8, 32), (32, 8), (16, 16)] {
            let p = Parameter(name: "w", shape: [rows, cols], isWeightMatrix: true)
            p.initializeOrthogonal(using: &generator)
            let m = matrix(p)
            // A wide matrix has orthonormal rows, a tall one orthonormal columns, a square one both.
            if rows <= cols { assertOrthonormal(m, "\(rows)x\(cols) rows") }
            if rows >= cols { assertOrthonormal(transpose(m), "\(rows)x\(cols) columns") }
        }
    }

    func testStandardNormalDrawsHaveMeanZeroAndVarianceOne() {
        var generator = SeededGenerator(seed: 11)
        let draws = (0..<200_000).map { _ in generator.standardNormal() }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.015)
        // Tails: about 4.55% of a standard normal lies beyond ±2.
        let tail = Double(draws.filter { abs($0) > 2 }.count) / Double(draws.count)
        XCTAssertEqual(tail, 0.0455, accuracy: 0.003)
    }

    /// The largest |w| sits just under the Glorot bound, and the variance is bound²/3. For
    /// U(-b, b), w² has mean b²/3 and variance 4b⁴/45, so the mean of n squares has a
    /// relative standard error of √(0.8 / n); the check allows 4.5 of those.
    private func assertGlorotUniform(_ p: Parameter, fanIn: Int, fanOut: Int, file: StaticString = #filePath, line: UInt = #line) {
        let bound = (6 / Double(fanIn + fanOut)).squareRoot()
        let values = (0..<p.count).map { Double(p.value[$0]) }
        let largest = values.map(abs).max()!
        XCTAssertLessThanOrEqual(largest, bound, p.name, file: file, line: line)
        XCTAssertGreaterThan(largest, 0.95 * bound, p.name, file: file, line: line)
        let variance = values.reduce(0) { $0 + $1 * $1 } / Double(values.count)
        let tolerance = 4.5 * (0.8 / Double(values.count)).squareRoot()
        XCTAssertTrue(isClose(variance, bound * bound / 3, relative: tolerance), "\(p.name): variance \(variance)", file: file, line: line)
    }

    func testKerasLSTMLayer() {
        var generator = SeededGenerator(seed: 5)
        let layer = RecurrentLayer(cell: .lstm, activation: .relu, inputSize: 28, hiddenSize: 32, name: "lstm.0",
                                   initialization: .keras, generator: &generator)
        assertGlorotUniform(layer.inputWeight, fanIn: 28, fanOut: 4 * 32)
        assertOrthonormal(matrix(layer.recurrentWeight), "Wh rows")
        // Gates i, f, g, o: only the forget gate's bias is 1 (bx); bh is zero.
        let bx = (0..<layer.inputBias.count).map { layer.inputBias.value[$0] }
        XCTAssertEqual(bx, [Float](repeating: 0, count: 32) + [Float](repeating: 1, count: 32) + [Float](repeating: 0, count: 64))
        XCTAssertTrue((0..<layer.recurrentBias.count).allSatisfy { layer.recurrentBias.value[$0] == 0 })
    }

    func testKerasRNNLayerHasAnOrthogonalSquareRecurrentWeightAndZeroBiases() {
        var generator = SeededGenerator(seed: 6)
        let layer = RecurrentLayer(cell: .rnn, activation: .tanh, inputSize: 28, hiddenSize: 24, name: "rnn.0",
                                   initialization: .keras, generator: &generator)
        assertGlorotUniform(layer.inputWeight, fanIn: 28, fanOut: 24)
        assertOrthonormal(matrix(layer.recurrentWeight), "Wh rows")
        assertOrthonormal(transpose(matrix(layer.recurrentWeight)), "Wh columns")
        for bias in [layer.inputBias, layer.recurrentBias] {
            XCTAssertTrue((0..<bias.count).allSatisfy { bias.value[$0] == 0 }, bias.name)
        }
    }

    /// As keras.layers.GRU: Glorot-uniform kernel, orthogonal recurrent kernel, zero biases
    /// (Keras has no forget gate to bias).
    func testKerasGRULayer() {
        var generator = SeededGenerator(seed: 8)
        let layer = RecurrentLayer(cell: .gru, activation: .tanh, inputSize: 28, hiddenSize: 32, name: "gru.0",
                                   initialization: .keras, generator: &generator)
        assertGlorotUniform(layer.inputWeight, fanIn: 28, fanOut: 3 * 32)
        assertOrthonormal(matrix(layer.recurrentWeight), "Wh rows")
        for bias in [layer.inputBias, layer.recurrentBias] {
            XCTAssertEqual(bias.count, 96)
            XCTAssertTrue((0..<bias.count).allSatisfy { bias.value[$0] == 0 }, bias.name)
        }
    }

    /// As torch.nn.GRU: every weight and bias U(-1/√H, 1/√H).
    func testPyTorchGRULayer() {
        var generator = SeededGenerator(seed: 9)
        let layer = RecurrentLayer(cell: .gru, activation: .tanh, inputSize: 28, hiddenSize: 25, name: "gru.0",
                                   generator: &generator)
        for p in layer.parameters {
            let values = p.value.array
            XCTAssertLessThanOrEqual(values.map(abs).max()!, 0.2, p.name)
            XCTAssertGreaterThan(values.map(abs).max()!, 0.19, p.name)
        }
    }

    func testKerasDenseAndConvolution() {
        var generator = SeededGenerator(seed: 7)
        let dense = Dense(inputSize: 200, outputSize: 50, name: "head.0", initialization: .keras, generator: &generator)
        assertGlorotUniform(dense.weight, fanIn: 200, fanOut: 50)
        XCTAssertTrue((0..<dense.bias.count).allSatisfy { dense.bias.value[$0] == 0 })

        let conv = Conv2D(inputChannels: 3, outputChannels: 32, kernelSize: 3, name: "conv.0", initialization: .keras,
                          generator: &generator)
        assertGlorotUniform(conv.weight, fanIn: 9 * 3, fanOut: 9 * 32)
        XCTAssertTrue((0..<conv.bias.count).allSatisfy { conv.bias.value[$0] == 0 })
    }

    func testPyTorchIsTheDefaultAndKerasIsDeterministic() throws {
        func weights(_ config: ModelConfig, seed: UInt64) throws -> [Float] {
            try makeModel(config, seed: seed, threads: 1).parameters.flatMap { p in (0..<p.count).map { p.value[$0] } }
        }
        var keras = ModelConfig(kind: .lstm, layers: 2, hidden: 16, activation: .relu, dense: [8])
        let pytorch = keras
        keras.initialization = .keras
        var explicit = pytorch
        explicit.initialization = .pytorch
        XCTAssertEqual(try weights(pytorch, seed: 1), try weights(explicit, seed: 1))
        XCTAssertEqual(try weights(keras, seed: 1), try weights(keras, seed: 1))
        XCTAssertNotEqual(try weights(keras, seed: 1), try weights(keras, seed: 2))
        XCTAssertNotEqual(try weights(keras, seed: 1), try weights(pytorch, seed: 1))

        var cnn = ModelConfig(kind: .cnn, dense: [8], dropout: 0.2, conv: [4], imageHeight: 8, imageWidth: 8)
        cnn.initialization = .keras
        XCTAssertEqual(try weights(cnn, seed: 3), try weights(cnn, seed: 3))
    }
}
