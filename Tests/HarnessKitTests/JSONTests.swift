import XCTest
@testable import HarnessKit

final class JSONTests: XCTestCase {
    private func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONSyntaxError? {
        do {
            let value = try JSONValue.parse(text)
            XCTFail("parsed \(value.canonicalText()) from invalid JSON", file: file, line: line)
            return nil
        } catch let error as JSONSyntaxError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    func testNumbersKeepIntegerAndFractionApart() throws {
        XCTAssertEqual(try JSONValue.parse("3"), .int(3))
        XCTAssertEqual(try JSONValue.parse("-17"), .int(-17))
        XCTAssertEqual(try JSONValue.parse("3.0"), .double(3))
        XCTAssertEqual(try JSONValue.parse("3e0"), .double(3))
        XCTAssertEqual(try JSONValue.parse("0.001"), .double(0.001))
        XCTAssertEqual(try JSONValue.parse("-2.5E-3"), .double(-0.0025))
        XCTAssertNotEqual(JSONValue.int(3), JSONValue.double(3))
        // Too large for Int: refused as written (testNumbersOutOfRangeAreRefusedAsWritten),
        // not turned into a rounded double; written with a fraction or an exponent, it is a double.
        XCTAssertEqual(try JSONValue.parse("12345678901234567890.0"), .double(Double("12345678901234567890")!))
    }

    func testObjectsKeepFileOrderAndCompareIgnoringIt() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": [true, false, null], "c": {"z": "s"}}"#)
        guard case let .object(members) = value else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.key), ["b", "a", "c"])
        XCTAssertEqual(value["a"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(value["c"]?["z"], .string("s"))
        XCTAssertNil(value["missing"])
        XCTAssertEqual(value, try JSONValue.parse(#"{"c": {"z": "s"}, "a": [true, false, null], "b": 1}"#))
        XCTAssertNotEqual(value, try JSONValue.parse(#"{"b": 1, "a": [false, true, null], "c": {"z": "s"}}"#))
    }

    func testStringEscapes() throws {
        let value = try JSONValue.parse(#""q\" b\\ s\/ \n\t \u00e9 \ud83d\ude00""#)
        XCTAssertEqual(value, .string("q\" b\\ s/ \n\t é 😀"))
    }

    func testRejectsDuplicateKeysAtTheSecondKey() throws {
        let error = try XCTUnwrap(syntaxError("{\"a\": 1,\n  \"a\": 2}"))
        XCTAssertEqual(error.description, "2:3: duplicate key \"a\" in the same object")
        // The same key in different objects is fine.
        XCTAssertNoThrow(try JSONValue.parse(#"{"a": {"a": 1}, "b": {"a": 2}}"#))
    }

    func testSyntaxErrorsReportLineAndColumn() throws {
        let cases: [(String, String)] = [
            ("{\"a\": 1,}", "1:9: trailing comma before '}' is not allowed in JSON"),
            ("[1, 2,\n ]", "2:2: trailing comma before ']' is not allowed in JSON"),
            ("{\"a\" 1}", "1:6: expected ':' after key \"a\", found '1'"),
            ("{\"a\": 1\n \"b\": 2}", "2:2: expected ',' or '}' after the value of \"a\", found '\"'"),
            ("{a: 1}", "1:2: expected a key in double quotes, found 'a'"),
            ("['x']", "1:2: strings must be in double quotes"),
            ("{\"é\": tru}", "1:7: unexpected 't'; expected a value (strings need double quotes)"),
            ("[01]", "1:2: numbers cannot have leading zeros"),
            ("[1.]", "1:4: expected a digit after '.'"),
            ("{\"a\": \"open\n}", "1:12: line break inside a string (missing closing quote?)"),
            ("\"abc", "1:1: unterminated string"),
            ("[1] 2", "1:5: unexpected '2' after the end of the JSON value"),
            ("", "1:1: unexpected end of input; expected a value"),
            ("// note\n{}", "1:1: comments are not allowed in JSON"),
            ("\"\\x\"", "1:2: invalid escape '\\x' in a string"),
            ("\"\\ud800\"", "1:2: \\u escape is an unpaired surrogate"),
            ("1e999", "1:1: number 1e999 is too large"),
            ("\u{FEFF}[1,]", "1:4: trailing comma before ']' is not allowed in JSON"),  // byte order mark not counted
        ]
        for (text, expected) in cases {
            XCTAssertEqual(syntaxError(text)?.description, expected, "parsing \(text.debugDescription)")
        }
    }

    /// A number a Double or an Int cannot hold is refused with the text as written: it
    /// used to become 0.0 (underflow) or a rounded double (an integer past Int.max), which
    /// later messages showed instead of what the file says.
    func testNumbersOutOfRangeAreRefusedAsWritten() throws {
        let cases: [(String, String)] = [
            ("[1e-400]", "1:2: number 1e-400 is too small: it is not 0 but rounds to 0 (the smallest positive number is about 4.9e-324)"),
            ("-0.5e-999", "1:1: number -0.5e-999 is too small: it is not 0 but rounds to 0 (the smallest positive number is about 4.9e-324)"),
            ("100000000000000000000", "1:1: integer 100000000000000000000 is out of range: integers must lie within "
                + "-9223372036854775808...9223372036854775807"),
            ("[-9223372036854775809]", "1:2: integer -9223372036854775809 is out of range: integers must lie within "
                + "-9223372036854775808...9223372036854775807"),
            ("1" + String(repeating: "0", count: 400), "1:1: integer 10000000000000000000...00000000000000000000 (401 digits) "
                + "is out of range: integers must lie within -9223372036854775808...9223372036854775807"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(syntaxError(text)?.description, expected, "parsing \(text.prefix(30))")
        }
        // Zero itself, the edges of Int and the smallest subnormal are fine.
        XCTAssertEqual(try JSONValue.parse("0e-400"), .double(0))
        XCTAssertEqual(try JSONValue.parse("-0.000e5"), .double(-0.0))
        XCTAssertEqual(try JSONValue.parse("9223372036854775807"), .int(Int.max))
        XCTAssertEqual(try JSONValue.parse("-9223372036854775808"), .int(Int.min))
        XCTAssertEqual(try JSONValue.parse("4.9e-324"), .double(.leastNonzeroMagnitude))
    }

    func testRejectsExcessiveNesting() throws {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        XCTAssertEqual(syntaxError(deep)?.message, "nesting deeper than 512 levels")
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertNoThrow(try JSONValue.parse(fine))
    }

    func testCanonicalTextSortsKeysWithoutWhitespace() throws {
        let value = try JSONValue.parse("""
            { "b": [1, 2.0, 0.001, 1e-5],
              "a": {"y": null, "x": true},
              "A": "tab\\tquote\\"" }
            """)
        XCTAssertEqual(value.canonicalText(),
                       #"{"A":"tab\tquote\"","a":{"x":true,"y":null},"b":[1,2.0,0.001,1e-05]}"#)
    }

    func testCanonicalTextEscapesControlCharacters() {
        XCTAssertEqual(JSONValue.string("a\u{01}b\u{1F}\u{08}\u{0C}é").canonicalText(), #""a\u0001b\u001f\b\fé""#)
    }

    func testCanonicalTextRoundTrips() throws {
        let texts = [
            #"{"z":[0.1,0.2,0.30000000000000004],"m":-0.0,"n":{"k":[[],{}]},"s":"😀 \u0000"}"#,
            #"[1e+300,5e-324,123456789.123,-42,9223372036854775807,"é"]"#,
            #"{"reference":{"0.05":{"before":0.8735,"after":0.8875}}}"#,
        ]
        for text in texts {
            let value = try JSONValue.parse(text)
            let canonical = value.canonicalText()
            let reparsed = try JSONValue.parse(canonical)
            XCTAssertEqual(reparsed, value, text)
            XCTAssertEqual(reparsed.canonicalText(), canonical, text)
        }
        // Doubles come back bit for bit.
        let tricky = [0.1, 1.0 / 3.0, 2.0e-308, 6.02214076e23, Double.pi]
        for x in tricky {
            XCTAssertEqual(try JSONValue.parse(JSONValue.double(x).canonicalText()), .double(x))
        }
    }
}
