import ArgumentParser
import Foundation
import TraceAnalysis
import TraceProtocol
import TraceSystem
import TraceText
#if canImport(Glibc)
import Glibc
#endif

/// `tracectl tail NAME`: a running session's logs, and its slow task ends,
/// as they happen (docs/design.md, "Watching a session").
struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a running session: its logs as they happen, and task ends slower than --slower-than, at most a second after they happen.",
        discussion: """
            Ends when the session stops. A reader that does not keep up loses part of the trace (traced never \
            waits for it): tail then prints a line saying how many events it missed; the session's files lose nothing.
            """)

    @Argument(help: "Session name (a running one).")
    var name: String

    @Option(help: ArgumentHelp("Also show the end of every task that took longer than this (e.g. 100ms).", valueName: "duration"))
    var slowerThan: String?

    @Option(name: .customLong("category"), help: "Only logs of this category (repeatable).")
    var categories: [String] = []

    @Option(name: .customLong("task-type"), help: "Only logs in tasks of this type, and task ends of this type (repeatable).")
    var taskTypes: [String] = []

    @Option(name: .customLong("process"), help: "Only this process: a pid or a process name (repeatable).")
    var processes: [String] = []

    @Flag(help: "No logs: only the task ends --slower-than shows.")
    var noLogs = false

    @Flag(help: "One JSON object per line: logs, slow task ends, losses, and the end.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func validate() throws {
        if let slowerThan, Units.nanoseconds(slowerThan) == nil {
            throw ValidationError("--slower-than '\(slowerThan)' is not a duration (e.g. 100ms, 1.5s)")
        }
        if noLogs && slowerThan == nil { throw ValidationError("--no-logs leaves nothing to show without --slower-than") }
    }

    /// One line of `--json`.
    struct Line: Encodable {
        /// "log", "taskEnd", "lost" or "stopped".
        var kind: String
        var realtimeNanoseconds: Int64?
        var monotonicNanoseconds: Int64?
        var pid: Int32?
        var process: String?
        var category: String?
        var message: String?
        var task: UInt64?
        var taskType: String?
        var latencyNanoseconds: Int64?
        var lost: LiveLoss?
        var status: SessionStatus?
    }

    func run() throws {
        let threshold = slowerThan.flatMap { Units.nanoseconds($0) }.map { Int64(clamping: $0) }
        let watch = SessionWatch(name, daemon)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let wantedCategories = Set(categories), wantedTypes = Set(taskTypes)
        func emit(_ line: Line, _ text: @autoclosure () -> String) throws {
            let out = json ? String(decoding: try encoder.encode(line), as: UTF8.self) : text()
            do {
                try FileDescriptor.standardOutput.writeAll(Array((out + "\n").utf8))
            } catch {
                throw Failure("writing to standard output failed: \(error)")
            }
        }
        while true {
            switch try watch.next(timeoutMilliseconds: -1) {
            case .events(let events):
                let offset = watch.trace.realtimeOffset ?? 0
                for event in events where wanted(process: event) {
                    let time = event.time.saturatingAdd(offset)
                    let who = "\(event.processName)[\(event.pid)]"
                    switch event.kind {
                    case .log(let category, let message, let task, let taskType):
                        guard !noLogs, wantedCategories.isEmpty || wantedCategories.contains(category),
                              wantedTypes.isEmpty || taskType.map(wantedTypes.contains) == true else { continue }
                        let inTask = task == 0 ? "" : " #\(task)" + (taskType.map { " (\($0))" } ?? "")
                        try emit(Line(kind: "log", realtimeNanoseconds: time, monotonicNanoseconds: event.time, pid: event.pid,
                                      process: event.processName, category: category, message: message,
                                      task: task == 0 ? nil : task, taskType: taskType),
                                 "\(StatusPrinter.timeOfDay(time))  \(who)  \(category)\(inTask)  \(message)")
                    case .taskEnd(let id, let type, let latency):
                        guard let threshold, latency > threshold, wantedTypes.isEmpty || wantedTypes.contains(type) else { continue }
                        try emit(Line(kind: "taskEnd", realtimeNanoseconds: time, monotonicNanoseconds: event.time, pid: event.pid,
                                      process: event.processName, task: id, taskType: type, latencyNanoseconds: latency),
                                 "\(StatusPrinter.timeOfDay(time))  \(who)  task end  \(type) #\(id) took \(ReportPrinter.duration(latency))")
                    }
                }
            case .lost(let loss):
                try emit(Line(kind: "lost", lost: loss), "-- tail \(loss.sentence)")
            case .stopped(let status):
                try emit(Line(kind: "stopped", status: status), "-- session '\(name)' stopped: \(status.events) events, \(status.droppedTotal) dropped")
                return
            case .status, .input, .timeout:
                continue
            }
        }
    }

    private func wanted(process event: LiveTrace.Event) -> Bool {
        processes.isEmpty || processes.contains("\(event.pid)") || processes.contains(event.processName)
    }
}
