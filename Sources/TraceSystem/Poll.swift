#if canImport(Glibc)
import Glibc
#endif

/// `poll(2)` for readability.
package enum Poll {
    /// Waits until one of `descriptors` is readable (or hung up) or the
    /// timeout passes; returns the readable ones. EINTR returns early with
    /// none, so callers re-check their state as after a timeout.
    package static func wait(
        for descriptors: [FileDescriptor], timeoutMilliseconds: Int32
    ) throws(SystemError) -> [FileDescriptor] {
        var entries = descriptors.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        let count = entries.withUnsafeMutableBufferPointer {
            poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds)
        }
        if count < 0 {
            let failure = Errno.current
            if failure == .interrupted { return [] }
            throw SystemError("poll", errno: failure)
        }
        return entries.filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
    }
}
