import Foundation

/// The text `harness plan` prints: what the spec sets, then one row per job.
///
///     Experiment layers: Paper 3.1: layers x hidden x batch
///     Spec file: experiments/layers.json
///     Base settings:
///       dataset   train_size=60000 stratified=false sequence=rows
///       model     type=lstm layers=(grid) hidden=(grid) activation=tanh dense=[]
///       training  epochs=10 batch_size=100 optimizer=adam learning_rate=0.001
///     Grid: model.layers (3 values) x model.hidden (3 values)
///     Seeds: 1, 2, 3
///
///      #  model.layers  model.hidden  seed
///      1             1            32     1
///     ...
///     27 jobs (9 grid points x 3 seeds)
///
/// With adaptive seeds the rows are the start seeds' jobs, and the seeds line and the
/// total say how many more `harness run` may add.
public enum Plan {
    /// `jobs` are the spec's jobs (`spec.jobs()`), numbered from 1 in that order.
    public static func render(_ spec: ExperimentSpec, jobs: [JobConfig]) -> String {
        var lines: [String] = []
        lines.append("Experiment \(spec.name)" + (spec.description.isEmpty ? "" : ": \(spec.description)"))
        lines.append("Spec file: \(spec.filePath)")
        lines.append("Base settings:")
        for (section, pairs) in baseSettings(spec) {
            let text = pairs.map { "\($0)=\($1)" }.joined(separator: " ")
            lines.append("  " + section.padding(toLength: 10, withPad: " ", startingAt: 0) + text)
        }
        let dimensions = spec.grid.map { "\($0.path) (\(count($0.values.count, "value")))" }
        lines.append("Grid: " + (dimensions.isEmpty ? "none" : dimensions.joined(separator: " x ")))
        var seeds = "Seeds: " + spec.seeds.map(String.init).joined(separator: ", ")
        // With one grid point there is no comparison with the best, so no round adds a seed.
        let extra = spec.gridPointCount > 1 ? spec.adaptiveSeeds.map { Array($0.allSeeds.dropFirst($0.start)) } ?? [] : []
        if let adaptive = spec.adaptiveSeeds {
            seeds += "; adaptive, up to \(adaptive.max) per grid point"
            if spec.gridPointCount == 1 && adaptive.max > adaptive.start {
                seeds += " (with one grid point there is nothing to compare, so harness run adds none)"
            } else if !extra.isEmpty {
                seeds += " (harness run adds seed\(extra.count == 1 ? "" : "s") \(AdaptiveSeeds.range(extra)), one at a time, "
                    + "to the grid points whose comparison with the best is undecided)"
            }
        }
        lines.append(seeds)
        lines.append("")
        lines += table(spec, jobs)
        lines.append("")
        var total = "\(count(jobs.count, "job")) (\(count(spec.gridPointCount, "grid point")) x \(count(spec.seeds.count, "seed")))"
        if !extra.isEmpty {
            total += "; adaptive seeds may add up to \(spec.gridPointCount * extra.count) more "
                + "(\(count(spec.gridPointCount, "grid point")) x \(count(extra.count, "seed")))"
        }
        lines.append(total)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The base settings that affect results, section by section, with grid-varied fields
    /// marked "(grid)" and the two fields that are not part of a job's identity added back.
    private static func baseSettings(_ spec: ExperimentSpec) -> [(String, [(String, String)])] {
        let gridded = Set(spec.grid.map(\.path))
        let settings = JobSettings(dataset: spec.dataset, model: spec.model, training: spec.training, pruning: spec.pruning)
        let sections = SettingSection.allCases.filter { $0 != .pruning || spec.pruning != nil }.map {
            ($0.rawValue, SettingField.identityObject($0, settings))
        }

        return sections.map { section, object in
            guard case let .object(members) = object else { return (section, []) }
            var pairs = members.map { member in
                (member.key, gridded.contains("\(section).\(member.key)") ? "(grid)" : GridLabel.value(member.value))
            }
            for path in spec.grid.map(\.path) where path.hasPrefix(section + ".") {
                let key = String(path.dropFirst(section.count + 1))
                if !pairs.contains(where: { $0.0 == key }) { pairs.append((key, "(grid)")) }
            }
            if section == "dataset" {
                if spec.dataset.trainSize == nil && spec.dataset.trainFraction == nil
                    && !gridded.contains("dataset.train_size") && !gridded.contains("dataset.train_fraction") {
                    pairs.insert(("train_size", "all"), at: 0)
                }
                if let path = spec.dataset.path, !gridded.contains("dataset.path") { pairs.insert(("path", path), at: 0) }
            }
            if section == "training", let threads = spec.training.threads { pairs.append(("threads", String(threads))) }
            return (section, pairs)
        }
    }

    /// Job number, one column per grid dimension, seed; numeric columns right-aligned.
    private static func table(_ spec: ExperimentSpec, _ jobs: [JobConfig]) -> [String] {
        let headers = ["#"] + spec.grid.map(\.path) + ["seed"]
        var numeric = Array(repeating: true, count: headers.count)
        let rows: [[String]] = jobs.enumerated().map { index, job in
            var cells = [String(index + 1)]
            for (column, entry) in job.gridPoint.enumerated() {
                cells.append(GridLabel.value(entry.value))
                switch entry.value {
                case .int, .double: break
                default: if column + 1 < numeric.count { numeric[column + 1] = false }
                }
            }
            cells.append(String(job.seed))
            return cells
        }
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                guard column < widths.count else { return cell }
                let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
                return numeric[column] ? padding + cell : cell + padding
            }
            .joined(separator: "  ")
            .replacingTrailingSpaces()
        }
        return [format(headers)] + rows.map(format)
    }


    private static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

private extension String {
    func replacingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
