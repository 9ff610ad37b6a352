import ArgumentParser
import TraceProtocol
import TraceText

/// `tracectl snapshots NAME`: a flight recorder's snapshots, and what its
/// triggers saw (docs/design.md, "Snapshots triggered by latency").
struct Snapshots: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a flight recorder's snapshots: when, what fired them, the task, its latency, size; and what each trigger saw.",
        discussion: "Get one with `tracectl fetch NAME --snapshot K -o FILE`.")

    @Argument(help: "Session name.")
    var name: String

    @Flag(help: "Print as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        guard case .snapshots(let list) = DaemonLink.request(.listSnapshots(name: name), daemon) else {
            throw Failure("traced answered snapshots with something else")
        }
        print(json ? try JSONOutput.render(list) : Self.text(list, session: name))
    }

    static func text(_ list: SnapshotList, session: String) -> String {
        var lines = ["snapshots of '\(session)': \(list.snapshots.count) kept, \(list.heldBack) held back (within --trigger-interval of the one before)"]
        for entry in list.snapshots { lines.append("  " + line(entry)) }
        if list.snapshots.isEmpty { lines.append("  none yet") }
        if !list.triggers.isEmpty {
            lines.append("triggers:")
            for trigger in list.triggers {
                let seen = trigger.tasks == 0 ? "no task of this type has ended yet"
                    : "\(trigger.tasks) task(s) ended, \(trigger.slow) slower"
                lines.append("  " + trigger.trigger.padding(32) + seen)
            }
        }
        if list.unmatched > 0 { lines.append("\(list.unmatched) task end(s) whose begin traced never saw (begun before the session)") }
        return lines.joined(separator: "\n")
    }

    static func line(_ entry: SnapshotList.Entry) -> String {
        let what = entry.taskID == 0 ? "taken by hand"
            : "\(entry.taskType) #\(entry.taskID) (pid \(entry.pid)) took \(ReportPrinter.duration(Int64(clamping: entry.latencyNanoseconds))), trigger \(entry.trigger)"
        return "#\(entry.index)  \(StatusPrinter.time(entry.realtimeNanoseconds))  \(what)  \(entry.bytes >> 10) KiB"
    }
}

/// `tracectl snapshot NAME`: a running flight recorder's window saved as a
/// snapshot now.
struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a running flight recorder's window as a snapshot now (it keeps running).")

    @Argument(help: "Session name.")
    var name: String

    @Flag(help: "Print as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        guard case .snapshotTaken(let entry) = DaemonLink.request(.takeSnapshot(name: name), daemon) else {
            throw Failure("traced answered snapshot with something else")
        }
        print(json ? try JSONOutput.render(entry) : "session '\(name)': snapshot " + Snapshots.line(entry))
    }
}
