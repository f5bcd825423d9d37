import Foundation

// The pruning report's accuracy-versus-cost figure (issue 15): each grid point at its mean
// cost per image and mean test accuracy, the dense base models beside them, and the Pareto
// front through the points that nothing beats on both. Drawn on `SVGCanvas`, so the file is
// as deterministic as the other figures'.

/// The points no other point dominates. A point dominates another when it costs no more
/// and is at least as accurate, and is strictly better in one of the two; so two identical
/// points are both on the front, and of two points with the same cost only the more
/// accurate one (or both, when equally accurate) is.
enum ParetoFront {
    /// Indices into `points` of the non-dominated ones, in order of cost (ties in index
    /// order). A point with a NaN coordinate is never on the front and dominates nothing.
    static func indices(_ points: [(cost: Double, value: Double)]) -> [Int] {
        func defined(_ point: (cost: Double, value: Double)) -> Bool { !point.cost.isNaN && !point.value.isNaN }
        func dominates(_ a: (cost: Double, value: Double), _ b: (cost: Double, value: Double)) -> Bool {
            a.cost <= b.cost && a.value >= b.value && (a.cost < b.cost || a.value > b.value)
        }
        let front = points.indices.filter { index in
            defined(points[index]) && !points.contains { defined($0) && dominates($0, points[index]) }
        }
        return front.sorted { (points[$0].cost, $0) < (points[$1].cost, $1) }
    }

    /// The front as a staircase through `points` (already in order of cost): from each
    /// point across at its value to the next point's cost, then up to the next point. The
    /// best value reachable at a cost is the height of the stairs there.
    static func steps(_ points: [(x: Double, y: Double)]) -> [(x: Double, y: Double)] {
        guard var previous = points.first else { return [] }
        var line = [previous]
        for point in points.dropFirst() {
            line.append((point.x, previous.y))
            line.append(point)
            previous = point
        }
        return line
    }
}

/// A base-10 logarithmic axis over positive values: ticks at 1, 2 and 5 times powers of ten
/// (powers of ten alone where that would make more than `maximumTicks` ticks), its ends the
/// ticks just enclosing the data.
struct LogAxisScale: Equatable, ChartAxis {
    let lower: Double
    let upper: Double
    let ticks: [Double]

    /// More would crowd the labels of a 520-pixel axis.
    static let maximumTicks = 12

    /// `dataLower` and `dataUpper` must be positive.
    init(from dataLower: Double, to dataUpper: Double) {
        let low = min(dataLower, dataUpper), high = max(dataLower, dataUpper)
        let lowExponent = Int(log10(low).rounded(.down)), highExponent = max(lowExponent, Int(log10(high).rounded(.up)))
        func enclosing(_ mantissas: [Double]) -> [Double] {
            let candidates = (lowExponent...highExponent).flatMap { exponent in mantissas.map { $0 * pow(10, Double(exponent)) } }
            // A relative tolerance keeps a bound that sits on a tick there.
            let lower = candidates.last { $0 <= low * (1 + 1e-9) } ?? candidates[0]
            let upper = candidates.first { $0 >= high * (1 - 1e-9) } ?? candidates[candidates.count - 1]
            return candidates.filter { $0 >= lower && $0 <= upper }
        }
        let fine = enclosing([1, 2, 5])
        ticks = fine.count <= Self.maximumTicks ? fine : enclosing([1])
        lower = ticks[0]
        upper = ticks[ticks.count - 1]
    }

    /// As many decimals as the tick's first digit needs: "0.05", "0.2", "5", "200".
    func label(_ x: Double) -> String { NumberFormat.decimal(x, max(0, -Int((log10(x) + 1e-9).rounded(.down)))) }

    /// Position of `x` between `start` (at `lower`) and `end` (at `upper`) pixels, by log10.
    func position(_ x: Double, _ start: Double, _ end: Double) -> Double {
        start + (log10(x) - log10(lower)) / (log10(upper) - log10(lower)) * (end - start)
    }
}

