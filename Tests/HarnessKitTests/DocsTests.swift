import Engine
import Foundation
import XCTest
@testable import HarnessKit

/// The pages under docs/ that list facts the code also holds: a page that drifts from the
/// code fails here.
final class DocsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The settings table of docs/spec-format.md: rows whose first cell is a backticked
    /// dotted path, as (path, cells).
    static func settingRows() throws -> [(path: String, cells: [String])] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/spec-format.md"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = cells.first, first.hasPrefix("`"), first.hasSuffix("`"), first.contains(".") else { return nil }
            return (String(first.dropFirst().dropLast()), Array(cells))
        }
    }

    func testTheSpecFormatPageListsEverySettingInTheFieldTable() throws {
        let rows = try Self.settingRows()
        XCTAssertEqual(rows.map(\.path), SettingField.all.map(\.path),
                       "docs/spec-format.md's settings table must list exactly the settings of SettingField.all, in order")
        for (row, field) in zip(rows, SettingField.all) where row.path == field.path {
            XCTAssertEqual(row.cells.count, 5, "\(row.path): setting, type and range, default, applies to, meaning")
            guard row.cells.count == 5 else { continue }
            let appliesTo = Set(row.cells[3].components(separatedBy: CharacterSet(charactersIn: ", ")).filter { !$0.isEmpty })
            switch field.applicability {
            case .recurrent:
                XCTAssertEqual(appliesTo, Set(ModelConfig.Kind.allCases.filter(\.isRecurrent).map(\.rawValue)), row.path)
            case .cnn: XCTAssertEqual(appliesTo, ["cnn"], row.path)
            case .sgd: XCTAssertEqual(appliesTo, ["sgd"], row.path)
            case .units: XCTAssertEqual(appliesTo, ["pruning", "method", "units"], row.path)
            case .gradual: XCTAssertEqual(appliesTo, ["pruning", "method", "gradual"], row.path)
            case .selections(let wanted):
                XCTAssertEqual(appliesTo, Set(["selection"] + wanted.map(\.rawValue) + (wanted.count > 1 ? ["or"] : [])), row.path)
            case .always: break
            }
        }
        // Every choice the engine offers is documented.
        let choices: [String: [String]] = [
            "model.type": ModelConfig.Kind.allCases.map(\.rawValue),
            "training.optimizer": OptimizerKind.allCases.map(\.rawValue),
            "model.activation": RecurrentActivation.allCases.map(\.rawValue),
            "model.init": WeightInitialization.allCases.map(\.rawValue),
            "dataset.sequence": SequenceAxis.allCases.map(\.rawValue),
            "pruning.method": PruningMethod.allCases.map(\.rawValue),
            "dataset.selection": PatternSelection.allCases.map(\.rawValue),
        ]
        for (path, names) in choices {
            let cell = try XCTUnwrap(rows.first { $0.path == path }?.cells[1], path)
            for name in names { XCTAssert(cell.contains("\"\(name)\""), "\(path): \(name) is not documented") }
        }
    }

    /// Every complete spec shown in the README or docs/ (a ```json block with "name" and
    /// "model") parses and expands.
    func testSpecsShownInTheDocsParse() throws {
        let pages = ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 })
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            for block in text.components(separatedBy: "```json\n").dropFirst() {
                let json = block.components(separatedBy: "```")[0]
                guard let root = try? JSONValue.parse(json), root["name"] != nil, root["model"] != nil else { continue }
                XCTAssertNoThrow(try ExperimentSpec.parse(text: json, filePath: page).jobs(), page)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, "the README shows at least one spec")
    }

    /// Every benchmark script that the README, docs/ or another benchmark script names exists
    /// (the scripts are not run by the tests; a renamed one would leave its old name behind).
    func testBenchmarkScriptsNamedInTheDocsExist() throws {
        let files = FileManager.default
        let pages = ["README.md"]
            + (try files.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)).map { "docs/" + $0 }
            + (files.enumerator(atPath: Self.root.appendingPathComponent("benchmarks").path)?.allObjects as? [String] ?? [])
                .map { "benchmarks/" + $0 }
        let pattern = try NSRegularExpression(pattern: "benchmarks/[A-Za-z0-9_./-]*\\.(sh|py)\\b")
        var named = Set<String>()
        for page in pages where [".md", ".sh", ".py"].contains(where: { page.hasSuffix($0) }) {
            let text = try String(contentsOf: Self.root.appendingPathComponent(page), encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let path = String(text[Range(match.range, in: text)!])
                named.insert(path)
                XCTAssert(files.fileExists(atPath: Self.root.appendingPathComponent(path).path), "\(page) names \(path), which does not exist")
            }
        }
        XCTAssert(named.contains("benchmarks/peers/pytorch.py") && named.contains("benchmarks/throughput.sh"), "\(named.sorted())")
    }
}
