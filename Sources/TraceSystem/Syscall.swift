#if canImport(Glibc)
import Glibc
#endif

/// The one place system calls are made from Swift.
///
/// Policy: a call interrupted by a signal (`EINTR`) is retried; any other
/// failure throws a `SystemError` naming the call and its subject. Callers
/// never read `errno` themselves.
package enum Syscall {
    /// Runs `body` until it does not fail with `EINTR`; throws on -1.
    @discardableResult
    package static func call<Result: FixedWidthInteger & SignedInteger>(
        _ name: String, subject: String? = nil, _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let failure = Errno.current
            if failure == .interrupted { continue }
            throw SystemError(name, subject: subject, errno: failure)
        }
    }

    /// Like `call`, but `EAGAIN` returns nil instead of throwing (non-blocking I/O).
    package static func callUnlessWouldBlock<Result: FixedWidthInteger & SignedInteger>(
        _ name: String, subject: String? = nil, _ body: () -> Result
    ) throws(SystemError) -> Result? {
        do {
            return try call(name, subject: subject, body)
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }
}
