import Foundation

/// What `harness report --format` writes.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// The markdown report with its SVG figures (or a markdown pivot table).
    case md
    /// One row per grid point: its grid values, then for every metric its mean, standard
    /// deviation and n, and the paper's value where the spec has one (or the pivot table).
    case csv
    /// The whole, for programs: the experiment, its grid points (as in the CSV) and every job
    /// with its results (or the pivot table).
    case json
    /// The report's tables as booktabs `tabular`s, to paste into a paper (or the pivot table).
    case latex

    /// The first bytes of a file written in this format, by which a later `--out` knows it
    /// may overwrite it (see `Report.checkTarget`).
    var signature: String {
        switch self {
        case .md: "# "
        case .csv: "point,"
        case .json: "{\"experiment\":"
        case .latex: "% harness report"
        }
    }
}

/// A table of values: the form every export is written from. A row holds one value per
/// column; numbers stay numbers (no units, no rounding) so a program reading the CSV or
/// JSON gets what the database holds.
struct DataTable: Sendable {
    var name: String
    var columns: [String]
    var rows: [[JSONValue]] = []

    /// RFC 4180: comma-separated, a header line, fields with a comma, quote or line break
    /// quoted (quotes doubled); numbers in full precision, null as an empty field.
    var csv: String {
        func field(_ value: JSONValue) -> String {
            let text: String
            switch value {
            case .null: text = ""
            case let .string(s): text = s
            default: text = value.canonicalText()   // numbers, booleans, lists and objects as JSON
            }
            guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
            return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([columns.map { field(.string($0)) }] + rows.map { $0.map(field) })
            .map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// Each row as an object keyed by column name, in column order.
    var json: JSONValue {
        .array(rows.map { row in .object(zip(columns, row).map { (key: $0, value: $1) }) })
    }
}

/// LaTeX for a table harness rendered as markdown: a `table` float with a booktabs
/// `tabular` (\toprule, \midrule, \bottomrule), the markdown's cells as text with LaTeX's
/// special characters escaped, "±" as `$\pm$`, bold as `\textbf`. Needs `\usepackage{booktabs}`.
enum LaTeXTable {
    static func render(_ table: MarkdownTable, caption: String, label: String) -> String {
        let alignment = table.columns.map { $0.alignment == .right ? "r" : "l" }.joined()
        var lines = ["\\begin{table}[ht]", "\\centering", "\\caption{\(cell(caption))}", "\\label{\(label)}",
                     "\\begin{tabular}{\(alignment)}", "\\toprule"]
        lines.append(table.columns.map { cell($0.header) }.joined(separator: " & ") + " \\\\")
        lines.append("\\midrule")
        for row in table.rows { lines.append(row.map(cell).joined(separator: " & ") + " \\\\") }
        lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
        return lines.joined(separator: "\n")
    }

    /// A markdown cell as LaTeX: "**x**" becomes \textbf{x}, "±" $\pm$, "–" (no value) --.
    static func cell(_ markdown: String) -> String {
        var text = markdown.replacingOccurrences(of: "\\|", with: "|")
        var bold = false
        if text.hasPrefix("**") && text.hasSuffix("**") && text.count >= 4 {
            text = String(text.dropFirst(2).dropLast(2))
            bold = true
        }
        var out = escape(text)
        if bold { out = "\\textbf{\(out)}" }
        return out
    }

    /// The non-ASCII symbols reports use, as LaTeX that needs no package beyond the kernel
    /// (pdflatex without inputenc setup refuses them as raw UTF-8).
    static let symbols: [Character: String] = [
        "±": "$\\pm$", "–": "--", "×": "$\\times$", "\u{2212}": "$-$", "≈": "$\\approx$", "†": "\\dag{}",
        "·": "$\\cdot$", "→": "$\\to$", "µ": "$\\mu$",
    ]

    /// Escapes the characters LaTeX gives a meaning: \ & % $ # _ { } ~ ^; and writes the
    /// non-ASCII `symbols` reports use as LaTeX.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\" + String(character)
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            default: if let latex = symbols[character] { out += latex } else { out.append(character) }
            }
        }
        return out
    }
}

