/// A small command-line parser: `--name value` options, `--flag` switches and
/// positional arguments, with errors that name the command and the option.
public struct Arguments {
    public let command: String
    private var options: [String: String] = [:]
    private var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// `valueOptions` take a value; `flagOptions` do not. Anything else starting with `--` is an error.
    public init(command: String, _ arguments: [String], valueOptions: [String], flagOptions: [String] = []) throws {
        self.command = command
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                var name = String(argument.dropFirst(2))
                var inlineValue: String?
                if let eq = name.firstIndex(of: "=") {
                    inlineValue = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
                if valueOptions.contains(name) {
                    if let inlineValue {
                        options[name] = inlineValue
                    } else {
                        guard index + 1 < arguments.count else {
                            throw HarnessError("harness \(command): --\(name) needs a value")
                        }
                        options[name] = arguments[index + 1]
                        index += 1
                    }
                } else if flagOptions.contains(name), inlineValue == nil {
                    flags.insert(name)
                } else {
                    let known = (valueOptions + flagOptions).sorted().map { "--\($0)" }.joined(separator: ", ")
                    throw HarnessError("harness \(command): unknown option --\(name) (known: \(known.isEmpty ? "none" : known))")
                }
            } else {
                positionals.append(argument)
            }
            index += 1
        }
    }

    public func string(_ name: String) -> String? { options[name] }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func int(_ name: String, default value: Int? = nil, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = options[name] else { return value }
        guard let number = Int(text) else {
            throw HarnessError("harness \(command): --\(name) expects an integer, got \"\(text)\"")
        }
        if let range, !range.contains(number) {
            throw HarnessError("harness \(command): --\(name) \(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func double(_ name: String, range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let text = options[name] else { return nil }
        guard let number = Double(text), number.isFinite else {
            throw HarnessError("harness \(command): --\(name) expects a number, got \"\(text)\"")
        }
        if let range, !range.contains(number) {
            throw HarnessError("harness \(command): --\(name) \(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func choice(_ name: String, _ choices: [String], default value: String) throws -> String {
        guard let text = options[name] else { return value }
        guard choices.contains(text) else {
            throw HarnessError("harness \(command): --\(name) must be one of \(choices.joined(separator: ", ")), got \"\(text)\"")
        }
        return text
    }

    /// The positional arguments, checked against the count the command expects.
    public func positionals(_ expected: ClosedRange<Int>, usage: String) throws -> [String] {
        guard expected.contains(positionals.count) else {
            throw HarnessError("harness \(command): expected \(usage)")
        }
        return positionals
    }
}
