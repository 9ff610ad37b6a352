import ArgumentParser
import CTraceABI
import Foundation
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// `tracectl top NAME`: a running session, live (docs/design.md, "Watching
/// a session").
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a running session live: per task type, tasks done per second, in flight, p50/p99/max over the last 10 s and since top began; per process, events and drops per second and buffer use.",
        discussion: """
            Refreshed every second. On a terminal it redraws in place: r, p, m, f and n sort the task types by \
            rate, p99, max, in flight and name; q quits. Otherwise it prints a frame a second; --json prints one \
            JSON object a second. It ends when the session stops, after a last frame. A viewer that does not keep \
            up loses part of the trace (traced never waits for it) and says how much; the session loses nothing.
            """)

    @Argument(help: "Session name (a running one).")
    var name: String

    @Flag(help: "One JSON object per second (one line each), for scripts.")
    var json = false

    @Flag(help: "Print one frame, a second after attaching, and exit.")
    var once = false

    @Option(help: ArgumentHelp("Sort task types by: rate, p99, max, inflight or name.", valueName: "key"))
    var sort = "rate"

    @Option(help: ArgumentHelp("The window of the rates and percentiles (1s...5m).", valueName: "duration"))
    var window = "10s"

    @OptionGroup var daemon: DaemonOptions

    func validate() throws {
        guard TopFrame.SortKey(rawValue: sort) != nil else {
            throw ValidationError("--sort '\(sort)' is not one of \(TopFrame.SortKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let nanoseconds = Units.nanoseconds(window), (1_000_000_000...300_000_000_000).contains(nanoseconds) else {
            throw ValidationError("--window '\(window)' is not a duration of 1s...5m (e.g. 10s, 1m)")
        }
    }

    func run() throws {
        var sortKey = TopFrame.SortKey(rawValue: sort) ?? .rate
        let watch = SessionWatch(name, daemon)
        var model = TopModel(windowSeconds: Int64((Units.nanoseconds(window) ?? 10_000_000_000) / 1_000_000_000))
        let interactive = !json && !once && isatty(1) == 1
        let terminal = interactive ? RawTerminal() : nil
        // The alternate screen, as top(1) uses: what was on the terminal
        // comes back when it quits, with the last frame if the session stopped.
        var alternate = interactive
        if alternate { write("\u{1B}[?1049h") }
        defer {
            terminal?.restore()
            if alternate { write("\u{1B}[?1049l") }
        }
        let started = tc_monotonic_ns()
        var nextFrame = started + 1_000_000_000
        var statuses = 0
        var frames = 0
        func show(final: Bool) throws {
            var frame = model.frame(session: name, trace: watch.trace, realtime: tc_realtime_ns())
            frame.sort(by: sortKey)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                write(String(decoding: try encoder.encode(frame), as: UTF8.self) + "\n")
            } else if interactive && !final {
                write("\u{1B}[H\u{1B}[2J" + frame.text(sort: sortKey, interactive: terminal != nil) + "\n")
            } else {
                write((frames > 0 ? "\n" : "") + frame.text(sort: sortKey, interactive: false) + "\n")
            }
            frames += 1
        }
        while true {
            let now = tc_monotonic_ns()
            if now >= nextFrame && (!once || statuses >= 2 || now - started > 3_000_000_000) {
                try show(final: false)
                if once { return }
                nextFrame = now + 1_000_000_000
            }
            let wait = Int32(clamping: (nextFrame.saturatingSubtract(now) + 999_999) / 1_000_000)
            switch try watch.next(timeoutMilliseconds: max(1, wait), also: terminal == nil ? nil : .standardInput) {
            case .events(let events): model.take(events)
            case .lost(let loss): model.take(loss)
            case .status(let status):
                model.take(status, now: tc_monotonic_ns())
                statuses += 1
            case .stopped(let status):
                model.take(status, now: tc_monotonic_ns())
                if alternate {
                    write("\u{1B}[?1049l")
                    alternate = false
                }
                try show(final: true)
                return
            case .input:
                guard let key = terminal?.key() else { return }
                if key == UInt8(ascii: "q") || key == 3 { return }
                if let chosen = TopFrame.SortKey(key: key) {
                    sortKey = chosen
                    nextFrame = 0
                }
            case .timeout: continue
            }
        }
    }

    private func write(_ text: String) {
        try? FileDescriptor.standardOutput.writeAll(Array(text.utf8))
    }
}
