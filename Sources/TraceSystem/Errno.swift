#if canImport(Glibc)
import Glibc
#endif

/// An `errno` value with its text, as returned by a failed system call.
package struct Errno: RawRepresentable, Equatable, Hashable, Sendable, CustomStringConvertible {
    package let rawValue: CInt

    package init(rawValue: CInt) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    package static var current: Errno { Errno(rawValue: errno) }

    /// `strerror(3)` of the value, e.g. "No such file or directory".
    package var description: String { String(cString: strerror(rawValue)) }

    package static let interrupted = Errno(rawValue: EINTR)
    package static let wouldBlock = Errno(rawValue: EAGAIN)
    package static let notFound = Errno(rawValue: ENOENT)
    package static let exists = Errno(rawValue: EEXIST)
    package static let permissionDenied = Errno(rawValue: EACCES)
    package static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    package static let brokenPipe = Errno(rawValue: EPIPE)
    package static let noSpace = Errno(rawValue: ENOSPC)
    package static let invalidArgument = Errno(rawValue: EINVAL)
    package static let addressInUse = Errno(rawValue: EADDRINUSE)
    package static let noEntity = Errno(rawValue: ENOENT)
    package static let connectionReset = Errno(rawValue: ECONNRESET)
}

/// A failed system call: which call, on what, and why.
///
/// Its description reads like systemd's messages:
/// `open('/var/lib/traced/x.trace'): Permission denied`.
package struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    package let call: String
    package let subject: String?
    package let errno: Errno

    package init(_ call: String, subject: String? = nil, errno: Errno = .current) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    package var description: String {
        if let subject { return "\(call)('\(subject)'): \(errno)" }
        return "\(call): \(errno)"
    }
}
