import Foundation

/// A number the report aggregates over jobs: one result column (`ResultColumn`), with the
/// unit and precision it is shown in. Values stay in the database's units (fractions,
/// seconds); only `format` scales them for display.
public struct ReportMetric: Sendable {
    /// The `job_results` column name, which is also the `--metric` name and the key of a
    /// `reference` row.
    public let name: String
    /// Table header, unit included.
    public let title: String
    let format: NumberFormat

    init(_ column: ResultColumn) {
        name = column.name
        title = column.title
        format = column.format
    }

    func value(_ result: JobResult) -> Double? { result.metric(name) }

    /// Every metric `--metric` and `reference` rows accept, in the view's column order.
    public static let all: [ReportMetric] = ResultColumn.all.map(ReportMetric.init)

    public static let names: [String] = all.map(\.name)

    static func named(_ name: String) -> ReportMetric? { all.first { $0.name == name } }

    /// The metric called `name`; `option` names where the name came from, for the message.
    static func lookup(_ name: String, option: String) throws -> ReportMetric {
        if let metric = named(name) { return metric }
        var message = "harness report: unknown metric \"\(name)\" for \(option)"
        if let guess = Spelling.closestMatch(to: name, among: names) { message += "; did you mean \"\(guess)\"?" }
        throw HarnessError(message + " (metrics: \(names.joined(separator: ", ")))")
    }

    func text(_ x: Double) -> String { format.text(x) }

    /// "87.35 [86.8, 87.9]": the mean and its 95% Student-t interval, the bounds one decimal
    /// coarser; "87.35" for a single value, "–" for none.
    func intervalText(_ values: [Double]) -> String { format.intervalText(values) }

    /// The metric's values over `jobs` that have one.
    func values(_ jobs: [JobResult]) -> [Double] { jobs.compactMap(value) }

    /// The mean of the metric over `jobs` that have a value (done jobs where it was defined).
    func summary(_ jobs: [JobResult]) -> Summary { Summary(jobs.compactMap(value)) }
}

/// How a metric is printed. Fixed decimals (not significant digits), so a column's numbers
/// line up and the same database always prints the same text.
enum NumberFormat: Sendable {
    case percent(Int)
    case fixed(Int)
    case milliseconds(Int)
    case microseconds(Int)
    /// In millions (FLOPs).
    case millions(Int)

    /// One decimal fewer (none fewer than 0): how interval bounds are shown.
    var coarser: NumberFormat {
        switch self {
        case let .percent(digits): .percent(max(0, digits - 1))
        case let .fixed(digits): .fixed(max(0, digits - 1))
        case let .milliseconds(digits): .milliseconds(max(0, digits - 1))
        case let .microseconds(digits): .microseconds(max(0, digits - 1))
        case let .millions(digits): .millions(max(0, digits - 1))
        }
    }

    /// "87.35 [86.8, 87.9]": the mean of `values` and its 95% Student-t interval, the bounds
    /// one decimal coarser; the mean alone for a single value, "–" for none.
    func intervalText(_ values: [Double]) -> String {
        guard let summary = try? Statistics.Summary(values) else { return "–" }
        guard let interval = summary.tInterval(confidence: 0.95) else { return text(summary.mean) }
        return "\(text(summary.mean)) [\(coarser.text(interval.lower)), \(coarser.text(interval.upper))]"
    }

    func text(_ x: Double) -> String {
        switch self {
        case let .percent(digits): return Self.decimal(x * 100, digits)
        case let .fixed(digits): return Self.decimal(x, digits)
        case let .milliseconds(digits): return Self.decimal(x * 1000, digits)
        case let .microseconds(digits): return Self.decimal(x * 1_000_000, digits)
        case let .millions(digits): return Self.decimal(x / 1_000_000, digits)
        }
    }

    /// `x` with `digits` decimals; never "-0.00".
    static func decimal(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "NaN" : (x > 0 ? "inf" : "-inf") }
        let text = String(format: "%.\(digits)f", x)
        return text.hasPrefix("-") && text.dropFirst().allSatisfy { $0 == "0" || $0 == "." } ? String(text.dropFirst()) : text
    }
}

/// Count, mean and sample standard deviation (n - 1 in the denominator) of some values.
struct Summary: Sendable, Equatable {
    let count: Int
    let mean: Double
    /// Nil for fewer than two values.
    let standardDeviation: Double?

    init(_ values: [Double]) {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        if values.count >= 2 {
            let mean = self.mean
            let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            standardDeviation = (squares / Double(values.count - 1)).squareRoot()
        } else {
            standardDeviation = nil
        }
    }
}
