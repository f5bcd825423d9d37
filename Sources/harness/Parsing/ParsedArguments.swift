import HarnessKit

/// A command line read against a `CommandDescription`: `--name value` and `--name=value`
/// options, `--flag` switches, positional arguments, and `--` after which everything is
/// positional. The last of a repeated option wins. Values are converted when the command
/// asks for them, by the option's own declaration.
struct ParsedArguments {
    /// What a command line asked for.
    enum Request {
        case help
        case run(ParsedArguments)
    }

    let command: CommandDescription
    let positionals: [String]
    private let values: [String: String]
    private let flags: Set<String>

    /// `-h` or `--help` anywhere an option may stand asks for help, whatever else is on the
    /// line; otherwise the first problem found is thrown.
    static func parse(_ arguments: [String], for command: CommandDescription) throws -> Request {
        var values: [String: String] = [:], flags: Set<String> = [], positionals: [String] = []
        var firstError: UsageError?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                positionals += arguments[index...]
                break
            }
            if argument == "-h" || argument == "--help" { return .help }
            guard argument.hasPrefix("--") else {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2)), inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = command.option(named: name) else {
                firstError = firstError ?? UsageError("harness \(command.name): unknown option --\(name) "
                                                      + "(known: \(known(command))); see harness \(command.name) --help")
                continue
            }
            if option.isFlag {
                if inlineValue != nil {
                    firstError = firstError ?? UsageError("harness \(command.name): --\(name) takes no value")
                }
                flags.insert(name)
            } else if let inlineValue {
                values[name] = inlineValue
            } else if index < arguments.count {
                values[name] = arguments[index]
                index += 1
            } else {
                firstError = firstError ?? UsageError("harness \(command.name): --\(name) needs a value "
                                                      + "(\(option.synopsis))")
            }
        }
        if let firstError { throw firstError }
        try checkCount(positionals, command)
        return .run(ParsedArguments(command: command, positionals: positionals, values: values, flags: flags))
    }

    private static func known(_ command: CommandDescription) -> String {
        let names = command.options.map { "--" + $0.name }.sorted() + ["--help"]
        return names.joined(separator: ", ")
    }

    /// The number of positional arguments, against the declarations. A value error (exit 1),
    /// as it always was: the line was read, it just holds too many or too few.
    private static func checkCount(_ positionals: [String], _ command: CommandDescription) throws {
        let required = command.positionals.filter { $0.count == .one }
        let optional = command.positionals.filter { $0.count == .optional }.count
        let open = command.positionals.contains { $0.count == .any }
        if (required.count...(required.count + optional)).contains(positionals.count)
            || (open && positionals.count > required.count) { return }
        let usage = "usage: " + Help.usageLine(command)
        if command.positionals.isEmpty {
            throw HarnessError("harness \(command.name): expected no positional arguments, got "
                               + positionals.map { "\"\($0)\"" }.joined(separator: " ") + "; \(usage)")
        }
        let expected = (required.map { "one \($0.noun)" }
            + command.positionals.filter { $0.count == .optional }.map { "at most one \($0.noun)" }).joined(separator: " and ")
        throw HarnessError("harness \(command.name): expected \(expected)\(open ? " or more" : ""), "
                           + "got \(positionals.count); \(usage)")
    }

    /// The given value, else the default; throws when the option has neither.
    func value<Value>(_ option: Option<Value>) throws -> Value {
        guard let value = try optional(option) else {
            throw HarnessError("harness \(command.name): \(option.declaration.synopsis) is required "
                               + "(\(option.declaration.help))")
        }
        return value
    }

    /// The given value, else the default, else nil.
    func optional<Value>(_ option: Option<Value>) throws -> Value? {
        guard let text = values[checked(option.declaration)] else { return option.defaultValue }
        do {
            return try option.convert(text)
        } catch let error as InvalidValue {
            throw HarnessError("harness \(command.name): --\(option.declaration.name) \(error.reason)")
        }
    }

    /// Whether the option was on the command line (a default does not count).
    func isGiven(_ option: some DeclaredOption) -> Bool {
        let name = checked(option.declaration)
        return values[name] != nil || flags.contains(name)
    }

    func flag(_ flag: Flag) -> Bool { flags.contains(checked(flag.declaration)) }

    /// A command reading an option it did not declare is a bug: the parser would have
    /// refused the option, and help would not mention it.
    private func checked(_ declaration: OptionDeclaration) -> String {
        precondition(command.option(named: declaration.name) == declaration,
                     "harness \(command.name) reads \(declaration.synopsis) without declaring it")
        return declaration.name
    }
}
