import Foundation
import HarnessKit

// Exit status: 0 success (help and --version included), 1 failure (a value refused, a
// spec or database problem, a job that failed), 2 a command line that could not be read.
// Output that cannot be written (stdout or stderr closed, full, a pipe whose reader has
// gone) is dropped and changes neither the work done nor the status.
StandardStream.prepareProcess()
let argv = Array(CommandLine.arguments.dropFirst())
switch argv.first {
case nil:
    standardError(Commands.overview)
    exit(2)
case "-h", "--help":
    standardOutput(Commands.overview)
    exit(0)
case "--version":
    standardOutput(Help.versionLine)
    exit(0)
case "help":
    guard let name = argv.dropFirst().first else {
        standardOutput(Commands.overview)
        exit(0)
    }
    guard argv.count == 2, let command = Commands.named(name) else {
        standardError("harness help: " + (argv.count == 2 ? "unknown command \"\(name)\"" : "expected one command name")
                      + "\n\n" + Commands.overview)
        exit(2)
    }
    standardOutput(Help.render(command.command), terminator: "")
    exit(0)
case let name?:
    guard let command = Commands.named(name) else {
        standardError("harness: unknown command \"\(name)\"\n\n" + Commands.overview)
        exit(2)
    }
    do {
        switch try ParsedArguments.parse(Array(argv.dropFirst()), for: command.command) {
        case .help:
            standardOutput(Help.render(command.command), terminator: "")
            exit(0)
        case .run(let arguments):
            exit(try command.init(arguments).run())
        }
    } catch let error as UsageError {
        standardError(error.description)
        exit(2)
    } catch {
        standardError("\(error)")
        exit(1)
    }
}
