import Foundation
import XCTest
@testable import Engine
import TestSupport

/// The vectorised nonlinearities and square root against Foundation's.
final class VectorMathTests: XCTestCase {
    func testVectorMathAgainstFoundation() {
        var worst: (sigmoid: Double, tanh: Double) = (0, 0)
        var x: Float = -30
        while x <= 30 {
            let v = Vector(repeating: x)
            let s = Double(vsigmoid(v)[0]), t = Double(vtanh(v)[0])
            let xd = Double(x)
            worst.sigmoid = max(worst.sigmoid, abs(s - 1 / (1 + Foundation.exp(-xd))))
            worst.tanh = max(worst.tanh, abs(t - Foundation.tanh(xd)))
            x += 0.0037
        }
        XCTAssertLessThan(worst.sigmoid, 2e-7)
        XCTAssertLessThan(worst.tanh, 3e-7)
        // Odd, bounded by 1, exact at 0, and saturated far out.
        XCTAssertEqual(vtanh(Vector(repeating: 0))[0], 0)
        XCTAssertEqual(vsigmoid(Vector(repeating: 0))[0], 0.5)
        XCTAssertEqual(vtanh(Vector(repeating: -1.7))[0], -vtanh(Vector(repeating: 1.7))[0])
        XCTAssertLessThanOrEqual(vtanh(Vector(repeating: 1e30))[0], 1)
        XCTAssertEqual(vsigmoid(Vector(repeating: 1e30))[0], 1, accuracy: 2e-7)
        XCTAssertEqual(vsigmoid(Vector(repeating: -1e30))[0], 0, accuracy: 2e-7)
        XCTAssert(vsigmoid(Vector(repeating: .nan))[0].isNaN, "NaN propagates so divergence is detected")
        XCTAssert(vtanh(Vector(repeating: .nan))[0].isNaN)
    }

    func testSquareRootIsAccurateAndScalarMatchesVector() {
        var g = SeededGenerator(seed: 12)
        for exponent in -40...30 {
            let x = Float(g.uniform(1, 2)) * Float(sign: .plus, exponent: exponent, significand: 1)
            let vector = vsqrt(Vector(repeating: x))[0]
            XCTAssertEqual(vector.bitPattern, sqrtNewton(x).bitPattern, "lane and scalar agree at \(x)")
            XCTAssert(isClose(Double(vector), Double(x).squareRoot(), relative: 3e-7), "\(x): \(vector)")
        }
        XCTAssertEqual(vsqrt(Vector(repeating: 0))[0], 0)
    }
}
