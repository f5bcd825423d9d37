import Foundation
import XCTest
@testable import Engine

/// What the tests of small whole models share (pruning, sparse inference, checkpoints,
/// sequence classifiers): a config, random images, logits, and a tearDown that waits for
/// the threads of the pools a test released.
class SmallModelTestCase: XCTestCase {
    let pool1 = ThreadPool(threads: 1)
    private var threadsAtStart: Int?

    /// A small two-layer model with a hidden dense layer; non-square images so rows and columns differ.
    func config(_ kind: ModelConfig.Kind = .lstm, activation: RecurrentActivation = .tanh, sequence: SequenceAxis = .rows,
                hidden: Int = 12, dropout: Float = 0, height: Int = 7, width: Int = 6) -> ModelConfig {
        ModelConfig(kind: kind, layers: 2, hidden: hidden, activation: activation, sequence: sequence, dense: [9],
                    dropout: dropout, classes: 5, imageHeight: height, imageWidth: width)
    }

    func images(_ count: Int, seed: UInt64, height: Int = 7, width: Int = 6, classes: Int = 5) -> ImageSet {
        var g = SeededGenerator(seed: seed)
        return ImageSet(pixels: (0..<(count * height * width)).map { _ in UInt8(g.nextInt(below: 256)) },
                        labels: (0..<count).map { UInt8($0 % classes) }, height: height, width: width)
    }

    func logits(_ model: Classifier, _ data: ImageSet) -> [Float] {
        let indices = Array(0..<data.count)
        return indices.withUnsafeBufferPointer { idx in
            Array(UnsafeBufferPointer(start: model.forward(data, indices: idx, training: false),
                                      count: data.count * model.config.classes))
        }
    }

    func weightMatrices(_ model: Classifier) -> [Parameter] { model.parameters.filter(\.isWeightMatrix) }

    /// Threads of this process (Linux's /proc; nil elsewhere).
    private func threadCount() -> Int? { try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count }

    override func setUp() {
        super.setUp()
        threadsAtStart = threadCount()
    }

    /// The models' pools are released when their test returns, but their workers exit on
    /// their own time: wait for them, so a later test counting threads (ThreadPoolTests)
    /// does not see them vanish under it.
    override func tearDown() {
        defer { super.tearDown() }
        guard let start = threadsAtStart else { return }
        let deadline = Date().addingTimeInterval(5)
        while let now = threadCount(), now > start, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    }
}
