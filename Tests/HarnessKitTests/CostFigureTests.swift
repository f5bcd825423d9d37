import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import XCTest
@testable import HarnessKit

/// The pruning report's accuracy-versus-cost figure (`<stem>-cost.svg`): the Pareto front,
/// where the markers sit, and when the figure is there at all.
final class CostFigureTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var databasePath: String { directory.file("results/harness.sqlite") }

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "cost-figure-test")
    }

    override func tearDown() {
        directory.remove()
    }

    // MARK: Helpers

    private typealias Element = (name: String, attributes: [String: String], text: String)

    private func fixtureData(costs: Bool = true, at path: String? = nil) throws -> ReportData {
        let store = try ReportFixture.build(at: path ?? databasePath, costs: costs)
        return try ReportData.load(store: store, subject: .experiment(ReportFixture.experiment))
    }

    private func number(_ element: Element, _ key: String) throws -> Double {
        try XCTUnwrap(element.attributes[key].flatMap(Double.init), "\(element.name) has no number \(key)")
    }

    private func pairs(_ element: Element) throws -> [(x: Double, y: Double)] {
        try XCTUnwrap(element.attributes["points"]).split(separator: " ").map { pair in
            let parts = pair.split(separator: ",")
            return (try XCTUnwrap(Double(parts[0])), try XCTUnwrap(Double(parts[1])))
        }
    }

    /// One plot of the figure, read back from the SVG alone: its frame, and the data value
    /// at a pixel from the tick labels of each axis.
    private struct Plot {
        var left, top, right, bottom: Double
        var xTicks: [(pixel: Double, value: Double)]
        var yTicks: [(pixel: Double, value: Double)]
        var logarithmicX: Bool

        func contains(_ x: Double, _ y: Double) -> Bool { x >= left && x <= right && y >= top && y <= bottom }

        /// Linear between the first and last tick; by log10 for a logarithmic axis.
        static func value(_ pixel: Double, _ ticks: [(pixel: Double, value: Double)], log: Bool) -> Double {
            let first = ticks[0], last = ticks[ticks.count - 1]
            let t = (pixel - first.pixel) / (last.pixel - first.pixel)
            return log ? pow(10, log10(first.value) + t * (log10(last.value) - log10(first.value)))
                : first.value + t * (last.value - first.value)
        }

        func x(_ pixel: Double) -> Double { Self.value(pixel, xTicks, log: logarithmicX) }
        /// What a tenth of a pixel is worth on the (linear) x axis: more than the rounding of coordinates.
        var xTolerance: Double { abs(xTicks.last!.value - xTicks[0].value) / abs(xTicks.last!.pixel - xTicks[0].pixel) / 10 }
        var yTolerance: Double { abs(yTicks.last!.value - yTicks[0].value) / abs(yTicks.last!.pixel - yTicks[0].pixel) / 10 }
        func y(_ pixel: Double) -> Double { Self.value(pixel, yTicks, log: false) }
    }

    /// The plots top to bottom: the frames (unfilled rectangles outlined in #444444), the x
    /// tick labels centred 19 px under a frame and the y tick labels right-aligned left of it.
    private func plots(_ elements: [Element]) throws -> [Plot] {
        let frames = elements.filter { $0.name == "rect" && $0.attributes["fill"] == "none" && $0.attributes["stroke"] == "#444444" }
        return try frames.map { frame in
            let left = try number(frame, "x"), top = try number(frame, "y")
            let right = left + (try number(frame, "width")), bottom = top + (try number(frame, "height"))
            let xTicks = try elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "middle" && Double($0.text) != nil }
                .filter { try abs(number($0, "y") - (bottom + 19)) < 0.01 }
                .map { (pixel: try number($0, "x"), value: Double($0.text)!) }
            let yTicks = try elements.filter { $0.name == "text" && $0.attributes["text-anchor"] == "end" && Double($0.text) != nil }
                .filter { try number($0, "x") < left && number($0, "y") >= top && number($0, "y") <= bottom + 5 }
                .map { (pixel: try number($0, "y") - 4, value: Double($0.text)!) }
            let logarithmic = elements.contains { $0.name == "text" && $0.text.hasSuffix("(log scale)")
                && (try? number($0, "y")).map { abs($0 - (bottom + 44)) < 0.01 } == true }
            XCTAssertGreaterThanOrEqual(xTicks.count, 2)
            XCTAssertGreaterThanOrEqual(yTicks.count, 2)
            return Plot(left: left, top: top, right: right, bottom: bottom, xTicks: xTicks, yTicks: yTicks, logarithmicX: logarithmic)
        }
    }

    /// The markers inside `plot` as (shape, centre, element): circles, squares, triangles
    /// and stars (a star's centre is the mean of its ten corners).
    private func markers(_ elements: [Element], in plot: Plot) throws -> [(shape: String, x: Double, y: Double, element: Element)] {
        var found: [(shape: String, x: Double, y: Double, element: Element)] = []
        for element in elements {
            switch element.name {
            case "circle":
                found.append(("circle", try number(element, "cx"), try number(element, "cy"), element))
            case "polygon" where element.attributes["fill-opacity"] == nil:
                let corners = try pairs(element)
                let shape = corners.count == 10 ? "star" : corners.count == 3 ? "triangle" : "diamond"
                found.append((shape, corners.map(\.x).reduce(0, +) / Double(corners.count),
                              shape == "triangle" ? (corners.map(\.y).min()! + corners.map(\.y).max()!) / 2
                                  : corners.map(\.y).reduce(0, +) / Double(corners.count), element))
            case "rect" where element.attributes["fill"] != "none" && element.attributes["fill"] != "white":
                let size = try number(element, "width")
                found.append(("square", try number(element, "x") + size / 2, try number(element, "y") + size / 2, element))
            default: continue
            }
        }
        return found.filter { plot.contains($0.x, $0.y) }
    }

    /// The whisker (vertical line) through a marker, as its data values low and high. A
    /// star's centre (from its rounded corners) may be off its whisker by a twentieth of a pixel.
    private func whisker(_ elements: [Element], at x: Double, in plot: Plot) throws -> (lower: Double, upper: Double)? {
        let lines = try elements.filter { $0.name == "line" && $0.attributes["stroke-width"] == "1.5" }
            .filter { try number($0, "x1") == number($0, "x2") && abs(number($0, "x1") - x) < 0.1 }
            .filter { try plot.contains(number($0, "x1"), number($0, "y1")) }
        guard let line = lines.first else { return nil }
        XCTAssertEqual(lines.count, 1)
        let ends = [try number(line, "y1"), try number(line, "y2")].map(plot.y)
        return (ends.min()!, ends.max()!)
    }

    /// The 95% Student-t interval of `values`, as the report computes it.
    private func interval(_ values: [Double]) throws -> Statistics.Interval? {
        try Statistics.Summary(values).tInterval(confidence: 0.95)
    }

    // MARK: The Pareto front

    func testTheParetoFrontKeepsThePointsNothingBeatsOnCostAndAccuracy() {
        let points: [(cost: Double, value: Double)] = [
            (1, 80),      // 0: on the front
            (2, 85),      // 1: on the front
            (2, 83),      // 2: as costly as 1 and less accurate
            (3, 85),      // 3: as accurate as 1 and costlier
            (4, 90),      // 4: on the front
            (4, 90),      // 5: the same as 4: neither beats the other, both on the front
            (0.5, 70),    // 6: the cheapest
            (5, 89),      // 7: beaten by 4
            (.nan, 99),   // 8: undefined, never on the front
            (6, .nan),    // 9: undefined
            (1, 80),      // 10: the same as 0
            (7, 95),      // 11: the most accurate
        ]
        XCTAssertEqual(ParetoFront.indices(points), [6, 0, 10, 1, 4, 5, 11])
        // An undefined point beats nothing: without it, the same front.
        XCTAssertEqual(ParetoFront.indices(points.filter { !$0.cost.isNaN && !$0.value.isNaN }), [6, 0, 8, 1, 4, 5, 9])
        XCTAssertEqual(ParetoFront.indices([]), [])
        XCTAssertEqual(ParetoFront.indices([(3, 1)]), [0])
        XCTAssertEqual(ParetoFront.indices([(2, 5), (2, 5), (2, 5)]), [0, 1, 2])
        // A cheaper and more accurate point beats all others.
        XCTAssertEqual(ParetoFront.indices([(3, 1), (2, 2), (1, 3), (1.5, 3)]), [2])
        // Each point beats the one before: only the last.
        XCTAssertEqual(ParetoFront.indices([(3, 1), (2, 2), (1, 3)]), [2])
        // More accurate at more cost, every time: all of them, cheapest first.
        XCTAssertEqual(ParetoFront.indices([(3, 3), (1, 1), (2, 2)]), [1, 2, 0])

        let steps = ParetoFront.steps([(1, 1), (2, 3), (4, 5)])
        XCTAssertEqual(steps.map(\.x), [1, 2, 2, 4, 4])
        XCTAssertEqual(steps.map(\.y), [1, 1, 3, 3, 5])
        XCTAssertEqual(ParetoFront.steps([(1, 1)]).count, 1)
        XCTAssertTrue(ParetoFront.steps([]).isEmpty)
    }

    // MARK: The figure in the report

    func testTheFigureIsThereOnlyWhenJobsMeasuredTheirCosts() throws {
        let document = try Report.render(try fixtureData(), figureStem: "f")
        XCTAssertTrue(document.figures.contains { $0.fileName == "f-cost.svg" })
        let markdown = document.markdown
        // At the end of the Pruning section, after the weight figures.
        let link = try XCTUnwrap(markdown.range(of: "![Test accuracy against cost per image (mean over seeds)](f-cost.svg)"))
        XCTAssertLessThan(try XCTUnwrap(markdown.range(of: "(f-weights-4.svg)")).upperBound, link.lowerBound)
        XCTAssertLessThan(link.upperBound, try XCTUnwrap(markdown.range(of: "## Reproduction")).lowerBound)
        XCTAssertFalse(markdown.contains("no accuracy-versus-cost figure"))

        // Jobs recorded before harness measured costs: no figure, and the report says why.
        let oldData = try fixtureData(costs: false, at: directory.file("old/harness.sqlite"))
        let old = try Report.render(oldData, figureStem: "f")
        XCTAssertFalse(old.figures.contains { $0.fileName.hasSuffix("-cost.svg") })
        XCTAssertFalse(old.markdown.contains("f-cost.svg"))
        XCTAssertTrue(old.markdown.contains("No done job has measured FLOPs per image (jobs recorded before harness measured "
                                            + "the dense and pruned models' costs), so there is no accuracy-versus-cost figure."))
        XCTAssertNil(ReportFigures.cost(oldData))
        XCTAssertEqual(old.figures.count, document.figures.count - 1)
    }

    func testMarkersSitAtEachPointsMeanCostAndAccuracyWithTheStudentTInterval() throws {
        let data = try fixtureData()
        let figure = try XCTUnwrap(ReportFigures.cost(data))
        XCTAssertEqual(try XCTUnwrap(ReportFigures.cost(data)).svg, figure.svg, "rendered twice, the same file")
        let elements = svgElements(figure.svg)
        let plots = try plots(elements)
        XCTAssertEqual(plots.count, 2, "a FLOPs panel and an inference-time panel")
        XCTAssertTrue(plots[0].bottom < plots[1].top, "stacked")
        XCTAssertFalse(plots[0].logarithmicX || plots[1].logarithmicX, "the fixture's costs span less than 10x")

        // Jobs 2i and 2i + 1 are grid point i; jobs 5 (failed) and 7 (pending) are not done.
        let pointJobs = [[0, 1], [2, 3], [4], [6]]
        let labels = ["threshold 0.05, hidden 32", "threshold 0.05, hidden 64", "threshold 0.1, hidden 32", "threshold 0.1, hidden 64"]
        // The dense base models: hidden 32 is jobs 0 and 4 (seed 1) and 1 (seed 2); hidden 64 jobs 2, 6 and 3.
        let denseSeeds = [[[0, 4], [1]], [[2, 6], [3]]]
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
        let measures: [(pruned: (Int) -> Double, dense: (Int) -> Double)] = [
            ({ ReportFixture.costs(job: $0).pruned.flopsPerSample / 1e6 }, { ReportFixture.costs(job: $0).dense.flopsPerSample / 1e6 }),
            ({ ReportFixture.costs(job: $0).pruned.inferenceSecondsPerSample * 1e6 },
             { ReportFixture.costs(job: $0).dense.inferenceSecondsPerSample * 1e6 }),
        ]
        var expectedFronts: [[(x: Double, y: Double)]] = []
        for (plot, measure) in zip(plots, measures) {
            let xTolerance = plot.xTolerance, yTolerance = plot.yTolerance
            let found = try markers(elements, in: plot)
            XCTAssertEqual(found.filter { $0.shape == "circle" }.count, 4, "one circle per grid point (all magnitude)")
            XCTAssertEqual(found.filter { $0.shape == "star" }.count, 2, "a star per dense base model")
            XCTAssertEqual(found.count, 6)
            var expected: [(x: Double, y: Double)] = []
            for jobs in pointJobs {
                let accuracies = jobs.map { 100 * ReportFixture.accuracy(job: $0) }
                let x = mean(jobs.map(measure.pruned)), y = mean(accuracies)
                expected.append((x, y))
                let marker = try XCTUnwrap(found.first { $0.shape == "circle" && abs(plot.x($0.x) - x) < xTolerance },
                                           "no circle at \(x)")
                XCTAssertEqual(plot.y(marker.y), y, accuracy: yTolerance)
                let bar = try whisker(elements, at: marker.x, in: plot)
                if let interval = try interval(accuracies) {
                    let bar = try XCTUnwrap(bar, "a whisker for n = \(jobs.count)")
                    XCTAssertEqual(bar.lower, interval.lower, accuracy: yTolerance)
                    XCTAssertEqual(bar.upper, interval.upper, accuracy: yTolerance)
                } else {
                    XCTAssertNil(bar, "no whisker for n = 1")
                }
            }
            for seeds in denseSeeds {
                // Each seed's base model once: the mean over its jobs, then over the seeds.
                let accuracies = seeds.map { mean($0.map { 100 * (ReportFixture.accuracy(job: $0) + 0.01) }) }
                let x = mean(seeds.map { mean($0.map(measure.dense)) }), y = mean(accuracies)
                expected.append((x, y))
                let star = try XCTUnwrap(found.first { $0.shape == "star" && abs(plot.x($0.x) - x) < xTolerance }, "no star at \(x)")
                XCTAssertEqual(plot.y(star.y), y, accuracy: yTolerance)
                let bar = try XCTUnwrap(try whisker(elements, at: star.x, in: plot))
                let interval = try XCTUnwrap(try interval(accuracies))
                XCTAssertEqual(bar.lower, interval.lower, accuracy: yTolerance)
                XCTAssertEqual(bar.upper, interval.upper, accuracy: yTolerance)
            }

            // The front: the outlined markers, joined by the dashed staircase in order of cost.
            let outlined = found.filter { $0.element.attributes["stroke"] == CostChart.outline }
                .map { (x: plot.x($0.x), y: plot.y($0.y)) }.sorted { $0.x < $1.x }
            let front = ParetoFront.indices(expected.map { ($0.x, $0.y) }).map { expected[$0] }
            XCTAssertEqual(outlined.count, front.count)
            for (marker, point) in zip(outlined, front) {
                XCTAssertEqual(marker.x, point.x, accuracy: xTolerance)
                XCTAssertEqual(marker.y, point.y, accuracy: yTolerance)
            }
            let staircase = try XCTUnwrap(elements.first { element in
                element.name == "polyline" && (try? pairs(element)).map { plot.contains($0[0].x, $0[0].y) } == true
            })
            XCTAssertEqual(staircase.attributes["stroke-dasharray"], CostChart.frontDash)
            let corners = try pairs(staircase).map { (x: plot.x($0.x), y: plot.y($0.y)) }
            let steps = ParetoFront.steps(front)
            XCTAssertEqual(corners.count, steps.count)
            for (corner, step) in zip(corners, steps) {
                XCTAssertEqual(corner.x, step.x, accuracy: xTolerance)
                XCTAssertEqual(corner.y, step.y, accuracy: yTolerance)
            }
            expectedFronts.append(front)
        }

        // Worked out by hand from the fixture's formulas (see ReportFixture.costs). FLOPs: the
        // pruned hidden-64 model at threshold 0.1 (1.5 M, 84.9%) beats threshold 0.05 at hidden
        // 32 (1.605 M, 81.4%) and the dense hidden-32 model (2 M, 82.4%).
        let flopsFront = expectedFronts[0].map { [round($0.x * 1000) / 1000, round($0.y * 100) / 100] }
        XCTAssertEqual(flopsFront, [[1.2, 80.9], [1.5, 84.9], [2.005, 87.4], [2.5, 87.9]])
        // Inference: the sparse kernels are slower than dense at these sparsities, so only the dense models.
        let timeFront = expectedFronts[1].map { [round($0.x * 1000) / 1000, round($0.y * 100) / 100] }
        XCTAssertEqual(timeFront, [[100, 82.4], [200, 87.9]])
        XCTAssertTrue(figure.caption.contains("On the FLOPs front, in order of cost: \(labels[2]); \(labels[3]); \(labels[1]); "
                                              + "dense, hidden 64."), figure.caption)
        XCTAssertTrue(figure.caption.contains("On the inference time front, in order of cost: dense, hidden 32; dense, hidden 64."),
                      figure.caption)
        XCTAssertTrue(figure.caption.contains("Stars: the dense base models, one per model.hidden"), figure.caption)

        // The fixture's wide whiskers leave no room for every label, so each marker is tagged (once per
        // panel: the grid point's number, D1 and D2 for the dense models) and the key names the tags.
        let written = elements.filter { $0.name == "text" && $0.attributes["font-size"] == SVGCanvas.number(CostChart.labelSize) }
        XCTAssertEqual(written.map(\.text), ["1", "2", "3", "4", "D1", "D2", "1", "2", "3", "4", "D1", "D2"])
        for (tag, label) in zip(["1", "2", "3", "4", "D1", "D2"], labels + ["dense, hidden 32", "dense, hidden 64"]) {
            XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == "\(tag): \(label)" }, label)
        }
        for text in ["magnitude pruning", "dense base model", "95% CI (Student t)", "Pareto front", "test accuracy (%)",
                     "MFLOPs per image (pruned weights skipped)", "inference wall time per image (µs)"] {
            XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == text }, text)
        }
    }

    func testMarkersAreShapedByPruningMethodAndASingleDenseModelIsOneStar() throws {
        let specText = """
            {"name": "methods", "model": {"type": "lstm", "hidden": 8}, "training": {"epochs": 1}, "seeds": [1],
             "pruning": {"sparsity": 0.5, "retrain_epochs": 1},
             "grid": {"pruning.method": ["magnitude", "gradual"], "pruning.sparsity": [0.5, 0.9]}}
            """
        let store = try Store(path: databasePath)
        try store.registerDataset(fingerprint: ReportFixture.fingerprint, descriptionJSON: ReportFixture.datasetDescription)
        let configs = try ExperimentSpec.parse(text: specText, filePath: "methods.json").jobs()
        XCTAssertEqual(configs.count, 4)
        try store.registerExperiment(name: "methods", description: "", specJSON: specText, datasetFingerprint: ReportFixture.fingerprint,
                                     jobs: configs.enumerated().map { JobRegistration(id: "m-\($0)", configJSON: $1.canonicalJSON(),
                                                                                      seed: $1.seed) })
        for i in configs.indices {
            let claimed = try XCTUnwrap(try store.claimNextJob(among: ["m-\(i)"], worker: .current(), rerunStartedBefore: nil))
            try store.finish(runID: claimed.runID, engineVersion: "engine-test-1", outcome: ReportFixture.outcome(job: i))
        }
        let data = try ReportData.load(store: store, subject: .experiment("methods"))
        XCTAssertEqual(data.points.map(ReportFigures.pruningMethod), ["magnitude", "magnitude", "gradual", "gradual"])
        let figure = try XCTUnwrap(ReportFigures.cost(data))
        let elements = svgElements(figure.svg)
        let plot = try XCTUnwrap(try plots(elements).first)
        let found = try markers(elements, in: plot)
        XCTAssertEqual(found.map(\.shape).sorted(), ["circle", "circle", "star", "triangle", "triangle"])
        // Job i is grid point i: magnitude at sparsity 0.5 and 0.9, then gradual.
        for (i, shape) in ["circle", "circle", "triangle", "triangle"].enumerated() {
            let x = ReportFixture.costs(job: i).pruned.flopsPerSample / 1e6
            let marker = try XCTUnwrap(found.first { abs(plot.x($0.x) - x) < 0.005 && abs(plot.y($0.y) - 100 * ReportFixture.accuracy(job: i)) < 0.02 })
            XCTAssertEqual(marker.shape, shape, "job \(i)")
            XCTAssertEqual(marker.element.attributes["fill"], seriesColours[shape == "circle" ? 0 : 2])
        }
        // One base model (the grid varies only pruning settings), one seed: one star, no whisker.
        let star = try XCTUnwrap(found.first { $0.shape == "star" })
        XCTAssertEqual(plot.x(star.x), (0..<4).map { ReportFixture.costs(job: $0).dense.flopsPerSample / 1e6 }.reduce(0, +) / 4,
                       accuracy: 0.005)
        XCTAssertNil(try whisker(elements, at: star.x, in: plot))
        XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == "dense" })
        for text in ["magnitude pruning", "gradual pruning"] {
            XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == text }, text)
        }
        XCTAssertFalse(elements.contains { $0.name == "text" && $0.text == "95% CI (Student t)" }, "no whisker, no legend entry")
        XCTAssertTrue(figure.caption.contains("(circle magnitude, triangle gradual)"), figure.caption)
        XCTAssertTrue(figure.caption.contains("Star: the dense base model, its cost"), figure.caption)
    }

    // MARK: The chart

    func testAWideCostRangeGetsALogAxisAndCrowdedLabelsGetTagsWithAKey() throws {
        let styles = [CostChart.Style(label: "magnitude pruning", shape: .circle, colour: seriesColours[0]),
                      CostChart.Style(label: "dense base model", shape: .star, colour: "#7f7f7f")]
        // Costs from 0.03 to 40: more than 10x, so a log axis; a cluster of labels that cannot all fit.
        var points = [0.03, 0.4, 2.5, 40].enumerated().map { index, x in
            CostChart.Point(label: "wide point \(index + 1)", tag: String(index + 1), style: 0, x: x, y: 80 + 2 * Double(index),
                            interval: Statistics.Interval(lower: 79 + 2 * Double(index), upper: 81 + 2 * Double(index)))
        }
        points += (0..<8).map { index in
            CostChart.Point(label: "crowded point number \(index + 1)", tag: String(index + 5), style: 0,
                            x: 1 + 0.01 * Double(index), y: 85 + 0.05 * Double(index), interval: nil)
        }
        points.append(CostChart.Point(label: "dense", tag: "D", style: 1, x: 30, y: 90, interval: nil))
        let chart = CostChart(title: "t", yLabel: "test accuracy (%)", styles: styles,
                              panels: [CostChart.Panel(title: "p", xLabel: "MFLOPs per image", points: points)],
                              intervalLabel: "95% CI (Student t)")
        let svg = chart.svg()
        XCTAssertEqual(chart.svg(), svg, "rendered twice, the same file")
        let elements = svgElements(svg)
        let plot = try XCTUnwrap(try plots(elements).first)
        XCTAssertTrue(plot.logarithmicX)
        // The data (0.03 to 40) with 5% of its range on a log scale either side, to the 1-2-5 ticks around that.
        XCTAssertEqual(plot.xTicks.map(\.value), [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
        XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == "MFLOPs per image (log scale)" })
        let found = try markers(elements, in: plot)
        XCTAssertEqual(found.count, points.count)
        for point in points {
            // On a log axis a tenth of a pixel is about 0.05% of the value.
            XCTAssertTrue(found.contains { abs(plot.x($0.x) / point.x - 1) < 0.001 && abs(plot.y($0.y) - point.y) < 0.02 },
                          "no marker at \(point.x), \(point.y)")
        }
        // The cluster's labels cannot all fit, so every marker gets its tag, and the key names them all.
        let labels = try XCTUnwrap(chart.labels().first)
        XCTAssertEqual(labels.map(\.text), points.map(\.tag))
        XCTAssertTrue(labels.allSatisfy(\.isTag))
        let small = elements.filter { $0.name == "text" && $0.attributes["font-size"] == SVGCanvas.number(CostChart.labelSize) }
        XCTAssertEqual(small.map(\.text), points.map(\.tag))
        for point in points {
            XCTAssertTrue(elements.contains { $0.name == "text" && $0.text == "\(point.tag): \(point.label)" }, point.label)
            XCTAssertFalse(elements.contains { $0.name == "text" && $0.text == point.label }, point.label)
        }
        // The front: the cluster (cost 1.00-1.07, accuracy 85.00-85.35, each costlier and more accurate than the one
        // before) beats 2.5 (84), and the dense star (30, 90) beats 40 (86).
        let front = chart.panels[0].front.map { chart.panels[0].points[$0].label }
        XCTAssertEqual(front, ["wide point 1", "wide point 2"] + (1...8).map { "crowded point number \($0)" } + ["dense"])

        // With room, the labels themselves.
        let sparse = CostChart(title: "t", yLabel: "y", styles: styles,
                               panels: [CostChart.Panel(title: "p", xLabel: "x", points: Array(points.prefix(4)))],
                               intervalLabel: "CI")
        let sparseLabels = try XCTUnwrap(sparse.labels().first)
        XCTAssertEqual(sparseLabels.map(\.text), points.prefix(4).map(\.label))
        XCTAssertTrue(sparseLabels.allSatisfy { !$0.isTag })
        let sparseElements = svgElements(sparse.svg())
        for point in points.prefix(4) {
            XCTAssertTrue(sparseElements.contains { $0.name == "text" && $0.text == point.label }, point.label)
        }
        XCTAssertFalse(sparseElements.contains { $0.name == "text" && $0.text.hasPrefix("1: ") }, "no key")
        // The labels stay inside the plot and clear of each other.
        let sparsePlot = try XCTUnwrap(try plots(sparseElements).first)
        let boxes = zip(points.prefix(4), sparseLabels).map { CostChart.textBox($0.label, $1.placement, size: CostChart.labelSize) }
        for (i, a) in boxes.enumerated() {
            XCTAssertTrue(a.inside(CostChart.Box(left: sparsePlot.left, top: sparsePlot.top, right: sparsePlot.right,
                                                 bottom: sparsePlot.bottom)))
            for b in boxes[(i + 1)...] { XCTAssertFalse(a.overlaps(b), "\(a) overlaps \(b)") }
        }
    }

    func testLogTicksAreOneTwoFiveOrDecadesAndEncloseTheData() {
        let narrow = LogAxisScale(from: 0.03, to: 40)
        XCTAssertEqual(narrow.ticks, [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50])
        XCTAssertEqual(narrow.ticks.map(narrow.label), ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50"])
        let exact = LogAxisScale(from: 1, to: 100)
        XCTAssertEqual(exact.ticks, [1, 2, 5, 10, 20, 50, 100])
        let wide = LogAxisScale(from: 0.003, to: 40_000)
        XCTAssertEqual(wide.ticks, [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10_000, 100_000])
        XCTAssertEqual(exact.position(10, 0, 100), 50, accuracy: 1e-9)
        XCTAssertEqual(exact.position(1, 0, 100), 0, accuracy: 1e-9)
    }
}
