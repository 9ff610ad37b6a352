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

    @Option(name: .customLong("pid"), help: "Only this process (repeatable); its execution events are recorded whether or not it links TraceClient.")
    var pids: [Int32] = []

    @Option(name: .customLong("process"), help: "Only processes with this name; shell patterns like 'cafe*' (repeatable).")
    var processes: [String] = []

    @Option(name: .customLong("category"), help: "Keep only logs of this category (repeatable); other events are all kept.")
    var categories: [String] = []

    @Flag(help: "Capture call stacks on task creation, region begin and log.")
    var stacks = false

    @Flag(help: "Flight recorder: keep the last window in memory, write it on stop or fetch.")
    var flightRecorder = false

    @Option(help: "Flight recorder window size, 64K to 4G (held in traced's memory).")
    var window = "64M"

    @Option(help: "Flight recorder window age (like 30s), at most 365d; default: size only.")
    var windowTime: String?

    @Option(name: .customLong("trigger"), help: ArgumentHelp(
        "Flight recorder: save a snapshot of the window by itself when a task of TYPE ends later than DURATION after its creation (repeatable), like 'makeCappuccino>100ms'.",
        valueName: "TYPE>DURATION"))
    var triggers: [String] = []

    @Option(help: ArgumentHelp("How long after the slow task's end a snapshot is taken (default 1s, at most 1h).", valueName: "duration"))
    var triggerAfter: String?

    @Option(help: ArgumentHelp("At most one snapshot per this long (default 10s); triggers in between are counted, not saved.", valueName: "duration"))
    var triggerInterval: String?

    @Option(help: "Snapshots kept, 1 to 1000 (default 10): the oldest go first.")
    var maxSnapshots: UInt64?

    @Option(help: "Streaming: start a new file past this size, 64K to 1T.")
    var maxFileSize = "64M"

    @Option(help: "Streaming: keep at most this many files, 1 to 100000 (older ones are deleted).")
    var maxFiles: UInt64 = 8

    @Option(help: "Streaming: delete files older than this (like 1h), at most 365d.")
    var maxAge: String?

    @Option(help: "Stop by itself after this long (like 60s), at most 365d.")
    var duration: String?

    @Flag(help: "Record no execution events (what the kernel says each thread did: ran, waited for a CPU, blocked); they are on wherever perf events are permitted.")
    var noExec = false

    @Option(name: .customLong("unit"), help: ArgumentHelp("Record the execution events of this systemd unit's processes, including those that start later (its cgroup; repeatable).", valueName: "name.service"))
    var units: [String] = []

    @Option(name: .customLong("cgroup"), help: ArgumentHelp("Record the execution events of the processes of this cgroup and those below it (a path under /sys/fs/cgroup; repeatable).", valueName: "path"))
    var cgroups: [String] = []

    @Option(name: .customLong("cpu-samples"), help: ArgumentHelp("CPU-clock samples per second of each recorded thread, with its stack; 0 = off.", valueName: "hz"))
    var cpuSamples: UInt32 = 99

    @Option(help: ArgumentHelp("Each recorded process's counters (CPU, memory, threads, open files, faults, context switches) this often, like 1s; 0 = never.", valueName: "duration"))
    var statsInterval = "1s"

    @Option(name: .customLong("otlp"), help: ArgumentHelp(
        "Also send the session's tasks and regions as spans to this OTLP/HTTP endpoint while it runs, like http://127.0.0.1:4318 (traces go to /v1/traces); default: traced.conf's otlp_endpoint.",
        valueName: "url"))
    var otlpEndpoint: String?

    @Flag(name: .customLong("no-otlp"), help: "Send nothing over OTLP, whatever traced.conf's otlp_endpoint says.")
    var noOTLP = false

    @OptionGroup var otlpFlags: OTLPFlags

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    /// The OTLP part of the config: nil leaves it to traced.conf.
    private func otlp() throws -> SessionConfig.OTLP? {
        if noOTLP {
            guard otlpEndpoint == nil else { throw ValidationError("--otlp and --no-otlp contradict each other") }
            return SessionConfig.OTLP(endpoint: "")
        }
        guard otlpEndpoint != nil || otlpFlags.given else { return nil }
        guard let otlpEndpoint else {
            throw Failure("--otlp-min-region, --otlp-only-slower-than and --otlp-sample need --otlp URL", status: Exit.refused)
        }
        if case .failure(let refusal) = OTLPEndpoint.tracesURL(otlpEndpoint) {
            throw Failure("--otlp \(refusal)", status: Exit.refused)
        }
        let assembly = try otlpFlags.assembly()
        var settings = SessionConfig.OTLP(endpoint: otlpEndpoint)
        settings.minRegionNanoseconds = UInt64(assembly.minRegion)
        settings.onlySlowerThanNanoseconds = UInt64(assembly.onlySlowerThan)
        settings.sampleEvery = assembly.sampleEvery
        return settings
    }

    /// The snapshot part of the config: nil without --trigger.
    private func snapshots() throws -> SessionConfig.Snapshots? {
        guard !triggers.isEmpty else {
            guard triggerAfter == nil, triggerInterval == nil, maxSnapshots == nil else {
                throw Failure("--trigger-after, --trigger-interval and --max-snapshots need --trigger TYPE>DURATION", status: Exit.refused)
            }
            return nil
        }
        var snapshots = SessionConfig.Snapshots()
        do {
            snapshots.triggers = try triggers.map { text throws(ProtocolError) in try SessionConfig.Trigger(parsing: text) }
        } catch {
            DaemonLink.fail(error)
        }
        func nanoseconds(_ option: String, _ text: String?, default value: UInt64) throws -> UInt64 {
            guard let text else { return value }
            guard let nanoseconds = text == "0" ? 0 : Units.nanoseconds(text) else {
                throw Failure("\(option): expected a duration like 500ms, 1s or 10s, not '\(text)'", status: Exit.refused)
            }
            return nanoseconds
        }
        snapshots.afterNanoseconds = try nanoseconds("--trigger-after", triggerAfter, default: snapshots.afterNanoseconds)
        snapshots.intervalNanoseconds = try nanoseconds("--trigger-interval", triggerInterval, default: snapshots.intervalNanoseconds)
        snapshots.maximum = maxSnapshots ?? snapshots.maximum
        return snapshots
    }

    func run() throws {
        var config = SessionConfig()
        config.otlp = try otlp()
        config.snapshots = try snapshots()
        var execution = SessionConfig.Execution()
        execution.enabled = !noExec
        execution.cpuSampleHertz = noExec ? 0 : cpuSamples
        execution.statsIntervalMilliseconds = statsInterval == "0" ? 0 : try milliseconds("--stats-interval", statsInterval)
        execution.units = units
        execution.cgroups = cgroups
        if noExec && !(units.isEmpty && cgroups.isEmpty) {
            throw ValidationError("--unit and --cgroup record execution events, which --no-exec turns off")
        }
        config.execution = execution
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
        // traced checks again; checking here names the limit without a daemon.
        do {
            config = try config.validated()
        } catch {
            DaemonLink.fail(error)
        }
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
        guard let bytes = Units.bytes(text), bytes > 0 else {
            throw ValidationError("\(option): expected a size like 64K, 16M or 2G, not '\(text)'")
        }
        return bytes
    }

    /// Whole seconds (rounded up) of a duration; past the limit of every
    /// duration option, refused here with the limit named.
    private func seconds(_ option: String, _ text: String?) throws -> UInt64 {
        guard let text else { return 0 }
        guard let nanoseconds = Units.nanoseconds(text), nanoseconds > 0 else {
            throw ValidationError("\(option): expected a duration like 30s, 5m or 1h, not '\(text)'")
        }
        let limit = SessionConfig.Limit.maximumSeconds
        guard nanoseconds <= limit * 1_000_000_000 else {
            Failure("\(option) \(text) is past its limit of \(Units.render(seconds: limit))", status: Exit.refused).exit()
        }
        return (nanoseconds + 999_999_999) / 1_000_000_000
    }

    /// Whole milliseconds (rounded up) of a duration; traced checks the range.
    private func milliseconds(_ option: String, _ text: String) throws -> UInt64 {
        guard let nanoseconds = Units.nanoseconds(text), nanoseconds > 0 else {
            throw ValidationError("\(option): expected a duration like 500ms or 1s, or 0, not '\(text)'")
        }
        return min((nanoseconds + 999_999) / 1_000_000, UInt64(UInt32.max))
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
