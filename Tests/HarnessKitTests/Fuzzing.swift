import Engine
import Foundation
import HarnessKit
import XCTest

// Helpers for the seeded mutation tests (FuzzTests.swift): a byte mutator, a JSON
// tokenizer for token-level mutations, and a runner with a time budget and a watchdog.
//
// Every case draws from its own generator, seeded by the test's seed and the case number,
// so any case can be rebuilt on its own. A trap in the code under test kills the test
// process, which is the failure signal; run with HARNESS_FUZZ_TRACE=1 to print each case
// before it runs, so the last one printed is the culprit. HARNESS_FUZZ_SCALE=n runs n
// times as many cases.

/// A deterministic source of random choices and byte-level mutations.
struct Mutator {
    var generator: SeededGenerator

    init(seed: UInt64, stream: String, index: Int) {
        generator = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15, stream: stream)
    }

    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int { generator.nextInt(below: bound) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: generator.next() >> 56) }

    /// Integers at the edges of what readers check: 0 and 1, sign and width boundaries, and
    /// the limits of the IDX reader.
    static let boundaryIntegers: [UInt64] = [
        0, 1, 2, 3, 9, 10, 27, 28, 29, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000,
        60_000, 70_000, 1_000_000, 1_000_001, 268_435_456, 268_435_457,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE, 0xFFFF_FFFF,
    ]

    /// Inputs never grow past this many bytes.
    static let maxLength = 1 << 16

    /// `input` with 1 to `maxRounds` mutations: bit flips, byte sets, inserts, deletions,
    /// truncation, chunk duplication and repetition, boundary integers, dictionary words.
    mutating func mutate(_ input: [UInt8], maxRounds: Int = 4, dictionary: [[UInt8]] = []) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + below(maxRounds)) {
            let operation = below(dictionary.isEmpty ? 11 : 13)
            if bytes.isEmpty && operation != 3 && operation < 11 {
                bytes = [byte()]
                continue
            }
            switch operation {
            case 0:  // flip one bit
                bytes[below(bytes.count)] ^= 1 << UInt8(below(8))
            case 1:  // any value
                bytes[below(bytes.count)] = byte()
            case 2:  // an interesting value
                bytes[below(bytes.count)] = pick([0, 1, 0x7F, 0x80, 0xFF, 0x1F, 0x8B, 0x22, 0x5C, 0x7B, 0x5B, 0x30])
            case 3:  // insert random bytes
                let at = below(bytes.count + 1)
                bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in byte() }, at: at)
            case 4:  // delete a range
                let start = below(bytes.count)
                bytes.removeSubrange(start ..< min(bytes.count, start + 1 + below(16)))
            case 5:  // truncate
                bytes.removeLast(below(bytes.count) + 1)
            case 6:  // duplicate a chunk somewhere else
                let start = below(bytes.count)
                let chunk = bytes[start ..< min(bytes.count, start + 1 + below(chance(20) ? bytes.count : 64))]
                bytes.insert(contentsOf: chunk, at: below(bytes.count + 1))
            case 7:  // repeat a short chunk in place, up to a few hundred times
                let start = below(bytes.count)
                let chunk = Array(bytes[start ..< min(bytes.count, start + 1 + below(4))])
                let times = pick([2, 3, 10, 100, 600])
                bytes.insert(contentsOf: Array([[UInt8]](repeating: chunk, count: times).joined()), at: start)
            case 8, 9:  // a boundary integer, big- or little-endian, over 4 bytes
                guard bytes.count >= 4 else { bytes.append(byte()); continue }
                let value = UInt32(truncatingIfNeeded: pick(Self.boundaryIntegers))
                let word = operation == 8 ? value.bigEndian : value.littleEndian
                let at = below(bytes.count - 3)
                withUnsafeBytes(of: word) { bytes.replaceSubrange(at ..< at + 4, with: $0) }
            case 10:  // a random run of zeros or 0xFF
                let at = below(bytes.count + 1)
                bytes.insert(contentsOf: [UInt8](repeating: chance(50) ? 0 : 0xFF, count: 1 + below(32)), at: at)
            default:  // a dictionary word, inserted or overwriting
                let word = pick(dictionary)
                let at = below(bytes.count + 1)
                if chance(50) || at + word.count > bytes.count {
                    bytes.insert(contentsOf: word, at: at)
                } else {
                    bytes.replaceSubrange(at ..< at + word.count, with: word)
                }
            }
            if bytes.count > Self.maxLength { bytes.removeLast(bytes.count - Self.maxLength) }
        }
        return bytes
    }
}

// MARK: - JSON tokens

/// JSON text split into tokens, whitespace included, so that joining them gives the text back.
enum JSONTokens {
    enum Kind: Equatable { case punctuation, string, number, literal, whitespace, other }
    struct Token: Equatable {
        var kind: Kind
        var text: [UInt8]
    }

