#if canImport(Glibc)
package import Glibc
#endif

/// An open file descriptor. A thin wrapper: it does not close itself; the
/// owner calls `close()` exactly once.
package struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    package let rawValue: CInt

    package init(rawValue: CInt) { self.rawValue = rawValue }

    package static let standardInput = FileDescriptor(rawValue: 0)
    package static let standardOutput = FileDescriptor(rawValue: 1)
    package static let standardError = FileDescriptor(rawValue: 2)

    /// `open(2)` with `O_CLOEXEC` added.
    package static func open(
        _ path: String, _ flags: CInt, permissions: mode_t = 0o600
    ) throws(SystemError) -> FileDescriptor {
        let fd = try Syscall.call("open", subject: path) {
            Glibc.open(path, flags | O_CLOEXEC, permissions)
        }
        return FileDescriptor(rawValue: fd)
    }

    /// `close(2)`. EINTR is not retried: on Linux the descriptor is gone either way.
    package func close() {
        _ = Glibc.close(rawValue)
    }

    /// `read(2)` into `buffer`; returns 0 at end of file.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try Syscall.call("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// `pread(2)` at `offset`.
    package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(SystemError) -> Int {
        try Syscall.call("pread") { Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Writes all of `bytes`, looping over short writes.
    package func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = try Syscall.call("write") {
                Glibc.write(rawValue, bytes.baseAddress! + offset, bytes.count - offset)
            }
            offset += written
        }
    }

    package func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        let count = bytes.count
        try bytes.withUnsafeBufferPointer { (buffer) throws(SystemError) in
            try writeAll(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        }
    }

    /// `fsync(2)`.
    package func sync() throws(SystemError) {
        try Syscall.call("fsync") { Glibc.fsync(rawValue) }
    }

    /// `ftruncate(2)`.
    package func truncate(to size: Int) throws(SystemError) {
        try Syscall.call("ftruncate") { Glibc.ftruncate(rawValue, off_t(size)) }
    }

    /// The size `fstat(2)` reports.
    package func size() throws(SystemError) -> Int {
        var info = stat()
        try Syscall.call("fstat") { Glibc.fstat(rawValue, &info) }
        return Int(info.st_size)
    }

    /// `fstat(2)`.
    package func status() throws(SystemError) -> stat {
        var info = stat()
        try Syscall.call("fstat") { Glibc.fstat(rawValue, &info) }
        return info
    }

    /// `dup(2)` with close-on-exec.
    package func duplicate() throws(SystemError) -> FileDescriptor {
        FileDescriptor(rawValue: try Syscall.call("fcntl(F_DUPFD_CLOEXEC)") { fcntl(rawValue, F_DUPFD_CLOEXEC, 0) })
    }

    /// Sets or clears `O_NONBLOCK`.
    package func setNonBlocking(_ on: Bool) throws(SystemError) {
        let flags = try Syscall.call("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
        let updated = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        try Syscall.call("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, updated) }
    }

    /// Reads the whole file from the current position to its end.
    package func readToEnd(limit: Int = Int.max) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while result.count < limit {
            let n = try chunk.withUnsafeMutableBufferPointer { (buffer) throws(SystemError) in
                try read(into: UnsafeMutableRawBufferPointer(buffer))
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<min(n, limit - result.count)])
        }
        return result
    }
}
