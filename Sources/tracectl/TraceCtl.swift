import ArgumentParser

@main
struct TraceCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracectl",
        abstract: "Control traced sessions and read the traces they produce.",
        subcommands: [Report.self, Dump.self]
    )
}
