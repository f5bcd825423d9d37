/// Every subcommand, in the order `harness --help` lists them.
enum Commands {
    static let all: [any Subcommand.Type] = [RunCommand.self, PlanCommand.self, StatusCommand.self, ReportCommand.self,
                                            SubmitCommand.self, WorkerCommand.self, MergeCommand.self, BenchCommand.self]

    static func named(_ name: String) -> (any Subcommand.Type)? { all.first { $0.command.name == name } }

    static var overview: String { Help.overview(all.map { $0.command }) }
}
