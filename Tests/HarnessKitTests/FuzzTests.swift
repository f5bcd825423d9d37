import Engine
import Foundation
import HarnessKit
import TestSupport
import XCTest

/// Seeded mutation tests of the IDX/gzip reader: thousands of damaged variants of small
/// valid files must each decode or throw a HarnessError, never trap or hang, and decoding
/// must keep to its memory bound whatever the bytes say. See Fuzzing.swift for the helpers
/// and for how to trace a failing case.
final class IDXFuzzTests: XCTestCase {
    static let seed: UInt64 = 20_240_601
    static let cases = 6_000
    /// Far above the second the cases take in the (optimised) debug build.
    static let budget = 30.0

    /// Small valid raw IDX files: labels, tiny images, two Fashion-MNIST-sized images.
    static let rawFiles: [[UInt8]] = {
        let tiny = (0..<60).map { UInt8(($0 * 37) % 256) }
        let fashion = IDXFiles.makeImages(labels: [3, 8], seed: 4)
        return [
            Array(IDX.encodeLabels((0..<20).map { UInt8($0 % 10) })),
            Array(IDX.encodeImages(rows: 5, columns: 4, pixels: tiny)),
            Array(IDX.encodeImages(rows: 28, columns: 28, pixels: fashion.pixels)),
            Array(IDX.encodeLabels([7])),
        ]
    }()

    /// A gzip member of 1 MiB of zeros (about 1 KB): appended, it makes a file inflate far
    /// past its header.
    static let zeroMember = Array(Gzip.compress(Data(count: 1 << 20)))

