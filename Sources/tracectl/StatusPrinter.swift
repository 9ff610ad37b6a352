import TraceProtocol
import TraceText
#if canImport(Glibc)
import Glibc
#endif

/// `tracectl list` and `status` as text.
enum StatusPrinter {
    static func state(_ state: SessionStatus.State) -> String {
        switch state {
        case .running: "running"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .interrupted: "interrupted"
        }
    }

    static func bytes(_ count: UInt64) -> String {
        switch count {
        case ..<(1 << 10): "\(count) B"
        case ..<(1 << 20): "\(count >> 10) KiB"
        case ..<(1 << 30): "\(count >> 20) MiB"
        default: "\(count >> 30) GiB"
        }
    }

    static func drops(_ counts: [String: UInt64]) -> String {
        let shown = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        return shown.isEmpty ? "none" : shown.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// CLOCK_REALTIME nanoseconds as "2026-11-30 23:31:09 UTC".
    static func time(_ nanoseconds: UInt64) -> String {
        let parts = utc(Int64(clamping: nanoseconds))
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }

    /// CLOCK_REALTIME nanoseconds as the time of day, UTC, to the
    /// microsecond: "23:31:09.004215".
    static func timeOfDay(_ nanoseconds: Int64) -> String {
        let parts = utc(nanoseconds)
        let micros = String(nanoseconds % 1_000_000_000 / 1000)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: max(0, 6 - micros.count)) + micros
    }

    /// The UTC calendar fields of CLOCK_REALTIME `nanoseconds`.
    private static func utc(_ nanoseconds: Int64) -> tm {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    private static func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func list(_ sessions: [SessionStatus]) -> String {
        guard !sessions.isEmpty else { return "no sessions (start one with `tracectl start`)" }
        var lines = ["NAME".padding(24) + "STATE".padding(13) + "MODE".padding(16) + "EVENTS".leftPadding(12)
                     + "DROPPED".leftPadding(10) + "FILES".leftPadding(7) + "DISK".leftPadding(10)]
        for s in sessions {
            lines.append(s.name.padding(24) + state(s.state).padding(13)
                         + (s.mode == .streaming ? "streaming" : "flight recorder").padding(16)
                         + "\(s.events)".leftPadding(12) + "\(s.droppedTotal)".leftPadding(10) + "\(s.files)".leftPadding(7)
                         + bytes(s.diskBytes).leftPadding(10))
        }
        return lines.joined(separator: "\n")
    }

    static func session(_ s: SessionStatus) -> String {
        var lines = ["session '\(s.name)': \(state(s.state)), \(s.mode == .streaming ? "streaming" : "flight recorder"), owner uid \(s.owner)"]
        lines.append("  events \(s.events), dropped \(drops(s.dropped))")
        lines.append("  bytes \(bytes(s.bytesRaw)) raw, \(bytes(s.bytesCompressed)) compressed; \(s.files) file(s)"
                     + (s.filesDeleted > 0 ? " (\(s.filesDeleted) deleted by retention)" : "") + ", \(bytes(s.diskBytes)) on disk")
        if let failure = s.writeFailure {
            lines.append("  write failed at \(time(failure.realtimeNanoseconds)): \(failure.message)"
                         + (failure.resumed ? " (writing resumed since)"
                            : s.state == .running ? " (writing suspended: traced tries again every second; free disk space)" : ""))
        }
        for c in s.clients {
            // An untrusted client's drop counts are not what it dropped.
            let dropped = c.untrusted.map { "untrusted (\($0))" } ?? drops(c.dropped)
            // How full its buffer is now: near 100 %, it drops ("buffer full").
            let buffer = c.connected && c.chunks > 0 ? ", buffer \(c.chunksInUse * 100 / c.chunks)% in use" : ""
            lines.append("  pid \(c.pid) \(c.name)\(c.connected ? "" : " (gone)"): events \(c.events), dropped \(dropped), \(bytes(c.bytes)) raw"
                         + buffer + (c.malformed > 0 ? ", \(c.malformed) malformed chunk(s) rejected" : ""))
        }
        lines.append(contentsOf: execution(s))
        if let otlp = s.otlp { lines.append(contentsOf: self.otlp(otlp)) }
        return lines.joined(separator: "\n")
    }

    /// What the session sent to its OTLP endpoint, and what it did not, by reason.
    static func otlp(_ o: SessionStatus.OTLP) -> [String] {
        var lines = ["  otlp \(o.url): spans \(o.spans), sent \(o.sent) in \(o.requests) request(s), queued \(o.queued), "
                     + "not sent \(drops(o.dropped))" + (o.retries > 0 ? ", \(o.retries) retries" : "")
                     + "; metrics \(o.metricsSent) request(s) sent" + (o.metricsLost > 0 ? ", \(o.metricsLost) lost" : "")]
        if !o.lastProblem.isEmpty {
            lines.append("    last problem at \(time(o.lastProblemRealtimeNanoseconds)): \(o.lastProblem)")
        }
        return lines
    }

    /// What the kernel records of the session: events, losses, and what is
    /// missing with the setting that would enable it.
    static func execution(_ s: SessionStatus) -> [String] {
        guard let e = s.execution else { return ["  execution events: off (--no-exec)"] }
        var lines: [String] = []
        if !e.problem.isEmpty {
            lines.append("  execution events: not recorded: \(e.problem); annotations are")
        } else {
            let pids = e.processes.prefix(8).map(String.init).joined(separator: ", ") + (e.processes.count > 8 ? ", ..." : "")
            lines.append("  execution events \(e.events), lost \(e.lost) (kernel ring full); \(e.processes.count) process(es)"
                         + (e.processes.isEmpty ? "" : ": \(pids)"))
        }
        for note in e.leftOut { lines.append("    left out: \(note)") }
        return lines
    }

    static func status(_ daemon: DaemonStatus, _ sessions: [SessionStatus]) -> String {
        var lines = ["traced \(daemon.version), pid \(daemon.pid), up \(daemon.uptimeSeconds) s, \(daemon.clients) client(s)",
                     "  sockets in \(daemon.runtimeDirectory), sessions in \(daemon.stateDirectory)",
                     "  disk \(bytes(daemon.diskBytes)) of \(bytes(daemon.diskQuota))"]
        for session in sessions { lines.append(self.session(session)) }
        return lines.joined(separator: "\n")
    }
}
