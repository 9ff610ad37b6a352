import ArgumentParser
import FoundationEssentials
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a tracing session.",
        discussion: """
        Without filters, every traced process takes part, including those that start later. \
        Streaming sessions write rotating files; a flight recorder keeps the last window in memory \
        and writes it when stopped or fetched.
        """)

    @Argument(help: "Session name (default: the start time, like 20261122-101500).")
    var name: String?

    @Option(name: .customLong("pid"), help: "Only this process (repeatable).")
    var pids: [Int32] = []

    @Option(name: .customLong("process"), help: "Only processes with this name; shell patterns like 'cafe*' (repeatable).")
    var processes: [String] = []

    @Option(name: .customLong("category"), help: "Keep only logs of this category (repeatable); other events are all kept.")
    var categories: [String] = []

    @Flag(help: "Capture call stacks on task creation, region begin and log.")
    var stacks = false

    @Flag(help: "Flight recorder: keep the last window in memory, write it on stop or fetch.")
    var flightRecorder = false

    @Option(help: "Flight recorder window size.")
    var window = "64M"

    @Option(help: "Flight recorder window age (like 30s); default: size only.")
    var windowTime: String?

    @Option(help: "Streaming: start a new file past this size.")
    var maxFileSize = "64M"

    @Option(help: "Streaming: keep at most this many files (older ones are deleted).")
    var maxFiles: UInt64 = 8

    @Option(help: "Streaming: delete files older than this (like 1h).")
    var maxAge: String?

    @Option(help: "Stop by itself after this long (like 60s).")
    var duration: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        var config = SessionConfig()
        config.pids = pids
        config.processNames = processes
        config.categories = categories
        config.stacks = stacks
        config.mode = flightRecorder ? .flightRecorder : .streaming
        config.windowBytes = try size("--window", window)
        config.windowSeconds = try seconds("--window-time", windowTime)
        config.maxFileSize = try size("--max-file-size", maxFileSize)
        config.maxFiles = maxFiles
        config.maxFileAgeSeconds = try seconds("--max-age", maxAge)
        config.durationSeconds = try seconds("--duration", duration)
        guard case .started(let started) = DaemonLink.request(.start(name: name ?? "", config: config), daemon) else {
            Failure("traced answered start with something else").exit()
        }
        if json {
            print(try JSONOutput.render(["name": started]))
        } else {
            print("started session '\(started)'")
        }
    }

    private func size(_ option: String, _ text: String) throws -> UInt64 {
        guard let bytes = Units.size(text) else { throw ValidationError("\(option): expected a size like 64K, 16M or 2G, not '\(text)'") }
        return UInt64(bytes)
    }

    private func seconds(_ option: String, _ text: String?) throws -> UInt64 {
        guard let text else { return 0 }
        guard let seconds = Units.seconds(text), seconds > 0 else {
            throw ValidationError("\(option): expected a duration like 30s, 5m or 1h, not '\(text)'")
        }
        return UInt64(seconds.rounded(.up))
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a session: take every committed event, finish its files. It stays fetchable.")

    @Argument(help: "Session name (`tracectl list` shows them).")
    var name: String

    @Flag(help: "Print the session's final status as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        guard case .stopped(let status) = DaemonLink.request(.stop(name: name), daemon) else {
            Failure("traced answered stop with something else").exit()
        }
        if json {
            print(try JSONOutput.render(status))
        } else {
            print(StatusPrinter.session(status))
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List sessions, running and stopped.")

    @Flag(help: "Print as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        guard case .sessions(let sessions) = DaemonLink.request(.list, daemon) else {
            Failure("traced answered list with something else").exit()
        }
        if json {
            print(try JSONOutput.render(sessions))
        } else {
            print(StatusPrinter.list(sessions))
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show traced and its sessions: events, drops by reason, bytes, files, disk, clients.")

    @Argument(help: "Only this session.")
    var name: String?

    @Flag(help: "Print as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() throws {
        guard case .status(let daemonStatus, let sessions) = DaemonLink.request(.status(name: name ?? ""), daemon) else {
            Failure("traced answered status with something else").exit()
        }
        if json {
            struct Report: Encodable {
                var daemon: DaemonStatus
                var sessions: [SessionStatus]
            }
            print(try JSONOutput.render(Report(daemon: daemonStatus, sessions: sessions)))
        } else {
            print(StatusPrinter.status(daemonStatus, sessions))
        }
    }
}

enum JSONOutput {
    static func render<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Sizes and durations on the command line, as in traced.conf.
enum Units {
    static func size(_ text: String) -> Int? {
        var digits = text.uppercased()
        var scale = 1
        if digits.hasSuffix("B") { digits.removeLast() }
        switch digits.last {
        case "K": scale = 1 << 10
        case "M": scale = 1 << 20
        case "G": scale = 1 << 30
        default: break
        }
        if scale > 1 { digits.removeLast() }
        guard let number = Int(digits), number > 0, number <= Int.max / scale else { return nil }
        return number * scale
    }

    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return Double(text)
    }
}
