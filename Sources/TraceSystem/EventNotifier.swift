import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// An `eventfd(2)` used as a wake-up: producers `signal()`, one consumer
/// `wait(timeoutMilliseconds:)`s on it (or polls it with others).
package struct EventNotifier: Sendable {
    package let descriptor: FileDescriptor

    /// A new non-blocking, close-on-exec eventfd.
    package static func create() throws(SystemError) -> EventNotifier {
        let raw = try Syscall.call("eventfd") { tc_eventfd(0, TC_EFD_CLOEXEC | TC_EFD_NONBLOCK) }
        return EventNotifier(descriptor: FileDescriptor(rawValue: raw))
    }

    package init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// Adds one to the counter. Never blocks; a failure (the counter is
    /// saturated, or the descriptor is gone) only loses a wake-up, which
    /// the consumer's timer covers, so it is ignored.
    package func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(descriptor.rawValue, $0.baseAddress, 8) }
    }

    /// Resets the counter; returns whether it was signalled.
    @discardableResult
    package func drain() -> Bool {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { Glibc.read(descriptor.rawValue, $0.baseAddress, 8) }
        return n == 8 && value > 0
    }

    /// Waits until signalled or `timeoutMilliseconds` pass; resets the counter.
    package func wait(timeoutMilliseconds: Int32) throws(SystemError) {
        _ = try Poll.wait(for: [descriptor], timeoutMilliseconds: timeoutMilliseconds)
        drain()
    }

    package func close() { descriptor.close() }
}
