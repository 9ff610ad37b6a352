import ArgumentParser
import TraceProtocol

@main
struct TraceCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracectl",
        abstract: "Control traced sessions and read the traces they produce.",
        version: Version.current,
        subcommands: [Start.self, Stop.self, Fetch.self, List.self, Status.self, Report.self, Tasks.self, Dump.self, Export.self, Profile.self]
    )
}