/// Accuracy against cost: one marker per item (a grid point, or a dense base model) at its
/// mean cost and mean accuracy, a vertical whisker for the accuracy's interval, and the
/// Pareto front as a dashed staircase, its markers outlined. Several panels (one per
/// measure of cost) are stacked, each with its own x axis and front, all on the same y axis.
/// Each marker is labelled with its text beside it when every label finds room, else every
/// marker gets a short tag, which a key in the legend column names.
struct CostChart {
    /// How a kind of item (a pruning method, the dense model) is drawn, and its legend text.
    struct Style: Equatable {
        var label: String
        var shape: SVGCanvas.Marker
        var colour: String
    }

    struct Point {
        var label: String
        /// Short stand-in for `label` when the labels do not fit ("1", "D").
        var tag: String
        /// Index into `styles`.
        var style: Int
        var x: Double
        var y: Double
        /// Nil draws no whisker.
        var interval: Statistics.Interval?
    }

    struct Panel {
        /// Drawn above the panel's plot when there are several panels.
        var title: String
        /// The x axis's label; " (log scale)" is added when the axis is logarithmic.
        var xLabel: String
        var points: [Point]

        /// Logarithmic when every cost is positive and the largest is more than 10 times the smallest.
        var usesLogScale: Bool {
            let xs = points.map(\.x)
            guard let low = xs.min(), let high = xs.max(), low > 0 else { return false }
            return high / low > 10
        }

        /// Indices into `points` of the Pareto front (lower cost, higher accuracy), in order of cost.
        var front: [Int] { ParetoFront.indices(points.map { ($0.x, $0.y) }) }
    }

    var title: String
    var yLabel: String
    var styles: [Style]
    var panels: [Panel]
    /// The legend's text for the whiskers, shown when some point has one.
    var intervalLabel: String

    static let plotWidth = 520.0, plotHeight = 320.0
    static let left = 76.0, top = 44.0, bottom = 58.0
    static let panelTitle = 24.0
    static let legendRow = 18.0
    static let markerSize = 10.0
    static let labelSize = 11.0
    static let frontColour = "#444444", frontDash = "5 3"
    static let outline = "#222222"

    /// Room left between the data and the plot's frame, as a share of the data's range on
    /// each side, so no marker sits on the frame and labels find room beside the outermost.
    static let padding = 0.05

    /// The x axis of `panel`.
    enum XAxis: ChartAxis {
        case linear(AxisScale)
        case logarithmic(LogAxisScale)

        init(_ panel: Panel) {
            let xs = panel.points.map(\.x)
            let low = xs.min() ?? 0, high = xs.max() ?? 1
            if panel.usesLogScale {
                let factor = pow(high / low, CostChart.padding)
                self = .logarithmic(LogAxisScale(from: low / factor, to: high * factor))
            } else {
                let pad = (high - low) * CostChart.padding
                self = .linear(AxisScale(from: low - pad, to: high + pad, targetTicks: 8))
            }
        }

        var ticks: [Double] {
            switch self {
            case let .linear(scale): scale.ticks
            case let .logarithmic(scale): scale.ticks
            }
        }

        func label(_ x: Double) -> String {
            switch self {
            case let .linear(scale): scale.label(x)
            case let .logarithmic(scale): scale.label(x)
            }
        }

        func position(_ x: Double, _ start: Double, _ end: Double) -> Double {
            switch self {
            case let .linear(scale): scale.position(x, start, end)
            case let .logarithmic(scale): scale.position(x, start, end)
            }
        }
    }

    /// A rectangle in pixels, for placing labels clear of what is drawn.
    struct Box {
        var left, top, right, bottom: Double

        func overlaps(_ other: Box) -> Bool {
            left < other.right && other.left < right && top < other.bottom && other.top < bottom
        }

        func inside(_ other: Box) -> Bool {
            left >= other.left && right <= other.right && top >= other.top && bottom <= other.bottom
        }
    }

    /// Where a text goes: its anchor point (baseline) and alignment.
    struct Placement: Equatable {
        var x: Double
        var y: Double
        var anchor: SVGCanvas.Anchor
    }

    /// The text written beside a marker: its point's label, or its tag when the labels find no room.
    struct Label {
        var text: String
        var isTag: Bool
        var placement: Placement
    }

    /// The y range shared by the panels: every mean and every whisker, with room around them.
    var yScale: AxisScale {
        let points = panels.flatMap(\.points)
        let ys = points.flatMap { [$0.y] + ($0.interval.map { [$0.lower, $0.upper] } ?? []) }
        let low = ys.min() ?? 0, high = ys.max() ?? 1, pad = (high - low) * Self.padding
        return AxisScale(from: low - pad, to: high + pad, targetTicks: 6)
    }

