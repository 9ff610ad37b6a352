import TraceAnalysis
import TraceProtocol
import TraceText

/// What `tracectl top` shows at one instant, built from a watched
/// session's messages: the task types (`LiveTaskTable`), and each process's
/// events, drops and buffer use, as rates between the last two statuses
/// traced sent (a second apart). Printed as text or as one JSON object.
struct TopFrame: Codable {
    struct Process: Codable {
        var pid: Int32
        var name: String
        var connected: Bool
        var eventsPerSecond: Double
        /// By reason ("buffer full", ...), only the reasons that grew.
        var droppedPerSecond: [String: Double]
        /// Since the process joined the session.
        var events: UInt64
        var dropped: [String: UInt64]
        /// Chunks of its shared buffer in use, of all of them (0...1).
        var bufferUse: Double
    }

    var session: String
    var realtimeNanoseconds: UInt64
    /// Running, or stopped (the last frame).
    var state: String
    /// The window the task figures' `window` and rates cover, CLOCK_MONOTONIC ns.
    var window: LiveTaskTable.Window
    var taskTypes: [LiveTaskTable.Row]
    var processes: [Process]
    /// What this viewer missed since it attached (traced never waits for it).
    var lost: LiveLoss
    /// Task ends whose begin this viewer never saw (begun before it attached, or lost).
    var endsWithoutBegin: Int

    enum SortKey: String, CaseIterable {
        case rate, p99, max, inflight, name

        /// The key a terminal's keystroke picks.
        init?(key: UInt8) {
            switch key {
            case UInt8(ascii: "r"): self = .rate
            case UInt8(ascii: "p"): self = .p99
            case UInt8(ascii: "m"): self = .max
            case UInt8(ascii: "f"): self = .inflight
            case UInt8(ascii: "n"): self = .name
            default: return nil
            }
        }
    }

    mutating func sort(by key: SortKey) {
        taskTypes.sort { a, b in
            switch key {
            case .rate: (a.completedPerSecond, b.type) > (b.completedPerSecond, a.type)
            case .p99: (a.window.p99, b.type) > (b.window.p99, a.type)
            case .max: (a.window.max, b.type) > (b.window.max, a.type)
            case .inflight: (a.inFlight, b.type) > (b.inFlight, a.type)
            case .name: a.type < b.type
            }
        }
    }

    /// The frame as a terminal shows it; `sort` names the order in the heading.
    func text(sort: SortKey, interactive: Bool) -> String {
        let d = ReportPrinter.duration
        var lines = ["session '\(session)' (\(state)) at \(StatusPrinter.time(realtimeNanoseconds)), the last \(Self.seconds(window.seconds)) and since top began"
                     + (interactive ? ";  sort: \(sort.rawValue) (r p m f n), q quits" : "")]
        lines.append("")
        lines.append("TASK TYPE".padding(28) + "DONE/S".leftPadding(9) + "IN FLIGHT".leftPadding(10) + "P50".leftPadding(10)
                     + "P99".leftPadding(10) + "MAX".leftPadding(10) + "   SINCE START" + "P99".leftPadding(10) + "MAX".leftPadding(10))
        for row in taskTypes {
            lines.append(row.type.padding(28) + Self.rate(row.completedPerSecond).leftPadding(9) + "\(row.inFlight)".leftPadding(10)
                         + d(row.window.p50).leftPadding(10) + d(row.window.p99).leftPadding(10) + d(row.window.max).leftPadding(10)
                         + "\(row.sinceStart.completed)".leftPadding(14) + d(row.sinceStart.p99).leftPadding(10)
                         + d(row.sinceStart.max).leftPadding(10))
        }
        if taskTypes.isEmpty { lines.append("  no task has begun or ended since top began") }
        lines.append("")
        lines.append("PROCESS".padding(20) + "PID".leftPadding(8) + "EVENTS/S".leftPadding(11) + "DROPS/S".leftPadding(10)
                     + "BUFFER".leftPadding(8) + "   DROPS SINCE JOINING")
        for process in processes {
            let drops = process.droppedPerSecond.values.reduce(0, +)
            let reasons = process.dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            lines.append(process.name.padding(20) + "\(process.pid)".leftPadding(8) + Self.rate(process.eventsPerSecond).leftPadding(11)
                         + Self.rate(drops).leftPadding(10) + (process.connected ? "\(Int((process.bufferUse * 100).rounded()))%" : "left").leftPadding(8)
                         + "   " + (reasons.isEmpty ? "none" : reasons))
        }
        if processes.isEmpty { lines.append("  no process is in the session") }
        if !lost.isEmpty { lines.append(""); lines.append("top " + lost.sentence) }
        return lines.joined(separator: "\n")
    }

