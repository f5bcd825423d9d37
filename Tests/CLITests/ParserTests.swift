import HarnessKit
import XCTest
@testable import harness

/// `ParsedArguments` and `Help` on a made-up command, without running the binary.
final class ParserTests: XCTestCase {
    private static let count = Option<Int>.integer("count", range: 1...10, help: "how many", default: 3)
    private static let limit = Option<Int>.integer("limit", range: -5...5, help: "a limit")
    private static let ratio = Option<Double>.number("ratio", range: 0...1, help: "a ratio")
    private static let name = Option<String>.text("name", "NAME", help: "a name", required: true)
    private static let loud = Flag("loud", help: "say it loudly")
    private static let command = CommandDescription(
        name: "demo", summary: "a command for the tests",
        positionals: [Positional("FILE", help: "the input", noun: "input file"),
                      Positional("MORE", help: "more inputs", noun: "extra file", count: .any)],
        options: [count, limit, ratio, name, loud, SharedOptions.db], examples: ["harness demo in.txt --name x"])

    private func parse(_ arguments: [String]) throws -> ParsedArguments {
        guard case .run(let parsed) = try ParsedArguments.parse(arguments, for: Self.command) else {
            throw HarnessError("\(arguments) asked for help")
        }
        return parsed
    }

    private func message(_ body: () throws -> Any) -> (usage: Bool, text: String)? {
        do {
            _ = try body()
            return nil
        } catch let error as UsageError {
            return (true, error.description)
        } catch {
            return (false, "\(error)")
        }
    }

    func testSeparateAndInlineValuesFlagsAndPositionals() throws {
        let parsed = try parse(["a.txt", "--count", "4", "--name=x=y", "b.txt", "--loud", "--limit=-5", "--ratio", "0.25"])
        XCTAssertEqual(parsed.positionals, ["a.txt", "b.txt"])
        XCTAssertEqual(try parsed.value(Self.count), 4)
        XCTAssertEqual(try parsed.value(Self.name), "x=y", "only the first = separates the name")
        XCTAssertEqual(try parsed.optional(Self.limit), -5)
        XCTAssertEqual(try parsed.optional(Self.ratio), 0.25)
        XCTAssertTrue(parsed.flag(Self.loud))
        XCTAssertEqual(try parsed.value(SharedOptions.db), Store.defaultPath)
        XCTAssertFalse(parsed.isGiven(SharedOptions.db))
        XCTAssertTrue(parsed.isGiven(Self.count))
    }

    func testDefaultsRepeatsAndDoubleDash() throws {
        let parsed = try parse(["--name", "a", "--name", "b", "a.txt", "--", "--loud", "-h"])
        XCTAssertEqual(try parsed.value(Self.count), 3)
        XCTAssertNil(try parsed.optional(Self.limit))
        XCTAssertEqual(try parsed.value(Self.name), "b", "the last of a repeated option wins")
        XCTAssertFalse(parsed.flag(Self.loud))
        XCTAssertEqual(parsed.positionals, ["a.txt", "--loud", "-h"])
    }

    func testHelpAnywhere() throws {
        for arguments in [["-h"], ["a.txt", "--help"], ["--unknown", "--help"], ["--count", "99", "-h"]] {
            guard case .help = try ParsedArguments.parse(arguments, for: Self.command) else {
                return XCTFail("\(arguments) should ask for help")
            }
        }
        // A value is a value, even one that looks like --help.
        XCTAssertEqual(try parse(["a.txt", "--name", "--help"]).value(Self.name), "--help")
    }

    func testUnreadableLinesAreUsageErrors() {
        let unknown = message { try self.parse(["a.txt", "--colour", "red"]) }
        XCTAssertEqual(unknown?.usage, true)
        XCTAssertEqual(unknown?.text, "harness demo: unknown option --colour (known: --count, --db, --limit, --loud, "
                       + "--name, --ratio, --help); see harness demo --help")
        let missing = message { try self.parse(["a.txt", "--count"]) }
        XCTAssertEqual(missing?.usage, true)
        XCTAssertEqual(missing?.text, "harness demo: --count needs a value (--count N)")
        let flagValue = message { try self.parse(["a.txt", "--loud=yes"]) }
        XCTAssertEqual(flagValue?.usage, true)
        XCTAssertEqual(flagValue?.text, "harness demo: --loud takes no value")
    }

    func testBadValuesNameTheOptionAndWhatIsAccepted() throws {
        let parsed = try parse(["a.txt", "--count", "11", "--limit", "x", "--ratio", "1.5", "--name", "n"])
        for (body, text) in [
            ({ try parsed.value(Self.count) as Any }, "harness demo: --count 11 is out of range 1...10"),
            ({ try parsed.optional(Self.limit) as Any }, "harness demo: --limit expects an integer, got \"x\""),
            ({ try parsed.optional(Self.ratio) as Any }, "harness demo: --ratio 1.5 is out of range 0...1"),
        ] as [(() throws -> Any, String)] {
            let error = message(body)
            XCTAssertEqual(error?.usage, false, text)
            XCTAssertEqual(error?.text, text)
        }
        let huge = try parse(["a.txt", "--count", "99999999999999999999999"])
        XCTAssertEqual(message { try huge.value(Self.count) }?.text,
                       "harness demo: --count expects an integer, got \"99999999999999999999999\"")
        let nan = try parse(["a.txt", "--ratio", "nan"])
        XCTAssertEqual(message { try nan.optional(Self.ratio) as Any }?.text, "harness demo: --ratio expects a number, got \"nan\"")
        let noName = try parse(["a.txt"])
        XCTAssertEqual(message { try noName.value(Self.name) }?.text, "harness demo: --name NAME is required (a name)")
    }

    func testPositionalCounts() {
        let none = message { try self.parse(["--name", "n"]) }
        XCTAssertEqual(none?.usage, false)
        XCTAssertEqual(none?.text, "harness demo: expected one input file or more, got 0; usage: harness demo FILE "
                       + "[--count N] [--limit N] [--ratio X] --name NAME [--loud] [--db PATH] [MORE ...]")
        let status = message { try ParsedArguments.parse(["x"], for: StatusCommand.command) }
        XCTAssertEqual(status?.text, "harness status: expected no positional arguments, got \"x\"; "
                       + "usage: harness status [--db PATH]")
    }

    func testHelpShowsAcceptedValuesDefaultsAndRequired() {
        let help = Help.render(Self.command)
        XCTAssert(help.contains("  --count N             how many (1...10; default: 3)\n"), help)
        XCTAssert(help.contains("  --ratio X             a ratio (0...1)\n"), help)
        XCTAssert(help.contains("  --name NAME           a name (required)\n"), help)
        XCTAssert(help.contains("  --loud                say it loudly\n"), help)
        XCTAssert(help.contains("  MORE                  more inputs\n"), help)
        XCTAssert(help.hasSuffix("examples:\n  harness demo in.txt --name x\n"), help)
        for line in help.split(separator: "\n") where !line.hasPrefix("  harness ") {
            XCTAssertLessThanOrEqual(line.count, Help.width, String(line))
        }
    }

    func testWrapKeepsLongWordsWhole() {
        let long = String(repeating: "x", count: Help.width + 5)
        XCTAssertEqual(Help.wrap("a \(long) b", prefix: "> ", indent: "  "), "> a\n  \(long)\n  b")
    }
}
