import Foundation

/// A forest plot: one row per item, top to bottom, each a dot at its estimate with a
/// horizontal whisker for its confidence interval, on one shared x axis. It shows at a
/// glance which intervals overlap, which a table of numbers hides. A dashed vertical line
/// can mark a value to read every row against (the best estimate), and open diamonds a
/// value from elsewhere (the paper's). Drawn on `SVGCanvas`, so the output is as
/// deterministic as the other charts'.
struct ForestPlot {
    struct Estimate {
        var mean: Double
        /// Nil draws no whisker (a single value has no interval).
        var interval: Statistics.Interval?
        /// Printed at the right of the row as "n=3".
        var count: Int
    }

    struct Row {
        var label: String
        /// Nil for a row with nothing to show: its label and `missingText` only.
        var estimate: Estimate?
        /// An open diamond at this value; nil for none.
        var paper: Double?
    }

    var title: String
    var xLabel: String
    var rows: [Row]
    /// Legend text of the dot and of the whisker.
    var estimateLabel: String
    var intervalLabel: String
    /// A dashed vertical line across all rows, with its legend text; nil for none.
    var referenceLine: (value: Double, label: String)?
    /// Legend text of the open diamonds, shown when some row has a `paper` value.
    var paperLabel: String
    /// What a row without an estimate says where its dot would be.
    var missingText: String

    static let plotWidth = 420.0, rowHeight = 24.0
    static let margin = 16.0, top = 44.0
    /// Room for a legend entry's sample before its text.
    static let legendSwatch = 32.0
    static let estimateColour = seriesColours[0], paperColour = seriesColours[3], referenceColour = "#555555"

    func svg() -> String {
        let estimates = rows.compactMap(\.estimate)
        let values = estimates.flatMap { [$0.mean] + ($0.interval.map { [$0.lower, $0.upper] } ?? []) }
            + rows.compactMap(\.paper) + (referenceLine.map { [$0.value] } ?? [])
        let scale = AxisScale(from: values.min() ?? 0, to: values.max() ?? 1, targetTicks: 6)

        let labelWidth = rows.map { SVGCanvas.textWidth($0.label, size: 12) }.max() ?? 0
        let plotLeft = Self.margin + labelWidth + 12, plotRight = plotLeft + Self.plotWidth
        let plotTop = Self.top, plotBottom = plotTop + Double(rows.count) * Self.rowHeight + 8
        let countWidth = rows.map { SVGCanvas.textWidth(countText($0), size: 12) }.max() ?? 0
        let legend = legendEntries()
        let legendWidth = legend.reduce(0) { $0 + Self.legendSwatch + SVGCanvas.textWidth($1.label, size: 12) + 18 }
        let width = max(plotRight + 10 + countWidth + Self.margin, plotLeft + legendWidth,
                        SVGCanvas.textWidth(title, size: 15) + 2 * Self.margin)
        var canvas = SVGCanvas(width: width, height: plotBottom + 82)
        canvas.text(title, width / 2, 26, size: 15, anchor: .middle, bold: true)

        for tick in scale.ticks {
            let x = scale.position(tick, plotLeft, plotRight)
            canvas.line(x, plotTop, x, plotBottom, stroke: "#e3e3e3")
            canvas.line(x, plotBottom, x, plotBottom + 5, stroke: "#444444")
            canvas.text(scale.label(tick), x, plotBottom + 19, size: 12, anchor: .middle)
        }
        canvas.rect(plotLeft, plotTop, Self.plotWidth, plotBottom - plotTop, fill: "none", stroke: "#444444")
        canvas.text(xLabel, plotLeft + Self.plotWidth / 2, plotBottom + 42, size: 13, anchor: .middle)
        if let line = referenceLine {
            let x = scale.position(line.value, plotLeft, plotRight)
            canvas.line(x, plotTop, x, plotBottom, stroke: Self.referenceColour, width: 1.5, dash: "4 3")
        }

        for (index, row) in rows.enumerated() {
            let y = plotTop + 4 + (Double(index) + 0.5) * Self.rowHeight
            canvas.text(row.label, plotLeft - 12, y + 4, size: 12, anchor: .end)
            canvas.text(countText(row), plotRight + 10, y + 4, size: 12, fill: "#555555")
            guard let estimate = row.estimate else {
                canvas.text(missingText, plotLeft + 8, y + 4, size: 12, fill: "#777777")
                continue
            }
            if let interval = estimate.interval {
                let low = scale.position(interval.lower, plotLeft, plotRight)
                let high = scale.position(interval.upper, plotLeft, plotRight)
                Self.whisker(low, high, y, on: &canvas)
            }
            canvas.marker(.circle, scale.position(estimate.mean, plotLeft, plotRight), y, size: 8, fill: Self.estimateColour)
        }
        // The diamonds last and open, so a dot under one stays visible.
        for (index, row) in rows.enumerated() {
            guard let paper = row.paper else { continue }
            let y = plotTop + 4 + (Double(index) + 0.5) * Self.rowHeight
            canvas.marker(.diamond, scale.position(paper, plotLeft, plotRight), y, size: 11, fill: "none",
                          stroke: Self.paperColour)
        }

        var x = plotLeft
        let y = plotBottom + 66
        for entry in legend {
            switch entry.kind {
            case .estimate: canvas.marker(.circle, x + 13, y, size: 8, fill: Self.estimateColour)
            case .interval: Self.whisker(x + 2, x + 24, y, on: &canvas)
            case .reference: canvas.line(x + 13, y - 8, x + 13, y + 8, stroke: Self.referenceColour, width: 1.5, dash: "4 3")
            case .paper: canvas.marker(.diamond, x + 13, y, size: 11, fill: "none", stroke: Self.paperColour)
            }
            canvas.text(entry.label, x + Self.legendSwatch, y + 4, size: 12)
            x += Self.legendSwatch + SVGCanvas.textWidth(entry.label, size: 12) + 18
        }
        return canvas.document(title: title)
    }

    /// A horizontal line from `low` to `high` with short end caps.
    private static func whisker(_ low: Double, _ high: Double, _ y: Double, on canvas: inout SVGCanvas) {
        canvas.line(low, y, high, y, stroke: estimateColour, width: 1.5)
        canvas.line(low, y - 4, low, y + 4, stroke: estimateColour, width: 1.5)
        canvas.line(high, y - 4, high, y + 4, stroke: estimateColour, width: 1.5)
    }

    private func countText(_ row: Row) -> String { "n=\(row.estimate?.count ?? 0)" }

    private enum LegendKind { case estimate, interval, reference, paper }

    /// Only what the plot draws: no whisker entry without an interval, no diamond without a paper value.
    private func legendEntries() -> [(kind: LegendKind, label: String)] {
        var entries: [(kind: LegendKind, label: String)] = [(.estimate, estimateLabel)]
        if rows.contains(where: { $0.estimate?.interval != nil }) { entries.append((.interval, intervalLabel)) }
        if let line = referenceLine { entries.append((.reference, line.label)) }
        if rows.contains(where: { $0.paper != nil }) { entries.append((.paper, paperLabel)) }
        return entries
    }
}
