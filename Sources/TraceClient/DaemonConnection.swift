import CTraceABI
import Synchronization
import TraceProtocol
import TraceSystem

/// The connection to the traced daemon: registers this process's buffer and
/// applies what the daemon says (tracing on or off, stacks).
///
/// It runs on its own thread, so nothing a service does ever waits on the
/// daemon. If the daemon is not running, or goes away, tracing stays off and
/// the thread tries again with backoff (0.1 s doubling to 30 s), then
/// registers the same buffer again: no restart of the service, no growth of
/// its memory. While the process traces itself into a file (`Trace.start`),
/// the connection is suspended; once it said goodbye at exit, it is over.
final class DaemonConnection: @unchecked Sendable {
    // Sendable: `state` is a Mutex; the other stored properties are immutable.
    private struct State {
        var suspended = false
        var socket: FileDescriptor?
        var refusalReported = false
        /// The process is exiting and said goodbye: never connect again (a
        /// connection made while atexit handlers and other threads still
        /// run would register the process a second time, and end as
        /// "disconnected" when it dies).
        var leaving = false
    }

    private let state = Mutex(State())
    /// Interrupts the backoff sleep (resume) and reports a closed connection (suspend).
    private let wake: EventNotifier
    private let closed: EventNotifier
    private let buffer: ProcessBuffer
    private let processName: String
    private let serviceName: String

    private init(buffer: ProcessBuffer, wake: EventNotifier, closed: EventNotifier) {
        self.buffer = buffer
        self.wake = wake
        self.closed = closed
        self.processName = ProcessEnvironment.programName()
        // At most 256 bytes go (the Hello's limit), cut at a character.
        var service = ProcessEnvironment.value("TRACED_SERVICE_NAME") ?? ""
        while service.utf8.count > 256 { service.removeLast() }
        self.serviceName = service
    }

    /// Starts the connection thread.
    static func start(buffer: ProcessBuffer) throws(SystemError) -> DaemonConnection {
        let connection = DaemonConnection(buffer: buffer, wake: try EventNotifier.create(), closed: try EventNotifier.create())
        _ = try SystemThread.spawn(name: "traced-client") { connection.run() }
        _ = tc_atexit { ClientRuntime.shared.daemonFarewell() }
        return connection
    }

    private func run() {
        var backoff: Int32 = 100
        while true {
            if state.withLock({ $0.leaving }) {
                // The process is exiting: nothing is left to do. Parked, not
                // returned, since nobody joins this thread.
                _ = try? wake.wait(timeoutMilliseconds: -1)
                continue
            }
            if state.withLock({ $0.suspended }) {
                _ = try? wake.wait(timeoutMilliseconds: 1000)
                continue
            }
            if serve() {
                backoff = 100
            }
            // Disconnected, refused, or never connected: off until next time.
            let suspended = state.withLock { state -> Bool in
                state.socket = nil
                return state.suspended
            }
            if !suspended { tc_control_store(0) }
            closed.signal()
            _ = try? wake.wait(timeoutMilliseconds: backoff)
            backoff = min(backoff * 2, 30_000)
        }
    }

    /// One connection, from hello to its end. Returns whether it was welcomed.
    private func serve() -> Bool {
        // Resolved at every attempt: the user's own traced may come or go.
        guard let socket = try? RuntimePaths.connect(socket: \.producerSocket).descriptor else { return false }
        let channel = MessageChannel(socket: socket, limit: Frame.producerLimit)
        defer { channel.close() }
        guard state.withLock({ state -> Bool in
            guard !state.suspended && !state.leaving else { return false }
            state.socket = socket
            return true
        }) else { return false }
        var hello = Hello(abiMajor: UInt64(TC_ABI_MAJOR), abiMinor: UInt64(TC_ABI_MINOR), processName: processName,
                          bufferSize: UInt64(buffer.geometry.totalSize))
        hello.serviceName = serviceName
        do {
            try channel.send(hello.encode(), descriptors: [buffer.descriptor, buffer.notifier.descriptor])
            guard let first = try channel.receive() else { return false }
            switch MessageType(rawValue: first.type) {
            case .welcome:
                let welcome = try first.decode(Welcome.self)
                try apply(welcome.control, sequence: welcome.sequence, on: channel)
            case .refused:
                let refused = try first.decode(Refused.self)
                let report = state.withLock { state -> Bool in
                    defer { state.refusalReported = true }
                    return !state.refusalReported
                }
                if report { Diagnostics.report("traced refused this process (tracing stays off): \(refused.reason)") }
                return false
            default:
                return false
            }
            while let message = try channel.receive() {
                guard MessageType(rawValue: message.type) == .control else { continue }
                let control = try message.decode(Control.self)
                try apply(control.control, sequence: control.sequence, on: channel)
            }
            return true
        } catch {
            return false
        }
    }

    /// Sets the control word, then acknowledges. Turning tracing off waits
    /// until no event is in flight, so the daemon's last drain has them all.
    private func apply(_ control: ControlWord, sequence: UInt64, on channel: MessageChannel) throws {
        let word = (control.enabled ? UInt32(TC_CONTROL_ENABLED) : 0) | (control.stacks ? UInt32(TC_CONTROL_STACKS) : 0)
        if state.withLock({ $0.suspended }) { return }
        tc_control_store(word)
        if !control.enabled { ClientRuntime.shared.waitForEventsInFlight() }
        try channel.send(ControlAck(sequence: sequence).encode())
    }

    /// Leaves the daemon for an in-process trace: tracing off, no event in
    /// flight, a goodbye, and (up to 2 s) the daemon's close, after which it
    /// has taken everything committed.
    func suspend() {
        let socket = state.withLock { state -> FileDescriptor? in
            state.suspended = true
            return state.socket
        }
        guard let socket else { return }
        tc_control_store(0)
        ClientRuntime.shared.waitForEventsInFlight()
        closed.drain()
        try? UnixSocket.sendAll(Goodbye(reason: .tracingInProcess).encode(), on: socket)
        _ = try? closed.wait(timeoutMilliseconds: 2000)
    }

    /// Reconnects after an in-process trace.
    func resume() {
        state.withLock { $0.suspended = false }
        wake.signal()
    }

    /// At exit: tell the daemon, so it records a clean end, and connect no
    /// more.
    func farewell() {
        let socket = state.withLock { state -> FileDescriptor? in
            state.leaving = true
            return state.socket
        }
        guard let socket else { return }
        tc_control_store(0)
        ClientRuntime.shared.waitForEventsInFlight()
        try? UnixSocket.sendAll(Goodbye(reason: .exiting).encode(), on: socket)
    }
}