    func plotBox(_ plotTop: Double) -> Box {
        Box(left: Self.left, top: plotTop, right: Self.left + Self.plotWidth, bottom: plotTop + Self.plotHeight)
    }

    var titleRoom: Double { panels.count > 1 ? Self.panelTitle : 0 }
    var panelHeight: Double { titleRoom + Self.plotHeight + Self.bottom }

    /// The top of panel `index`'s plot.
    func plotTop(_ index: Int) -> Double { Self.top + Double(index) * panelHeight + titleRoom }

    /// Each point's marker centre and whisker ends in pixels.
    func pixels(_ panel: Panel, plotTop: Double, xAxis: XAxis, yScale: AxisScale)
        -> [(x: Double, y: Double, whisker: (top: Double, bottom: Double)?)] {
        let plotBottom = plotTop + Self.plotHeight, plotRight = Self.left + Self.plotWidth
        return panel.points.map { point in
            (xAxis.position(point.x, Self.left, plotRight), yScale.position(point.y, plotBottom, plotTop),
             point.interval.map { (yScale.position($0.upper, plotBottom, plotTop), yScale.position($0.lower, plotBottom, plotTop)) })
        }
    }

    /// What is written beside each marker of each panel: the labels when every one of them
    /// finds room (`placeTexts`), else the tags (one without room goes to the right of its
    /// marker anyway). One rule for the whole chart, so a reader never has to tell labels
    /// from tags.
    func labels() -> [[Label]] {
        let yScale = yScale
        let layouts = panels.enumerated().map { index, panel in
            let plotTop = plotTop(index)
            let pixels = self.pixels(panel, plotTop: plotTop, xAxis: XAxis(panel), yScale: yScale)
            let front = panel.front.map { (x: pixels[$0].x, y: pixels[$0].y) }
            return (panel: panel, plot: plotBox(plotTop), pixels: pixels, staircase: ParetoFront.steps(front))
        }
        let places = layouts.map { Self.placeTexts($0.panel.points.map(\.label), pixels: $0.pixels, plot: $0.plot, lines: $0.staircase) }
        let writesLabels = !places.joined().contains(nil)
        return zip(layouts, places).map { layout, labelPlaces in
            let points = layout.panel.points
            if writesLabels { return zip(points, labelPlaces).map { Label(text: $0.label, isTag: false, placement: $1!) } }
            let tagPlaces = Self.placeTexts(points.map(\.tag), pixels: layout.pixels, plot: layout.plot, lines: layout.staircase)
            return zip(points, zip(tagPlaces, layout.pixels)).map { point, placed in
                let (place, pixel) = placed
                return Label(text: point.tag, isTag: true,
                             placement: place ?? Placement(x: pixel.x + Self.markerSize / 2 + 3, y: pixel.y + 0.3 * Self.labelSize,
                                                           anchor: .start))
            }
        }
    }

    /// The box a text of `size` covers when written at `placement` (no font metrics: 0.6 em a
    /// character, the cap height above the baseline and a little below).
    static func textBox(_ text: String, _ placement: Placement, size: Double) -> Box {
        let width = SVGCanvas.textWidth(text, size: size)
        let left = switch placement.anchor {
        case .start: placement.x
        case .middle: placement.x - width / 2
        case .end: placement.x - width
        }
        return Box(left: left, top: placement.y - 0.8 * size, right: left + width, bottom: placement.y + 0.25 * size)
    }