extension Report {
    /// The experiment in `format` (not `.md`, which is `render`): CSV of its grid points,
    /// JSON of its points and jobs, or LaTeX of the report's tables. `baseline` as in `render`.
    public static func export(_ data: ReportData, format: ReportFormat, baseline: String? = nil) throws -> String {
        switch format {
        case .md:
            return try render(data, figureStem: nil, baseline: baseline).markdown
        case .csv:
            return try pointsTable(data).csv
        case .json:
            let spec = (try? JSONValue.parse(data.spec.sourceJSON)) ?? .string(data.spec.sourceJSON)
            var members: [(key: String, value: JSONValue)] = [
                ("experiment", .string(data.spec.name)), ("description", .string(data.spec.description)),
                ("spec", spec), ("points", try pointsTable(data).json),
                ("comparisons_with_best", comparisonsTable(data.comparisonsWithBest ?? [], reference: "best").json),
                ("test_image_comparisons_with_best",
                 testImageTable(data.best.map { TestImageComparison.against($0, data: data) } ?? [], reference: "best").json),
            ]
            if let chosen = try chosenBaseline(data, argument: baseline), chosen.references.count == data.points.count {
                let accuracy = ReportMetric.named("accuracy")!
                members += [
                    ("comparisons_with_baseline", comparisonsTable(PairedComparison.against(
                        references: chosen.references, points: data.points, metric: accuracy), reference: "baseline").json),
                    ("test_image_comparisons_with_baseline", testImageTable(TestImageComparison.against(
                        references: chosen.references, data: data), reference: "baseline").json),
                ]
            }
            members.append(("jobs", jobsTable(data).json))
            return JSONValue.object(members).orderedText() + "\n"
        case .latex:
            let document = try render(data, figureStem: nil, baseline: baseline)
            let tables = document.tables.map { LaTeXTable.render($0.table, caption: $0.caption, label: "tab:\(data.spec.name)-\($0.name)") }
            return (["\(ReportFormat.latex.signature) of \(data.spec.name): tables for \\usepackage{booktabs}"] + tables)
                .joined(separator: "\n\n") + "\n"
        }
    }

    /// One row per grid point: "point" (1-based), the grid values, then for every metric
    /// that some done job has: mean, sample standard deviation, n and the 95% Student-t
    /// interval over the done jobs (for accuracy also a seeded percentile-bootstrap
    /// interval, 10,000 replicates), and the paper's value where the spec's reference gives
    /// one; "jobs_done" last.
    static func pointsTable(_ data: ReportData) throws -> DataTable {
        let reference = try ReferenceTable(spec: data.spec, origin: data.spec.filePath)
        let done = data.jobs.filter(\.isDone).map(\.result)
        let metrics = ReportMetric.all.filter { metric in done.contains { metric.value($0) != nil } }
        var columns = ["point"] + data.dimensions
        for metric in metrics {
            columns += [metric.name + "_mean", metric.name + "_sd", metric.name + "_n", metric.name + "_ci_low",
                        metric.name + "_ci_high"]
            if metric.name == "accuracy" { columns += ["accuracy_bootstrap_low", "accuracy_bootstrap_high"] }
            if reference?.has(metric.name) == true { columns.append(metric.name + "_paper") }
        }
        columns += ["vs_best_difference", "vs_best_holm_p", "vs_best_verdict", "jobs_done"]
        let comparisons = data.comparisonsWithBest
        var table = DataTable(name: "points", columns: columns)
        for point in data.points {
            var row: [JSONValue] = [.int(point.index + 1)] + point.values.map { value in
                if case .string(let label)? = value[SettingField.variantLabelKey] { return .string(label) }
                return value
            }
            let results = point.doneJobs.map(\.result)
            for metric in metrics {
                let summary = metric.summary(results)
                let values = metric.values(results)
                let interval = (try? Statistics.Summary(values))?.tInterval(confidence: 0.95)
                row += [summary.count > 0 ? number(summary.mean) : .null,
                        summary.standardDeviation.map(number) ?? .null, .int(summary.count),
                        interval.map { number($0.lower) } ?? .null, interval.map { number($0.upper) } ?? .null]
                if metric.name == "accuracy" {
                    // Seeded by the point's number, so the same data always gives the same interval.
                    let boot = try? Statistics.percentileBootstrapInterval(values, confidence: 0.95, replicates: 10_000,
                                                                          seed: UInt64(point.index + 1))
                    row += [boot.map { number($0.lower) } ?? .null, boot.map { number($0.upper) } ?? .null]
                }
                if reference?.has(metric.name) == true {
                    row.append(reference?.value(metric.name, dimensions: data.dimensions, values: point.values).map(number) ?? .null)
                }
            }
            let comparison = comparisons?[point.index]
            row += [comparison?.test.map { number($0.meanDifference) } ?? .null, comparison?.adjustedP.map(number) ?? .null,
                    comparison.map { .string($0.verdict.text(reference: "best")) } ?? .null, .int(results.count)]
            table.rows.append(row)
        }
        return table
    }