    static func rate(_ value: Double) -> String {
        value >= 100 || value == 0 ? "\(Int(value.rounded()))" : String(Double(Int((value * 10).rounded())) / 10)
    }

    static func seconds(_ value: Double) -> String { value < 9.95 ? "\(Double(Int(value * 10)) / 10) s" : "\(Int(value.rounded())) s" }
}

/// Builds `TopFrame`s from what a `SessionWatch` hands over.
struct TopModel {
    private(set) var table: LiveTaskTable
    private var previous: (status: SessionStatus, at: UInt64)?
    private var latest: (status: SessionStatus, at: UInt64)?
    private(set) var lost = LiveLoss()

    init(windowSeconds: Int64) {
        table = LiveTaskTable(windowSeconds: windowSeconds)
    }

    mutating func take(_ events: [LiveTrace.Event]) {
        for event in events {
            table.saw(event.time)
            if case .taskEnd(_, let type, let latency) = event.kind { table.record(type: type, end: event.time, latency: latency) }
        }
    }

    /// A status traced sent, at `now` (CLOCK_MONOTONIC ns here).
    mutating func take(_ status: SessionStatus, now: UInt64) {
        previous = latest
        latest = (status, now)
    }

    mutating func take(_ loss: LiveLoss) { lost.add(loss) }

    mutating func frame(session: String, trace: LiveTrace, realtime: UInt64) -> TopFrame {
        let (window, rows) = table.rows(newest: trace.newest == .min ? 0 : trace.newest, inFlight: trace.openByType())
        return TopFrame(session: session, realtimeNanoseconds: realtime, state: stateName, window: window, taskTypes: rows,
                        processes: processes(), lost: lost, endsWithoutBegin: trace.endsWithoutBegin)
    }

    private var stateName: String {
        switch latest?.status.state {
        case .stopped?: "stopped"
        case .stopping?: "stopping"
        case .interrupted?: "interrupted"
        default: "running"
        }
    }

    private func processes() -> [TopFrame.Process] {
        guard let latest else { return [] }
        let seconds = previous.map { Double(latest.at &- $0.at) / 1e9 } ?? 0
        let before = Dictionary(previous?.status.clients.map { ($0.pid, $0) } ?? [], uniquingKeysWith: { $1 })
        return latest.status.clients.map { client in
            let earlier = before[client.pid]
            func rate(_ now: UInt64, _ then: UInt64?) -> Double {
                guard seconds > 0, let then, now >= then else { return 0 }
                return Double(now - then) / seconds
            }
            var drops: [String: Double] = [:]
            for (reason, count) in client.dropped {
                let value = rate(count, earlier?.dropped[reason] ?? 0)
                if value > 0 { drops[reason] = value }
            }
            return TopFrame.Process(pid: client.pid, name: client.name, connected: client.connected,
                                    eventsPerSecond: rate(client.events, earlier?.events), droppedPerSecond: drops,
                                    events: client.events, dropped: client.dropped,
                                    bufferUse: client.chunks == 0 ? 0 : Double(client.chunksInUse) / Double(client.chunks))
        }
    }
}
