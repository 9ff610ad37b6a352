import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// What traced reads of a process in /proc: what the kernel says, never
/// what the process claims.
enum ProcFiles {
    /// `/proc/PID/comm`, or a thread's `/proc/PID/task/TID/comm`.
    static func name(pid: Int32, tid: Int32? = nil) -> String? {
        let path = tid.map { "/proc/\(pid)/task/\($0)/comm" } ?? "/proc/\(pid)/comm"
        guard let descriptor = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        defer { descriptor.close() }
        guard let bytes = try? descriptor.readToEnd(limit: 64), !bytes.isEmpty else { return nil }
        return String(decoding: bytes.prefix { $0 != 0x0a }, as: UTF8.self)
    }

    /// The owner of `/proc/PID`: the process's effective uid (root for a
    /// process that is not dumpable), nil if there is no such process.
    static func owner(pid: Int32) -> UInt32? {
        var info = stat()
        guard stat("/proc/\(pid)", &info) == 0 else { return nil }
        return info.st_uid
    }
}