    /// Header words worth writing into a file's header.
    static let dictionary: [[UInt8]] = Mutator.boundaryIntegers.map { value in
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).bigEndian) { Array($0) }
    } + [[0, 0, 8, 3], [0, 0, 8, 1], [0x1F, 0x8B, 8, 0], [0x1F, 0x8B], [0x78, 0x9C]]

    private var temporary: TemporaryDirectory!
    override func setUpWithError() throws { temporary = try TemporaryDirectory(prefix: "idx-fuzz") }
    override func tearDown() { temporary.remove() }

    func testMutatedIDXAndGzipFilesDecodeOrFailCleanly() throws {
        let run = FuzzRun(name: "IDXFuzzTests")
        var outcomes = [String: Int]()
        let summary = try run.run(count: Self.cases * FuzzRun.scale) { index in
            var mutator = Mutator(seed: Self.seed, stream: "idx-fuzz", index: index)
            let (mode, input) = Self.mutant(&mutator)
            run.begin(index, input)
            let stored = Data(input)
            for kind in [IDX.Kind.images, .labels] {
                for file in ["case", "case.gz"] {
                    outcomes[mode + (try check(stored, file: file, kind: kind, index: index)), default: 0] += 1
                }
            }
            // The raw-bytes parsers, and now and then the whole path through a file.
            _ = try? IDX.parseImages(stored, file: "case")
            _ = try? IDX.parseLabels(stored, file: "case")
            if index % 20 == 0 {
                let path = temporary.file("case-\(index)\(mutator.chance(50) ? ".gz" : "")")
                try stored.write(to: URL(fileURLWithPath: path))
                expectCleanOutcome(index) { _ = try IDX.readImages(path: path) }
                expectCleanOutcome(index) { _ = try IDX.readLabels(path: path) }
                try FileManager.default.removeItem(atPath: path)
            }
        }
        print("IDXFuzzTests: \(summary.cases) cases (\(summary.cases * 6) decodes) in "
            + String(format: "%.2f s, slowest case %.3f s", summary.seconds, summary.slowestCase))
        print("IDXFuzzTests outcomes: " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        XCTAssertLessThan(summary.seconds, Self.budget)
        // The mutants are not all rejected at the first byte: some decode, and some reach
        // each of the reader's later checks.
        for expected in ["ok", "truncated", "implausible", "past"] {
            XCTAssert(outcomes.contains { $0.key.hasSuffix(expected) && $0.value > 0 }, "no case ended \(expected)")
        }
    }

    /// A damaged variant of one of `rawFiles`, and how it was made.
    static func mutant(_ m: inout Mutator) -> (mode: String, input: [UInt8]) {
        let raw = m.pick(rawFiles)
        switch m.below(5) {
        case 0:  // damaged raw bytes
            return ("raw ", m.mutate(raw, dictionary: dictionary))
        case 1:  // damaged content, compressed intact
            return ("gz(raw') ", Array(Gzip.compress(Data(m.mutate(raw, dictionary: dictionary)))))
        case 2:  // intact content, damaged compressed bytes
            return ("gz' ", m.mutate(Array(Gzip.compress(Data(raw))), maxRounds: 2, dictionary: dictionary))
        case 3:  // members: the content split at random points, then extras after it
            var content = raw
            if m.chance(30) { content = m.mutate(content, maxRounds: 1, dictionary: dictionary) }
            var cuts = (0..<m.below(4)).map { _ in m.below(content.count + 1) }.sorted()
            cuts = [0] + cuts + [content.count]
            var file: [UInt8] = []
            for (a, b) in zip(cuts, cuts.dropFirst()) { file += Gzip.compress(Data(content[a..<b])) }
            switch m.below(6) {
            case 0: file += zeroMember
            case 1: file += [UInt8](repeating: 0, count: 1 + m.below(600))
            case 2: file += Array("junk".utf8)
            case 3: file += Gzip.compress(Data((0..<m.below(2000)).map { _ in m.byte() }))
            default: break
            }
            return ("members ", file)
        default:  // one member with its CRC or ISIZE trailer replaced
            var file = Array(Gzip.compress(Data(raw)))
            let value = UInt32(truncatingIfNeeded: m.pick(Mutator.boundaryIntegers) &+ UInt64(m.below(3)))
            let at = file.count - (m.chance(50) ? 4 : 8)
            withUnsafeBytes(of: value.littleEndian) { file.replaceSubrange(at ..< at + 4, with: $0) }
            return ("trailer ", file)
        }
    }

    /// Decodes `stored` and checks the result or the error; returns how it ended.
    private func check(_ stored: Data, file: String, kind: IDX.Kind, index: Int) throws -> String {
        var statistics = IDX.DecodeStatistics()
        let decoded: IDX.Decoded
        do {
            decoded = try IDX.decode(stored: stored, file: file, kind: kind, statistics: &statistics)
        } catch let error as HarnessError {
            // Memory followed the data that arrived: at most about twice it, or one window.
            XCTAssertLessThanOrEqual(statistics.peakBufferBytes, 2 * statistics.decodedBytes + 2 * Gzip.chunkSize + 4096,
                                     "case \(index): \(error)")
            let message = error.description
            XCTAssert(message.hasPrefix(file), "case \(index): the error does not name the file: \(message)")
            for outcome in ["implausible", "truncated", "past", "magic", "corrupt", "extra", "unexpected bytes", "empty"]
            where message.contains(outcome) {
                return outcome
            }
            return "other"
        } catch {
            XCTFail("case \(index): not a HarnessError: \(error)")
            return "failed"
        }
        // A success is a checked header and exactly the data it declares, held in a buffer
        // no larger than that data and one zlib window.
        let header = decoded.header
        XCTAssertEqual(header.kind, kind)
        XCTAssert(header.dimensions.allSatisfy { $0 >= 1 }, "case \(index): \(header.dimensions)")
        XCTAssertLessThanOrEqual(header.records, IDX.maxRecords)
        XCTAssertLessThanOrEqual(header.payloadBytes, IDX.maxPayloadBytes)
        XCTAssertEqual(decoded.payload.count, header.payloadBytes, "case \(index)")
        XCTAssertEqual(statistics.decodedBytes, header.size + header.payloadBytes, "case \(index)")
        XCTAssertLessThanOrEqual(statistics.peakBufferBytes, header.payloadBytes + Gzip.chunkSize + 4096, "case \(index)")
        // What the loader does next must not trap either.
        if kind == .images {
            let images = IDX.images(decoded)
            let labels = [UInt8](repeating: 1, count: images.count)
            let set = try IDX.pair(images, labels, imagesFile: file, labelsFile: "labels")
            XCTAssertEqual(set.count, header.records)
        } else {
            _ = try? IDX.labels(decoded, file: file)
        }
        return "ok"
    }

    private func expectCleanOutcome(_ index: Int, _ body: () throws -> Void) {
        do { try body() } catch is HarnessError {} catch { XCTFail("case \(index): not a HarnessError: \(error)") }
    }
}

