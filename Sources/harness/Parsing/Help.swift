import Engine
import HarnessKit

/// `--help` text, generated from the declarations.
enum Help {
    static let width = 80
    /// Column where option and argument descriptions start.
    static let column = 24

    /// `harness run SPEC [--db PATH] ... [--force]`: required positionals, the options
    /// (required ones without brackets), then repeatable positionals.
    static func usageLine(_ command: CommandDescription) -> String { usageWords(command).joined(separator: " ") }

    private static func usageWords(_ command: CommandDescription) -> [String] {
        let options = command.options.map { $0.isRequired ? $0.synopsis : "[\($0.synopsis)]" }
        return ["harness", command.name] + command.positionals.filter { $0.count != .any }.map(\.synopsis) + options
            + command.positionals.filter { $0.count == .any }.map(\.synopsis)
    }

    /// The whole help of one command.
    static func render(_ command: CommandDescription) -> String {
        var sections = ["harness \(command.name): \(command.summary)",
                        fill(usageWords(command), prefix: "usage: ", indent: "         ")]
        if let discussion = command.discussion { sections.append(wrap(discussion)) }
        if !command.positionals.isEmpty {
            sections.append("arguments:\n" + command.positionals.map { entry($0.name, $0.help) }.joined(separator: "\n"))
        }
        let options = command.options.map { entry($0.synopsis, describe($0)) } + [entry("-h, --help", "show this help")]
        sections.append("options:\n" + options.joined(separator: "\n"))
        sections.append("examples:\n" + command.examples.map { "  " + $0 }.joined(separator: "\n"))
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// The option's help with what it accepts and its default: "jobs run at once (1...256;
    /// default: ...)".
    static func describe(_ option: OptionDeclaration) -> String {
        var notes: [String] = []
        if let accepted = option.accepted { notes.append(accepted) }
        if option.isRequired { notes.append("required") }
        if let defaultText = option.defaultText { notes.append("default: \(defaultText)") }
        return notes.isEmpty ? option.help : "\(option.help) (\(notes.joined(separator: "; ")))"
    }

    /// `harness --help`: the commands and how to get more.
    static func overview(_ commands: [CommandDescription]) -> String {
        let rows = commands.map { "  " + $0.name.padding(toLength: 8, withPad: " ", startingAt: 0) + " " + $0.summary }
        return """
            \(versionLine): runs experiment grids on Fashion-MNIST and keeps every result in SQLite

            usage: harness <command> [options]
                   harness help <command>    (or harness <command> --help) for a command's options
                   harness --version

            commands:
            \(rows.joined(separator: "\n"))
            """
    }

    /// `harness --version`.
    static var versionLine: String { "harness \(HarnessInfo.version) (engine \(EngineInfo.version))" }

    /// "  --db PATH             the results database ...", wrapped under its description column.
    private static func entry(_ term: String, _ text: String) -> String {
        let head = "  " + term
        let indent = String(repeating: " ", count: column)
        if head.count + 2 > column { return head + "\n" + wrap(text, prefix: indent, indent: indent) }
        return wrap(text, prefix: head.padding(toLength: column, withPad: " ", startingAt: 0), indent: indent)
    }

    /// Words filled into lines of at most `width` characters; the first line starts with
    /// `prefix`, the others with `indent`. A word longer than a line gets a line of its own.
    static func wrap(_ text: String, prefix: String = "", indent: String = "") -> String {
        fill(text.split(separator: " ").map(String.init), prefix: prefix, indent: indent)
    }

    /// `wrap` for words that may hold spaces themselves ("[--jobs N]" stays on one line).
    private static func fill(_ words: [String], prefix: String, indent: String) -> String {
        var lines: [String] = [], line = prefix, lineHasWord = false
        for word in words {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
