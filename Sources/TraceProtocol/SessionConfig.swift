package import TraceFormat

/// What a session records and how it keeps it (`tracectl start` options;
/// docs/design.md, "Sessions").
package struct SessionConfig: Equatable, Sendable, Codable {
    package enum Mode: UInt64, Sendable, Codable {
        /// Write files as events arrive, rotating them.
        case streaming = 0
        /// Keep the last window in memory; write only on stop or fetch.
        case flightRecorder = 1
    }

    /// Processes by pid; empty with `processNames` empty means every process.
    package var pids: [Int32] = []
    /// Processes by name (`/proc/PID/comm`), shell patterns (`cafe*`).
    package var processNames: [String] = []
    /// Log categories to keep; empty keeps every log. Other events are kept.
    package var categories: [String] = []
    package var stacks = false
    package var mode = Mode.streaming
    /// Flight recorder window: at most this many bytes of compressed trace...
    package var windowBytes: UInt64 = 64 << 20
    /// ...and (when not 0) only what is younger than this many seconds.
    package var windowSeconds: UInt64 = 0
    /// Streaming: a file is closed and a new one begun past this size...
    package var maxFileSize: UInt64 = 64 << 20
    /// ...older files beyond this count are deleted...
    package var maxFiles: UInt64 = 8
    /// ...and (when not 0) files older than this many seconds too.
    package var maxFileAgeSeconds: UInt64 = 0
    /// When not 0, the session stops by itself after this many seconds.
    package var durationSeconds: UInt64 = 0
    /// Execution events from the kernel (docs/design.md, "Execution
    /// events"). Nil in the state of a session saved before they existed:
    /// it had none.
    package var execution: Execution? = Execution()
    /// Spans sent to an OpenTelemetry backend while the session runs
    /// (docs/design.md, "OTLP"). Nil: traced.conf's `otlp_endpoint`, if it
    /// has one.
    package var otlp: OTLP?
    /// Snapshots a flight recorder saves by itself when a task is slow
    /// (docs/design.md, "Snapshots"). Nil: none.
    package var snapshots: Snapshots?

    /// When a flight recorder saves its window by itself, and how often.
    package struct Snapshots: Equatable, Sendable, Codable {
        package var triggers: [Trigger] = []
        /// How long after the slow task's end the snapshot is taken.
        package var afterNanoseconds: UInt64 = 1_000_000_000
        /// Snapshots kept, at most: the oldest go first.
        package var maximum: UInt64 = 10
        /// At most one snapshot per this long; triggers in between are held back (counted).
        package var intervalNanoseconds: UInt64 = 10_000_000_000

        package init(triggers: [Trigger] = []) { self.triggers = triggers }

        package static let maximumTriggers = 64
        package static let maximumKept: UInt64 = 1000
        /// `--trigger-after`: an hour.
        package static let maximumAfter: UInt64 = 3_600_000_000_000
    }

    /// `TYPE>DURATION`: a task of type TYPE that ends later than DURATION
    /// after its creation.
    package struct Trigger: Equatable, Sendable, Codable, CustomStringConvertible {
        package var type: String
        package var thresholdNanoseconds: UInt64

        package init(type: String, thresholdNanoseconds: UInt64) {
            self.type = type
            self.thresholdNanoseconds = thresholdNanoseconds
        }

        package static let form = "a trigger is TYPE>DURATION, like 'makeCappuccino>100ms' or '/orders/{id}>250ms'"
        package static let typeLimit = 256

        /// Parses `TYPE>DURATION` (the last `>` splits them: a type may hold one).
        package init(parsing text: String) throws(ProtocolError) {
            guard let split = text.lastIndex(of: ">") else { throw .invalidRequest("--trigger '\(text)': \(Self.form)") }
            let type = String(text[..<split])
            let duration = String(text[text.index(after: split)...])
            guard !type.isEmpty, type.utf8.count <= Self.typeLimit else {
                throw .invalidRequest("--trigger '\(text)': the task type must be 1 to \(Self.typeLimit) bytes; \(Self.form)")
            }
            guard let nanoseconds = Units.nanoseconds(duration), nanoseconds > 0,
                  nanoseconds <= Limit.maximumSeconds * 1_000_000_000 else {
                throw .invalidRequest("--trigger '\(text)': '\(duration)' is not a duration from 1ns to \(Units.render(seconds: Limit.maximumSeconds)); \(Self.form)")
            }
            self.init(type: type, thresholdNanoseconds: nanoseconds)
        }

        package var description: String { "\(type)>\(Units.render(nanoseconds: thresholdNanoseconds))" }
    }

    /// Where and what a session sends over OTLP/HTTP.
    package struct OTLP: Equatable, Sendable, Codable {
        /// The endpoint as given (`OTLPEndpoint`); "" sends nothing (`--no-otlp`).
        package var endpoint = ""
        /// Regions shorter than this are summed into their task's span.
        package var minRegionNanoseconds: UInt64 = 1_000_000
        /// Only tasks that took at least this long (0: all).
        package var onlySlowerThanNanoseconds: UInt64 = 0
        /// Only traces whose trace id's low 64 bits are a multiple of this.
        package var sampleEvery: UInt64 = 1

        package init(endpoint: String = "") { self.endpoint = endpoint }

        package static let maximumSampleEvery: UInt64 = 1_000_000
    }

    /// What the kernel records of the session's processes.
    package struct Execution: Equatable, Sendable, Codable {
        /// Scheduler switches, wakeups, thread names and exits (`--no-exec`
        /// turns them off).
        package var enabled = true
        /// CPU-clock samples per second of each recorded thread, 0 none.
        package var cpuSampleHertz: UInt32 = 99
        /// Each recorded process's counters (CPU, memory, threads, files,
        /// faults, context switches) every this many ms, 0 never.
        package var statsIntervalMilliseconds: UInt64 = 1000
        /// systemd units and cgroups whose processes the session records,
        /// annotated or not, including those that start later.
        package var units: [String] = []
        package var cgroups: [String] = []

        package init() {}

        package static let maximumSampleHertz: UInt32 = 10_000
        /// `--stats-interval`: at least 10 ms, at most an hour.
        package static let statsIntervals: ClosedRange<UInt64> = 10...3_600_000
    }

    package init() {}

    /// The limits of every option (docs/design.md, "Limits"). A request past
    /// one is refused (tracectl exits 4) with a message naming it.
    package enum Limit {
        /// Filters.
        package static let pids = 1024, processPatterns = 64, categories = 256
        /// `--window`: held in traced's memory (compressed).
        package static let minimumWindow: UInt64 = 64 << 10
        package static let maximumWindow: UInt64 = 4 << 30
        /// `--max-file-size`.
        package static let minimumFileSize: UInt64 = 64 << 10
        package static let maximumFileSize: UInt64 = 1 << 40
        /// `--max-files` (the disk quota bounds what they hold).
        package static let maximumFiles: UInt64 = 100_000
        /// `--duration`, `--max-age`, `--window-time`: a year.
        package static let maximumSeconds: UInt64 = 365 * 86400
    }

    /// Limits the daemon enforces on any session (and tracectl before it
    /// asks): a value past one is refused, never converted or multiplied.
    package func validated() throws(ProtocolError) -> SessionConfig {
        guard pids.count <= Limit.pids, processNames.count <= Limit.processPatterns,
              categories.count <= Limit.categories else {
            throw .invalidRequest("at most \(Limit.pids) --pid, \(Limit.processPatterns) --process and \(Limit.categories) --category filters")
        }
        if let pid = pids.first(where: { $0 <= 0 }) { throw .invalidRequest("--pid \(pid): a process id is positive") }
        if mode == .flightRecorder {
            guard windowBytes >= Limit.minimumWindow else {
                throw .invalidRequest("--window must be at least \(Units.render(bytes: Limit.minimumWindow))")
            }
            guard windowBytes <= Limit.maximumWindow else {
                throw .invalidRequest("--window must be at most \(Units.render(bytes: Limit.maximumWindow)) (it is held in traced's memory); use a streaming session for more")
            }
        }
        guard maxFileSize >= Limit.minimumFileSize, maxFileSize <= Limit.maximumFileSize else {
            throw .invalidRequest("--max-file-size must be from \(Units.render(bytes: Limit.minimumFileSize)) to \(Units.render(bytes: Limit.maximumFileSize))")
        }
        guard maxFiles >= 1, maxFiles <= Limit.maximumFiles else {
            throw .invalidRequest("--max-files must be from 1 to \(Limit.maximumFiles), not \(maxFiles)")
        }
        for (option, seconds) in [("--duration", durationSeconds), ("--max-age", maxFileAgeSeconds), ("--window-time", windowSeconds)]
        where seconds > Limit.maximumSeconds {
            throw .invalidRequest("\(option) must be at most \(Units.render(seconds: Limit.maximumSeconds)), not \(seconds) s")
        }
        if let execution, execution.cpuSampleHertz > Execution.maximumSampleHertz {
            throw .invalidRequest("--cpu-samples must be from 0 (off) to \(Execution.maximumSampleHertz) per second, not \(execution.cpuSampleHertz)")
        }
        if let execution, execution.units.count + execution.cgroups.count > Limit.processPatterns {
            throw .invalidRequest("at most \(Limit.processPatterns) --unit and --cgroup in all")
        }
        if let interval = execution?.statsIntervalMilliseconds, interval != 0, !Execution.statsIntervals.contains(interval) {
            throw .invalidRequest("--stats-interval must be 0 (off) or from 10ms to 1h, not \(interval) ms")
        }
        if let otlp {
            if !otlp.endpoint.isEmpty, case .failure(let refusal) = OTLPEndpoint.tracesURL(otlp.endpoint) {
                throw .invalidRequest("--otlp \(refusal)")
            }
            guard (1...OTLP.maximumSampleEvery).contains(otlp.sampleEvery) else {
                throw .invalidRequest("--otlp-sample must be 1/N with N from 1 to \(OTLP.maximumSampleEvery), not 1/\(otlp.sampleEvery)")
            }
            let limit = Limit.maximumSeconds * 1_000_000_000
            guard otlp.minRegionNanoseconds <= limit, otlp.onlySlowerThanNanoseconds <= limit else {
                throw .invalidRequest("--otlp-min-region and --otlp-only-slower-than must be at most \(Units.render(seconds: Limit.maximumSeconds))")
            }
        }
        if let snapshots {
            guard mode == .flightRecorder else {
                throw .invalidRequest("--trigger needs --flight-recorder: a snapshot is the flight recorder's window")
            }
            guard !snapshots.triggers.isEmpty, snapshots.triggers.count <= Snapshots.maximumTriggers else {
                throw .invalidRequest("from 1 to \(Snapshots.maximumTriggers) --trigger, not \(snapshots.triggers.count)")
            }
            for trigger in snapshots.triggers {
                _ = try Trigger(parsing: "\(trigger.type)>\(trigger.thresholdNanoseconds)ns")
            }
            guard snapshots.afterNanoseconds <= Snapshots.maximumAfter else {
                throw .invalidRequest("--trigger-after must be at most 1h")
            }
            guard (1...Snapshots.maximumKept).contains(snapshots.maximum) else {
                throw .invalidRequest("--max-snapshots must be from 1 to \(Snapshots.maximumKept), not \(snapshots.maximum)")
            }
            guard snapshots.intervalNanoseconds <= Limit.maximumSeconds * 1_000_000_000 else {
                throw .invalidRequest("--trigger-interval must be at most \(Units.render(seconds: Limit.maximumSeconds))")
            }
        }
        return self
    }

    /// Whether a process with this pid and name is in the session.
    package func selects(pid: Int32, name: String) -> Bool {
        if pids.isEmpty && processNames.isEmpty { return true }
        return pids.contains(pid) || processNames.contains { Glob.matches(pattern: $0, name) }
    }

    package func encode(into w: inout ByteWriter) {
        w.varint(pids.count)
        for pid in pids { w.varint(UInt32(bitPattern: pid)) }
        w.varint(processNames.count)
        for name in processNames { w.string(name) }
        w.varint(categories.count)
        for category in categories { w.string(category) }
        w.byte(stacks ? 1 : 0)
        w.varint(mode.rawValue)
        w.varint(windowBytes)
        w.varint(windowSeconds)
        w.varint(maxFileSize)
        w.varint(maxFiles)
        w.varint(maxFileAgeSeconds)
        w.varint(durationSeconds)
        w.byte(execution?.enabled == true ? 1 : 0)
        w.varint(execution?.cpuSampleHertz ?? 0)
        w.varint(execution?.statsIntervalMilliseconds ?? 0)
        w.varint(execution?.units.count ?? 0)
        for unit in execution?.units ?? [] { w.string(unit) }
        w.varint(execution?.cgroups.count ?? 0)
        for cgroup in execution?.cgroups ?? [] { w.string(cgroup) }
        // Added later: a reader that ends here has none.
        w.byte(otlp == nil ? 0 : 1)
        if let otlp {
            w.string(otlp.endpoint)
            w.varint(otlp.minRegionNanoseconds)
            w.varint(otlp.onlySlowerThanNanoseconds)
            w.varint(otlp.sampleEvery)
        }
        // Added later still.
        w.byte(snapshots == nil ? 0 : 1)
        if let snapshots {
            w.varint(snapshots.triggers.count)
            for trigger in snapshots.triggers {
                w.string(trigger.type)
                w.varint(trigger.thresholdNanoseconds)
            }
            w.varint(snapshots.afterNanoseconds)
            w.varint(snapshots.maximum)
            w.varint(snapshots.intervalNanoseconds)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        let pidCount = try r.varint("pid count")
        guard pidCount <= 1024 else { throw .invalid(field: "pid count", value: pidCount) }
        for _ in 0..<pidCount { pids.append(Int32(bitPattern: try r.varint32("pid"))) }
        let nameCount = try r.varint("process name count")
        guard nameCount <= 64 else { throw .invalid(field: "process name count", value: nameCount) }
        for _ in 0..<nameCount { processNames.append(try r.string("process name", limit: 256)) }
        let categoryCount = try r.varint("category count")
        guard categoryCount <= 256 else { throw .invalid(field: "category count", value: categoryCount) }
        for _ in 0..<categoryCount { categories.append(try r.string("category", limit: 1024)) }
        stacks = try r.byte("stacks") != 0
        let rawMode = try r.varint("mode")
        guard let mode = Mode(rawValue: rawMode) else { throw .invalid(field: "mode", value: rawMode) }
        self.mode = mode
        windowBytes = try r.varint("window bytes")
        windowSeconds = try r.varint("window seconds")
        maxFileSize = try r.varint("max file size")
        maxFiles = try r.varint("max files")
        maxFileAgeSeconds = try r.varint("max file age")
        durationSeconds = try r.varint("duration")
        var execution = Execution()
        execution.enabled = try r.byte("execution") != 0
        execution.cpuSampleHertz = try r.varint32("cpu sample hertz")
        execution.statsIntervalMilliseconds = try r.varint("stats interval")
        let units = try r.varint("unit count")
        guard units <= 64 else { throw .invalid(field: "unit count", value: units) }
        for _ in 0..<units { execution.units.append(try r.string("unit", limit: 256)) }
        let cgroups = try r.varint("cgroup count")
        guard cgroups <= 64 else { throw .invalid(field: "cgroup count", value: cgroups) }
        for _ in 0..<cgroups { execution.cgroups.append(try r.string("cgroup", limit: 4096)) }
        self.execution = execution
        if !r.isAtEnd, try r.byte("otlp") != 0 {
            var otlp = OTLP(endpoint: try r.string("otlp endpoint", limit: OTLPEndpoint.lengthLimit))
            otlp.minRegionNanoseconds = try r.varint("otlp min region")
            otlp.onlySlowerThanNanoseconds = try r.varint("otlp only slower than")
            otlp.sampleEvery = try r.varint("otlp sample")
            self.otlp = otlp
        }
        if !r.isAtEnd, try r.byte("snapshots") != 0 {
            var snapshots = Snapshots()
            let count = try r.varint("trigger count")
            guard count <= UInt64(Snapshots.maximumTriggers) else { throw .invalid(field: "trigger count", value: count) }
            for _ in 0..<count {
                snapshots.triggers.append(Trigger(type: try r.string("trigger type", limit: Trigger.typeLimit),
                                                  thresholdNanoseconds: try r.varint("trigger threshold")))
            }
            snapshots.afterNanoseconds = try r.varint("trigger after")
            snapshots.maximum = try r.varint("max snapshots")
            snapshots.intervalNanoseconds = try r.varint("trigger interval")
            self.snapshots = snapshots
        }
    }
}

/// Shell-style patterns (`*`, `?`) for process names.
package enum Glob {
    package static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