/// Seeded mutation tests of the spec reader: the shipped experiments and some made-up specs,
/// damaged byte by byte, token by token and node by node, must each parse and expand to jobs
/// or throw a HarnessError, never trap or hang.
final class SpecFuzzTests: XCTestCase {
    static let seed: UInt64 = 20_240_602
    static let budget = 30.0

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Made-up specs that use what the shipped ones do not: other model types, variants with
    /// labels, sparsity, subsets, escapes and non-ASCII text.
    static let madeUp = [
        #"{"name": "a", "model": {"type": "cnn"}}"#,
        #"{"name": "b.c_d-1", "description": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t", "model": {"type": "gru", "layers": 1, "hidden": 8}, "seeds": [0, 9223372036854775807]}"#,
        #"{"name": "subset", "dataset": {"train_size": 600, "stratified": true, "sequence": "columns", "path": "data"}, "model": {"type": "rnn", "activation": "relu", "dense": [16], "dropout": 0.5}, "training": {"optimizer": "sgd", "momentum": 0.9, "learning_rate": 0.1, "weight_decay": 0.0001, "threads": 2}, "grid": {"model.hidden": [8, 16], "training.batch_size": [10, 20, 30]}}"#,
        #"{"name": "prune", "model": {"type": "cnn", "conv": [4, 8], "kernel": 5, "pool": 1, "dense": [], "init": "keras"}, "pruning": {"retrain_epochs": 0}, "grid": {"pruning.sparsity": [0.1, 0.5, 0.9], "training.optimizer": ["adam", "adamw", "sgd"]}, "seeds": [1, 2]}"#,
        #"{"name": "variants", "model": {"type": "lstm"}, "grid": {"model": [{"type": "lstm", "label": "LSTM"}, {"type": "cnn", "label": "CNN", "conv": [8]}, {"type": "gru", "hidden": 32}], "dataset.train_fraction": [0.5, 1]}, "reference": {"rows": [{}, {"dataset.train_fraction": 0.5, "accuracy": 0.5, "macro_f1": null}]}}"#,
        #"{"name": "t", "model": {"type": "lstm"}, "training": {"epochs": 1000}, "pruning": {"threshold": 0.2}, "grid": {"pruning": [{"retrain_epochs": 1}, {"retrain_epochs": 2}]}}"#,
    ]

