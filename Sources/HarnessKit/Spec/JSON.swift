/// A JSON value as written in a spec file.
///
/// Objects keep their members in file order (so errors and plans follow the file) and
/// numbers keep their written kind: `3` is `.int(3)`, `3.0` and `3e0` are `.double(3)`,
/// which lets validation reject a fraction where a count is expected.
///
/// Two objects are equal when they have the same members, in any order; JSON gives
/// member order no meaning, and the parser never produces duplicate keys.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in
                b.first(where: { $0.key == member.key }).map { $0.value == member.value } ?? false
            }
        default: return false
        }
    }

    /// The member named `key` of an object; nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.key == key })?.value
    }
}

// MARK: - Parsing

/// A syntax error at a 1-based line and column (columns count characters, not bytes).
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(line):\(column): \(message)" }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259, no extensions). Duplicate keys are an error
    /// rather than "last one wins", because in a spec a repeated key is always a mistake.
    /// A number must keep its value: an integer outside `Int`'s range, a number too large
    /// for `Double`, and one that is not 0 but rounds to 0 are errors quoting the text as
    /// written (converted, they would show in later messages as a number the file does not hold).
    public static func parse(_ text: String) throws -> JSONValue {
        var parser = JSONParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }
}

/// A recursive-descent parser over UTF-8 bytes. Positions are byte offsets until an
/// error is reported, when the offset is turned into a line and column.
private struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    var depth = 0
    /// Deep enough for any real spec, shallow enough that recursion cannot overflow the stack.
    static let maxDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // UTF-8 byte order mark
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if position < bytes.count {
            throw error("unexpected \(describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    // MARK: Values

    mutating func parseValue() throws -> JSONValue {
        guard let byte = current else { throw error("unexpected end of input; expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try nested { try $0.parseObject() }
        case UInt8(ascii: "["): return try nested { try $0.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        case UInt8(ascii: "'"): throw error("strings must be in double quotes")
        case UInt8(ascii: "/"): throw error("comments are not allowed in JSON")
        default: throw error("unexpected \(describeCurrent()); expected a value")
        }
    }

    mutating func nested(_ body: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    mutating func parseObject() throws -> JSONValue {
        position += 1  // "{"
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object([]) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else {
                if current == UInt8(ascii: "}") { throw error("trailing comma before '}' is not allowed in JSON") }
                throw error("expected a key in double quotes, found \(describeCurrent())")
            }
            let keyStart = position
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw error("duplicate key \"\(key)\" in the same object", at: keyStart)
            }
            skipWhitespace()
            guard current == UInt8(ascii: ":") else {
                throw error("expected ':' after key \"\(key)\", found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            members.append((key: key, value: try parseValue()))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw error("expected ',' or '}' after the value of \"\(key)\", found \(describeCurrent())")
            }
        }
    }

    mutating func parseArray() throws -> JSONValue {
        position += 1  // "["
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array([]) }
        while true {
            skipWhitespace()
            if current == UInt8(ascii: "]") { throw error("trailing comma before ']' is not allowed in JSON") }
            elements.append(try parseValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            default: throw error("expected ',' or ']' after a list element, found \(describeCurrent())")
            }
        }
    }

    mutating func parseLiteral(_ word: String, _ value: JSONValue) throws -> JSONValue {
        let expected = Array(word.utf8)
        guard bytes[position...].starts(with: expected) else {
            throw error("unexpected \(describeCurrent()); expected a value (strings need double quotes)")
        }
        position += expected.count
        return value
    }

    /// Number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func parseNumber() throws -> JSONValue {
        let start = position
        var isInteger = true
        var significandEnd: Int?  // where the exponent starts, if there is one
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, isDigit(first) else { throw error("expected a digit after '-'") }
        position += 1
        if first == UInt8(ascii: "0"), let next = current, isDigit(next) {
            throw error("numbers cannot have leading zeros", at: start)
        }
        skipDigits()
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let digit = current, isDigit(digit) else { throw error("expected a digit after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            significandEnd = position
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let digit = current, isDigit(digit) else { throw error("expected a digit in the exponent") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger {
            guard let value = Int(text) else {
                throw error("integer \(Self.quoted(text)) is out of range: integers must lie within \(Int.min)...\(Int.max)",
                            at: start)
            }
            return .int(value)
        }
        guard let value = Double(text), value.isFinite else {
            throw error("number \(Self.quoted(text)) is too large", at: start)
        }
        let significand = bytes[start..<(significandEnd ?? position)]
        if value == 0 && significand.contains(where: { $0 >= UInt8(ascii: "1") && $0 <= UInt8(ascii: "9") }) {
            throw error("number \(Self.quoted(text)) is too small: it is not 0 but rounds to 0 "
                        + "(the smallest positive number is about 4.9e-324)", at: start)
        }
        return .double(value)
    }

    /// A number's text for a message: as written, with the middle of a very long one left out.
    static func quoted(_ text: String) -> String {
        guard text.count > 40 else { return text }
        return "\(text.prefix(20))...\(text.suffix(20)) (\(text.filter(\.isNumber).count) digits)"
    }

    mutating func parseString() throws -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = current else { throw error("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                utf8.append(contentsOf: try parseEscape())
            case 0x0A, 0x0D:
                throw error("line break inside a string (missing closing quote?)")
            case 0..<0x20:
                throw error("control character in a string; write it as an escape such as \\t")
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    /// The UTF-8 bytes of the escape after a backslash.
    mutating func parseEscape() throws -> [UInt8] {
        guard let byte = current else { throw error("unterminated string") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return [byte]
        case UInt8(ascii: "b"): return [0x08]
        case UInt8(ascii: "f"): return [0x0C]
        case UInt8(ascii: "n"): return [0x0A]
        case UInt8(ascii: "r"): return [0x0D]
        case UInt8(ascii: "t"): return [0x09]
        case UInt8(ascii: "u"):
            let escapeStart = position - 2
            var code = try parseHex4()
            if (0xD800...0xDBFF).contains(code) {
                // A character outside the Basic Multilingual Plane is written as a surrogate pair.
                guard bytes[position...].starts(with: Array("\\u".utf8)) else {
                    throw error("\\u escape is an unpaired surrogate", at: escapeStart)
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("\\u escape is an unpaired surrogate", at: escapeStart)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("\\u escape is an unpaired surrogate", at: escapeStart)
            }
            return Array(String(Character(scalar)).utf8)
        default:
            throw error("invalid escape '\\\(String(decoding: [byte], as: UTF8.self))' in a string", at: position - 2)
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = hexValue(byte) else {
                throw error("expected four hex digits after \\u")
            }
            code = code << 4 | digit
            position += 1
        }
        return code
    }

    // MARK: Helpers

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    mutating func skipDigits() {
        while let byte = current, isDigit(byte) { position += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The character at the current position, quoted, for error messages.
    func describeCurrent() -> String {
        guard position < bytes.count else { return "end of input" }
        var end = position + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }  // continuation bytes
        let character = String(decoding: bytes[position..<end], as: UTF8.self)
        return "'\(character)'"
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let offset = min(offset ?? position, bytes.count)
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? min(3, offset) : 0  // an editor does not show the mark
        var line = 1, column = 1
        for byte in bytes[start..<offset] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {  // count characters, not continuation bytes
                column += 1
            }
        }
        return JSONSyntaxError(line: line, column: column, message: message)
    }
}

// MARK: - Canonical serialization

extension JSONValue {
    /// Canonical text: object keys sorted by their UTF-8 bytes, no whitespace, integers as
    /// integers and doubles in Swift's shortest round-trip form (`0.001`, `1e-05`, `2.0`).
    /// Equal values give equal text whatever their key order, so the text can be hashed into
    /// an identity. JSON cannot express NaN or infinity; such doubles are written as `null`.
    public func canonicalText() -> String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    /// Compact JSON like `canonicalText`, but with object members in their given order
    /// (for output people read, such as `harness report --format json`).
    public func orderedText() -> String {
        var out = ""
        writeCanonical(into: &out, sortingKeys: false)
        return out
    }

    private func writeCanonical(into out: inout String, sortingKeys: Bool = true) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .int(value): out += String(value)
        case let .double(value): out += value.isFinite ? value.description : "null"
        case let .string(value): JSONValue.writeString(value, into: &out)
        case let .array(elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.writeCanonical(into: &out, sortingKeys: sortingKeys)
            }
            out += "]"
        case let .object(members):
            out += "{"
            let ordered = sortingKeys ? members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } : members
            for (index, member) in ordered.enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(member.key, into: &out)
                out += ":"
                member.value.writeCanonical(into: &out, sortingKeys: sortingKeys)
            }
            out += "}"
        }
    }

    private static func writeString(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
