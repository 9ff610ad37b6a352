import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// An epoll instance: which descriptors are ready, with a caller-chosen
/// 64-bit token per descriptor.
package final class Epoll {
    package let descriptor: FileDescriptor

    package struct Interest: OptionSet, Sendable {
        package let rawValue: UInt32
        package init(rawValue: UInt32) { self.rawValue = rawValue }
        package static let readable = Interest(rawValue: TC_EPOLLIN)
        package static let writable = Interest(rawValue: TC_EPOLLOUT)
        /// The peer closed (or shut down writing).
        package static let hangUp = Interest(rawValue: TC_EPOLLRDHUP)
    }

    package struct Ready: Sendable {
        package var token: UInt64
        package var readable: Bool
        package var writable: Bool
        /// Error or hang-up: the descriptor is finished.
        package var closed: Bool
    }

    package init() throws(SystemError) {
        descriptor = FileDescriptor(rawValue: try Syscall.call("epoll_create1") { tc_epoll_create() })
    }

    deinit { descriptor.close() }

    package func add(_ fd: FileDescriptor, _ interest: Interest, token: UInt64) throws(SystemError) {
        try Syscall.call("epoll_ctl(ADD)") { tc_epoll_control(descriptor.rawValue, 1, fd.rawValue, interest.rawValue, token) }
    }

    package func modify(_ fd: FileDescriptor, _ interest: Interest, token: UInt64) throws(SystemError) {
        try Syscall.call("epoll_ctl(MOD)") { tc_epoll_control(descriptor.rawValue, 3, fd.rawValue, interest.rawValue, token) }
    }

    /// Stops watching `fd`; a descriptor about to be closed may fail, ignored.
    package func remove(_ fd: FileDescriptor) {
        _ = tc_epoll_control(descriptor.rawValue, 2, fd.rawValue, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever). EINTR returns none.
    package func wait(timeoutMilliseconds: Int32) throws(SystemError) -> [Ready] {
        var events = [tc_poll_event](repeating: tc_poll_event(), count: 64)
        let n = tc_epoll_wait(descriptor.rawValue, &events, 64, timeoutMilliseconds)
        if n < 0 {
            let failure = Errno.current
            if failure == .interrupted { return [] }
            throw SystemError("epoll_wait", errno: failure)
        }
        return events[0..<Int(n)].map {
            Ready(token: $0.data, readable: $0.events & TC_EPOLLIN != 0, writable: $0.events & TC_EPOLLOUT != 0,
                  closed: $0.events & (TC_EPOLLERR | TC_EPOLLHUP) != 0)
        }
    }
}

/// Signals delivered as readable events (signalfd) instead of handlers.
package struct SignalNotifier {
    package let descriptor: FileDescriptor

    /// Blocks `signals` in this thread and those it creates later, and
    /// returns a descriptor that reports them.
    package static func receiving(_ signals: [CInt]) throws(SystemError) -> SignalNotifier {
        let fd = try Syscall.call("signalfd") { signals.withUnsafeBufferPointer { tc_signalfd_for($0.baseAddress, CInt($0.count)) } }
        return SignalNotifier(descriptor: FileDescriptor(rawValue: fd))
    }

    /// The signals that arrived since the last call.
    package func pending() -> [CInt] {
        var signals: [CInt] = []
        while true {
            let signal = tc_signalfd_read(descriptor.rawValue)
            if signal <= 0 { return signals }
            signals.append(signal)
        }
    }
}

/// A periodic timer as a readable descriptor (timerfd).
package struct PeriodicTimer {
    package let descriptor: FileDescriptor
    /// How often it fires now.
    package private(set) var interval: UInt64

    package static func every(nanoseconds: UInt64) throws(SystemError) -> PeriodicTimer {
        PeriodicTimer(descriptor: FileDescriptor(rawValue: try Syscall.call("timerfd_create") { tc_timerfd_periodic(nanoseconds) }),
                      interval: nanoseconds)
    }

    /// Fires every `nanoseconds` from now on, the first time `nanoseconds`
    /// from now.
    package mutating func change(every nanoseconds: UInt64) throws(SystemError) {
        _ = try Syscall.call("timerfd_settime") { tc_timerfd_set(descriptor.rawValue, nanoseconds) }
        interval = nanoseconds
    }

    /// Consumes the expirations so far.
    package func acknowledge() {
        var expirations: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &expirations) { read(descriptor.rawValue, $0.baseAddress, 8) }
    }
}
