import CTraceABI
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
        guard let bytes = read(path, limit: 64), !bytes.isEmpty else { return nil }
        return String(decoding: bytes.prefix { $0 != 0x0a }, as: UTF8.self)
    }

    /// A process's counters as format.md's stat events count them (TC_STAT_*,
    /// value), from `/proc/PID/stat`, `status` and `fd`; the open files only
    /// where traced may list them (its own user's, or with privilege).
    static func stats(pid: Int32) -> [(what: Int, value: UInt64)] {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return [] }
        // After "pid (comm) ": field n of proc(5) is at index n - 3.
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " ")).map { UInt64(String(decoding: $0, as: UTF8.self)) }
        func field(_ n: Int) -> UInt64? { n - 3 < fields.count ? fields[n - 3] : nil }
        let tick = UInt64(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        let page = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
        var stats: [(what: Int, value: UInt64)] = []
        if let user = field(14) { stats.append((TC_STAT_USER_CPU_NS, user.multipliedReportingOverflow(by: 1_000_000_000 / tick).partialValue)) }
        if let system = field(15) { stats.append((TC_STAT_SYSTEM_CPU_NS, system.multipliedReportingOverflow(by: 1_000_000_000 / tick).partialValue)) }
        if let rss = field(24) { stats.append((TC_STAT_RSS_BYTES, rss.multipliedReportingOverflow(by: page).partialValue)) }
        if let threads = field(20) { stats.append((TC_STAT_THREADS, threads)) }
        if let minor = field(10) { stats.append((TC_STAT_MINOR_FAULTS, minor)) }
        if let major = field(12) { stats.append((TC_STAT_MAJOR_FAULTS, major)) }
        if let status = read("/proc/\(pid)/status") {
            for line in String(decoding: status, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let value = UInt64(parts[1].filter { !$0.isWhitespace }) else { continue }
                if parts[0] == "voluntary_ctxt_switches" { stats.append((TC_STAT_VOLUNTARY_SWITCHES, value)) }
                if parts[0] == "nonvoluntary_ctxt_switches" { stats.append((TC_STAT_INVOLUNTARY_SWITCHES, value)) }
            }
        }
        if access("/proc/\(pid)/fd", R_OK) == 0 {
            stats.append((TC_STAT_OPEN_FDS, UInt64(FileSystem.entries("/proc/\(pid)/fd").count)))
        }
        return stats
    }

    private static func read(_ path: String, limit: Int = 64 << 10) -> [UInt8]? {
        guard let descriptor = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        defer { descriptor.close() }
        return try? descriptor.readToEnd(limit: limit)
    }

    /// The owner of `/proc/PID`: the process's effective uid (root for a
    /// process that is not dumpable), nil if there is no such process.
    static func owner(pid: Int32) -> UInt32? {
        FileSystem.owner(of: "/proc/\(pid)")
    }
}
