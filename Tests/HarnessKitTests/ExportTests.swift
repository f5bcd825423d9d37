import Foundation
import XCTest
@testable import HarnessKit
import TestSupport

/// `harness report --format csv|json|latex`: each parses back to what the report shows.
final class ExportTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory(prefix: "export-test") }
    override func tearDown() { directory.remove() }

    private func fixtureData() throws -> ReportData {
        let store = try ReportFixture.build(at: directory.file("h.sqlite"))
        return try ReportData.load(store: store, subject: .experiment("prune-grid"))
    }

    /// RFC 4180: fields separated by commas, quoted fields may hold commas, quotes (doubled)
    /// and line breaks.
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true
            } else if c == "," { row.append(field); field = ""
            } else if c == "\n" { row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    func testCSVHasOneRowPerGridPointWithTheNumbersTheReportShows() throws {
        let data = try fixtureData()
        let rows = Self.parseCSV(try Report.export(data, format: .csv))
        let header = try XCTUnwrap(rows.first)
        XCTAssertEqual(Array(header.prefix(3)), ["point", "pruning.threshold", "model.hidden"])
        XCTAssertEqual(rows.count - 1, data.points.count)
        XCTAssert(rows.allSatisfy { $0.count == header.count }, "\(rows)")
        let mean = try XCTUnwrap(header.firstIndex(of: "accuracy_mean")), n = try XCTUnwrap(header.firstIndex(of: "accuracy_n"))
        XCTAssert(header.contains("accuracy_paper"), "the fixture's spec has paper values")
        for column in ["accuracy_ci_low", "accuracy_ci_high", "accuracy_bootstrap_low", "accuracy_bootstrap_high",
                       "vs_best_difference", "vs_best_holm_p", "vs_best_verdict"] {
            XCTAssert(header.contains(column), column)
        }
        XCTAssertEqual(try Report.export(data, format: .csv), try Report.export(data, format: .csv),
                       "the bootstrap is seeded: the same data gives the same intervals")
        for (point, row) in zip(data.points, rows.dropFirst()) {
            let accuracy = ReportMetric.all.first { $0.name == "accuracy" }!
            let summary = accuracy.summary(point.doneJobs.map(\.result))
            XCTAssertEqual(Int(row[n]), summary.count)
            if summary.count > 0 { XCTAssertEqual(try XCTUnwrap(Double(row[mean])), summary.mean, accuracy: 1e-12) }
        }
        // Fields that hold commas and quotes survive.
        var table = DataTable(name: "t", columns: ["point", "label"])
        table.rows = [[.int(1), .string("a, \"b\"\nc")]]
        XCTAssertEqual(Self.parseCSV(table.csv), [["point", "label"], ["1", "a, \"b\"\nc"]])
    }

    func testJSONHoldsThePointsAndEveryJob() throws {
        let data = try fixtureData()
        let text = try Report.export(data, format: .json)
        XCTAssert(text.hasPrefix(ReportFormat.json.signature), text)
        let json = try JSONValue.parse(text)
        XCTAssertEqual(json["experiment"], .string("prune-grid"))
        guard case let .array(points)? = json["points"], case let .array(jobs)? = json["jobs"] else {
            return XCTFail("points and jobs are arrays: \(text)")
        }
        XCTAssertEqual(points.count, data.points.count)
        XCTAssertEqual(jobs.count, data.jobs.count)
        XCTAssertEqual(jobs.compactMap { $0["job_id"] }, data.jobs.map { .string($0.result.jobID) })
        XCTAssertNotNil(json["spec"]?["grid"])
        guard case let .array(comparisons)? = json["comparisons_with_best"] else { return XCTFail("comparisons: \(text)") }
        XCTAssertEqual(comparisons.count, data.points.count)
        XCTAssertEqual(comparisons.compactMap { $0["verdict"] }.filter { $0 == .string("best") }.count, 1)
        guard case let .array(images)? = json["test_image_comparisons_with_best"] else { return XCTFail("images: \(text)") }
        XCTAssertEqual(images.count, data.points.count)
        // Point 1 (0.05, 32) against the best: 120 images only the best got right, 24 fewer shirts.
        XCTAssertEqual(images[0]["only_best_right"], .int(120))
        guard case let .array(classes)? = images[0]["differing_classes"], classes.count == 1,
              case let .double(difference)? = classes[0]["recall_difference"] else { return XCTFail("classes: \(text)") }
        XCTAssertEqual(classes[0]["class"], .string("Shirt"))
        XCTAssertEqual(difference, -0.24, accuracy: 1e-12)
    }

    func testLaTeXIsBooktabsWithItsSpecialCharactersEscaped() throws {
        let data = try fixtureData()
        let latex = try Report.export(data, format: .latex)
        XCTAssert(latex.hasPrefix(ReportFormat.latex.signature), latex)
        XCTAssertEqual(latex.components(separatedBy: "\\begin{tabular}").count - 1, 9,
                       "results, comparisons, test images, classes, pruning, retraining, cost, reproduction, per-class")
        for command in ["\\toprule", "\\midrule", "\\bottomrule"] { XCTAssert(latex.contains(command), command) }
        XCTAssert(latex.contains("accuracy (\\%)") && latex.contains("95\\% CI"), latex)
        XCTAssertFalse(latex.contains("±") || latex.contains("**"), latex)
        XCTAssertEqual(LaTeXTable.escape("50% of a_b & {c} #1 $2 ~ ^ \\"),
                       "50\\% of a\\_b \\& \\{c\\} \\#1 \\$2 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}")
    }

    /// Where pdflatex exists, the LaTeX compiles in a minimal document.
    func testLaTeXCompilesWherePdflatexExists() throws {
        let pdflatex = ["/usr/bin/pdflatex", "/usr/local/bin/pdflatex"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let pdflatex else { throw XCTSkip("pdflatex is not installed") }
        let body = try Report.export(try fixtureData(), format: .latex)
        let document = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\(body)\n\\end{document}\n"
        try document.write(toFile: directory.file("tables.tex"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pdflatex)
        process.arguments = ["-interaction=nonstopmode", "-halt-on-error", "tables.tex"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory.path)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0,
                       (try? String(contentsOfFile: directory.file("tables.log"), encoding: .utf8))?
                           .components(separatedBy: "\n").filter { $0.hasPrefix("!") }.joined(separator: "\n") ?? "")
    }

    /// pdflatex refuses raw non-ASCII; every symbol a report prints has a LaTeX form.
    func testLaTeXCellsAreASCII() throws {
        let latex = try Report.export(try fixtureData(), format: .latex)
        let foreign = Set(latex.unicodeScalars.filter { !$0.isASCII }.map { String($0) })
        XCTAssertEqual(foreign, [], latex)
        XCTAssertEqual(LaTeXTable.cell("≈ best −1 †"), "$\\approx$ best $-$1 \\dag{}")
    }

    func testPivotExportsAsCSVAndJSON() throws {
        let data = try fixtureData()
        let request = PivotRequest(rows: "pruning.threshold", columns: "model.hidden", metric: "accuracy")
        let rows = Self.parseCSV(try Report.pivot(data, request, format: .csv))
        XCTAssertEqual(rows.first, ["point", "pruning.threshold", "model.hidden", "accuracy_mean", "accuracy_n"])
        XCTAssertEqual(rows.last?[1], "all")
        let json = try JSONValue.parse(try Report.pivot(data, request, format: .json))
        guard case let .array(cells)? = json["pivot"] else { return XCTFail("\(json)") }
        XCTAssertEqual(cells.count, rows.count - 1)
    }
}

/// Reproduction verdicts: equivalence within the margin, a significant difference, neither,
/// and no verdict on other data.
final class ReproductionTests: XCTestCase {
    func testVerdicts() {
        let close = [0.8801, 0.8795, 0.8803, 0.8799, 0.8802]
        XCTAssertEqual(Reproduction(values: close, paper: 0.8826, margin: 0.01, officialData: true).verdict, .consistent)
        let far = [0.8301, 0.8295, 0.8303, 0.8299, 0.8302]
        XCTAssertEqual(Reproduction(values: far, paper: 0.8826, margin: 0.01, officialData: true).verdict, .differs)
        let noisy = [0.80, 0.90, 0.85]
        XCTAssertEqual(Reproduction(values: noisy, paper: 0.8826, margin: 0.01, officialData: true).verdict, .inconclusive)
        XCTAssertEqual(Reproduction(values: close, paper: 0.8826, margin: 0.01, officialData: false).verdict, .otherData)
        XCTAssertEqual(Reproduction(values: [0.88], paper: 0.8826, margin: 0.01, officialData: true).verdict, .tooFewJobs)
    }
}

/// A baseline gets a comparison table of its own: against one grid point, or, matched,
/// each point against the point with the baseline's values and its own values of the rest.
final class BaselineTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory(prefix: "baseline-test") }
    override func tearDown() { directory.remove() }

    func testTheReportComparesEveryPointWithTheBaseline() throws {
        let store = try ReportFixture.build(at: directory.file("h.sqlite"))
        let data = try ReportData.load(store: store, subject: .experiment("prune-grid"))
        let markdown = try Report.render(data, figureStem: nil, baseline: "pruning.threshold=0.05, model.hidden=32").markdown
        XCTAssert(markdown.contains("Against the baseline, pruning.threshold = 0.05, model.hidden = 32:"), markdown)
        XCTAssert(markdown.contains("above the baseline") || markdown.contains("indistinguishable from the baseline"), markdown)
        XCTAssertFalse(try Report.render(data, figureStem: nil).markdown.contains("Against the baseline"))

        let spec = data.spec
        let single = try Baseline(argument: "pruning.threshold=0.1,model.hidden=64", spec: spec)
        XCTAssertEqual(single.point, 3)
        XCTAssertEqual(single.references, [3, 3, 3, nil])
        XCTAssertEqual(single.matched, [])
        // Leaving model.hidden out matches it: each hidden size against threshold 0.1 at that size.
        let matched = try Baseline(argument: "pruning.threshold=0.1", spec: spec)
        XCTAssertNil(matched.point)
        XCTAssertEqual(matched.references, [2, 3, nil, nil])
        XCTAssertEqual(matched.matched, ["model.hidden"])
        for (argument, message) in [("model.layers=2", "not a grid dimension"), ("pruning.threshold=0.3", "is not one of the grid's values"),
                                    ("nonsense", "DIMENSION=VALUE"), (",", "needs DIMENSION=VALUE")] {
            XCTAssertThrowsError(try Baseline(argument: argument, spec: spec), argument) {
                XCTAssert("\($0)".contains(message), "\(argument): \($0)")
            }
        }
    }

    /// layers × hidden × learning rate with the baseline naming the middle dimension: every
    /// point maps to the point with hidden 16 and its own layers and learning rate.
    func testAMatchedBaselineMapsEachPointToThePointWithItsOwnValuesOfTheDimensionsLeftOut() throws {
        let text = """
            {"name": "m", "model": {"type": "lstm"}, "training": {"epochs": 1},
             "grid": {"model.layers": [1, 2], "model.hidden": [8, 16, 32], "training.learning_rate": [0.001, 0.01],
                      "training.batch_size": [64]},
             "baseline": {"model.hidden": 16}}
            """
        let spec = try ExperimentSpec.parse(text: text, filePath: "m.json")
        let baseline = try XCTUnwrap(try Baseline(spec: spec, origin: "m.json"))
        // Points go layers slowest, then hidden, then learning rate (batch size has one value).
        XCTAssertEqual(baseline.references, [2, 3, nil, nil, 2, 3, 8, 9, nil, nil, 8, 9])
        XCTAssertEqual(baseline.referencePoints, [2, 3, 8, 9])
        XCTAssertEqual(baseline.comparedPoints, [0, 4, 1, 5, 6, 10, 7, 11])
        XCTAssertNil(baseline.point)
        XCTAssertEqual(baseline.matched, ["model.layers", "training.learning_rate"])
        XCTAssertEqual(baseline.named.map(\.path), ["model.hidden"])
        // Whatever the index arithmetic: a point and its reference differ only in hidden, which is 16 there.
        let values = try spec.gridPoints().map { $0.gridPoint.map(\.value) }
        for (point, reference) in baseline.references.enumerated() {
            let target = reference ?? point
            XCTAssertEqual(values[target][1], .int(16), "point \(point)")
            for d in [0, 2, 3] { XCTAssertEqual(values[target][d], values[point][d], "point \(point), dimension \(d)") }
        }

        // Naming every dimension with several values is one point again.
        XCTAssertEqual(try Baseline(argument: "model.layers=2,model.hidden=8,training.learning_rate=0.01", spec: spec).point, 7)
        // Naming only a dimension with one value would compare each point with itself.
        XCTAssertThrowsError(try Baseline(argument: "training.batch_size=64", spec: spec)) {
            XCTAssert("\($0)".contains("--baseline training.batch_size: the grid gives it a single value"), "\($0)")
            XCTAssert("\($0)".contains("(model.layers, model.hidden, training.learning_rate)"), "\($0)")
        }
        XCTAssertThrowsError(try ExperimentSpec.parse(text: text.replacingOccurrences(of: #"{"model.hidden": 16}"#, with: "{}"),
                                                      filePath: "m.json")) {
            XCTAssert("\($0)".contains("m.json: $.baseline: expected an object of grid values"), "\($0)")
        }
    }

    func testASpecsBaselineIsCheckedWhenItIsLoaded() throws {
        let good = #"{"name": "b", "model": {"type": "lstm"}, "grid": {"model.hidden": [4, 8]}, "baseline": {"model.hidden": 8}}"#
        let spec = try ExperimentSpec.parse(text: good, filePath: "b.json")
        XCTAssertEqual(try Baseline(spec: spec, origin: "b.json")?.point, 1)
        let bad = good.replacingOccurrences(of: #""baseline": {"model.hidden": 8}"#, with: #""baseline": {"model.hidden": 16}"#)
        XCTAssertThrowsError(try ExperimentSpec.parse(text: bad, filePath: "b.json")) {
            XCTAssert("\($0)".contains("b.json: $.baseline[\"model.hidden\"]: 16 is not one of the grid's values (4, 8)"), "\($0)")
        }
    }
}
