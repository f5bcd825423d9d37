/// A subcommand: declares its arguments once in `command`, builds itself from what the
/// parser read, and runs, returning the process's exit status.
protocol Subcommand: Sendable {
    static var command: CommandDescription { get }
    init(_ arguments: ParsedArguments) throws
    func run() throws -> Int32
}

/// Everything about a subcommand's command line: the parser reads it, `--help` prints it.
struct CommandDescription: Sendable {
    let name: String
    /// One line for `harness --help`, and the first line of the command's own help.
    let summary: String
    /// A few sentences printed after the usage line; nil for none.
    let discussion: String?
    let positionals: [Positional]
    let options: [OptionDeclaration]
    /// Whole command lines, starting with "harness".
    let examples: [String]

    init(name: String, summary: String, discussion: String? = nil, positionals: [Positional] = [],
         options: [any DeclaredOption], examples: [String]) {
        self.name = name
        self.summary = summary
        self.discussion = discussion
        self.positionals = positionals
        self.options = options.map(\.declaration)
        self.examples = examples
        let names = self.options.map(\.name)
        precondition(Set(names).count == names.count, "harness \(name) declares an option twice: \(names)")
        precondition(!names.contains("help"), "harness \(name): --help is every command's own")
    }

    func option(named name: String) -> OptionDeclaration? { options.first { $0.name == name } }
}

/// The command line could not be read (an unknown command or option, an option without
/// its value, a value given to a flag): the process exits with status 2. Values that are
/// read but refused (not a number, out of range, the wrong number of positional
/// arguments) are `HarnessError`s and exit with 1, as every other failure does.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
