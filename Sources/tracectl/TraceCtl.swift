import ArgumentParser
import TraceProtocol

@main
struct TraceCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracectl",
        abstract: "Control traced sessions and read the traces they produce.",
        version: Version.current,
        subcommands: [Start.self, Stop.self, Fetch.self, List.self, Status.self, Top.self, Tail.self, Snapshots.self, Snapshot.self, Report.self, Tasks.self, Dump.self, Export.self, Profile.self]
    )

    /// Runs the command; a `Failure` it throws is its sentence and exit
    /// status, anything else ArgumentParser's (usage errors exit 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as Failure {
            failure.exit()
        } catch {
            exit(withError: error)
        }
    }
}
