import Engine
import HarnessKit
import TestSupport
import XCTest
@testable import harness

/// `--help`, `help`, `--version` and usage errors, run as a user would. The commands and
/// their options are iterated from the declarations, so an option added without help
/// text, or missing from the printed help, fails here.
final class HelpTests: XCTestCase {
    /// Help with every run of spaces and line breaks made one space, so wrapped text can be searched.
    private func flattened(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ")
    }

    func testEveryCommandAnswersHelpWithEachDeclaredOptionItsDefaultAndAnExample() throws {
        XCTAssertEqual(Commands.all.count, 8)
        for command in Commands.all.map({ $0.command }) {
            let printed = try HarnessBinary.run([command.name, "--help"])
            XCTAssertEqual(printed.status, 0, "\(command.name): \(printed.standardError)")
            XCTAssertEqual(printed.standardError, "", command.name)
            for other in [[command.name, "-h"], ["help", command.name]] {
                XCTAssertEqual(try HarnessBinary.run(other).standardOutput, printed.standardOutput, "\(other)")
            }
            let help = flattened(printed.standardOutput)
            XCTAssert(help.hasPrefix("harness \(command.name): \(command.summary) usage: harness \(command.name)"), help)
            for positional in command.positionals {
                XCTAssertFalse(positional.help.isEmpty, "\(command.name) \(positional.name) has no help")
                XCTAssert(help.contains("\(positional.name) \(positional.help)"), "\(command.name) \(positional.name): \(help)")
            }
            for option in command.options {
                XCTAssertFalse(option.help.isEmpty, "harness \(command.name) \(option.synopsis) has no help")
                XCTAssert(help.contains("[\(option.synopsis)]") || (option.isRequired && help.contains(option.synopsis)),
                          "usage line of \(command.name) lacks \(option.synopsis): \(help)")
                XCTAssert(help.contains("\(option.synopsis) \(Help.describe(option))"),
                          "\(command.name) \(option.synopsis): \(help)")
                if let defaultText = option.defaultText {
                    XCTAssert(help.contains("default: \(flattened(defaultText))"), "\(command.name) \(option.synopsis)")
                }
            }
            XCTAssert(help.contains("-h, --help show this help"), help)
            XCTAssertFalse(command.examples.isEmpty, "\(command.name) has no example")
            XCTAssert(help.contains("examples:"), help)
            for example in command.examples {
                XCTAssert(printed.standardOutput.contains("  " + example + "\n"), example)
            }
        }
    }

    /// Each example is a command line the command accepts (without running it).
    func testEveryExampleParses() throws {
        for type in Commands.all {
            for example in type.command.examples {
                let words = example.split(separator: " ").map(String.init)
                XCTAssertEqual(Array(words.prefix(2)), ["harness", type.command.name], example)
                guard case .run(let arguments) = try ParsedArguments.parse(Array(words.dropFirst(2)), for: type.command) else {
                    XCTFail("\(example) asks for help")
                    continue
                }
                XCTAssertNoThrow(try type.init(arguments), example)
            }
        }
    }

    func testOverviewListsEveryCommand() throws {
        for arguments in [["--help"], ["-h"], ["help"]] {
            let result = try HarnessBinary.run(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments)")
            XCTAssert(result.standardOutput.contains("usage: harness <command>"), result.standardOutput)
            for command in Commands.all.map({ $0.command }) {
                XCTAssert(result.standardOutput.contains("  \(command.name) "), "\(command.name) in \(arguments)")
                XCTAssert(result.standardOutput.contains(command.summary), "\(command.name) in \(arguments)")
            }
        }
        let bare = try HarnessBinary.run([])
        XCTAssertEqual(bare.status, 2)
        XCTAssertEqual(bare.standardOutput, "")
        XCTAssert(bare.standardError.contains("usage: harness <command>"), bare.standardError)
    }

    func testVersionPrintsHarnessAndEngineVersions() throws {
        let result = try HarnessBinary.run(["--version"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertEqual(result.standardOutput, "harness \(HarnessInfo.version) (engine \(EngineInfo.version))\n")
        XCTAssertEqual(HarnessInfo.version.split(separator: ".").count, 3)
    }

    func testUnknownOptionExitsWithTwoAndNamesTheCommandAndItsOptions() throws {
        let result = try HarnessBinary.run(["run", "spec.json", "--bogus", "1"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.standardOutput, "")
        XCTAssert(result.standardError.hasPrefix("harness run: unknown option --bogus (known: --data, --db, --force, "
                                                 + "--jobs, --retry-failed, --threads, --help)"), result.standardError)
        XCTAssert(result.standardError.contains("see harness run --help"), result.standardError)

        let missing = try HarnessBinary.run(["status", "--db"])
        XCTAssertEqual(missing.status, 2)
        XCTAssert(missing.standardError.contains("harness status: --db needs a value (--db PATH)"), missing.standardError)
        let flagValue = try HarnessBinary.run(["run", "spec.json", "--force=yes"])
        XCTAssertEqual(flagValue.status, 2)
        XCTAssert(flagValue.standardError.contains("harness run: --force takes no value"), flagValue.standardError)
        let unknownHelp = try HarnessBinary.run(["help", "frobnicate"])
        XCTAssertEqual(unknownHelp.status, 2)
        XCTAssert(unknownHelp.standardError.contains("unknown command \"frobnicate\""), unknownHelp.standardError)
    }

    /// `--help` wins over anything else on the line, even an unknown option.
    func testHelpWinsOverOtherArguments() throws {
        let result = try HarnessBinary.run(["run", "--bogus", "spec.json", "--help"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssert(result.standardOutput.hasPrefix("harness run: "), result.standardOutput)
    }

    func testBadValuesKeepTheirMessagesAndStatusOne() throws {
        for (arguments, message) in [
            (["run", "spec.json", "--jobs", "0"], "harness run: --jobs 0 is out of range 1...256"),
            (["run", "spec.json", "--threads=many"], "harness run: --threads expects an integer, got \"many\""),
            (["worker", "--jobs-file", "f.json", "--shard", "s.sqlite"],
             "harness worker: --index I is required (the array task id, $SLURM_ARRAY_TASK_ID)"),
            (["status", "extra"], "harness status: expected no positional arguments, got \"extra\""),
            (["plan"], "harness plan: expected one spec file, got 0; usage: harness plan SPEC"),
            (["bench", "--model", "gpt"], "harness bench: --model must be one of lstm, rnn, gru, cnn, got \"gpt\""),
            (["bench", "--dense", "128,0"], "harness bench: --dense expects sizes 1...4096 separated by commas"),
        ] {
            let result = try HarnessBinary.run(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            XCTAssert(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
    }
}