    /// For each text, the first of twelve places around its marker (right, left, above,
    /// below, then the corners) that stays inside `plot` and clear of every marker, every
    /// whisker, the polyline `lines` (the front's staircase) and the texts placed before it;
    /// nil where none is. In order, so the same points always get the same places.
    static func placeTexts(_ texts: [String], pixels: [(x: Double, y: Double, whisker: (top: Double, bottom: Double)?)],
                           plot: Box, lines: [(x: Double, y: Double)] = [], size: Double = labelSize) -> [Placement?] {
        let half = markerSize / 2 + 1
        var obstacles = pixels.map { Box(left: $0.x - half, top: $0.y - half, right: $0.x + half, bottom: $0.y + half) }
        obstacles += pixels.compactMap { pixel in
            pixel.whisker.map { Box(left: pixel.x - 4, top: $0.top, right: pixel.x + 4, bottom: $0.bottom) }
        }
        // The staircase is horizontal and vertical segments: a thin box around each.
        obstacles += zip(lines, lines.dropFirst()).map { a, b in
            Box(left: min(a.x, b.x) - 1, top: min(a.y, b.y) - 1, right: max(a.x, b.x) + 1, bottom: max(a.y, b.y) + 1)
        }
        var placed: [Box] = []
        return zip(texts, pixels).map { text, pixel in
            // Beside the marker (level with it, or just above or below a line through it), then
            // above and below it, then the corners clear of its whisker.
            let gap = markerSize / 2 + 3, middle = pixel.y + 0.3 * size
            let high = pixel.y - 4, low = pixel.y + 4 + 0.8 * size
            let above = pixel.y - gap - 0.25 * size, below = pixel.y + gap + 0.8 * size
            let candidates = [
                Placement(x: pixel.x + gap, y: middle, anchor: .start),
                Placement(x: pixel.x - gap, y: middle, anchor: .end),
                Placement(x: pixel.x + gap, y: high, anchor: .start),
                Placement(x: pixel.x + gap, y: low, anchor: .start),
                Placement(x: pixel.x - gap, y: high, anchor: .end),
                Placement(x: pixel.x - gap, y: low, anchor: .end),
                Placement(x: pixel.x, y: above, anchor: .middle),
                Placement(x: pixel.x, y: below, anchor: .middle),
                Placement(x: pixel.x + 6, y: above, anchor: .start),
                Placement(x: pixel.x + 6, y: below, anchor: .start),
                Placement(x: pixel.x - 6, y: above, anchor: .end),
                Placement(x: pixel.x - 6, y: below, anchor: .end),
            ]
            for candidate in candidates {
                let box = textBox(text, candidate, size: size)
                if box.inside(plot) && !obstacles.contains(where: box.overlaps) && !placed.contains(where: box.overlaps) {
                    placed.append(box)
                    return candidate
                }
            }
            return nil
        }
    }

    private enum LegendKind {
        case style(Int), interval, front, key

        var isKey: Bool {
            if case .key = self { return true }
            return false
        }
    }

    func svg() -> String {
        let yScale = yScale
        let labels = labels()
        let usedStyles = styles.indices.filter { index in panels.contains { $0.points.contains { $0.style == index } } }
        var legend: [(kind: LegendKind, label: String)] = usedStyles.map { (.style($0), styles[$0].label) }
        if panels.contains(where: { $0.points.contains { $0.interval != nil } }) { legend.append((.interval, intervalLabel)) }
        if panels.contains(where: { $0.front.count >= 2 }) { legend.append((.front, "Pareto front")) }
        // The key: each tag once, in the order the points come, after an empty row.
        var keyed: Set<String> = []
        for (panel, panelLabels) in zip(panels, labels) {
            for (point, label) in zip(panel.points, panelLabels) where label.isTag && keyed.insert(point.tag).inserted {
                if keyed.count == 1 { legend.append((.key, "")) }
                legend.append((.key, "\(point.tag): \(point.label)"))
            }
        }
        let legendWidth = 44 + (legend.map { SVGCanvas.textWidth($0.label, size: 12) }.max() ?? 0)
        let plotRight = Self.left + Self.plotWidth
        let height = max(Self.top + Double(panels.count) * panelHeight, Self.top + Double(legend.count) * Self.legendRow + 24)
        let width = max(plotRight + 20 + legendWidth + 12, SVGCanvas.textWidth(title, size: 15) + 40)
        var canvas = SVGCanvas(width: width, height: height)
        canvas.text(title, Self.left + Self.plotWidth / 2, 26, size: 15, anchor: .middle, bold: true)

        for (index, (panel, panelLabels)) in zip(panels, labels).enumerated() {
            if panels.count > 1 {
                canvas.text(panel.title, Self.left + Self.plotWidth / 2, plotTop(index) - titleRoom + 14, size: 13,
                            anchor: .middle, bold: true)
            }
            draw(panel, labels: panelLabels, on: &canvas, plotTop: plotTop(index), yScale: yScale)
        }

        let legendX = plotRight + 20
        for (row, entry) in legend.enumerated() {
            let y = Self.top + 8 + Double(row) * Self.legendRow
            switch entry.kind {
            case let .style(index):
                canvas.marker(styles[index].shape, legendX + 13, y, size: Self.markerSize, fill: styles[index].colour)
            case .interval:
                Self.whisker(legendX + 13, y - 7, y + 7, colour: "#555555", on: &canvas)
            case .front:
                canvas.polyline([(legendX, y + 5), (legendX + 13, y + 5), (legendX + 13, y - 5), (legendX + 26, y - 5)],
                                stroke: Self.frontColour, width: 1.5, dash: Self.frontDash)
            case .key:
                break
            }
            if !entry.label.isEmpty { canvas.text(entry.label, entry.kind.isKey ? legendX : legendX + 34, y + 4, size: 12) }
        }
        return canvas.document(title: title)
    }

