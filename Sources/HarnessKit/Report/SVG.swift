import Foundation

// Hand-written SVG for the report's figures: a canvas that appends elements as text, axis
// scales with round tick values, a line chart and a heat map. Coordinates are printed
// with one decimal and nothing depends on the clock or the machine, so the same data
// always gives the same file. Text sizes are estimated (no font metrics): 0.6 em per
// character, generous for the sans-serif fonts viewers substitute.

/// An SVG document under construction, in pixels, origin at the top left.
struct SVGCanvas {
    let width: Double
    let height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width.rounded(.up)
        self.height = height.rounded(.up)
    }

    static func number(_ x: Double) -> String { NumberFormat.decimal(x, 1) }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    static func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1,
                       dash: String? = nil) {
        let n = Self.number
        elements.append(#"<line x1="\#(n(x1))" y1="\#(n(y1))" x2="\#(n(x2))" y2="\#(n(y2))" stroke="\#(stroke)" "#
                        + #"stroke-width="\#(n(width))"\#(dash.map { #" stroke-dasharray="\#($0)""# } ?? "")/>"#)
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double, dash: String? = nil) {
        guard points.count >= 2 else { return }
        let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        elements.append(#"<polyline points="\#(list)" fill="none" stroke="\#(stroke)" stroke-width="\#(Self.number(width))" "#
                        + #"stroke-linejoin="round"\#(dash.map { #" stroke-dasharray="\#($0)""# } ?? "")/>"#)
    }

    /// A filled shape without an outline; `opacity` below 1 lets what is drawn under it show through.
    mutating func polygon(_ points: [(x: Double, y: Double)], fill: String, opacity: Double = 1) {
        guard points.count >= 3 else { return }
        let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        elements.append(#"<polygon points="\#(list)" fill="\#(fill)""#
                        + (opacity < 1 ? #" fill-opacity="\#(NumberFormat.decimal(opacity, 2))""# : "") + "/>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, fill: String, stroke: String? = nil,
                       opacity: Double = 1) {
        let n = Self.number
        elements.append(#"<rect x="\#(n(x))" y="\#(n(y))" width="\#(n(width))" height="\#(n(height))" fill="\#(fill)""#
                        + (opacity < 1 ? #" fill-opacity="\#(NumberFormat.decimal(opacity, 2))""# : "")
                        + (stroke.map { #" stroke="\#($0)""# } ?? "") + "/>")
    }

    enum Anchor: String { case start, middle, end }

    /// Text with its baseline at `y`; `rotation` in degrees about (x, y).
    mutating func text(_ text: String, _ x: Double, _ y: Double, size: Double, anchor: Anchor = .start,
                       bold: Bool = false, fill: String = "#222222", rotation: Double? = nil) {
        let n = Self.number
        var attributes = #"x="\#(n(x))" y="\#(n(y))" font-size="\#(n(size))" text-anchor="\#(anchor.rawValue)" fill="\#(fill)""#
        if bold { attributes += #" font-weight="bold""# }
        if let rotation { attributes += #" transform="rotate(\#(n(rotation)) \#(n(x)) \#(n(y)))""# }
        elements.append("<text \(attributes)>\(Self.escape(text))</text>")
    }

    enum Marker { case circle, square, triangle, diamond, star }

    /// A five-pointed star's corners around its centre, for a radius of 1, clockwise from
    /// the top point: the outer points at 72° steps and the inner corners (0.45 of the
    /// radius) between them. Written out, so no platform's sine changes a digit.
    static let starCorners: [(x: Double, y: Double)] = [
        (0, -1), (0.2645, -0.3641), (0.9511, -0.3090), (0.4280, 0.1391), (0.5878, 0.8090),
        (0, 0.45), (-0.5878, 0.8090), (-0.4280, 0.1391), (-0.9511, -0.3090), (-0.2645, -0.3641),
    ]

    /// A filled marker, or with `stroke` an outlined one (`fill: "none"` leaves it open, so
    /// a marker under it stays visible).
    mutating func marker(_ shape: Marker, _ x: Double, _ y: Double, size: Double, fill: String, stroke: String? = nil) {
        let n = Self.number, r = size / 2
        let paint = #"fill="\#(fill)""# + (stroke.map { #" stroke="\#($0)" stroke-width="1.5""# } ?? "")
        switch shape {
        case .circle:
            elements.append(#"<circle cx="\#(n(x))" cy="\#(n(y))" r="\#(n(r))" \#(paint)/>"#)
        case .square:
            elements.append(#"<rect x="\#(n(x - r))" y="\#(n(y - r))" width="\#(n(size))" height="\#(n(size))" \#(paint)/>"#)
        case .triangle:
            elements.append(#"<polygon points="\#(n(x)),\#(n(y - r)) \#(n(x + r)),\#(n(y + r)) \#(n(x - r)),\#(n(y + r))" \#(paint)/>"#)
        case .diamond:
            elements.append(#"<polygon points="\#(n(x)),\#(n(y - r)) \#(n(x + r)),\#(n(y)) \#(n(x)),\#(n(y + r)) \#(n(x - r)),\#(n(y))" \#(paint)/>"#)
        case .star:
            // A star looks smaller than a circle of the same size, so its points reach a third further.
            let radius = r * 4 / 3
            let corners = Self.starCorners.map { "\(n(x + radius * $0.x)),\(n(y + radius * $0.y))" }.joined(separator: " ")
            elements.append(#"<polygon points="\#(corners)" \#(paint)/>"#)
        }
    }

    /// The finished file; `title` becomes the document's <title> (shown as a tooltip and
    /// read by screen readers).
    func document(title: String) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Self.number(width))" height="\#(Self.number(height))" "#
                + #"viewBox="0 0 \#(Self.number(width)) \#(Self.number(height))" font-family="Helvetica, Arial, sans-serif">"#,
            "<title>\(Self.escape(title))</title>",
            #"<rect x="0" y="0" width="\#(Self.number(width))" height="\#(Self.number(height))" fill="white"/>"#,
        ]
        lines += elements
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What a chart's frame needs of an axis: its ticks, their labels, and where a value falls
/// between two pixel positions.
protocol ChartAxis {
    var ticks: [Double] { get }
    func label(_ x: Double) -> String
    func position(_ x: Double, _ start: Double, _ end: Double) -> Double
}

extension SVGCanvas {
    /// A plot's grid lines, ticks and tick labels on both axes, its frame, and the axis
    /// titles: the plot area is `width` x `height` at (`left`, `top`).
    mutating func plotFrame(left: Double, top: Double, width: Double, height: Double, x: some ChartAxis, y: some ChartAxis,
                            xLabel: String, yLabel: String) {
        let right = left + width, bottom = top + height
        for tick in y.ticks {
            let position = y.position(tick, bottom, top)
            line(left, position, right, position, stroke: "#e3e3e3")
            line(left - 5, position, left, position, stroke: "#444444")
            text(y.label(tick), left - 8, position + 4, size: 12, anchor: .end)
        }
        for tick in x.ticks {
            let position = x.position(tick, left, right)
            line(position, top, position, bottom, stroke: "#e3e3e3")
            line(position, bottom, position, bottom + 5, stroke: "#444444")
            text(x.label(tick), position, bottom + 19, size: 12, anchor: .middle)
        }
        rect(left, top, width, height, fill: "none", stroke: "#444444")
        text(xLabel, left + width / 2, bottom + 44, size: 13, anchor: .middle)
        text(yLabel, 20, top + height / 2, size: 13, anchor: .middle, rotation: -90)
    }
}

/// A linear axis from `lower` to `upper` with ticks every `step`, all round numbers
/// (1, 2 or 5 times a power of ten) that enclose the data.
struct AxisScale: Equatable, ChartAxis {
    let lower: Double
    let upper: Double
    let step: Double

    /// `integer` keeps steps whole (epochs). A single value gets a range around it.
    init(from dataLower: Double, to dataUpper: Double, targetTicks: Int = 6, integer: Bool = false) {
        var low = min(dataLower, dataUpper), high = max(dataLower, dataUpper)
        if !(low.isFinite && high.isFinite) { (low, high) = (0, 1) }
        if high - low <= abs(high) * 1e-9 {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        var step = Self.roundNumber((high - low) / Double(max(1, targetTicks - 1)))
        if integer { step = max(1, step.rounded(.up)) }
        // A small tolerance keeps a bound that sits on a tick (0.3 / 0.1 = 2.9999...) there.
        lower = (low / step + 1e-9).rounded(.down) * step
        upper = (high / step - 1e-9).rounded(.up) * step
        self.step = step
    }

    /// 1, 2 or 5 times a power of ten, whichever is nearest to `x` on a log scale.
    static func roundNumber(_ x: Double) -> Double {
        let exponent = log10(x).rounded(.down)
        let power = pow(10, exponent)
        let fraction = x / power
        let nice: Double = fraction < 2.0.squareRoot() ? 1 : fraction < 10.0.squareRoot() ? 2 : fraction < 50.0.squareRoot() ? 5 : 10
        return nice * power
    }

    var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded()) + 1
        return (0..<count).map { lower + Double($0) * step }
    }

    /// Decimals enough to tell the ticks apart and no more.
    var decimals: Int { max(0, -Int(log10(step).rounded(.down))) }

    func label(_ x: Double) -> String { NumberFormat.decimal(x, decimals) }

    /// Position of `x` between `start` (at `lower`) and `end` (at `upper`) pixels.
    func position(_ x: Double, _ start: Double, _ end: Double) -> Double {
        start + (x - lower) / (upper - lower) * (end - start)
    }
}

/// Categorical colours (matplotlib's tab10): distinct hues that stay apart for the common
/// forms of colour blindness better than a rainbow does.
let seriesColours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

/// Lines over a shared x axis with a legend to the right of the plot. With several panels
/// (small multiples), the plots are stacked, each with its own title and legend, all on the
/// same axes so they compare at a glance. A line can carry a shaded band (an interval
/// around it), drawn faintly in its colour under every line of the panel.
struct LineChart {
    struct Part {
        var points: [(x: Double, y: Double)]
        var dashed: Bool
    }

    /// A shaded region from `lower` to `upper` over consecutive x values.
    struct Band {
        var points: [(x: Double, lower: Double, upper: Double)]
    }

    struct Series {
        var label: String
        /// Pieces drawn in the series' colour; a gap in the data starts a new piece.
        var parts: [Part]
        /// Shaded pieces under the line; a gap (an x without an interval) starts a new piece.
        var bands: [Band] = []
    }

    struct Panel {
        /// Drawn above the panel's plot; nil for a chart of one panel.
        var title: String?
        var series: [Series]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var panels: [Panel]
    /// Whole-number x ticks (epochs).
    var integerX = false
    /// Legend lines that explain the line styles, drawn in grey after the series.
    var styleNotes: [(label: String, dashed: Bool)] = []
    /// The legend entry that says what the bands are (a grey shaded swatch); nil for none.
    var bandNote: String?

    init(title: String, xLabel: String, yLabel: String, series: [Series], integerX: Bool = false,
         styleNotes: [(label: String, dashed: Bool)] = [], bandNote: String? = nil) {
        self.init(title: title, xLabel: xLabel, yLabel: yLabel, panels: [Panel(title: nil, series: series)],
                  integerX: integerX, styleNotes: styleNotes, bandNote: bandNote)
    }

    init(title: String, xLabel: String, yLabel: String, panels: [Panel], integerX: Bool = false,
         styleNotes: [(label: String, dashed: Bool)] = [], bandNote: String? = nil) {
        (self.title, self.xLabel, self.yLabel, self.panels, self.integerX, self.styleNotes, self.bandNote) =
            (title, xLabel, yLabel, panels, integerX, styleNotes, bandNote)
    }

    static let plotWidth = 560.0, plotHeight = 320.0
    static let left = 76.0, top = 44.0, bottom = 58.0
    /// Room above a panel's plot for its title.
    static let panelTitle = 24.0
    static let legendRow = 18.0
    /// Faint enough that lines under overlapping bands stay legible.
    static let bandOpacity = 0.18
    /// How wide a band of a single x value is drawn, in pixels.
    static let bandBarWidth = 6.0

    func colour(_ index: Int) -> String { seriesColours[index % seriesColours.count] }

    /// Past ten series the colours repeat, so the marker shape tells them apart.
    func marker(_ index: Int) -> SVGCanvas.Marker {
        [.circle, .square, .triangle, .diamond][(index / seriesColours.count) % 4]
    }

    /// Markers show where the data points are; on a dense curve they would only clutter it.
    func drawsMarkers(_ series: Series) -> Bool { series.parts.reduce(0) { $0 + $1.points.count } <= 40 }

    private typealias LegendEntry = (label: String, colour: String, dashed: Bool, marker: SVGCanvas.Marker?, band: Bool)

    private func legend(_ panel: Panel) -> [LegendEntry] {
        panel.series.enumerated().map { ($1.label, colour($0), false, drawsMarkers($1) ? marker($0) : nil, false) }
            + styleNotes.map { ($0.label, "#555555", $0.dashed, nil, false) }
            + (bandNote.map { [($0, "#555555", false, nil, true)] } ?? [])
    }

    func svg() -> String {
        let series = panels.flatMap(\.series)
        let points = series.flatMap { $0.parts.flatMap(\.points) }
        let bandPoints = series.flatMap { $0.bands.flatMap(\.points) }
        // The bands are part of the y range, so none is cut off at the plot's edge.
        let xs = points.map(\.x) + bandPoints.map(\.x)
        let ys = points.map(\.y) + bandPoints.flatMap { [$0.lower, $0.upper] }
        let xScale = AxisScale(from: xs.min() ?? 0, to: xs.max() ?? 1, targetTicks: 8, integer: integerX)
        let yScale = AxisScale(from: ys.min() ?? 0, to: ys.max() ?? 1, targetTicks: 6)

        let legends = panels.map(legend)
        let legendWidth = 44 + (legends.joined().map { SVGCanvas.textWidth($0.label, size: 12) }.max() ?? 0)
        let titleRoom = panels.count > 1 ? Self.panelTitle : 0
        // Each panel is as tall as its plot or its legend, whichever is taller.
        let panelHeights = legends.map { legend in
            max(titleRoom + Self.plotHeight + Self.bottom, titleRoom + Double(legend.count) * Self.legendRow + 16)
        }
        let plotRight = Self.left + Self.plotWidth
        var canvas = SVGCanvas(width: plotRight + 20 + legendWidth + 12, height: Self.top + panelHeights.reduce(0, +))
        canvas.text(title, Self.left + Self.plotWidth / 2, 26, size: 15, anchor: .middle, bold: true)

        var panelTop = Self.top
        for (panel, (legend, panelHeight)) in zip(panels, zip(legends, panelHeights)) {
            if let panelTitle = panel.title {
                canvas.text(panelTitle, Self.left + Self.plotWidth / 2, panelTop + 14, size: 13, anchor: .middle, bold: true)
            }
            let plotTop = panelTop + titleRoom
            draw(panel, legend: legend, on: &canvas, plotTop: plotTop, xScale: xScale, yScale: yScale)
            panelTop += panelHeight
        }
        return canvas.document(title: title)
    }

    private func draw(_ panel: Panel, legend: [LegendEntry], on canvas: inout SVGCanvas, plotTop: Double,
                      xScale: AxisScale, yScale: AxisScale) {
        let plotRight = Self.left + Self.plotWidth, plotBottom = plotTop + Self.plotHeight
        canvas.plotFrame(left: Self.left, top: plotTop, width: Self.plotWidth, height: Self.plotHeight, x: xScale, y: yScale,
                         xLabel: xLabel, yLabel: yLabel)

        // Every band before any line, so no band covers another series' line.
        for (index, item) in panel.series.enumerated() {
            for band in item.bands {
                let pixels = band.points.map { (x: xScale.position($0.x, Self.left, plotRight),
                                                lower: yScale.position($0.lower, plotBottom, plotTop),
                                                upper: yScale.position($0.upper, plotBottom, plotTop)) }
                canvas.polygon(Self.outline(pixels), fill: colour(index), opacity: Self.bandOpacity)
            }
        }
        for (index, item) in panel.series.enumerated() {
            let drawMarkers = drawsMarkers(item)
            for part in item.parts {
                let pixels = part.points.map { (x: xScale.position($0.x, Self.left, plotRight),
                                                y: yScale.position($0.y, plotBottom, plotTop)) }
                canvas.polyline(pixels, stroke: colour(index), width: 2, dash: part.dashed ? "6 4" : nil)
                if drawMarkers {
                    // A retraining piece starts at the last training point, already marked.
                    for pixel in part.dashed ? Array(pixels.dropFirst()) : pixels {
                        canvas.marker(marker(index), pixel.x, pixel.y, size: 6, fill: colour(index))
                    }
                }
            }
        }

        let legendX = plotRight + 20
        for (row, entry) in legend.enumerated() {
            let y = plotTop + 8 + Double(row) * Self.legendRow
            if entry.band {
                canvas.rect(legendX, y - 6, 26, 12, fill: entry.colour, opacity: Self.bandOpacity)
            } else {
                canvas.line(legendX, y, legendX + 26, y, stroke: entry.colour, width: 2, dash: entry.dashed ? "6 4" : nil)
            }
            if let shape = entry.marker { canvas.marker(shape, legendX + 13, y, size: 6, fill: entry.colour) }
            canvas.text(entry.label, legendX + 34, y + 4, size: 12)
        }
    }
}

extension LineChart {
    /// The outline of a band in pixels: along the upper edge left to right, back along the
    /// lower edge. A band of one x value becomes a bar `bandBarWidth` wide, so it shows.
    static func outline(_ band: [(x: Double, lower: Double, upper: Double)]) -> [(x: Double, y: Double)] {
        if band.count == 1 {
            let point = band[0], half = bandBarWidth / 2
            return [(point.x - half, point.upper), (point.x + half, point.upper),
                    (point.x + half, point.lower), (point.x - half, point.lower)]
        }
        return band.map { ($0.x, $0.upper) } + band.reversed().map { ($0.x, $0.lower) }
    }
}

/// A matrix of counts as shaded cells with the count written in each; the shade is the
/// cell's share of its row, so every row reads as "where this class's samples went".
struct HeatmapChart {
    var title: String
    var rowLabels: [String]
    var columnLabels: [String]
    var counts: [[Int]]
    var rowTitle: String
    var columnTitle: String
    var note: String

    static let cell = 46.0

    /// White to dark blue, linear in each channel.
    static func shade(_ t: Double) -> String {
        let from = (247.0, 251.0, 255.0), to = (8.0, 48.0, 107.0)
        func channel(_ a: Double, _ b: Double) -> String {
            let value = Int((a + (b - a) * min(1, max(0, t))).rounded())
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(from.0, to.0) + channel(from.1, to.1) + channel(from.2, to.2)
    }

    func svg() -> String {
        let labelSize = 12.0
        let rowLabelWidth = rowLabels.map { SVGCanvas.textWidth($0, size: labelSize) }.max() ?? 0
        let columnLabelWidth = columnLabels.map { SVGCanvas.textWidth($0, size: labelSize) }.max() ?? 0
        let left = 34 + rowLabelWidth + 10, top = 48.0
        let gridWidth = Self.cell * Double(columnLabels.count), gridHeight = Self.cell * Double(rowLabels.count)
        // Column labels are turned 45 degrees, so they need about 0.71 of their length downwards.
        let labelDepth = columnLabelWidth * 0.71 + 14
        let width = max(left + gridWidth + 24, SVGCanvas.textWidth(title, size: 15) + 40)
        var canvas = SVGCanvas(width: width, height: top + gridHeight + labelDepth + 54)

        canvas.text(title, width / 2, 28, size: 15, anchor: .middle, bold: true)
        for (row, values) in counts.enumerated() {
            let total = values.reduce(0, +)
            for (column, count) in values.enumerated() {
                let share = total > 0 ? Double(count) / Double(total) : 0
                let x = left + Double(column) * Self.cell, y = top + Double(row) * Self.cell
                canvas.rect(x, y, Self.cell, Self.cell, fill: Self.shade(share), stroke: "#ffffff")
                canvas.text(String(count), x + Self.cell / 2, y + Self.cell / 2 + 4, size: 11, anchor: .middle,
                            fill: share > 0.45 ? "#ffffff" : "#222222")
            }
        }
        canvas.rect(left, top, gridWidth, gridHeight, fill: "none", stroke: "#444444")
        for (row, label) in rowLabels.enumerated() {
            canvas.text(label, left - 8, top + (Double(row) + 0.5) * Self.cell + 4, size: labelSize, anchor: .end)
        }
        for (column, label) in columnLabels.enumerated() {
            let x = left + (Double(column) + 0.5) * Self.cell + 4, y = top + gridHeight + 12
            canvas.text(label, x, y, size: labelSize, anchor: .end, rotation: -45)
        }
        canvas.text(rowTitle, 16, top + gridHeight / 2, size: 13, anchor: .middle, rotation: -90)
        canvas.text(columnTitle, left + gridWidth / 2, top + gridHeight + labelDepth + 18, size: 13, anchor: .middle)
        canvas.text(note, left + gridWidth / 2, top + gridHeight + labelDepth + 40, size: 11, anchor: .middle, fill: "#555555")
        return canvas.document(title: title)
    }
}
