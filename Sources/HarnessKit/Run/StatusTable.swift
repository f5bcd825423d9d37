/// `harness status`: one line per experiment with its jobs counted by state, and, when
/// some 'running' jobs' processes are gone, how many (`gone`, by experiment).
public enum StatusTable {
    public static func render(_ rows: [Store.StatusRow], gone: [String: Int] = [:]) -> String {
        guard !rows.isEmpty else { return "no experiments in the database yet\n" }
        let states = JobState.allCases
        var experiments: [String] = []
        var counts: [String: [JobState: Int]] = [:]
        for row in rows {
            if counts[row.experiment] == nil { experiments.append(row.experiment) }
            counts[row.experiment, default: [:]][row.state, default: 0] += row.count
        }
        let showsGone = gone.values.contains { $0 > 0 }
        let header = ["experiment"] + states.map(\.rawValue) + ["total"] + (showsGone ? ["process gone"] : [])
        let body = experiments.map { name -> [String] in
            let c = counts[name]!
            return [name] + states.map { String(c[$0] ?? 0) } + [String(c.values.reduce(0, +))]
                + (showsGone ? [String(gone[name] ?? 0)] : [])
        }
        let widths = header.indices.map { column in ([header] + body).map { $0[column].count }.max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let note = showsGone ? "process gone: jobs shown running whose process has died; the next harness run takes them over\n" : ""
        return ([line(header)] + body.map(line)).joined(separator: "\n") + "\n" + note
    }
}