    private func draw(_ panel: Panel, labels: [Label], on canvas: inout SVGCanvas, plotTop: Double, yScale: AxisScale) {
        let xAxis = XAxis(panel)
        canvas.plotFrame(left: Self.left, top: plotTop, width: Self.plotWidth, height: Self.plotHeight, x: xAxis, y: yScale,
                         xLabel: panel.xLabel + (panel.usesLogScale ? " (log scale)" : ""), yLabel: yLabel)

        let pixels = self.pixels(panel, plotTop: plotTop, xAxis: xAxis, yScale: yScale)
        let front = panel.front
        // The staircase first, so the markers sit on it.
        canvas.polyline(ParetoFront.steps(front.map { (pixels[$0].x, pixels[$0].y) }), stroke: Self.frontColour, width: 1.5,
                        dash: Self.frontDash)
        for (point, pixel) in zip(panel.points, pixels) {
            if let whisker = pixel.whisker {
                Self.whisker(pixel.x, whisker.top, whisker.bottom, colour: styles[point.style].colour, on: &canvas)
            }
        }
        let onFront = Set(front)
        for (index, (point, pixel)) in zip(panel.points, pixels).enumerated() {
            let style = styles[point.style]
            canvas.marker(style.shape, pixel.x, pixel.y, size: Self.markerSize, fill: style.colour,
                          stroke: onFront.contains(index) ? Self.outline : nil)
        }
        for label in labels {
            canvas.text(label.text, label.placement.x, label.placement.y, size: Self.labelSize, anchor: label.placement.anchor,
                        fill: "#333333")
        }
    }

    /// A vertical line from `top` to `bottom` with short end caps.
    private static func whisker(_ x: Double, _ top: Double, _ bottom: Double, colour: String, on canvas: inout SVGCanvas) {
        canvas.line(x, top, x, bottom, stroke: colour, width: 1.5)
        canvas.line(x - 4, top, x + 4, top, stroke: colour, width: 1.5)
        canvas.line(x - 4, bottom, x + 4, bottom, stroke: colour, width: 1.5)
    }
}

extension ReportFigures {
    /// One measure of cost for the x axis: the pruned and the dense model's result columns
    /// and the factor that turns their units (FLOPs, seconds) into the axis's.
    struct CostMeasure {
        let name: String
        let panelTitle: String
        let xLabel: String
        let pruned: String
        let dense: String
        let scale: Double
    }

    static let costMeasures = [
        CostMeasure(name: "FLOPs", panelTitle: "Compute: multiply-add FLOPs per image",
                    xLabel: "MFLOPs per image (pruned weights skipped)", pruned: "flops_per_sample_pruned",
                    dense: "flops_per_sample", scale: 1e-6),
        CostMeasure(name: "inference time", panelTitle: "Inference wall time per image",
                    xLabel: "inference wall time per image (µs)", pruned: "inference_sample_seconds_pruned",
                    dense: "inference_sample_seconds", scale: 1e6),
    ]

    /// The pruning method of a grid point's jobs (its first job's).
    static func pruningMethod(_ point: GridPoint) -> String {
        point.jobs.first.map { PointAssignment.pruningMethod($0.config) } ?? PruningMethod.magnitude.rawValue
    }

