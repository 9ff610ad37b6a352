import CTraceABI
import TraceKernel
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

    /// The executable file mappings in `/proc/PID/maps` (the lines with
    /// `x` in their permissions and a path), as the kernel's mmap records
    /// describe them (no build id: the maps file does not give it). At
    /// most `mapsLimit` bytes of the file are read.
    static func executableMappings(pid: Int32) -> [ExecutableMapping] {
        guard let maps = read("/proc/\(pid)/maps", limit: mapsLimit) else { return [] }
        return maps.split(separator: 0x0a).compactMap { line in
            // start-end perms offset dev inode [spaces] path
            let fields = line.split(separator: 0x20, maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].count == 4, fields[1][fields[1].startIndex + 2] == UInt8(ascii: "x") else { return nil }
            let range = fields[0].split(separator: UInt8(ascii: "-"))
            let path = String(decoding: fields[5].drop { $0 == 0x20 }, as: UTF8.self)
            guard range.count == 2, path.hasPrefix("/"),
                  let start = UInt64(String(decoding: range[0], as: UTF8.self), radix: 16),
                  let end = UInt64(String(decoding: range[1], as: UTF8.self), radix: 16), end > start,
                  let offset = UInt64(String(decoding: fields[2], as: UTF8.self), radix: 16) else { return nil }
            let perms = Array(fields[1])
            let protection = (perms[0] == UInt8(ascii: "r") ? UInt32(PROT_READ) : 0) | UInt32(PROT_EXEC)
                | (perms[1] == UInt8(ascii: "w") ? UInt32(PROT_WRITE) : 0)
            return ExecutableMapping(time: 0, pid: pid, tid: pid, address: start, length: end - start, fileOffset: offset,
                                     protection: protection, buildID: [], path: path)
        }
    }

    /// 4 MiB: 40,000 mappings or so; a process with more has the rest
    /// left out (their frames show as addresses).
    static let mapsLimit = 4 << 20

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
