import HarnessKit

struct PlanCommand: Subcommand {
    static let command = CommandDescription(
        name: "plan",
        summary: "print the jobs a spec expands into, without running anything",
        discussion: "With adaptive seeds it lists the start seeds' jobs and says how many more harness run may add.",
        positionals: [Positional("SPEC", help: "the experiment spec, a JSON file", noun: "spec file")],
        options: [],
        examples: ["harness plan experiments/quick.json"])

    let specPath: String

    init(_ arguments: ParsedArguments) throws {
        specPath = arguments.positionals[0]
    }

    func run() throws -> Int32 {
        let spec = try ExperimentSpec.load(path: specPath)
        standardOutput(Plan.render(spec, jobs: try spec.jobs()), terminator: "")
        return 0
    }
}