    static func split(_ bytes: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        func isNumberByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
        }
        func isLetter(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) }
        while i < bytes.count {
            let start = i
            let b = bytes[i]
            let kind: Kind
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ":"),
                 UInt8(ascii: ","):
                kind = .punctuation
                i += 1
            case UInt8(ascii: "\""):
                kind = .string
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i = min(i + 1, bytes.count)
            case 0x20, 0x0A, 0x0D, 0x09:
                kind = .whitespace
                while i < bytes.count && [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
            case _ where b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39):
                kind = .number
                while i < bytes.count && isNumberByte(bytes[i]) { i += 1 }
            case _ where isLetter(b):
                kind = .literal
                while i < bytes.count && isLetter(bytes[i]) { i += 1 }
            default:
                kind = .other
                i += 1
            }
            tokens.append(Token(kind: kind, text: Array(bytes[start..<i])))
        }
        return tokens
    }

    static func join(_ tokens: [Token]) -> [UInt8] { Array(tokens.map(\.text).joined()) }

    /// Numbers at the edges of what a JSON reader and a spec's ranges handle.
    static let boundaryNumbers = [
        "0", "-0", "1", "-1", "2", "0.5", "-0.5", "1.0", "1e0", "1E+2", "0.000001", "7", "8", "9", "64", "100",
        "511", "512", "513", "1000", "1001", "2048", "2049", "4096", "60000", "60001", "1000000", "1000001",
        "2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e308", "1.7976931348623157e308",
        "1e309", "-1e309", "4.9e-324", "1e-400", "123456789012345678901234567890", "0.1e1", "1e-7",
        "1" + String(repeating: "0", count: 400), "0." + String(repeating: "0", count: 400) + "1",
    ].map { Array($0.utf8) }
}

// MARK: - Running cases

/// Runs numbered cases against a time budget. A watchdog thread ends the process with a
/// message naming the case if one case runs longer than `caseLimit` seconds, so a hang
/// shows as a failure rather than a stuck test run.
final class FuzzRun: @unchecked Sendable {
    struct Summary {
        var cases = 0
        var seconds = 0.0
        var slowestCase = 0.0
    }

    let name: String
    let caseLimit: Double
    private let lock = NSLock()
    private var current: (index: Int, started: Date, input: [UInt8])?
    private var finished = false
    private let trace = ProcessInfo.processInfo.environment["HARNESS_FUZZ_TRACE"] != nil

    /// How many times the default case counts to run (HARNESS_FUZZ_SCALE, default 1).
    static var scale: Int { ProcessInfo.processInfo.environment["HARNESS_FUZZ_SCALE"].flatMap { Int($0) } ?? 1 }

    init(name: String, caseLimit: Double = 10) {
        self.name = name
        self.caseLimit = caseLimit
    }

    /// Runs `body` for cases `0..<count`; `body` calls `begin` with each case's input.
    func run(count: Int, _ body: (Int) throws -> Void) rethrows -> Summary {
        let watchdog = Thread { [self] in watch() }
        watchdog.start()
        defer {
            lock.lock(); finished = true; lock.unlock()
        }
        var summary = Summary()
        let start = Date()
        for index in 0..<count {
            let caseStart = Date()
            try body(index)
            summary.slowestCase = max(summary.slowestCase, Date().timeIntervalSince(caseStart))
            summary.cases += 1
        }
        summary.seconds = Date().timeIntervalSince(start)
        lock.lock(); current = nil; lock.unlock()
        return summary
    }

    /// Marks the start of case `index` on `input` (for the watchdog and the trace).
    func begin(_ index: Int, _ input: [UInt8]) {
        if trace { FileHandle.standardError.write(Data("\(name) case \(index): \(Self.show(input))\n".utf8)) }
        lock.lock(); current = (index, Date(), input); lock.unlock()
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: 0.2)
            lock.lock()
            let done = finished, running = current
            lock.unlock()
            if done { return }
            if let running, Date().timeIntervalSince(running.started) > caseLimit {
                FileHandle.standardError.write(Data(
                    ("\(name): case \(running.index) has run for over \(caseLimit) s; a hang? input: "
                        + Self.show(running.input) + "\n").utf8))
                abort()
            }
        }
    }

    /// Text as text, other bytes as hex; at most 2,000 characters.
    static func show(_ bytes: [UInt8]) -> String {
        let prefix = bytes.prefix(1000)
        let text = String(decoding: prefix, as: UTF8.self)
        let printable = text.unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" } && !text.contains("\u{FFFD}")
        let shown = printable ? text.debugDescription : prefix.map { String(format: "%02x", $0) }.joined()
        return "\(bytes.count) bytes " + shown + (bytes.count > prefix.count ? "..." : "")
    }
}
