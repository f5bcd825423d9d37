/// A GitHub-flavoured markdown table whose cells are padded to their column's width, so
/// the file reads as a table in a terminal too.
struct MarkdownTable {
    enum Alignment { case left, right }

    struct Column {
        var header: String
        var alignment: Alignment
        init(_ header: String, _ alignment: Alignment = .right) {
            self.header = header
            self.alignment = alignment
        }
    }

    var columns: [Column]
    var rows: [[String]] = []

    init(_ columns: [Column]) { self.columns = columns }

    mutating func add(_ cells: [String]) {
        precondition(cells.count == columns.count, "a row needs one cell per column")
        rows.append(cells.map(Self.escape))
    }

    /// A "|" inside a cell would end it.
    static func escape(_ cell: String) -> String { cell.replacingOccurrences(of: "|", with: "\\|") }

    var text: String {
        let headers = columns.map { Self.escape($0.header) }
        var widths = headers.map { max(3, $0.count) }
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { index, cell in
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                return columns[index].alignment == .right ? padding + cell : cell + padding
            }
            return "| " + padded.joined(separator: " | ") + " |"
        }
        let rule = "| " + columns.enumerated().map { index, column in
            column.alignment == .right ? String(repeating: "-", count: widths[index] - 1) + ":"
                : String(repeating: "-", count: widths[index])
        }.joined(separator: " | ") + " |"
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n")
    }
}
