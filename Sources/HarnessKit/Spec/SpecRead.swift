import Foundation

// Checked conversions from spec JSON to values, and the helpers their error messages use.

func unknownKeyIssue(_ key: String, at parent: String, candidates: [String]) -> SpecIssue {
    let path = JSONPath.member(parent, key)
    if let guess = Spelling.closestMatch(to: key, among: candidates) {
        return SpecIssue(path, "unknown key; did you mean \"\(guess)\"?")
    }
    return SpecIssue(path, "unknown key; expected one of " + candidates.map { "\"\($0)\"" }.joined(separator: ", "))
}

/// A range of doubles with open or closed ends, described the way a user would write it.
struct DoubleBounds: Sendable {
    var lower: Double
    var lowerInclusive = true
    var upper: Double?
    var upperInclusive = true

    init(_ lower: Double, lowerInclusive: Bool = true, upper: Double? = nil, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    func contains(_ x: Double) -> Bool {
        guard lowerInclusive ? x >= lower : x > lower else { return false }
        guard let upper else { return true }
        return upperInclusive ? x <= upper : x < upper
    }

    /// "0 < learning_rate <= 10", "threshold >= 0".
    func describe(_ name: String) -> String {
        func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : x.description }
        guard let upper else { return "\(name) \(lowerInclusive ? ">=" : ">") \(number(lower))" }
        return "\(number(lower)) \(lowerInclusive ? "<=" : "<") \(name) \(upperInclusive ? "<=" : "<") \(number(upper))"
    }
}

/// Checked conversions from JSON to setting values; each error names the path and what was expected.
enum SpecRead {
    static func int(_ value: JSONValue, _ path: String, _ range: ClosedRange<Int>) throws -> Int {
        guard case let .int(n) = value else {
            throw SpecIssue(path, "expected an integer, found \(shown(value))")
        }
        guard range.contains(n) else {
            if range.upperBound == Int.max {
                throw SpecIssue(path, "\(n) is out of range; expected an integer >= \(range.lowerBound)")
            }
            throw SpecIssue(path, "\(n) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// Integers are accepted where a double is expected.
    static func double(_ value: JSONValue, _ path: String, _ bounds: DoubleBounds, _ name: String) throws -> Double {
        let x: Double
        switch value {
        case let .int(n): x = Double(n)
        case let .double(d): x = d
        default: throw SpecIssue(path, "expected a number, found \(shown(value))")
        }
        guard bounds.contains(x) else {
            throw SpecIssue(path, "\(shown(value)) is out of range; expected \(bounds.describe(name))")
        }
        return x
    }

    static func bool(_ value: JSONValue, _ path: String) throws -> Bool {
        guard case let .bool(b) = value else { throw SpecIssue(path, "expected true or false, found \(shown(value))") }
        return b
    }

    static func string(_ value: JSONValue, _ path: String) throws -> String {
        guard case let .string(s) = value else { throw SpecIssue(path, "expected a string, found \(shown(value))") }
        return s
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ value: JSONValue, _ path: String) throws -> Choice
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "expected one of " + names.map { "\"\($0)\"" }.joined(separator: ", ")
        guard case let .string(s) = value else { throw SpecIssue(path, "\(expected), found \(shown(value))") }
        guard let choice = Choice(rawValue: s) else {
            var message = "\(expected), found \(shown(value))"
            if let guess = Spelling.closestMatch(to: s, among: names) { message += "; did you mean \"\(guess)\"?" }
            throw SpecIssue(path, message)
        }
        return choice
    }

    static func intList(_ value: JSONValue, _ path: String, _ range: ClosedRange<Int>, allowEmpty: Bool) throws -> [Int] {
        guard case let .array(elements) = value else {
            throw SpecIssue(path, "expected a list of integers like [128, 32], found \(shown(value))")
        }
        if elements.isEmpty && !allowEmpty { throw SpecIssue(path, "empty list; give at least one value") }
        return try elements.enumerated().map { index, element in try int(element, "\(path)[\(index)]", range) }
    }

    /// `null` for an optional setting means "not set".
    static func optional<T>(_ value: JSONValue, _ read: () throws -> T) rethrows -> T? {
        value == .null ? nil : try read()
    }
}

// MARK: - Helpers

enum JSONPath {
    /// `$.model.layers`, or `$.grid["model.layers"]` when the key is not a plain identifier.
    static func member(_ parent: String, _ key: String) -> String {
        let isIdentifier = !key.isEmpty && key.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) }
            && !(key.first!.isNumber)
        return isIdentifier ? "\(parent).\(key)" : "\(parent)[\(JSONValue.string(key).canonicalText())]"
    }
}

/// A value for an error message, shortened so a long list cannot swamp the message.
func shown(_ value: JSONValue) -> String {
    let text = value.canonicalText()
    return text.count <= 60 ? text : String(text.prefix(57)) + "..."
}

/// "Did you mean" suggestions for misspelled keys and values.
enum Spelling {
    /// The candidate closest to `word` by edit distance, ignoring case, if it is close enough to
    /// be a likely typo: at most one edit per three characters of the last dotted component (so
    /// the shared "model." of a grid path does not make "model.colour" look like "model.dropout").
    static func closestMatch(to word: String, among candidates: [String]) -> String? {
        let target = Array(word.lowercased())
        let lastComponent = word.split(separator: ".", omittingEmptySubsequences: false).last ?? ""
        let allowed = max(1, lastComponent.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance <= allowed && distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Levenshtein distance (insertions, deletions and substitutions each cost 1).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var row = previous
        for i in 1...a.count {
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