    /// Every point against the best, or the baseline, on accuracy, paired by seed
    /// (`PairedComparison`), called `name` in verdicts: one row each. "compared_with" is the
    /// point a row is compared with (a matched baseline's differ from row to row), null for
    /// the point(s) the others are compared with; points are numbered as in `pointsTable`.
    static func comparisonsTable(_ comparisons: [PairedComparison], reference name: String) -> DataTable {
        var table = DataTable(name: "comparisons", columns: [
            "point", "compared_with", "pairs", "difference", "ci_low", "ci_high", "t_test_p", "wilcoxon_p",
            "wilcoxon_minimum_p", "hedges_g", "magnitude", "holm_p", "verdict",
        ])
        for comparison in comparisons {
            let interval = comparison.test?.meanDifferenceInterval(confidence: 0.95)
            table.rows.append([
                .int(comparison.point + 1), pointNumber(comparison.reference), .int(comparison.pairs),
                comparison.test.map { number($0.meanDifference) } ?? .null,
                interval.map { number($0.lower) } ?? .null, interval.map { number($0.upper) } ?? .null,
                comparison.test.map { number($0.p) } ?? .null, comparison.wilcoxon.map { number($0.p) } ?? .null,
                comparison.wilcoxon.map { number($0.minimumAchievableP) } ?? .null,
                comparison.effect?.hedgesG.map(number) ?? .null,
                comparison.effect?.magnitude.map { .string($0.rawValue) } ?? .null,
                comparison.adjustedP.map(number) ?? .null, .string(comparison.verdict.text(reference: name)),
            ])
        }
        return table
    }

    /// Every point against the best, or the baseline, on the same test images
    /// (`TestImageComparison`): one row each, with McNemar's p per seed and the classes that
    /// differ; "compared_with" as in `comparisonsTable`.
    static func testImageTable(_ comparisons: [TestImageComparison], reference name: String) -> DataTable {
        var table = DataTable(name: "test_image_comparisons", columns: [
            "point", "compared_with", "seeds", "only_this_right", "only_\(name)_right", "p_per_seed", "pooled_p", "holm_p",
            "verdict", "differing_classes",
        ])
        for comparison in comparisons {
            let names = ReportFigures.classNames(comparison.classes.count)
            table.rows.append([
                .int(comparison.point + 1), pointNumber(comparison.reference), .int(comparison.seeds.count),
                comparison.pooled.map { .int($0.onlyFirst) } ?? .null, comparison.pooled.map { .int($0.onlySecond) } ?? .null,
                .object(comparison.seeds.map { (key: String($0.seed), value: number($0.test.p)) }),
                comparison.pooled.map { number($0.p) } ?? .null, comparison.adjustedP.map(number) ?? .null,
                .string(comparison.verdict.text(reference: name)),
                .array(comparison.differingClasses.map { difference in
                    .object([("class", .string(names[difference.classIndex])),
                             ("recall_difference", number(difference.recallDifference)),
                             ("holm_p", number(difference.adjustedP))])
                }),
            ])
        }
        return table
    }

    /// A grid point's number as exports give it (1-based), null for none.
    static func pointNumber(_ index: Int?) -> JSONValue { index.map { .int($0 + 1) } ?? .null }

    /// One row per job of the experiment, in its job order: its point, id, seed, state,
    /// run, data set, every metric, and the error of a failed or interrupted run.
    static func jobsTable(_ data: ReportData) -> DataTable {
        var table = DataTable(name: "jobs", columns: ["point", "job_id", "seed", "state", "run_id", "dataset_fingerprint"]
                              + ReportMetric.names + ["error"])
        for job in data.jobs {
            let result = job.result
            table.rows.append([pointNumber(job.point), .string(result.jobID), .int(result.seed),
                               .string(result.state.rawValue), result.runID.map { .int(Int($0)) } ?? .null,
                               .string(result.datasetFingerprint)]
                              + ReportMetric.all.map { metric in metric.value(result).map(number) ?? .null }
                              + [result.error.map { .string($0) } ?? .null])
        }
        return table
    }

    /// A finite number as JSON; NaN and infinities (undefined metrics) as null.
    static func number(_ x: Double) -> JSONValue { x.isFinite ? .double(x) : .null }
}
