import Engine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest
@testable import HarnessKit

final class ReportTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var databasePath: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "report-test")
    }

    override func tearDown() {
        directory.remove()
    }

    // MARK: Helpers

    private func fixtureData(at path: String? = nil) throws -> ReportData {
        let store = try ReportFixture.build(at: path ?? databasePath)
        return try ReportData.load(store: store, subject: .experiment(ReportFixture.experiment))
    }

    /// A spec file in the test directory: the fixture's spec with `replacements` applied.
    private func specFile(_ replacements: [(String, String)] = [], name: String = "spec.json") throws -> String {
        var text = ReportFixture.specText
        for (old, new) in replacements {
            XCTAssertTrue(text.contains(old), "fixture spec has no \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = directory.file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The cells of the `number`th table under `heading` (before the next heading), header
    /// row first, the rule left out.
    private func table(_ markdown: String, under heading: String, number: Int = 0) -> [[String]] {
        let lines = markdown.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: heading) else { return [] }
        var section = lines[(start + 1)...].prefix { !$0.hasPrefix("#") }
        for _ in 0..<number {
            section = section.drop { !$0.hasPrefix("|") }.drop { $0.hasPrefix("|") }
        }
        return section.drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
            .filter { !$0.hasPrefix("| -") }
            .map { line in line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    private func row(_ rows: [[String]], _ prefix: [String]) throws -> [String] {
        try XCTUnwrap(rows.first { Array($0.prefix(prefix.count)) == prefix }, "no row \(prefix) in \(rows)")
    }

    private func cell(_ rows: [[String]], _ prefix: [String], _ column: String) throws -> String {
        let index = try XCTUnwrap(rows.first?.firstIndex(of: column), "no column \(column)")
        return try row(rows, prefix)[index]
    }

    /// "87.40 ± 0.71" from raw values, formatted the report's way for a percentage.
    /// "87.40 [81.0, 93.8]": the mean with its 95% Student-t interval, as the report shows it.
    private func percent(_ values: [Double]) -> String {
        let mean = values.reduce(0, +) / Double(values.count)
        let text = String(format: "%.2f", mean * 100)
        guard values.count > 1 else { return text }
        let deviation = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
        let half = Statistics.StudentT(degreesOfFreedom: Double(values.count - 1)).quantile(0.975)
            * deviation / Double(values.count).squareRoot()
        return text + String(format: " [%.1f, %.1f]", (mean - half) * 100, (mean + half) * 100)
    }

    /// The golden file sits beside this source file; UPDATE_GOLDEN=1 rewrites it.
    private func assertMatchesGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(text.utf8).write(to: golden)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        guard text != expected else { return }
        let expectedLines = expected.components(separatedBy: "\n"), actualLines = text.components(separatedBy: "\n")
        let first = zip(expectedLines, actualLines).enumerated().first { $1.0 != $1.1 }?.offset
            ?? min(expectedLines.count, actualLines.count)
        func shown(_ lines: [String]) -> String { first < lines.count ? lines[first] : "(end of file)" }
        XCTFail("report differs from Golden/\(name) at line \(first + 1):\n expected: \(shown(expectedLines))\n"
                + " actual:   \(shown(actualLines))\n(run with UPDATE_GOLDEN=1 to accept a deliberate change)",
                file: file, line: line)
    }

    /// An attribute as a number (coordinates are printed with one decimal).
    private func number(_ element: (name: String, attributes: [String: String], text: String), _ key: String) throws -> Double {
        try XCTUnwrap(element.attributes[key].flatMap(Double.init), "\(element.name) has no number \(key)")
    }

    /// The data value at a pixel, from the axis's tick labels: `ticks` are (pixel, label)
    /// pairs, the first and last of which fix the linear map.
    private func value(at pixel: Double, ticks: [(pixel: Double, label: String)]) throws -> Double {
        let first = try XCTUnwrap(ticks.first), last = try XCTUnwrap(ticks.last)
        let low = try XCTUnwrap(Double(first.label)), high = try XCTUnwrap(Double(last.label))
        return low + (pixel - first.pixel) / (last.pixel - first.pixel) * (high - low)
    }

    /// Well-formed XML with an <svg> root, checked by Foundation's parser.
    private func assertWellFormedSVG(_ text: String, _ name: String) {
        final class Root: NSObject, XMLParserDelegate {
            var first: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                if first == nil { first = name }
            }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let root = Root()
        parser.delegate = root
        // On Linux parse() can return true with an error recorded, so both are checked.
        let parsed = parser.parse()
        XCTAssertTrue(parsed && parser.parserError == nil, "\(name): \(String(describing: parser.parserError))")
        XCTAssertEqual(root.first, "svg", name)
    }

    // MARK: The report

    func testReportMatchesGoldenFile() throws {
        let document = try Report.render(try fixtureData(), figureStem: "prune-grid")
        try assertMatchesGolden(document.markdown, "prune-grid.md")
        XCTAssertEqual(document.figures.map(\.fileName),
                       ["prune-grid-accuracy.svg", "prune-grid-loss.svg", "prune-grid-weights-1.svg", "prune-grid-weights-2.svg",
                        "prune-grid-weights-3.svg", "prune-grid-weights-4.svg", "prune-grid-cost.svg", "prune-grid-confusion.svg"])
    }

    /// A baseline that names every grid dimension is one point, compared as it always was:
    /// the golden file holds the report's two Comparisons sections as rendered before
    /// baselines could be matched.
    func testASinglePointBaselineRendersAsItAlwaysDid() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil,
                                         baseline: "pruning.threshold=0.05, model.hidden=32").markdown
        let lines = markdown.components(separatedBy: "\n")
        let start = try XCTUnwrap(lines.firstIndex(of: "## Comparisons"))
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("## ") && !$0.hasPrefix("## Comparisons") } ?? lines.endIndex
        try assertMatchesGolden(lines[start..<end].joined(separator: "\n"), "prune-grid-baseline-comparisons.md")
    }

    func testSameDatabaseContentGivesTheSameReport() throws {
        // Built twice at different times and places: timestamps, paths and run owners differ.
        let first = try Report.render(try fixtureData(), figureStem: "r")
        let second = try Report.render(try fixtureData(at: directory.file("elsewhere/other.sqlite")), figureStem: "r")
        XCTAssertEqual(first.markdown, second.markdown)
        XCTAssertEqual(first.figures.map(\.svg), second.figures.map(\.svg))
        XCTAssertFalse(first.markdown.contains(directory.path))
    }

    func testResultTablesHoldMeansOverSeedsAndThePapersValues() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil).markdown
        let results = table(markdown, under: "## Results")
        XCTAssertEqual(results.first, ["pruning.threshold", "model.hidden", "accuracy (%)", "paper", "macro F1",
                                       "train CPU time (s)", "s / epoch (wall)", "n", "vs best", "jobs"])
        // Point 1 (0.05, 64) is jobs 2 and 3, the best.
        let best = [ReportFixture.accuracy(job: 2), ReportFixture.accuracy(job: 3)]
        XCTAssertEqual(try cell(results, ["0.05", "64"], "accuracy (%)"), percent(best))
        XCTAssertEqual(try cell(results, ["0.05", "64"], "vs best"), "best")
        XCTAssertEqual(try cell(results, ["0.05", "64"], "paper"), "88.75")
        XCTAssertEqual(try cell(results, ["0.05", "64"], "s / epoch (wall)"), "11.00")
        XCTAssertEqual(try cell(results, ["0.05", "32"], "accuracy (%)"),
                       percent([ReportFixture.accuracy(job: 0), ReportFixture.accuracy(job: 1)]))
        XCTAssertTrue(markdown.contains("Highest mean accuracy: pruning.threshold = 0.05, model.hidden = 64."))

        let pruning = table(markdown, under: "## Pruning")
        let outcomes = [2, 3].map { ReportFixture.outcome(job: $0).pruning! }
        XCTAssertEqual(try cell(pruning, ["0.05", "64"], "before pruning (%)"), percent(outcomes.map(\.accuracyBeforePruning)))
        XCTAssertEqual(try cell(pruning, ["0.05", "64"], "right after pruning (%)"), percent(outcomes.map(\.accuracyPruned)))
        XCTAssertEqual(try cell(pruning, ["0.05", "64"], "after retraining (%)"), percent(best))
        XCTAssertEqual(try cell(pruning, ["0.05", "64"], "sparsity (%)"), "20.00")
        XCTAssertEqual(try cell(pruning, ["0.05", "64"], "update wall time (ms)"), "0.550")   // (0.5 + 0.6) / 2 ms
        XCTAssertEqual(try row(pruning, ["0.1", "64"]),
                       ["0.1", "64", "magnitude", "85.90", "87.84", "74.90", "84.90", "87.72", "40.00", "0.500", "0.700", "1.800", "2.600", "1"])

        // The confusion matrix is summed over the best point's two seeds.
        let summed = zip(ReportFixture.confusion(job: 2), ReportFixture.confusion(job: 3)).map { zip($0, $1).map(+) }
        let classes = table(markdown, under: "## Best configuration")
        XCTAssertEqual(try row(classes, ["Trouser"]), ["Trouser"] + summed[1].map(String.init))
        // Per-class metrics are each run's, with their mean and 95% t-interval over the two runs:
        // mean ± t(0.975, 1) · sd / √2, t(0.975, 1) = 12.706204736174698 (scipy.stats.t.ppf(0.975, 1)).
        func interval(_ values: [Double]) -> String {
            let mean = (values[0] + values[1]) / 2, sd = abs(values[0] - values[1]) / 2.0.squareRoot()
            let half = 12.706204736174698 * sd / 2.0.squareRoot()
            return String(format: "%.4f [%.3f, %.3f]", mean, mean - half, mean + half)
        }
        let runs = [ReportFixture.confusion(job: 2), ReportFixture.confusion(job: 3)]
        let precision = runs.map { Double($0[1][1]) / Double($0.reduce(0) { $0 + $1[1] }) }
        let recall = runs.map { Double($0[1][1]) / 100 }
        let f1 = zip(precision, recall).map { 2 * $0 * $1 / ($0 + $1) }
        let trouser = try row(table(markdown, under: "## Best configuration", number: 1), ["Trouser"])
        XCTAssertEqual(trouser, ["Trouser", interval(precision), interval(recall), interval(f1), "100"])
    }

    // MARK: Matched baselines

    /// model.hidden × training.learning_rate with the baseline naming only the learning rate:
    /// each point is compared with learning rate 0.001 at its own hidden size.
    private static let matchedSpec = """
        {"name": "matched", "model": {"type": "lstm"}, "training": {"epochs": 1}, "seeds": [1, 2, 3],
         "grid": {"model.hidden": [8, 16], "training.learning_rate": [0.001, 0.01, 0.1]},
         "baseline": {"training.learning_rate": 0.001}}
        """

    /// Test images (of the fixture's 1000) that the run of grid point `point` with the
    /// `s`th seed gets right. Hidden 8 (points 0–2) starts at 700 and hidden 16 (points 3–5)
    /// at 900, so a comparison with the other hidden size's baseline would be 20 points off;
    /// learning rates 0.01 and 0.1 shift each seed by their own amounts: on average +2 and
    /// −3 points at hidden 8, +4 and −1 at hidden 16.
    private static func matchedCorrect(point: Int, seed s: Int) -> Int {
        let shift = [[0, 0, 0], [20, 22, 18], [-30, -28, -32], [0, 0, 0], [40, 43, 37], [-10, -12, -8]]
        return (point < 3 ? 700 : 900) + 3 * s + shift[point][s]
    }

    /// Train CPU seconds of grid point `point`: 10 at hidden 8 and 20 at hidden 16, times
    /// 1, 1.5 and 2 over the learning rates, so each point costs the same multiple of its
    /// own baseline at either hidden size, and twice that multiple of hidden 8's.
    private static func matchedCPU(point: Int) -> Double { (point < 3 ? 10 : 20) * [1, 1.5, 2][point % 3] }

    /// The matched experiment in a fresh database, every job done: a run gets its first
    /// `matchedCorrect` test images right and predicts the next class for the rest.
    private func matchedData() throws -> ReportData {
        let store = try Store(path: databasePath)
        let labels = ReportFixture.testLabels
        try store.registerDataset(fingerprint: ReportFixture.fingerprint, descriptionJSON: ReportFixture.datasetDescription,
                                  testLabels: labels)
        let jobs = try ExperimentSpec.parse(text: Self.matchedSpec, filePath: "matched.json").jobs()
        try store.registerExperiment(name: "matched", description: "", specJSON: Self.matchedSpec,
                                     datasetFingerprint: ReportFixture.fingerprint,
                                     jobs: jobs.enumerated().map { JobRegistration(id: "matched-\($0)", configJSON: $1.canonicalJSON(),
                                                                                   seed: $1.seed) })
        for i in jobs.indices {
            // Jobs go point by point, a job per seed.
            let point = i / 3, correct = Self.matchedCorrect(point: point, seed: i % 3)
            let predictions = labels.indices.map { image in image < correct ? labels[image] : (labels[image] + 1) % 10 }
            var counts = Array(repeating: Array(repeating: 0, count: 10), count: 10)
            for (label, predicted) in zip(labels, predictions) { counts[Int(label)][Int(predicted)] += 1 }
            let matrix = ConfusionMatrix(counts: counts)
            let classes = (0..<10).map { c in
                ClassMetrics(precision: matrix.precision(c) ?? 0, recall: matrix.recall(c) ?? 0, f1: matrix.f1(c) ?? 0, support: 100)
            }
            let outcome = JobOutcome(accuracy: Double(correct) / 1000, macroF1: classes.map(\.f1).reduce(0, +) / 10,
                                     classes: classes, confusion: matrix, trainSeconds: 60, meanEpochSeconds: 60,
                                     meanStepSeconds: 0.01, inferenceSeconds: 1, parameterCount: 1000, pruning: nil,
                                     trainCPUSeconds: Self.matchedCPU(point: point), predictions: predictions)
            let claimed = try XCTUnwrap(try store.claimNextJob(among: ["matched-\(i)"], worker: .current(), rerunStartedBefore: nil))
            try store.finish(runID: claimed.runID, engineVersion: "engine-test-1", outcome: outcome)
        }
        return try ReportData.load(store: store, subject: .experiment("matched"))
    }

    /// Each point is set against learning rate 0.001 at its own hidden size: differences,
    /// verdicts, CPU cost and the images only one of the two got right all come out of the
    /// matched pair, not of one baseline point for all; Holm adjusts over the whole table.
    func testAMatchedBaselineComparesEachPointWithThePointThatSharesItsOtherValues() throws {
        let document = try Report.render(try matchedData(), figureStem: nil)
        let markdown = document.markdown
        XCTAssertTrue(markdown.contains("and against its matched baseline, the point with training.learning_rate = 0.001 and "
                                        + "the same values of the other dimensions (model.hidden), paired by seed"), markdown)
        XCTAssertTrue(markdown.contains("Against the matched baseline: each point against the point with "
                                        + "training.learning_rate = 0.001 and the same values of the other dimensions "
                                        + "(model.hidden), named in the \"compared with\" column"), markdown)

        let rows = table(markdown, under: "## Comparisons", number: 1)
        XCTAssertEqual(Array(try XCTUnwrap(rows.first).prefix(4)), ["model.hidden", "training.learning_rate", "compared with", "pairs"])
        // The baseline points have no row; the others come grouped by their baseline point.
        XCTAssertEqual(rows.dropFirst().map { Array($0.prefix(4)) }, [
            ["8", "0.01", "model.hidden = 8, training.learning_rate = 0.001", "3"],
            ["8", "0.1", "model.hidden = 8, training.learning_rate = 0.001", "3"],
            ["16", "0.01", "model.hidden = 16, training.learning_rate = 0.001", "3"],
            ["16", "0.1", "model.hidden = 16, training.learning_rate = 0.001", "3"],
        ])
        let differences = try [["8", "0.01"], ["8", "0.1"], ["16", "0.01"], ["16", "0.1"]].map {
            try cell(rows, $0, "difference (pp) [95% CI]").components(separatedBy: " [")[0]
        }
        XCTAssertEqual(differences, ["2.00", "-3.00", "4.00", "-1.00"])
        XCTAssertEqual(try [["8", "0.01"], ["8", "0.1"], ["16", "0.01"], ["16", "0.1"]].map { try cell(rows, $0, "verdict") },
                       ["above the baseline", "below the baseline", "above the baseline", "below the baseline"])
        XCTAssertEqual(try cell(rows, ["16", "0.01"], "CPU cost"), "1.50x")
        XCTAssertEqual(try cell(rows, ["16", "0.1"], "CPU cost"), "2.00x")

        // One Holm adjustment over the four comparisons, not one per baseline point.
        let pairs = [(1, 0), (2, 0), (4, 3), (5, 3)].map { point, reference in
            ((0..<3).map { Double(Self.matchedCorrect(point: point, seed: $0)) / 1000 },
             (0..<3).map { Double(Self.matchedCorrect(point: reference, seed: $0)) / 1000 })
        }
        let holm = try Statistics.holmAdjusted(try pairs.map { try Statistics.pairedTTest($0.0, $0.1).p })
        XCTAssertEqual(try [["8", "0.01"], ["8", "0.1"], ["16", "0.01"], ["16", "0.1"]].map { try cell(rows, $0, "Holm p") },
                       holm.map(ReportRenderer.pText))
        XCTAssertTrue(markdown.contains("- Against model.hidden = 8, training.learning_rate = 0.001: above it: "
                                        + "training.learning_rate = 0.01; below it: training.learning_rate = 0.1."), markdown)
        XCTAssertTrue(markdown.contains("- Against model.hidden = 16, training.learning_rate = 0.001: above it: "
                                        + "training.learning_rate = 0.01; below it: training.learning_rate = 0.1."), markdown)
        // The table against the best still has every point.
        XCTAssertEqual(table(markdown, under: "## Comparisons").count, 1 + 6)

        // On the test images too: a run gets its first images right, so the images only one of
        // a pair got right are the difference of their counts, summed over the seeds.
        let images = table(markdown, under: "## Comparisons on the test images", number: 1)
        XCTAssertEqual(try cell(images, ["8", "0.01"], "compared with"), "model.hidden = 8, training.learning_rate = 0.001")
        XCTAssertEqual(try cell(images, ["8", "0.01"], "only this right"), "60")
        XCTAssertEqual(try cell(images, ["8", "0.01"], "only baseline right"), "0")
        XCTAssertEqual(try cell(images, ["16", "0.1"], "only this right"), "0")
        XCTAssertEqual(try cell(images, ["16", "0.1"], "only baseline right"), "30")
        XCTAssertEqual(images.count, 1 + 4)
        // No one baseline point to set the best against class by class: the runner-up is.
        XCTAssertFalse(markdown.contains("recall of the baseline"), markdown)
        XCTAssertTrue(markdown.contains("Per class, model.hidden = 16, training.learning_rate = 0.001 against the best"), markdown)

        // The tables exports are made of carry the matched table, with its column.
        let exported = try XCTUnwrap(document.tables.first { $0.name == "comparisons-baseline" })
        XCTAssertEqual(exported.table.rows.count, 4)
        XCTAssertTrue(exported.caption.contains("against its matched baseline"), exported.caption)
        XCTAssertTrue(document.tables.contains { $0.name == "test-images-baseline" })
    }

    /// The JSON export has every point against its matched baseline point ("compared_with",
    /// numbered as the points), and `--baseline` chooses another baseline for it.
    func testTheJSONExportCarriesTheMatchedBaselinesComparisons() throws {
        let data = try matchedData()
        let json = try JSONValue.parse(try Report.export(data, format: .json))
        guard case let .array(rows)? = json["comparisons_with_baseline"] else { return XCTFail("\(json)") }
        XCTAssertEqual(rows.map { $0["compared_with"] }, [.null, .int(1), .int(1), .null, .int(4), .int(4)])
        XCTAssertEqual(rows[0]["verdict"], .string("baseline"))
        XCTAssertEqual(rows[2]["verdict"], .string("below the baseline"))
        guard case let .double(difference)? = rows[5]["difference"] else { return XCTFail("\(rows[5])") }
        XCTAssertEqual(difference, -0.01, accuracy: 1e-12)
        guard case let .array(images)? = json["test_image_comparisons_with_baseline"] else { return XCTFail("\(json)") }
        XCTAssertEqual(images[1]["only_this_right"], .int(60))
        XCTAssertEqual(images[1]["only_baseline_right"], .int(0))

        // Hidden 16 as baseline: each learning rate against hidden 16 at the same rate.
        let other = try JSONValue.parse(try Report.export(data, format: .json, baseline: "model.hidden=16"))
        guard case let .array(byHidden)? = other["comparisons_with_baseline"] else { return XCTFail("\(other)") }
        XCTAssertEqual(byHidden.map { $0["compared_with"] }, [.int(4), .int(5), .int(6), .null, .null, .null])
        guard case let .double(gap)? = byHidden[1]["difference"] else { return XCTFail("\(byHidden[1])") }
        XCTAssertEqual(gap, -0.220, accuracy: 1e-12)
    }

    // MARK: Comparisons on the test images

    /// The fixture's predictions get a class's first `correct(job:class:)` images right, so
    /// between two runs every discordant image favours the run with more right: point 0
    /// (offset 2, 20 fewer shirts) against the best, point 1 (offset 6), has per seed 4
    /// images of each class and 24 shirts that only the best got right.
    func testPointsAreComparedOnTheSameTestImagesSeedBySeedAndClassByClass() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil).markdown
        let rows = table(markdown, under: "## Comparisons on the test images")
        let header = try XCTUnwrap(rows.first)
        XCTAssertEqual(Array(header.suffix(8)), ["seeds", "only this right", "only best right", "McNemar p per seed",
                                                 "pooled p", "Holm p", "verdict", "classes that differ (recall, pp)"])
        XCTAssertEqual(try row(rows, ["0.05", "32"]).suffix(8), ["2", "0", "120", "1: < 0.001; 2: < 0.001", "< 0.001", "< 0.001",
                                                                 "below the best", "Shirt -24.0"])
        XCTAssertEqual(try row(rows, ["0.05", "64"]).suffix(8), ["–", "–", "–", "–", "–", "–", "best", "–"])
        // Point 2 (offset 0) shares only seed 1 with the best (its seed-2 job failed): 6 per
        // class, 60 in all; one class's 6 give p = 2 / 2^6 = 0.031, which Holm over ten
        // classes takes to 0.31, so no class is named.
        XCTAssertEqual(try row(rows, ["0.1", "32"]).suffix(8), ["1", "0", "60", "1: < 0.001", "< 0.001", "< 0.001",
                                                                "below the best", "none"])

        // The runner-up (point 3, seed 1 only) against the best, class by class. Trouser (class 1):
        // 80 + 4 + 0 + 1 = 85 right against 80 + 6 + 0 + 1 = 87; p = 2 · P(Bin(2, 1/2) ≤ 0) = 0.5.
        let classes = table(markdown, under: "## Comparisons on the test images", number: 1)
        XCTAssertEqual(try row(classes, ["Trouser"]), ["Trouser", "85.00", "87.00", "-2.00", "0", "2", "0.500", "1.000", "no"])
        XCTAssertTrue(markdown.contains("Per class, pruning.threshold = 0.1, model.hidden = 64 against the best"), markdown)
        XCTAssertTrue(markdown.contains("No class differs at 0.05 after the Holm adjustment."), markdown)
    }

    func testClassDifferencesCountDiscordantImagesOverSeedsAndAdjustOverClasses() {
        // Six images, classes 0, 0, 0, 1, 1, 2; two seeds.
        let labels: [UInt8] = [0, 0, 0, 1, 1, 2]
        let point = [[true, true, true, false, false, true], [true, true, false, false, true, true]]
        let reference = [[false, false, true, true, true, true], [false, true, false, true, true, true]]
        let classes = ClassDifference.all(labels: labels, point: point, reference: reference)
        XCTAssertEqual(classes.map(\.classIndex), [0, 1, 2])
        // Class 0: only the point right on 2 + 1 images, only the reference on none.
        XCTAssertEqual(classes[0].test.onlyFirst, 3)
        XCTAssertEqual(classes[0].test.onlySecond, 0)
        XCTAssertEqual(classes[0].pointRecall, [1, 2.0 / 3])
        XCTAssertEqual(classes[0].referenceRecall, [1.0 / 3, 1.0 / 3])
        XCTAssertEqual(classes[0].recallDifference, 0.5, accuracy: 1e-15)
        // Class 1: only the reference right on 2 + 1. Class 2: no discordant image, p = 1.
        XCTAssertEqual(classes[1].test.onlySecond, 3)
        XCTAssertEqual(classes[2].test.p, 1)
        // p = 2 / 2^3 = 0.25 for classes 0 and 1; Holm over three: 0.25 · 3 = 0.75, then max(0.75, 0.25 · 2).
        for (found, expected) in zip(classes.map(\.test.p), [0.25, 0.25, 1]) { XCTAssertEqual(found, expected, accuracy: 1e-14) }
        for (found, expected) in zip(classes.map(\.adjustedP), [0.75, 0.75, 1]) { XCTAssertEqual(found, expected, accuracy: 1e-14) }
        XCTAssertFalse(classes.contains(where: \.differs))
    }

    func testWithoutStoredTestLabelsTheReportSaysWhyItDoesNotCompareImages() throws {
        let store = try ReportFixture.build(at: databasePath)
        try SQLiteConnection(path: databasePath).execute("UPDATE datasets SET test_labels = NULL")
        let data = try ReportData.load(store: store, subject: .experiment(ReportFixture.experiment))
        XCTAssertTrue(data.correctness.isEmpty)
        let markdown = try Report.render(data, figureStem: nil).markdown
        XCTAssertTrue(markdown.contains("## Comparisons on the test images\n\nNo done run has its test-set predictions "
                                        + "together with its data set's test labels"), markdown)
        XCTAssertTrue(table(markdown, under: "## Comparisons on the test images").isEmpty)
    }

    // MARK: The paper's claims

    /// `reference.best` against our comparisons with the best: with threshold 0.05 alone, the
    /// points are (0.05, 32) and the best (0.05, 64), and 32 is below 64 on both seeds.
    func testTheBestClaimIsSupportedContradictedOrNotSeparated() throws {
        try ReportFixture.build(at: databasePath)
        let store = try Store(path: databasePath)
        func claim(_ best: String, thresholds: String = "[0.05]") throws -> BestClaim? {
            let path = try specFile([(#""pruning.threshold": [0.05, 0.1]"#, #""pruning.threshold": \#(thresholds)"#),
                                     (#""source": "Shen, Table 3","#, #""source": "Shen, Table 3", "best": \#(best),"#)])
            let data = try ReportData.load(store: store, subject: .specFile(path))
            return BestClaim.all(data, reference: try XCTUnwrap(try ReferenceTable(spec: data.spec, origin: path))).first
        }
        let supported = try XCTUnwrap(try claim(#"{"model.hidden": 64}"#))
        XCTAssertEqual(supported.verdict, .supported)
        XCTAssertEqual(supported.claim, "model.hidden = 64")
        XCTAssertEqual(supported.finding, "our best (pruning.threshold = 0.05, model.hidden = 64) has it, and every point "
                       + "without it is below the best")
        XCTAssertEqual(try claim(#"{"model.hidden": 32}"#)?.verdict, .contradicted)
        // With threshold 0.1 too, (0.1, 32) has one seed, too few to compare: not separated.
        let open = try XCTUnwrap(try claim(#"{"model.hidden": 64}"#, thresholds: "[0.05, 0.1]"))
        XCTAssertEqual(open.verdict, .notSeparated)
        XCTAssertTrue(open.finding.hasSuffix("but 1 point without it is not distinguishable from it"), open.finding)
        XCTAssertNil(try claim("null"))

        let markdown = try Report.render(try ReportData.load(store: store, subject: .specFile(try specFile([
            (#""pruning.threshold": [0.05, 0.1]"#, #""pruning.threshold": [0.05]"#),
            (#""source": "Shen, Table 3","#, #""source": "Shen, Table 3", "best": {"model.hidden": 64},"#)]))), figureStem: nil).markdown
        XCTAssertTrue(markdown.contains("The paper's best configuration has model.hidden = 64: our best "), markdown)
        XCTAssertTrue(markdown.contains("Verdict: supported."), markdown)
    }

    func testABestClaimMustNameGridValues() throws {
        try ReportFixture.build(at: databasePath)
        func message(_ best: String) throws -> String {
            let path = try specFile([(#""source": "Shen, Table 3","#, #""source": "Shen, Table 3", "best": \#(best),"#)])
            do {
                _ = try ReferenceTable(spec: try ExperimentSpec.load(path: path), origin: path)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let misspelt = try message(#"{"model.hiden": 64}"#)
        XCTAssertTrue(misspelt.contains(#"$.reference.best["model.hiden"]: not a grid dimension of this spec"#)
                      && misspelt.contains(#"did you mean "model.hidden"?"#), misspelt)
        let outside = try message(#"{"model.hidden": 48}"#)
        XCTAssertTrue(outside.contains("48 is not one of the grid's values (32, 64)"), outside)
        let list = try message("[64]")
        XCTAssertTrue(list.contains("$.reference.best[0]: expected an object of grid values"), list)
        let number = try message("64")
        XCTAssertTrue(number.contains("$.reference.best: expected an object of grid values"), number)
        XCTAssertEqual(try message(#"{"model.hidden": 64.0}"#), "no error")
        XCTAssertEqual(try message(#"[{"model.hidden": 64}, {"pruning.threshold": 0.05}]"#), "no error")
        let second = try message(#"[{"model.hidden": 64}, {}]"#)
        XCTAssertTrue(second.contains("$.reference.best[1]: expected an object of grid values"), second)
    }

    func testABestClaimMayNameAVariantByItsLabel() throws {
        let spec = try ExperimentSpec.parse(text: """
            {"name": "kinds", "model": {"type": "lstm"},
             "grid": {"model": [{"label": "LSTM", "type": "lstm"}, {"label": "CNN", "type": "cnn"}]},
             "reference": {"best": {"model": "CNN"}, "rows": []}}
            """, filePath: "kinds.json")
        let reference = try XCTUnwrap(try ReferenceTable(spec: spec, origin: "kinds.json"))
        XCTAssertEqual(reference.best.count, 1)
        XCTAssertEqual(reference.best[0][0].value, spec.grid[0].values[1])
        XCTAssertThrowsError(try ReferenceTable(spec: try ExperimentSpec.parse(text: """
            {"name": "kinds", "model": {"type": "lstm"},
             "grid": {"model": [{"label": "LSTM", "type": "lstm"}, {"label": "CNN", "type": "cnn"}]},
             "reference": {"best": {"model": "RNN"}, "rows": []}}
            """, filePath: "kinds.json"), origin: "kinds.json")) { error in
            XCTAssertTrue("\(error)".contains(#"$.reference.best.model: "RNN" is not one of the grid's values (LSTM, CNN)"#),
                          "\(error)")
        }
    }

    /// The fixture's reference: retraining at 0.05 raised accuracy (87.35 -> 88.75) and at 0.1
    /// lowered it (87.84 -> 87.72); every fixture job lost exactly 1 point to retraining.
    func testRetrainingClaimsSetThePapersDirectionAgainstOurs() throws {
        let data = try fixtureData()
        let reference = try XCTUnwrap(try ReferenceTable(spec: data.spec, origin: "fixture"))
        let claims = RetrainingClaim.all(data, reference: reference)
        XCTAssertEqual(claims.map(\.point), [0, 1, 2, 3])
        XCTAssertEqual(claims[0].paperDifference, 0.8875 - 0.8735, accuracy: 1e-12)
        XCTAssertEqual(claims.map(\.ours.answer), [.lost, .lost, .tooFewJobs, .tooFewJobs])
        XCTAssertEqual(claims.map(\.verdict), [.disagrees, .disagrees, .tooFewJobs, .tooFewJobs])
    }

    /// Train CPU seconds of fixture job i are 25 + i: point 0 (jobs 0, 1) costs 25.5 s against
    /// the best's (jobs 2, 3) 27.5 s.
    func testComparisonsGiveTheCPUCostRelativeToTheComparedPoint() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil).markdown
        let rows = table(markdown, under: "## Comparisons")
        XCTAssertEqual(try cell(rows, ["0.05", "32"], "CPU cost"), String(format: "%.2fx", 25.5 / 27.5))
        XCTAssertEqual(try cell(rows, ["0.05", "64"], "CPU cost"), "1.00x")
        XCTAssertEqual(try cell(rows, ["0.1", "64"], "CPU cost"), String(format: "%.2fx", 31 / 27.5))
    }

    /// The Cost table from the fixture's paired costs: (0.05, 32) is jobs 0 and 1, whose
    /// dense updates take 0.5 and 0.6 ms and pruned ones 1.2 ms: ratios 2.4 and 2.0, mean 2.2
    /// with half-width t(0.975, 1) · 0.2828 / √2 = 12.706 · 0.2 = 2.54.
    func testTheCostTableGivesMeansDenseToPrunedAndEachJobsRatio() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil).markdown
        let rows = table(markdown, under: "### Cost")
        XCTAssertEqual(try cell(rows, ["0.05", "32"], "update (ms)"), "0.550 → 1.200")
        XCTAssertEqual(try cell(rows, ["0.05", "32"], "update ratio"), "2.20 [-0.3, 4.7]")
        XCTAssertEqual(try cell(rows, ["0.1", "32"], "update ratio"), "3.20", "one job: 1.6 / 0.5")
        XCTAssertEqual(try cell(rows, ["0.1", "32"], "MFLOPs / image"), "2.000 → 1.200")
        XCTAssertEqual(try cell(rows, ["0.05", "32"], "method"), "magnitude")
        // Without paired costs (jobs recorded before), no Cost table, and Table 3 says why its times differ.
        let old = try ReportData.load(store: try ReportFixture.build(at: directory.file("old.sqlite"), costs: false),
                                      subject: .experiment(ReportFixture.experiment))
        let before = try Report.render(old, figureStem: nil).markdown
        XCTAssertFalse(before.contains("### Cost"))
        XCTAssertTrue(before.contains("so their ratio is not the pruning's"))
    }

    func testPartialGridShowsCountsOfJobsNotDone() throws {
        let markdown = try Report.render(try fixtureData(), figureStem: nil).markdown
        let results = table(markdown, under: "## Results")
        XCTAssertEqual(try cell(results, ["0.1", "32"], "jobs"), "1/2 done, 1 failed")
        XCTAssertEqual(try cell(results, ["0.1", "64"], "jobs"), "1/2 done, 1 pending")
        XCTAssertEqual(try cell(results, ["0.1", "64"], "n"), "1")
        XCTAssertEqual(try cell(results, ["0.1", "64"], "accuracy (%)"), percent([ReportFixture.accuracy(job: 6)]))
        XCTAssertTrue(markdown.contains("Jobs: 8 (6 done, 1 pending, 1 failed)."))
        let failed = table(markdown, under: "## Jobs not done")
        XCTAssertEqual(try row(failed, ["6"]), ["6", "pruning.threshold = 0.1, model.hidden = 32", "2", "failed", "1",
                                                "loss became nan at epoch 2, batch 7: training diverged (try a lower learning rate)"])
    }

    func testSpecFileThatGrewShowsUnregisteredJobs() throws {
        try ReportFixture.build(at: databasePath)
        let path = try specFile([(#""model.hidden": [32, 64]"#, #""model.hidden": [32, 64, 128]"#),
                                 (#""seeds": [1, 2]"#, #""seeds": [1, 2, 3]"#)])
        let data = try ReportData.load(store: try Store(path: databasePath), subject: .specFile(path))
        let markdown = try Report.render(data, figureStem: nil).markdown
        XCTAssertTrue(markdown.contains("It differs from the spec stored with the experiment"), markdown)
        let results = table(markdown, under: "## Results")
        XCTAssertEqual(results.count, 1 + 6)
        XCTAssertEqual(try cell(results, ["0.05", "64"], "jobs"), "2/3 done, 1 not registered")
        XCTAssertEqual(try row(results, ["0.1", "128"]), ["0.1", "128", "–", "87.72", "–", "–", "–", "0", "–", "0/3 done, 3 not registered"])
    }

    func testJobsOutsideTheSpecFilesGridAreLeftOutAndCounted() throws {
        try ReportFixture.build(at: databasePath)
        let path = try specFile([(#""pruning.threshold": [0.05, 0.1]"#, #""pruning.threshold": [0.05]"#)])
        let data = try ReportData.load(store: try Store(path: databasePath), subject: .specFile(path))
        XCTAssertEqual(data.points.count, 2)
        XCTAssertEqual(data.jobs.filter { $0.point == nil }.count, 4)
        let markdown = try Report.render(data, figureStem: nil).markdown
        XCTAssertTrue(markdown.contains("4 jobs of the experiment match no grid point of this spec"), markdown)
        XCTAssertEqual(table(markdown, under: "## Results").count, 1 + 2)
    }

    func testReportWithoutOutputHasNoFiguresAndSaysSo() throws {
        let document = try Report.render(try fixtureData(), figureStem: nil)
        XCTAssertTrue(document.figures.isEmpty)
        XCTAssertTrue(document.markdown.contains("figures are written only with `--out FILE`"))
        XCTAssertFalse(document.markdown.contains(".svg"))
    }

    func testMissingExperimentIsAnErrorWithASuggestion() throws {
        let store = try ReportFixture.build(at: databasePath)
        XCTAssertThrowsError(try ReportData.load(store: store, subject: .experiment("prune-gird"))) {
            XCTAssertEqual("\($0)", "no experiment named prune-gird in \(self.databasePath); did you mean prune-grid?")
        }
        XCTAssertThrowsError(try ReportData.load(store: store, subject: .experiment("layers"))) {
            XCTAssertEqual("\($0)", "no experiment named layers in \(self.databasePath); it has: prune-grid")
        }
        let other = try specFile([(#""name": "prune-grid""#, #""name": "other-grid""#)])
        XCTAssertThrowsError(try ReportData.load(store: store, subject: .specFile(other))) {
            XCTAssertTrue("\($0)".hasPrefix("no experiment named other-grid in \(self.databasePath) (run the spec first: "
                                            + "harness run \(other))"), "\($0)")
        }
        XCTAssertThrowsError(try ReportData.load(store: store, subject: .specFile(directory.file("none.json")))) {
            XCTAssertTrue("\($0)".contains("no such spec file"), "\($0)")
        }
    }

    func testSubjectIsASpecFileWhenItLooksLikeOne() throws {
        let path = try specFile()
        XCTAssertEqual(ReportSubject(argument: path), .specFile(path))
        XCTAssertEqual(ReportSubject(argument: "experiments/missing.json"), .specFile("experiments/missing.json"))
        XCTAssertEqual(ReportSubject(argument: "prune-grid"), .experiment("prune-grid"))
    }

    /// A bad reference is refused when the spec is loaded (by plan and run too), not first
    /// by the report after the training.
    func testReferenceInAnotherFormatIsRejectedNamingTheField() throws {
        let cases: [(String, String)] = [
            (#""accuracy_before_pruning": 0.8735, "accuracy": 0.8875"#, #""accuracy_before_pruning": 0.8735, "acuracy": 0.8875"#),
            (#""source": "Shen, Table 3""#, #""source": "Shen, Table 3", "table": []"#),
            (#""pruning.threshold": 0.1,"#, #""pruning.threshold": 0.1, "model.layers": 2,"#),
            (#""accuracy_before_pruning": 0.8784"#, #""accuracy_before_pruning": "87.84%""#),
        ]
        let expected = [
            #"$.reference.rows[0].acuracy: unknown key; expected a grid dimension (pruning.threshold, model.hidden) or a metric"#,
            #"$.reference.table: unknown key; expected {"source": "...", "rows": "#,
            #"$.reference.rows[1]["model.layers"]: unknown key"#,
            #"$.reference.rows[1].accuracy_before_pruning: expected a number (or null), found "87.84%""#,
        ]
        for ((old, new), message) in zip(cases, expected) {
            let path = try specFile([(old, new)])
            XCTAssertThrowsError(try ExperimentSpec.load(path: path)) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): " + message), "\(error)")
            }
        }
        let path = try specFile([cases[0]])
        XCTAssertThrowsError(try ExperimentSpec.load(path: path)) {
            XCTAssertTrue("\($0)".hasSuffix(#"; did you mean "accuracy"?"#), "\($0)")
        }
    }

    func testReferenceRowWithoutDimensionsDescribesEveryPoint() throws {
        try ReportFixture.build(at: databasePath)
        let path = try specFile([(#""rows": ["#, #""rows": [{"macro_f1": 0.8748}, "#)])
        let data = try ReportData.load(store: try Store(path: databasePath), subject: .specFile(path))
        let results = table(try Report.render(data, figureStem: nil).markdown, under: "## Results")
        XCTAssertEqual(results.first, ["pruning.threshold", "model.hidden", "accuracy (%)", "paper", "macro F1", "paper",
                                       "train CPU time (s)", "s / epoch (wall)", "n", "vs best", "jobs"])
        for values in [["0.05", "32"], ["0.1", "64"]] {
            XCTAssertEqual(try row(results, values)[5], "0.8748")
        }
    }

    func testExperimentWithoutGridOrPruningAndJobsMatchedByConfigValues() throws {
        let store = try Store(path: databasePath)
        try store.registerDataset(fingerprint: "fp", descriptionJSON: #"{"directory":"data"}"#)
        let spec = """
            {"name": "cnn-notebook", "model": {"type": "cnn"}, "training": {"epochs": 5}, "seeds": [3, 4],
             "reference": {"source": "Keras notebook", "rows": [{"accuracy": 0.9059}]}}
            """
        let jobs = try ExperimentSpec.parse(text: spec, filePath: "cnn.json").jobs()
        // Config text in another member order than the canonical one: matched by values.
        let reordered = try jobs.map { job -> JobRegistration in
            guard case let .object(members) = try JSONValue.parse(job.canonicalJSON()) else { throw HarnessError("not an object") }
            let text = "{" + members.reversed().map { "\"\($0.key)\":\($0.value.canonicalText())" }.joined(separator: ",") + "}"
            XCTAssertNotEqual(text, job.canonicalJSON())
            return JobRegistration(id: "cnn-\(job.seed)", configJSON: text, seed: job.seed)
        }
        try store.registerExperiment(name: "cnn-notebook", description: "", specJSON: spec, datasetFingerprint: "fp", jobs: reordered)
        let run = try XCTUnwrap(store.claimNextJob(among: ["cnn-3"], worker: .current(), rerunStartedBefore: nil)).runID
        try store.finish(runID: run, engineVersion: "e", outcome: ReportFixture.outcome(job: 0))

        let data = try ReportData.load(store: store, subject: .experiment("cnn-notebook"))
        XCTAssertEqual(data.jobs.map(\.point), [0, 0])
        let document = try Report.render(data, figureStem: "cnn")
        let markdown = document.markdown
        XCTAssertEqual(table(markdown, under: "## Results"), [
            ["accuracy (%)", "paper", "macro F1", "train CPU time (s)", "s / epoch (wall)", "n", "jobs"],
            ["\(percent([ReportFixture.accuracy(job: 0)]))", "90.59", String(format: "%.4f", ReportFixture.outcome(job: 0).macroF1),
             "25.00", "10.00", "1",
             "1/2 done, 1 pending"],
        ])
        XCTAssertTrue(markdown.contains("No grid: one configuration × 2 seeds."))
        XCTAssertTrue(markdown.contains("Highest mean accuracy: all jobs."))
        XCTAssertTrue(markdown.contains("No done run has recorded epochs, so there is no loss figure."))
        XCTAssertFalse(markdown.contains("## Pruning"))
        XCTAssertEqual(document.figures.map(\.fileName), ["cnn-accuracy.svg", "cnn-confusion.svg"])
        // One grid point still gets its forest plot, with the paper's value and without a best line.
        let forest = svgElements(try XCTUnwrap(document.figures.first?.svg))
        XCTAssertEqual(forest.filter { $0.name == "polygon" && $0.attributes["stroke"] == ForestPlot.paperColour }.count, 1 + 1)
        XCTAssertFalse(forest.contains { $0.attributes["stroke-dasharray"] != nil })
        XCTAssertTrue(markdown.contains("A single grid point, so no line marks the best."))
        XCTAssertTrue(table(markdown, under: "## Settings shared by all jobs").contains(["model.conv", "[32]"]))
    }

    // MARK: Figures

    func testFiguresAreWellFormedSVGWithWhatTheyShould() throws {
        let document = try Report.render(try fixtureData(), figureStem: "f")
        XCTAssertEqual(document.figures.count, 8)
        for figure in document.figures { assertWellFormedSVG(figure.svg, figure.fileName) }

        let loss = try XCTUnwrap(document.figures.first { $0.fileName == "f-loss.svg" }?.svg)
        // One solid training line and one dashed retraining line per grid point, plus the dashed legend sample.
        XCTAssertEqual(loss.components(separatedBy: "<polyline").count - 1, 8)
        XCTAssertEqual(loss.components(separatedBy: #"stroke-dasharray="6 4""#).count - 1, 4 + 1)
        // The two points with 2 runs get a training band and a retraining band each; the two with 1 run none.
        let bands = svgElements(loss).filter { $0.name == "polygon" && $0.attributes["fill-opacity"] != nil }
        XCTAssertEqual(bands.compactMap { $0.attributes["fill"] }, [seriesColours[0], seriesColours[0], seriesColours[1], seriesColours[1]])
        XCTAssertTrue(loss.contains(">95% CI of the mean<"))
        for label in [">epoch<", ">mean training loss<", ">threshold 0.05, hidden 64 (n=2)<", ">threshold 0.1, hidden 64 (n=1)<",
                      ">retraining after pruning<", ">0.3<", ">0.9<"] {
            XCTAssertTrue(loss.contains(label), label)
        }
        XCTAssertTrue(document.markdown.contains("started from its base model's checkpoint shows that base run's training epochs"))
        let confusion = try XCTUnwrap(document.figures.first { $0.fileName == "f-confusion.svg" }?.svg)
        XCTAssertTrue(confusion.contains(">Ankle boot<") && confusion.contains(">173<"))
        let weights = try XCTUnwrap(document.figures.first { $0.fileName == "f-weights-1.svg" }?.svg)
        XCTAssertTrue(weights.contains(">before pruning<") && weights.contains(">after pruning<") && weights.contains(">density<"))
    }

    func testAPruningRunWithoutTrainingEpochsShowsItsBaseRunsTraining() throws {
        let data = try fixtureData()
        let job = try XCTUnwrap(data.jobs.first { $0.result.position == ReportFixture.jobWithBase })
        let run = try XCTUnwrap(job.result.runID)
        XCTAssertEqual(data.runsWithBaseEpochs, [run])
        let epochs = try XCTUnwrap(data.epochs[run])
        XCTAssertEqual(epochs.map(\.phase), [.train, .train, .train, .retrain, .retrain])
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3, 1, 2])
        for record in epochs {
            XCTAssertEqual(try XCTUnwrap(record.loss), ReportFixture.loss(job: ReportFixture.jobWithBase, phase: record.phase,
                                                                          epoch: record.epoch), accuracy: 1e-12)
        }
        // A run with its own training epochs keeps them and takes none from elsewhere.
        let other = try XCTUnwrap(data.jobs.first { $0.result.position == 0 }?.result.runID)
        XCTAssertEqual(data.epochs[other]?.filter { $0.phase == .train }.count, 3)
    }

    func testBaseConfigOfAStoredConfigIsTheSchedulersBaseConfig() throws {
        let spec = try ExperimentSpec.parse(text: ReportFixture.specText, filePath: "prune-grid.json")
        for config in try spec.jobs() {
            XCTAssertEqual(JobConfig.baseConfigJSON(ofStored: try JSONValue.parse(config.canonicalJSON())), config.baseConfigJSON())
        }
        var plain = try spec.jobs()[0]
        plain.pruning = nil
        XCTAssertNil(JobConfig.baseConfigJSON(ofStored: try JSONValue.parse(plain.canonicalJSON())))
    }

    func testLossFigureHasAPanelPerFirstDimensionValueWhenLinesOutnumberColours() throws {
        // 3 x 4 = 12 grid points, more than the 10 colours.
        let specText = """
            {"name": "wide", "model": {"type": "lstm"}, "training": {"epochs": 2}, "seeds": [1],
             "grid": {"model.layers": [1, 2, 3], "model.hidden": [8, 16, 32, 64]}}
            """
        let store = try Store(path: databasePath)
        try store.registerDataset(fingerprint: ReportFixture.fingerprint, descriptionJSON: ReportFixture.datasetDescription)
        let spec = try ExperimentSpec.parse(text: specText, filePath: "wide.json")
        let configs = try spec.jobs()
        try store.registerExperiment(name: "wide", description: "", specJSON: specText, datasetFingerprint: ReportFixture.fingerprint,
                                     jobs: configs.enumerated().map { JobRegistration(id: "wide-\($0)", configJSON: $1.canonicalJSON(),
                                                                                      seed: $1.seed) })
        for i in configs.indices {
            let claimed = try XCTUnwrap(try store.claimNextJob(among: ["wide-\(i)"], worker: .current(), rerunStartedBefore: nil))
            for epoch in 1...2 {
                try store.recordEpoch(runID: claimed.runID, phase: .train, epoch: epoch, loss: 1 / Double(epoch + i), seconds: 1)
            }
            try store.finish(runID: claimed.runID, engineVersion: "engine-test-1",
                             outcome: ReportFixture.outcome(job: i % 4, pruned: false))
        }
        let document = try Report.render(try ReportData.load(store: store, subject: .experiment("wide")), figureStem: "wide")
        let loss = try XCTUnwrap(document.figures.first { $0.fileName == "wide-loss.svg" }?.svg)
        assertWellFormedSVG(loss, "wide-loss.svg")
        for title in [">layers 1<", ">layers 2<", ">layers 3<"] { XCTAssertTrue(loss.contains(title), title) }
        // Within a panel the legend names only the other dimensions.
        XCTAssertTrue(loss.contains(">hidden 64 (n=1)<"))
        XCTAssertFalse(loss.contains("layers 1, hidden"))
        XCTAssertEqual(loss.components(separatedBy: "<polyline").count - 1, 12)
        // Three plot frames, one per panel.
        XCTAssertEqual(loss.components(separatedBy: ##"fill="none" stroke="#444444""##).count - 1, 3)
        XCTAssertTrue(document.markdown.contains("One panel per model.layers, all on the same axes."))
        // One seed per point: no band anywhere, and neither legend nor caption mentions one.
        XCTAssertFalse(loss.contains("fill-opacity"))
        XCTAssertFalse(loss.contains("95% CI"))
        XCTAssertFalse(document.markdown.contains("Shaded:"))

        // The fixture's 4 lines fit in one panel, labelled with every dimension.
        let single = try XCTUnwrap(try Report.render(try fixtureData(at: directory.file("single.sqlite")), figureStem: "f")
            .figures.first { $0.fileName == "f-loss.svg" }?.svg)
        XCTAssertEqual(single.components(separatedBy: ##"fill="none" stroke="#444444""##).count - 1, 1)
        XCTAssertTrue(single.contains(">threshold 0.05, hidden 64 (n=2)<"))
    }

    func testLossBandIsTheStudentTIntervalOfTheMeanOverTheRunsWithALoss() throws {
        // Three runs; the second epoch has a loss in two of them, the third in one.
        let losses: [[Double?]] = [[1.0, 0.9, 0.6], [1.2, 0.7, nil], [1.4, nil, nil]]
        let records = losses.flatMap { run in
            run.enumerated().map { EpochRecord(phase: .train, epoch: $0.offset + 1, loss: $0.element, seconds: 1) }
        }
        let epochs = ReportFigures.epochLosses(records)
        XCTAssertEqual(epochs.map(\.epoch), [1, 2, 3])
        // t(0.975, 2) = 4.302652729749464 and t(0.975, 1) = 12.706204736174698 (scipy.stats.t.ppf).
        let halfWidths = [4.302652729749464 * 0.2 / 3.0.squareRoot(), 12.706204736174698 * (0.02.squareRoot()) / 2.0.squareRoot()]
        for (epoch, (mean, half)) in zip(epochs, zip([1.2, 0.8], halfWidths)) {
            XCTAssertEqual(try XCTUnwrap(epoch.mean), mean, accuracy: 1e-12)
            let interval = try XCTUnwrap(epoch.interval, "epoch \(epoch.epoch)")
            XCTAssertEqual(interval.lower, mean - half, accuracy: 1e-9)
            XCTAssertEqual(interval.upper, mean + half, accuracy: 1e-9)
        }
        XCTAssertEqual(halfWidths[0], 0.49683, accuracy: 1e-5)
        XCTAssertEqual(epochs[2].mean, 0.6)
        XCTAssertNil(epochs[2].interval, "one run has no interval")
    }

    func testLossFigureShadesOnlyPointsWithTwoOrMoreRunsAndItsAxisHoldsTheBands() throws {
        let specText = """
            {"name": "band", "model": {"type": "lstm"}, "training": {"epochs": 2}, "seeds": [1, 2, 3],
             "grid": {"model.hidden": [8, 16]}}
            """
        let store = try Store(path: databasePath)
        try store.registerDataset(fingerprint: ReportFixture.fingerprint, descriptionJSON: ReportFixture.datasetDescription)
        let configs = try ExperimentSpec.parse(text: specText, filePath: "band.json").jobs()
        try store.registerExperiment(name: "band", description: "", specJSON: specText, datasetFingerprint: ReportFixture.fingerprint,
                                     jobs: configs.enumerated().map { JobRegistration(id: "band-\($0)", configJSON: $1.canonicalJSON(),
                                                                                      seed: $1.seed) })
        // Hidden 8: all three seeds, losses 1.0, 1.2, 1.4 then 0.5, 0.6, 0.7. Hidden 16: seed 1 only.
        let losses: [Int: [Double]] = [0: [1.0, 0.5], 1: [1.2, 0.6], 2: [1.4, 0.7], 3: [1.1, 0.9]]
        for (job, run) in losses.sorted(by: { $0.key < $1.key }) {
            let claimed = try XCTUnwrap(try store.claimNextJob(among: ["band-\(job)"], worker: .current(), rerunStartedBefore: nil))
            for (epoch, loss) in run.enumerated() {
                try store.recordEpoch(runID: claimed.runID, phase: .train, epoch: epoch + 1, loss: loss, seconds: 1)
            }
            try store.finish(runID: claimed.runID, engineVersion: "engine-test-1", outcome: ReportFixture.outcome(job: job, pruned: false))
        }
        let document = try Report.render(try ReportData.load(store: store, subject: .experiment("band")), figureStem: "band")
        let loss = try XCTUnwrap(document.figures.first { $0.fileName == "band-loss.svg" }?.svg)
        assertWellFormedSVG(loss, "band-loss.svg")
        let elements = svgElements(loss)
        XCTAssertTrue(loss.contains(">hidden 8 (n=3)<") && loss.contains(">hidden 16 (n=1)<"))
        XCTAssertTrue(document.markdown.contains("Shaded: 95% confidence interval of the mean over seeds (Student t)"))

        let bands = elements.filter { $0.name == "polygon" && $0.attributes["fill-opacity"] != nil }
        XCTAssertEqual(bands.count, 1, "a band for hidden 8 only")
        let band = try XCTUnwrap(bands.first)
        XCTAssertEqual(band.attributes["fill"], seriesColours[0])
        XCTAssertEqual(band.attributes["fill-opacity"], "0.18")

        // The y axis from its gridlines and tick labels, bottom to top.
        let gridlines = try elements.filter { $0.name == "line" && $0.attributes["stroke"] == "#e3e3e3" }
            .filter { try number($0, "y1") == number($0, "y2") }.map { try number($0, "y1") }
        let labels = elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "end" }.map(\.text)
        XCTAssertEqual(gridlines.count, labels.count)
        let ticks = Array(zip(gridlines, labels)).map { (pixel: $0.0, label: $0.1) }

        // Upper edge at epochs 1 and 2, then the lower edge back: mean ± t(0.975, 2) · 0.1·k / √3.
        let points = try XCTUnwrap(band.attributes["points"]).split(separator: " ").map { pair in
            try XCTUnwrap(Double(pair.split(separator: ",")[1]))
        }
        let half = 4.302652729749464 / 3.0.squareRoot()
        let expected = [1.2 + 0.2 * half, 0.6 + 0.1 * half, 0.6 - 0.1 * half, 1.2 - 0.2 * half]
        XCTAssertEqual(points.count, expected.count)
        for (pixel, bound) in zip(points, expected) {
            // One decimal of a pixel is 0.0005 in loss on this axis.
            XCTAssertEqual(try value(at: pixel, ticks: ticks), bound, accuracy: 0.001)
        }
        // The band reaches below every line (0.5 at the lowest), and the axis goes down with it.
        XCTAssertLessThanOrEqual(try XCTUnwrap(Double(try XCTUnwrap(labels.first))), expected[2])
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(Double(try XCTUnwrap(labels.last))), expected[0])
    }

    /// The rows of a forest plot by label: the y of each row's centre.
    private func forestRows(_ elements: [(name: String, attributes: [String: String], text: String)],
                            _ labels: [String]) throws -> [Double] {
        try labels.map { label in
            let text = try XCTUnwrap(elements.first { $0.name == "text" && $0.text == label }, "no row \(label)")
            return try number(text, "y") - 4
        }
    }

    /// The x axis of a forest plot from its tick labels (centred on their ticks).
    private func forestTicks(_ elements: [(name: String, attributes: [String: String], text: String)]) throws -> [(pixel: Double, label: String)] {
        try elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "middle" && Double($0.text) != nil }
            .map { (pixel: try number($0, "x"), label: $0.text) }
    }

    func testForestPlotShowsEachPointsMeanAndIntervalAgainstTheBestAndThePaper() throws {
        let data = try fixtureData()
        let document = try Report.render(data, figureStem: "f")
        let svg = try XCTUnwrap(document.figures.first { $0.fileName == "f-accuracy.svg" }?.svg)
        assertWellFormedSVG(svg, "f-accuracy.svg")
        XCTAssertEqual(try Report.render(data, figureStem: "f").figures.first { $0.fileName == "f-accuracy.svg" }?.svg, svg,
                       "rendered twice, the same file")
        // Linked right after the results table, before the comparisons.
        let markdown = document.markdown
        let link = try XCTUnwrap(markdown.range(of: "![Test accuracy per grid point (mean and 95% CI over seeds)](f-accuracy.svg)"))
        XCTAssertLessThan(try XCTUnwrap(markdown.range(of: "Highest mean accuracy:")).upperBound, link.lowerBound)
        XCTAssertLessThan(link.upperBound, try XCTUnwrap(markdown.range(of: "## Comparisons")).lowerBound)
        XCTAssertTrue(markdown.contains("dashed line: the highest mean (pruning.threshold = 0.05, model.hidden = 64); "
                                        + "open diamond: the paper's value (Shen, Table 3)."))

        let elements = svgElements(svg)
        let ticks = try forestTicks(elements)
        let rows = try forestRows(elements, ["threshold 0.05, hidden 32", "threshold 0.05, hidden 64",
                                             "threshold 0.1, hidden 32", "threshold 0.1, hidden 64"])
        XCTAssertEqual(rows, rows.sorted(), "grid order, top to bottom")
        let circles = elements.filter { $0.name == "circle" }
        let whiskers = try elements.filter { $0.name == "line" && $0.attributes["stroke"] == ForestPlot.estimateColour }
            .filter { try number($0, "y1") == number($0, "y2") }
        let diamonds = elements.filter { $0.name == "polygon" && $0.attributes["stroke"] == ForestPlot.paperColour }
        // Jobs 2i and 2i + 1 are grid point i; jobs 5 (failed) and 7 (pending) are not done.
        let accuracies = [[0, 1], [2, 3], [4], [6]].map { $0.map { 100 * ReportFixture.accuracy(job: $0) } }
        let papers = [88.75, 88.75, 87.72, 87.72]
        // Half a pixel of rounding is under 0.01 points on this axis.
        let tolerance = 0.01
        for (row, (values, paper)) in zip(rows, zip(accuracies, papers)) {
            let mean = values.reduce(0, +) / Double(values.count)
            let dot = try XCTUnwrap(try circles.first { try number($0, "cy") == row })
            XCTAssertEqual(try value(at: try number(dot, "cx"), ticks: ticks), mean, accuracy: tolerance)
            let whisker = try whiskers.filter { try number($0, "y1") == row }
            if values.count == 2 {
                let sd = abs(values[0] - values[1]) / 2.0.squareRoot()
                let half = 12.706204736174698 * sd / 2.0.squareRoot()   // t(0.975, 1)
                XCTAssertEqual(whisker.count, 1)
                let line = try XCTUnwrap(whisker.first)
                XCTAssertEqual(try value(at: try number(line, "x1"), ticks: ticks), mean - half, accuracy: tolerance)
                XCTAssertEqual(try value(at: try number(line, "x2"), ticks: ticks), mean + half, accuracy: tolerance)
            } else {
                XCTAssertTrue(whisker.isEmpty, "no whisker for n = 1")
            }
            let diamond = try XCTUnwrap(diamonds.first { $0.attributes["points"]!.hasSuffix(",\(SVGCanvas.number(row))") })
            // The diamond's left and right corners are at x ± r.
            let corners = try XCTUnwrap(diamond.attributes["points"]).split(separator: " ").map { Double($0.split(separator: ",")[0])! }
            XCTAssertEqual(try value(at: (corners[1] + corners[3]) / 2, ticks: ticks), paper, accuracy: tolerance)
        }
        XCTAssertTrue(svg.contains(">n=2<") && svg.contains(">n=1<"))

        // The dashed line runs through every row at the best point's mean.
        let dashed = try XCTUnwrap(elements.first { $0.name == "line" && $0.attributes["stroke-dasharray"] == "4 3" })
        XCTAssertEqual(try number(dashed, "x1"), try number(dashed, "x2"))
        XCTAssertEqual(try value(at: try number(dashed, "x1"), ticks: ticks), (accuracies[1][0] + accuracies[1][1]) / 2,
                       accuracy: tolerance)
        XCTAssertLessThan(try number(dashed, "y1"), rows[0])
        XCTAssertGreaterThan(try number(dashed, "y2"), rows[3])
        for legend in [">mean over seeds<", ">95% CI (Student t)<", ">best mean<", ">paper (Shen, Table 3)<", ">test accuracy (%)<"] {
            XCTAssertTrue(svg.contains(legend), legend)
        }
    }

    func testForestPlotMarksThePaperOnlyWhereTheReferenceGivesItAndNoDotWithoutADoneJob() throws {
        try ReportFixture.build(at: databasePath)
        // A threshold without jobs, and no paper accuracy for threshold 0.1.
        let path = try specFile([(#""pruning.threshold": [0.05, 0.1]"#, #""pruning.threshold": [0.05, 0.1, 0.2]"#),
                                 (#""accuracy": 0.8772,"#, "")])
        let document = try Report.render(try ReportData.load(store: try Store(path: databasePath), subject: .specFile(path)),
                                         figureStem: "g")
        let svg = try XCTUnwrap(document.figures.first { $0.fileName == "g-accuracy.svg" }?.svg)
        assertWellFormedSVG(svg, "g-accuracy.svg")
        let elements = svgElements(svg)
        let rows = try forestRows(elements, ["threshold 0.05, hidden 32", "threshold 0.05, hidden 64", "threshold 0.1, hidden 32",
                                             "threshold 0.1, hidden 64", "threshold 0.2, hidden 32", "threshold 0.2, hidden 64"])
        let circleRows = try elements.filter { $0.name == "circle" }.map { try number($0, "cy") }
        let diamondRows = try elements.filter { $0.name == "polygon" && $0.attributes["stroke"] == ForestPlot.paperColour }
            .map { try XCTUnwrap(Double(try XCTUnwrap($0.attributes["points"]).split(separator: " ")[1].split(separator: ",")[1])) }
        let legendRow = try XCTUnwrap(circleRows.last)
        XCTAssertGreaterThan(legendRow, rows[5], "the last dot is the legend's")
        XCTAssertEqual(Array(circleRows.dropLast()), Array(rows[0..<4]), "no dot for the points without a done job")
        XCTAssertEqual(Array(diamondRows.dropLast()), Array(rows[0..<2]), "diamonds where the reference gives accuracy")
        XCTAssertEqual(diamondRows.last, legendRow)
        XCTAssertEqual(elements.filter { $0.name == "text" && $0.text == "no done job" }.count, 2)
        XCTAssertEqual(elements.filter { $0.name == "text" && $0.text == "n=0" }.count, 2)
        XCTAssertTrue(document.markdown.contains("A grid point without a done job has no dot."))

        // Without any paper accuracy: no diamond and no legend entry for one.
        let without = try specFile([(#""accuracy": 0.8875,"#, ""), (#""accuracy": 0.8772,"#, "")], name: "without.json")
        let plain = try Report.render(try ReportData.load(store: try Store(path: databasePath), subject: .specFile(without)),
                                      figureStem: "h")
        let plainSVG = try XCTUnwrap(plain.figures.first { $0.fileName == "h-accuracy.svg" }?.svg)
        XCTAssertFalse(plainSVG.contains(#"stroke="\#(ForestPlot.paperColour)""#))
        XCTAssertFalse(plainSVG.contains(">paper"))
        XCTAssertFalse(plain.markdown.contains("open diamond"))
        XCTAssertEqual(svgElements(plainSVG).filter { $0.name == "circle" }.count, 4 + 1)
    }

    func testWellFormednessCheckRejectsBrokenSVG() {
        // The check above must be able to fail.
        let parser = XMLParser(data: Data(#"<svg><text>a < b</text></svg>"#.utf8))
        XCTAssertFalse(parser.parse() && parser.parserError == nil)
        XCTAssertEqual(SVGCanvas.escape(#"a < b & "c""#), "a &lt; b &amp; &quot;c&quot;")
    }

    func testAxisTicksAreRoundNumbers() {
        let loss = AxisScale(from: 0.283, to: 0.93)
        XCTAssertEqual(loss.ticks.map(loss.label), ["0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1.0"])
        let epochs = AxisScale(from: 1, to: 10, targetTicks: 8, integer: true)
        XCTAssertEqual(epochs.ticks.map(epochs.label), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])
        let long = AxisScale(from: 1, to: 100, targetTicks: 8, integer: true)
        XCTAssertEqual(long.ticks.map(long.label), ["0", "20", "40", "60", "80", "100"])
        let weights = AxisScale(from: -0.5, to: 0.5)
        XCTAssertEqual(weights.ticks.map(weights.label), ["-0.6", "-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6"])
        let single = AxisScale(from: 2, to: 2, integer: true)
        XCTAssertEqual(single.ticks.map(single.label), ["1", "2", "3"])
        let small = AxisScale(from: 0.0003, to: 0.0021)
        XCTAssertEqual(small.ticks.map(small.label), ["0.0000", "0.0005", "0.0010", "0.0015", "0.0020", "0.0025"])
    }

    func testKernelDensityUsesSilvermanBandwidthAndIntegratesToOne() throws {
        // Centres 1.5 and 2.5, ten values each: sigma = sqrt(20 * 0.25 / 19), IQR = 1.
        let histogram = WeightHistogram(layer: "x", lower: 0, upper: 4, counts: [0, 10, 10, 0])
        let density = try XCTUnwrap(KernelDensity([histogram]))
        let sigma = (20 * 0.25 / 19.0).squareRoot()
        XCTAssertTrue(isClose(density.bandwidth, 0.9 * min(sigma, 1 / 1.34) * pow(20, -0.2)), "\(density.bandwidth)")
        // The kernels are kept as wide as the bins (1), wider than Silverman's 0.25.
        XCTAssertEqual(density.widths, [1, 1])
        let step = 0.01
        let integral = stride(from: -8.0, through: 12.0, by: step).reduce(0) { $0 + density.density(at: $1) * step }
        XCTAssertTrue(isClose(integral, 1, relative: 1e-6), "\(integral)")
        XCTAssertTrue(isClose(density.density(at: 2), 2 * exp(-0.125) / (2 * Double.pi).squareRoot() / 2))
        XCTAssertNil(KernelDensity([WeightHistogram(layer: "empty", lower: 0, upper: 1, counts: [0, 0])]))
    }

    // MARK: Writing

    func testWriteCreatesTheReportAndItsLinkedFiguresAtomically() throws {
        let data = try fixtureData()
        let out = directory.file("reports/sub/prune report.md")
        let document = try Report.render(data, figureStem: Report.figureStem(forOutput: out))
        try Report.write(document, to: out, database: directory.file("results/harness.sqlite"))
        let folder = directory.file("reports/sub")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        XCTAssertEqual(files, ["prune report-accuracy.svg", "prune report-confusion.svg", "prune report-cost.svg", "prune report-loss.svg",
                               "prune report-weights-1.svg",
                               "prune report-weights-2.svg", "prune report-weights-3.svg", "prune report-weights-4.svg",
                               "prune report.md"])
        let markdown = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(markdown, document.markdown)
        XCTAssertTrue(markdown.contains("![Training loss per epoch (mean over seeds)](<prune report-loss.svg>)"))
        // Rewriting replaces the files in place.
        try Report.write(document, to: out, database: directory.file("results/harness.sqlite"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).count, files.count)
    }

    // MARK: Pivots

    func testPivotAveragesOverSeedsAndOtherDimensions() throws {
        let data = try fixtureData()
        let markdown = try Report.pivot(data, PivotRequest(rows: "model.hidden", columns: "pruning.threshold", metric: "accuracy"))
        XCTAssertTrue(markdown.hasPrefix("# prune-grid: accuracy (%) by model.hidden × pruning.threshold\n"), markdown)
        let rows = table(markdown, under: "# prune-grid: accuracy (%) by model.hidden × pruning.threshold")
        func mean(_ jobs: [Int]) -> String {
            let values = jobs.map(ReportFixture.accuracy)
            return String(format: "%.2f", values.reduce(0, +) / Double(values.count) * 100) + " (n=\(values.count))"
        }
        // Done jobs: 0, 1 (0.05, 32); 2, 3 (0.05, 64); 4 (0.1, 32); 6 (0.1, 64).
        XCTAssertEqual(rows, [
            ["model.hidden \\ pruning.threshold", "0.05", "0.1", "all"],
            ["32", mean([0, 1]), mean([4]), mean([0, 1, 4])],
            ["64", mean([2, 3]), mean([6]), mean([2, 3, 6])],
            ["all", mean([0, 1, 2, 3]), mean([4, 6]), mean([0, 1, 2, 3, 4, 6])],
        ])
        XCTAssertTrue(markdown.contains("Jobs not done, left out: 1 pending, 1 failed."))

        let bySeed = try Report.pivot(data, PivotRequest(rows: "seed", columns: "model.layers", metric: "update_seconds"))
        XCTAssertEqual(table(bySeed, under: "# prune-grid: update wall time (ms) by seed × model.layers"), [
            ["seed \\ model.layers", "2", "all"],
            ["1", "0.500 (n=4)", "0.500 (n=4)"],
            ["2", "0.600 (n=2)", "0.600 (n=2)"],
            ["all", "0.533 (n=6)", "0.533 (n=6)"],
        ])
    }

    func testPivotRejectsUnknownNamesWithSuggestions() throws {
        let data = try fixtureData()
        func message(_ rows: String, _ columns: String, _ metric: String) -> String {
            do {
                _ = try Report.pivot(data, PivotRequest(rows: rows, columns: columns, metric: metric))
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message("model.hiden", "seed", "accuracy")
            .hasPrefix(#"harness report: unknown dimension "model.hiden" for --rows; did you mean "model.hidden"? (dimensions: dataset.path,"#))
        XCTAssertTrue(message("seed", "hidden", "accuracy")
            .hasPrefix(#"harness report: unknown dimension "hidden" for --cols; did you mean "model.hidden"?"#))
        XCTAssertTrue(message("seed", "colour", "accuracy").hasPrefix(#"harness report: unknown dimension "colour" for --cols (dimensions: "#))
        XCTAssertTrue(message("seed", "model.hidden", "acuracy")
            .hasPrefix(#"harness report: unknown metric "acuracy" for --metric; did you mean "accuracy"? (metrics: accuracy, macro_f1,"#))
        XCTAssertEqual(message("seed", "seed", "accuracy"), "harness report: --rows and --cols are both seed; give two different dimensions")
        // A name that is valid SQL but no metric is refused before anything is read.
        XCTAssertTrue(message("seed", "model.hidden", "accuracy; DROP TABLE runs").contains("unknown metric"))
    }
}
