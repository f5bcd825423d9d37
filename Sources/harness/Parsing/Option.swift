/// What the parser and the help text know about one option, whatever its value's type.
/// Every option a command accepts is declared once, as an `Option` or a `Flag`; parsing,
/// the unknown-option message, the usage line and `--help` are all generated from these.
struct OptionDeclaration: Sendable, Equatable {
    /// The name without its dashes: "db" for `--db`.
    let name: String
    /// The value's placeholder in help ("PATH", "N"); nil for a flag, which takes no value.
    let valueName: String?
    /// One phrase or sentence for `--help`.
    let help: String
    /// The accepted values ("1...256", "lstm, rnn or cnn"), shown in help; nil for any text.
    let accepted: String?
    /// The default as help shows it; nil when there is none to show.
    let defaultText: String?
    /// Shown without brackets in the usage line; a value option's absence is an error.
    let isRequired: Bool

    var isFlag: Bool { valueName == nil }
    /// `--db PATH`, `--force`.
    var synopsis: String { "--" + name + (valueName.map { " " + $0 } ?? "") }
}

/// Anything a command can list among its options.
protocol DeclaredOption: Sendable {
    var declaration: OptionDeclaration { get }
}

/// Why a value was refused, completed by `ParsedArguments` into "harness CMD: --NAME <reason>".
struct InvalidValue: Error {
    let reason: String
}

/// An option that takes a value and converts it to `Value`.
struct Option<Value: Sendable>: DeclaredOption {
    let declaration: OptionDeclaration
    /// Used when the option is not given; it is also what help shows, unless the
    /// declaration's `defaultText` says otherwise.
    let defaultValue: Value?
    /// Converts the text on the command line; throws `InvalidValue` with the reason.
    let convert: @Sendable (String) throws -> Value

    init(_ name: String, _ valueName: String, help: String, accepted: String? = nil, default defaultValue: Value? = nil,
         defaultText: String? = nil, required: Bool = false, convert: @escaping @Sendable (String) throws -> Value) {
        declaration = OptionDeclaration(name: name, valueName: valueName, help: help, accepted: accepted,
                                        defaultText: defaultText ?? defaultValue.map { "\($0)" }, isRequired: required)
        self.defaultValue = defaultValue
        self.convert = convert
    }
}

/// A switch without a value: present or not.
struct Flag: DeclaredOption {
    let declaration: OptionDeclaration

    /// `required` only shows the flag without brackets in the usage line; the command
    /// checks it, with a message that says why it is needed.
    init(_ name: String, help: String, required: Bool = false) {
        declaration = OptionDeclaration(name: name, valueName: nil, help: help, accepted: nil, defaultText: nil,
                                        isRequired: required)
    }
}

extension Option where Value == String {
    /// Any text: a path, a name.
    static func text(_ name: String, _ valueName: String, help: String, default defaultValue: String? = nil,
                     defaultText: String? = nil, required: Bool = false) -> Option {
        Option(name, valueName, help: help, default: defaultValue, defaultText: defaultText, required: required) { $0 }
    }
}

extension Option where Value == Int {
    /// An integer within `range`.
    static func integer(_ name: String, _ valueName: String = "N", range: ClosedRange<Int>, help: String,
                        default defaultValue: Int? = nil, defaultText: String? = nil, required: Bool = false) -> Option {
        Option(name, valueName, help: help, accepted: "\(range.lowerBound)...\(range.upperBound)", default: defaultValue,
               defaultText: defaultText, required: required) { text in
            guard let number = Int(text) else { throw InvalidValue(reason: "expects an integer, got \"\(text)\"") }
            guard range.contains(number) else {
                throw InvalidValue(reason: "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
    }
}

extension Option where Value == Double {
    /// A finite number within `range`.
    static func number(_ name: String, _ valueName: String = "X", range: ClosedRange<Double>, help: String,
                       default defaultValue: Double? = nil, defaultText: String? = nil) -> Option {
        let accepted = "\(shortest(range.lowerBound))...\(shortest(range.upperBound))"
        return Option(name, valueName, help: help, accepted: accepted, default: defaultValue,
                      defaultText: defaultText ?? defaultValue.map(shortest)) { text in
            guard let number = Double(text), number.isFinite else {
                throw InvalidValue(reason: "expects a number, got \"\(text)\"")
            }
            guard range.contains(number) else { throw InvalidValue(reason: "\(shortest(number)) is out of range \(accepted)") }
            return number
        }
    }
}

/// "0.99", "1", "0": a number as a person would write it.
private func shortest(_ number: Double) -> String { String(format: "%g", number) }

extension Option where Value: RawRepresentable<String> {
    /// One of `cases`, named by its raw value.
    static func choice(_ name: String, _ valueName: String, cases: [Value], help: String,
                       default defaultValue: Value) -> Option {
        let names = cases.map(\.rawValue)
        return Option(name, valueName, help: help, accepted: names.joined(separator: ", "), default: defaultValue,
                      defaultText: defaultValue.rawValue) { text in
            guard names.contains(text), let value = Value(rawValue: text) else {
                throw InvalidValue(reason: "must be one of \(names.joined(separator: ", ")), got \"\(text)\"")
            }
            return value
        }
    }
}

/// A positional argument as help shows it, and what the parser expects of it.
struct Positional: Sendable {
    /// `optional`: one or none (the command says when none is right).
    enum Count: Sendable { case one, optional, any }
    /// The placeholder: "SPEC".
    let name: String
    let help: String
    /// What the argument is, for "expected one spec file": "spec file".
    let noun: String
    let count: Count

    init(_ name: String, help: String, noun: String, count: Count = .one) {
        self.name = name
        self.help = help
        self.noun = noun
        self.count = count
    }

    /// `SPEC`, `[SPEC]`, `[SHARD.sqlite ...]`.
    var synopsis: String {
        switch count {
        case .one: name
        case .optional: "[\(name)]"
        case .any: "[\(name) ...]"
        }
    }
}
