import XCTest
@testable import Engine

/// The one definition of accuracy, precision, recall and F1, against scikit-learn:
///
///     from sklearn.metrics import precision_recall_fscore_support, f1_score
///     y_true = [0, 0, 0, 1, 1, 2, 2, 0, 1, 1]
///     y_pred = [0, 0, 1, 1, 1, 0, 1, 3, 1, 0]
///     precision_recall_fscore_support(y_true, y_pred, labels=[0, 1, 2, 3], average=None, zero_division=0)
///     # precision [0.5, 0.6, 0.0, 0.0], recall [0.5, 0.75, 0.0, 0.0], f1 [0.5, 0.6666666666666666, 0.0, 0.0],
///     # support [4, 4, 2, 0]
///     precision_recall_fscore_support(..., average="macro", zero_division=0)
///     # (0.275, 0.3125, 0.29166666666666663, None)
///
/// Class 2 is never predicted (precision undefined, and so F1) and class 3 never present
/// (recall undefined): scikit-learn reports 0 for them, harness reports nil per class and
/// counts them as 0 in the macro averages, which gives scikit-learn's macro numbers.
final class ConfusionMatrixTests: XCTestCase {
    let matrix = ConfusionMatrix(predictions: [0, 0, 1, 1, 1, 0, 1, 3, 1, 0], labels: [0, 0, 0, 1, 1, 2, 2, 0, 1, 1],
                                 classes: 4)

    func testPerClassMetricsMatchScikitLearnWhereDefined() {
        XCTAssertEqual(matrix.counts, [[2, 1, 0, 1], [1, 3, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(matrix.total, 10)
        XCTAssertEqual(matrix.correct, 5)
        XCTAssertEqual(matrix.accuracy, 0.5)
        XCTAssertEqual((0..<4).map(matrix.support), [4, 4, 2, 0])
        XCTAssertEqual(matrix.precision(0), 0.5)
        XCTAssertEqual(matrix.precision(1), 0.6)
        XCTAssertNil(matrix.precision(2), "never predicted")
        XCTAssertEqual(matrix.precision(3), 0, "predicted once, never right")
        XCTAssertEqual(matrix.recall(0), 0.5)
        XCTAssertEqual(matrix.recall(1), 0.75)
        XCTAssertEqual(matrix.recall(2), 0)
        XCTAssertNil(matrix.recall(3), "never present")
        XCTAssertEqual(matrix.f1(0), 0.5)
        XCTAssertEqual(matrix.f1(1)!, 0.6666666666666666, accuracy: 1e-15)
        XCTAssertNil(matrix.f1(2))
        XCTAssertNil(matrix.f1(3))
    }

    func testMacroAveragesCountUndefinedAsZeroAsScikitLearnDoes() {
        XCTAssertEqual(matrix.macroPrecision, 0.275, accuracy: 1e-15)
        XCTAssertEqual(matrix.macroRecall, 0.3125, accuracy: 1e-15)
        XCTAssertEqual(matrix.macroF1, 0.29166666666666663, accuracy: 1e-15)
    }

    func testSumsAndEmptyMatrices() {
        let doubled = matrix + matrix
        XCTAssertEqual(doubled.total, 20)
        XCTAssertEqual(doubled.macroF1, matrix.macroF1, accuracy: 1e-15)
        let empty = ConfusionMatrix(classes: 3)
        XCTAssertEqual(empty.accuracy, 0)
        XCTAssertEqual(empty.macroF1, 0)
        XCTAssertEqual(ConfusionMatrix(counts: []).classes, 0)
    }
}
