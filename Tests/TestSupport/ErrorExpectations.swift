import Foundation
import HarnessKit
import XCTest

/// Runs `body`, which must throw a HarnessError whose message contains every fragment;
/// returns the message.
@discardableResult
public func expectHarnessError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                               _ body: () throws -> Void) -> String {
    do {
        try body()
        XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
        return ""
    } catch {
        let message = String(describing: error)
        XCTAssert(error is HarnessError, "not a HarnessError: \(message)", file: file, line: line)
        for fragment in fragments {
            XCTAssert(message.contains(fragment), "\"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
        }
        return message
    }
}
