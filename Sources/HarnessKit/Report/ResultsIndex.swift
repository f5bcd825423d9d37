import Foundation

/// `harness report --all`: every experiment of a database reported into one directory, and
/// an index there (`README.md`) with every value and claim the paper and the related
/// write-ups make, across the experiments, one line each: our number with its interval and
/// the verdict of the experiment's report.
public enum ResultsIndex {
    public static let fileName = "README.md"
    /// The index's first line, by which a later `--all` knows it may overwrite the file.
    static let heading = "# Results: the paper's claims against ours"

    /// Every experiment of `store`, by name. Each is read with its spec file when that file
    /// is still where it was registered from, under the current directory (so the report
    /// names it by a relative path and uses its grid), else with the spec stored with it.
    public static func load(store: Store) throws -> [ReportData] {
        let directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).resolvingSymlinksInPath().path
        return try store.experimentNames().sorted().map { name in
            let record = try store.experiment(name: name)
            if let path = record.specPath, path.hasPrefix(directory + "/"), FileManager.default.fileExists(atPath: path) {
                let relative = String(path.dropFirst(directory.count + 1))
                // A file that now names another experiment, or no longer parses, is not this one's spec.
                if let spec = try? ExperimentSpec.load(path: relative), spec.name == name {
                    return try ReportData.load(store: store, subject: .specFile(relative))
                }
            }
            return try ReportData.load(store: store, subject: .experiment(name))
        }
    }

    /// Writes each experiment's report as `<directory>/<name>.md` with its figures, then the
    /// index. Every target is checked before anything is written (`Report.checkTarget`), so a
    /// refused file leaves the directory as it was. Returns the files written, index last.
    public static func write(_ reports: [ReportData], to directory: String, database: String) throws -> [String] {
        let folder = URL(fileURLWithPath: directory)
        var documents: [(path: String, document: ReportDocument)] = []
        for data in reports {
            let path = folder.appendingPathComponent(data.spec.name + ".md").path
            documents.append((path, try Report.render(data, figureStem: data.spec.name)))
        }
        let index = try render(reports)
        let indexPath = folder.appendingPathComponent(fileName).path
        for (path, document) in documents {
            try Report.checkTarget(path, kind: .report(.md), database: database)
            for figure in document.figures {
                try Report.checkTarget(folder.appendingPathComponent(figure.fileName).path, kind: .figure, database: database)
            }
        }
        try Report.checkTarget(indexPath, kind: .index, database: database)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var written: [String] = []
        for (path, document) in documents {
            try Report.write(document, to: path, database: database)
            written.append(path)
        }
        try Report.writeAtomically(index, to: indexPath)
        return written + [indexPath]
    }

    /// The index: the data the experiments ran on, every reference value against ours, the
    /// paper's claims (its best configuration, retraining after pruning) against our
    /// comparisons, and a line per report.
    static func render(_ reports: [ReportData]) throws -> String {
        var lines = [heading, ""]
        lines.append("Every value the paper (Shen) and the related write-ups report, across the experiments below, against "
                     + "ours: our mean over seeds with its 95% confidence interval [Student t] and the verdict of the "
                     + "experiment's report (its Reproduction section says how each is reached). Written by "
                     + "`harness report --all` from the results database; each experiment's report is beside this file.")
        lines.append("")

        let official = reports.filter(\.runsOnThePapersData).map(\.spec.name)
        var datasets: [String: DatasetRecord] = [:]
        for data in reports { for dataset in data.datasets { datasets[dataset.fingerprint] = dataset } }
        lines.append("## Data")
        lines.append("")
        if datasets.isEmpty {
            lines.append("No experiment has a job that ran yet.")
        } else {
            for dataset in datasets.values.sorted(by: { $0.fingerprint < $1.fingerprint }) {
                let description = (try? JSONValue.parse(dataset.descriptionJSON)) ?? .null
                func count(_ split: String) -> String {
                    if case let .int(n)? = description[split]?["records"] { return Self.grouped(n) }
                    return "?"
                }
                lines.append("- \(dataset.fingerprint): \(count("train")) training and \(count("test")) test images.")
            }
            lines.append("")
            lines.append(official.count == reports.count
                ? "Every experiment ran on the official full Fashion-MNIST, so the verdicts compare like with like."
                : "Only experiments on the official full Fashion-MNIST (60,000 training and 10,000 test images, the "
                    + "official files by MD5) get a verdict; the others are shown beside the paper's numbers and say "
                    + "\"not compared: other data\"" + (official.isEmpty ? "." : " (on the official data: \(official.joined(separator: ", "))).")
                    + " A subset's accuracies sit below the full data's, so only a run on the full data can reproduce them.")
        }
        lines.append("")

        var values = MarkdownTable([.init("experiment", .left), .init("grid point", .left), .init("metric", .left),
                                    .init("paper"), .init("ours [95% CI]"), .init("n"), .init("verdict", .left)])
        var claims = MarkdownTable([.init("experiment", .left), .init("the paper's claim", .left), .init("ours", .left),
                                    .init("verdict", .left)])
        var verdicts: [String: Int] = [:]
        for data in reports {
            guard let reference = try ReferenceTable(spec: data.spec, origin: data.spec.filePath) else { continue }
            let link = "[\(data.spec.name)](\(data.spec.name).md)"
            for row in ReproductionRow.all(data, reference: reference) {
                values.add([link, data.label(data.points[row.point]), row.metric.name, row.metric.text(row.paper),
                            row.metric.intervalText(row.values), String(row.values.count), row.verdict.verdict.rawValue])
                verdicts[row.verdict.verdict.rawValue, default: 0] += 1
            }
            let otherData = data.runsOnThePapersData ? "" : " (other data)"
            for best in BestClaim.all(data, reference: reference) {
                claims.add([link, "the best configuration has \(best.claim)", best.finding, best.verdict.rawValue + otherData])
            }
            for claim in RetrainingClaim.all(data, reference: reference) {
                let difference = NumberFormat.decimal(100 * claim.paperDifference, 2)
                let ours = ReportRenderer.pairedCells(claim.ours.test, claim.ours.wilcoxon)
                claims.add([link, "retraining after pruning at \(data.label(data.points[claim.point])) changed accuracy by "
                                + "\(claim.paperDifference > 0 ? "+" : "")\(difference) points",
                            "\(ours[0]) points, t-test p \(ours[1]) (n = \(claim.ours.pairs)): \(claim.ours.answer.rawValue)",
                            claim.verdict.rawValue + otherData])
            }
        }
        lines.append("## Values")
        lines.append("")
        if values.rows.isEmpty {
            lines.append("No experiment's spec gives the paper's values (`reference`).")
        } else {
            let order = ["consistent", "differs", "inconclusive", "not compared: other data", "too few done jobs"]
            let counts = order.compactMap { verdict in verdicts[verdict].map { "\($0) \(verdict)" } }
            lines.append("\(values.rows.count) values: \(counts.joined(separator: ", ")).")
            lines.append("")
            lines.append(values.text)
        }
        lines.append("")
        if !claims.rows.isEmpty {
            lines.append("## Claims")
            lines.append("")
            lines.append("What the paper says of its results beyond single numbers, against our paired comparisons (each "
                         + "report's Comparisons and Pruning sections): the best configuration against every other "
                         + "grid point, seed by seed with Holm-adjusted p; retraining after pruning against each job's "
                         + "own accuracy before pruning, in points with the 95% interval.")
            lines.append("")
            lines.append(claims.text)
            lines.append("")
        }

        lines.append("## Reports")
        lines.append("")
        var index = MarkdownTable([.init("report", .left), .init("what it reruns", .left), .init("jobs", .left),
                                   .init("highest mean accuracy", .left)])
        for data in reports {
            // The description's first sentence.
            let text = data.spec.description
            let description = text.range(of: ". ").map { String(text[..<$0.lowerBound]) } ?? text
            index.add(["[\(data.spec.name)](\(data.spec.name).md)", description.isEmpty ? "–" : description,
                       "\(data.jobs.count) (\(Report.describeStates(data.jobs)))",
                       data.best.map { data.label(data.points[$0]) } ?? "–"])
        }
        lines.append(index.text)
        return lines.joined(separator: "\n") + "\n"
    }

    /// 60000 as "60,000".
    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}