    static func corpus() throws -> [String] {
        let directory = root.appendingPathComponent("experiments")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 5, "the shipped experiments/*.json")
        return try names.map { try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) } + madeUp
    }

    /// Words worth putting where a key or a value was: every key and choice the format
    /// knows, near misses, and awkward strings.
    static let words: [String] = {
        let dimensions = ExperimentSpec.gridDimensions
        let keys = Set(dimensions.map { String($0.split(separator: ".").last!) })
        return ["name", "description", "dataset", "model", "training", "pruning", "seeds", "grid", "reference", "label",
                "seed", "type", "lstm", "rnn", "gru", "cnn", "tanh", "relu", "rows", "columns", "adam", "adamw", "sgd",
                "pytorch", "keras", "threshold", "sparsity", "retrain_epochs", "threads", "path", "modle", "layer",
                "", " ", "model.", ".model", "model.type.x", "x", String(repeating: "k", count: 300), "\u{0}", "é",
                "😀", "\u{FEFF}", "\\", "\""] + dimensions + keys.sorted()
    }()

    /// Text of a spec: a path that is not a file anywhere, for messages only.
    static let filePath = "experiments/fuzz.json"

    func testMutatedSpecTextsParseOrFailCleanly() throws {
        let texts = try Self.corpus()
        // The corpus itself is valid, so the mutants start from real specs.
        for text in texts { XCTAssertNoThrow(try ExperimentSpec.parse(text: text, filePath: Self.filePath).jobs(), text) }
        let trees = try texts.map { try JSONValue.parse($0) }
        var nodes: [JSONValue] = []
        for tree in trees { Self.collect(tree, into: &nodes) }
        let wordTokens = Self.words.map { Array(JSONValue.string($0).canonicalText().utf8) }

        var report: [String] = []
        for (level, count) in [("byte", 5_000), ("token", 4_000), ("tree", 4_000)] {
            let run = FuzzRun(name: "SpecFuzzTests \(level)")
            var parsed = 0, rejected = 0, syntax = 0
            let summary = run.run(count: count * FuzzRun.scale) { index in
                var m = Mutator(seed: Self.seed, stream: "spec-fuzz-" + level, index: index)
                let base = m.below(texts.count)
                let bytes: [UInt8]
                switch level {
                case "byte":
                    bytes = m.mutate(Array(texts[base].utf8), dictionary: wordTokens + JSONTokens.boundaryNumbers)
                case "token":
                    bytes = Self.mutateTokens(Array(texts[base].utf8), &m, words: wordTokens)
                default:
                    bytes = Array(Self.mutateTree(trees[base], &m, nodes: nodes).canonicalText().utf8)
                }
                run.begin(index, bytes)
                switch Self.parseAndExpand(String(decoding: bytes, as: UTF8.self), index: index, level: level) {
                case .valid: parsed += 1
                case .syntaxError: syntax += 1
                case .invalidSpec: rejected += 1
                }
            }
            XCTAssertLessThan(summary.seconds, Self.budget, level)
            XCTAssertGreaterThan(parsed, 0, "no \(level)-level mutant parsed: the mutations are too coarse")
            XCTAssertGreaterThan(rejected, 0, level)
            report.append("\(level) \(summary.cases) cases (\(parsed) valid, \(syntax) not JSON, \(rejected) invalid specs) in "
                + String(format: "%.2f s, slowest %.3f s", summary.seconds, summary.slowestCase))
        }
        print("SpecFuzzTests: " + report.joined(separator: "; "))
    }

    enum Outcome { case valid, syntaxError, invalidSpec }

    /// Whether the text parsed and expanded; a failure must be a HarnessError naming the file.
    static func parseAndExpand(_ text: String, index: Int, level: String) -> Outcome {
        do {
            let spec = try ExperimentSpec.parse(text: text, filePath: filePath)
            let jobs = try spec.jobs()
            XCTAssertEqual(jobs.count, spec.gridPointCount * spec.seeds.count, "\(level) case \(index)")
            return .valid
        } catch let error as HarnessError {
            XCTAssert(error.description.hasPrefix(filePath), "\(level) case \(index): \(error)")
            // "file:line:column: message" for JSON syntax, "file: $.path: message" for the rest.
            return error.description.hasPrefix(filePath + ": $") ? .invalidSpec : .syntaxError
        } catch {
            XCTFail("\(level) case \(index): not a HarnessError: \(error)")
            return .invalidSpec
        }
    }

    // MARK: Token level

    /// One or two token mutations. Most keep the text JSON (a number, string or literal
    /// replaced by another), so that the spec reader behind the parser gets its share; the
    /// rest break the grammar (tokens deleted, repeated, swapped, brackets nested deeply).
    static func mutateTokens(_ bytes: [UInt8], _ m: inout Mutator, words: [[UInt8]]) -> [UInt8] {
        var tokens = JSONTokens.split(bytes)
        let pool = tokens.filter { $0.kind != .whitespace }
        for _ in 0..<(1 + m.below(2)) {
            let meaningful = tokens.indices.filter { tokens[$0].kind != .whitespace }
            guard !meaningful.isEmpty else { break }
            let i = m.pick(meaningful)
            func some(_ kind: JSONTokens.Kind) -> Int {
                let candidates = meaningful.filter { tokens[$0].kind == kind }
                return candidates.isEmpty ? i : m.pick(candidates)
            }
            let roll = m.below(100)
            switch roll {
            case 0..<35:  // a number at a boundary in place of a number
                tokens[some(.number)] = .init(kind: .number, text: m.pick(JSONTokens.boundaryNumbers))
            case 35..<55:  // a known word in place of a string (a key or a value)
                tokens[some(.string)] = .init(kind: .string, text: m.pick(words))
            case 55..<65:  // a scalar of another type
                let target = some(m.pick([.number, .string, .literal]))
                let literal = Array(m.pick(["true", "false", "null"]).utf8)
                tokens[target] = m.pick([.init(kind: .literal, text: literal),
                                         .init(kind: .number, text: m.pick(JSONTokens.boundaryNumbers)),
                                         .init(kind: .string, text: m.pick(words))])
            case 65..<70:  // a value wrapped in brackets, once or very deeply
                let depth = m.pick([1, 2, 100, 511, 512, 513, 5_000])
                let (open, close) = m.chance(50) ? ("[", "]") : ("{\"k\":", "}")
                tokens.insert(.init(kind: .other, text: Array(String(repeating: close, count: depth).utf8)), at: i + 1)
                tokens.insert(.init(kind: .other, text: Array(String(repeating: open, count: depth).utf8)), at: i)
            case 70..<78:
                tokens.remove(at: i)
            case 78..<85:
                tokens.insert(tokens[i], at: i)
            case 85..<89:
                tokens.swapAt(i, m.pick(meaningful))
            case 89..<93:  // a token from elsewhere in the text
                tokens.insert(m.pick(pool), at: i)
            case 93..<97:  // a run of tokens repeated
                let end = min(tokens.count, i + 1 + m.below(8))
                tokens.insert(contentsOf: tokens[i..<end], at: end)
            default:
                let other = m.pick(["true", "false", "null", "nul", "True", "{", "}", "[", "]", ":", ","])
                tokens[i] = .init(kind: .other, text: Array(other.utf8))
            }
        }
        return JSONTokens.join(tokens)
    }

    // MARK: Tree level

    static func collect(_ value: JSONValue, into nodes: inout [JSONValue]) {
        nodes.append(value)
        switch value {
        case let .array(elements): for element in elements { collect(element, into: &nodes) }
        case let .object(members): for member in members { collect(member.value, into: &nodes) }
        default: break
        }
    }

    /// `tree` with one to three nodes replaced, removed, duplicated or renamed.
    static func mutateTree(_ tree: JSONValue, _ m: inout Mutator, nodes: [JSONValue]) -> JSONValue {
        var result = tree
        for _ in 0..<(1 + m.below(3)) { result = mutateNode(result, &m, nodes: nodes, depth: 0) }
        return result
    }

    private static func mutateNode(_ value: JSONValue, _ m: inout Mutator, nodes: [JSONValue], depth: Int) -> JSONValue {
        // Descend into a child most of the time, so that deep nodes get their turn.
        switch value {
        case var .object(members) where !members.isEmpty && m.chance(75):
            let i = m.below(members.count)
            switch m.below(8) {
            case 0: members.remove(at: i)
            case 1: members[i].key = m.pick(words)
            case 2: members.append((key: m.pick(words), value: m.pick(nodes)))
            default: members[i].value = mutateNode(members[i].value, &m, nodes: nodes, depth: depth + 1)
            }
            return .object(members)
        case var .array(elements) where !elements.isEmpty && m.chance(75):
            let i = m.below(elements.count)
            switch m.below(8) {
            case 0: elements.remove(at: i)
            case 1: elements.insert(contentsOf: Array(repeating: elements[i], count: 1 + m.below(3)), at: i)
            case 2: elements.append(replacement(&m, nodes: nodes))
            default: elements[i] = mutateNode(elements[i], &m, nodes: nodes, depth: depth + 1)
            }
            return .array(elements)
        default:
            return replacement(&m, nodes: nodes)
        }
    }

    private static func replacement(_ m: inout Mutator, nodes: [JSONValue]) -> JSONValue {
        switch m.below(6) {
        case 0:
            return m.pick(nodes)
        case 1:
            return .int(m.pick([0, -1, 1, 2, 8, 9, 1000, 1001, 60_000, 60_001, Int.max, Int.min, Int(Int32.max) + 1]))
        case 2:
            return .double(m.pick([0.0, -0.0, 0.5, 1.0, 1.5, 10.0, 10.0001, 1e-300, .leastNonzeroMagnitude, 1e308, -1e308,
                                   .greatestFiniteMagnitude, .infinity, .nan, 0.1 + 0.2]))
        case 3:
            return .string(m.pick(words))
        case 4:
            let count = 1 + m.below(6)
            return .array((0..<count).map { _ in m.chance(50) ? .int(m.below(2000)) : m.pick(nodes) })
        default:
            // A chain of arrays or objects, shallow or deep.
            var value = m.pick(nodes)
            for _ in 0..<m.pick([1, 3, 50, 400]) {
                value = m.chance(50) ? .array([value]) : .object([(key: m.pick(words), value: value)])
            }
            return value
        }
    }
}