    /// Whether a grid dimension is a pruning setting, which leaves the base model as it is.
    static func isPruningSetting(_ dimension: String) -> Bool { dimension == "pruning" || dimension.hasPrefix("pruning.") }

    /// The accuracy-versus-cost figure of a pruning report: a panel with the pruned model's
    /// multiply-add FLOPs per image on the x axis and, when the jobs measured it, one with
    /// its inference wall time per image. Each grid point is a marker at its mean cost and
    /// mean test accuracy after retraining over its done jobs that measured the cost, with
    /// the accuracy's 95% Student-t interval, shaped and coloured by pruning method. Each
    /// dense base model (one per value of the grid's settings outside `pruning`) is a star
    /// at its cost and test accuracy before pruning, mean over seeds. The Pareto front (by
    /// mean accuracy) is a dashed staircase. Nil when no done job has
    /// `flops_per_sample_pruned` (jobs recorded before harness measured costs).
    static func cost(_ data: ReportData) -> ReportFigure? {
        let accuracy = ReportMetric.named("accuracy")!, before = ReportMetric.named("accuracy_before_pruning")!
        func value(_ metric: String, _ job: JobResult) -> Double? { job.metric(metric).flatMap { $0.isFinite ? $0 : nil } }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

        // Every method keeps its look from report to report: magnitude a blue circle, units an
        // orange square, gradual a green triangle; the legend shows the methods drawn.
        let methods = data.points.map(pruningMethod)
        let known = PruningMethod.allCases.map(\.rawValue)
        let styledMethods = known + Set(methods).subtracting(known).sorted()
        let shapes: [SVGCanvas.Marker] = [.circle, .square, .triangle, .diamond]
        var styles = styledMethods.enumerated().map { index, method in
            CostChart.Style(label: "\(method) pruning", shape: shapes[index % shapes.count],
                            colour: seriesColours[index % seriesColours.count])
        }
        let denseStyle = styles.count
        styles.append(CostChart.Style(label: "dense base model", shape: .star, colour: "#7f7f7f"))

        // The base model is the job without its pruning section: one per value of the other grid dimensions.
        let baseDimensions = data.dimensions.indices.filter { !isPruningSetting(data.dimensions[$0]) }
        var groups: [(values: [JSONValue], points: [GridPoint])] = []
        for point in data.points {
            let values = baseDimensions.map { point.values[$0] }
            if let index = groups.firstIndex(where: { $0.values == values }) {
                groups[index].points.append(point)
            } else {
                groups.append((values, [point]))
            }
        }
        func denseLabel(_ values: [JSONValue]) -> String {
            (["dense"] + zip(baseDimensions, values).map { "\(data.shortDimensionNames[$0]) \(GridLabel.value($1))" })
                .joined(separator: ", ")
        }

        func panel(_ measure: CostMeasure) -> CostChart.Panel {
            var points: [CostChart.Point] = []
            for point in data.points {
                let jobs = point.doneJobs.map(\.result).filter { value(measure.pruned, $0) != nil && value(accuracy.name, $0) != nil }
                guard let summary = try? Statistics.Summary(jobs.map { 100 * value(accuracy.name, $0)! }) else { continue }
                points.append(CostChart.Point(label: data.shortLabel(point), tag: String(point.index + 1),
                                              style: styledMethods.firstIndex(of: pruningMethod(point))!,
                                              x: mean(jobs.map { value(measure.pruned, $0)! * measure.scale }),
                                              y: summary.mean, interval: summary.tInterval(confidence: 0.95)))
            }
            for (index, group) in groups.enumerated() {
                // Every pruning job of a seed starts from that seed's base model: each seed counts once.
                let jobs = group.points.flatMap(\.doneJobs).map(\.result)
                    .filter { value(measure.dense, $0) != nil && value(before.name, $0) != nil }
                let bySeed = Dictionary(grouping: jobs, by: \.seed)
                let seeds = bySeed.keys.sorted()
                guard let summary = try? Statistics.Summary(seeds.map { mean(bySeed[$0]!.map { 100 * value(before.name, $0)! }) })
                else { continue }
                points.append(CostChart.Point(label: denseLabel(group.values), tag: groups.count == 1 ? "D" : "D\(index + 1)",
                                              style: denseStyle,
                                              x: mean(seeds.map { mean(bySeed[$0]!.map { value(measure.dense, $0)! * measure.scale }) }),
                                              y: summary.mean, interval: summary.tInterval(confidence: 0.95)))
            }
            return CostChart.Panel(title: measure.panelTitle, xLabel: measure.xLabel, points: points)
        }

        let panels = zip(costMeasures, costMeasures.map(panel)).filter { !$0.1.points.allSatisfy { $0.style == denseStyle } }
        // FLOPs decide whether there is a figure; inference time is a second panel when measured too.
        guard panels.first?.0.name == costMeasures[0].name else { return nil }
        let chart = CostChart(title: "Test accuracy against cost per image (mean over seeds)", yLabel: "test accuracy (%)",
                              styles: styles, panels: panels.map(\.1), intervalLabel: "95% CI (Student t)")

        let usedMethods = styledMethods.enumerated().filter { index, _ in panels.contains { $0.1.points.contains { $0.style == index } } }
        let hasDense = panels.contains { $0.1.points.contains { $0.style == denseStyle } }
        var caption = "Test accuracy (%) against what classifying one test image costs. One marker per grid point at the mean, "
            + "over its done jobs (one per seed), of the pruned model's cost and of its test accuracy after retraining; "
            + "whisker: the 95% confidence interval of that accuracy (Student t), none for n = 1. Marker shape and colour: "
            + "the pruning method (" + usedMethods.map { "\(shapeName(styles[$0.offset].shape)) \($0.element)" }
                .joined(separator: ", ") + ")."
        if hasDense {
            caption += groups.count == 1
                ? " Star: the dense base model, its cost and its test accuracy before pruning"
                : " Stars: the dense base models, one per "
                    + baseDimensions.map { data.dimensions[$0] }.joined(separator: " × ")
                    + ", each at its cost and its test accuracy before pruning"
            caption += ", mean over seeds (each seed's base model counted once; its whisker the interval over seeds)."
        }
        caption += panels.count > 1
            ? " Upper panel: multiply-add FLOPs per image with pruned weights skipped; lower panel: inference wall time per "
                + "image (µs) over test images in batches, the median over the job's rounds that alternate the dense and the "
                + "pruned model; wall clock, so a job that shared the cores with another reads slower."
            : " Cost: multiply-add FLOPs per image with pruned weights skipped."
        let logPanels = panels.filter { $0.1.usesLogScale }.map(\.0.name)
        if !logPanels.isEmpty {
            caption += " The \(logPanels.joined(separator: " and ")) axis\(logPanels.count == 1 ? " is" : "es are") "
                + "logarithmic (the costs span more than 10x)."
        }
        caption += " Dashed staircase, markers outlined: the Pareto front, the points no other point beats (none costs no more "
            + "and is at least as accurate, and better in one of the two), by mean accuracy, so a point off the front whose "
            + "interval overlaps it may be no worse."
        for (measure, panel) in panels {
            caption += " On the \(measure.name) front, in order of cost: "
                + panel.front.map { panel.points[$0].label }.joined(separator: "; ") + "."
        }
        let flopsPoints = Set(panels[0].1.points.filter { $0.style != denseStyle }.map(\.tag))
        let withoutCosts = data.points.filter { !$0.doneJobs.isEmpty && !flopsPoints.contains(String($0.index + 1)) }.count
        if withoutCosts > 0 {
            caption += " \(withoutCosts) grid point\(withoutCosts == 1 ? " has" : "s have") no done job with measured costs "
                + "(recorded before harness measured them) and \(withoutCosts == 1 ? "is" : "are") left out."
        }
        let jobsWithout = data.points.filter { flopsPoints.contains(String($0.index + 1)) }.flatMap(\.doneJobs)
            .filter { value(costMeasures[0].pruned, $0.result) == nil }.count
        if jobsWithout > 0 {
            caption += " \(jobsWithout) done job\(jobsWithout == 1 ? "" : "s") without measured costs "
                + "\(jobsWithout == 1 ? "is" : "are") left out of \(jobsWithout == 1 ? "its point's" : "their points'") means."
        }
        return ReportFigure(name: "cost", title: chart.title, caption: caption, svg: chart.svg())
    }
}
