import TraceAnalysis
import TraceProtocol
import TraceSystem

/// A running session watched over the control socket, as `tracectl top`
/// and `tail` read it: its trace as it is written (decoded by a
/// `LiveTrace`), what the viewer lost, its status each second, and its end
/// (docs/design.md, "Watching a session").
final class SessionWatch {
    enum Next {
        /// Task ends and logs, in time order within what came.
        case events([LiveTrace.Event])
        /// The viewer did not keep up: this much was not sent to it.
        case lost(LiveLoss)
        case status(SessionStatus)
        /// The session stopped: its final status. Nothing follows.
        case stopped(SessionStatus)
        /// `also` (the terminal) has input.
        case input
        case timeout
    }

    let name: String
    let trace = LiveTrace()
    private let link: DaemonLink

    /// Asks traced to watch `name`; its refusal (no such session, not
    /// yours, not running) ends tracectl with its status.
    init(_ name: String, _ daemon: DaemonOptions) {
        self.name = name
        link = DaemonLink.connect(daemon)
        link.send(ControlRequest.watch(name: name).encode())
    }

    deinit { link.channel.close() }

    /// The next thing that happens, waiting at most `timeoutMilliseconds`
    /// (-1: no limit), with `also` readable counting as one.
    func next(timeoutMilliseconds: Int32, also: FileDescriptor? = nil) throws -> Next {
        if !link.channel.holdsMessage {
            let readable = try Poll.wait(for: [link.channel.socket] + (also.map { [$0] } ?? []),
                                         timeoutMilliseconds: timeoutMilliseconds)
            if let also, readable.contains(also) { return .input }
            guard readable.contains(link.channel.socket) else { return .timeout }
        }
        switch link.receive() {
        case .liveData(let bytes): return .events(bytes.withUnsafeBytes { trace.take($0) })
        case .liveLost(let loss):
            trace.lost()
            return .lost(loss)
        case .liveStatus(let status): return .status(status)
        case .stopped(let status): return .stopped(status)
        default: throw Failure("traced answered a watch of '\(name)' with something else")
        }
    }
}

extension LiveLoss {
    /// What a viewer says of a loss.
    var sentence: String {
        "lost \(events) event(s) (\(frames) frame(s), \(bytes >> 10) KiB): this viewer did not keep up, and traced does not wait for viewers; the session's files have them"
    }
}
