package import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why kernel events could not be collected: what failed, on what, and
/// what to do about it. The caller logs it once.
package enum KernelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No tracefs at any of `searched`; `mountFailure` is set when mounting
    /// it was tried and failed.
    case tracefsNotMounted(searched: [String], mountFailure: SystemError?)
    /// A tracefs file (an `id` or `format`) could not be read.
    case tracefsUnreadable(SystemError)
    /// The copy `traced --prepare-kernel` made exists but cannot be read.
    case preparedUnreadable(SystemError)
    /// A tracepoint's `format` file lacks what the decoder needs.
    case tracepointFormat(event: String, path: String, problem: String)
    /// `/sys/devices/system/cpu/online` unreadable or not a CPU list.
    case onlineCPUs(path: String, problem: String)
    /// A ring size that is not a power of two number of pages in range.
    case ringSize(bytes: Int, pageSize: Int)
    /// `perf_event_open(2)` failed for `event` on `cpu`.
    case open(event: String, cpu: Int, SystemError)
    /// `mmap(2)` of the ring of `cpu` failed.
    case map(cpu: Int, bytes: Int, SystemError)
    /// The mapped ring's page says something other than what was mapped.
    case ringGeometry(cpu: Int, problem: String)
    /// An ioctl on `event`'s descriptor on `cpu` failed.
    case control(event: String, cpu: Int, SystemError)
    /// `/proc/kallsyms` could not be read.
    case kernelSymbols(SystemError)
    /// A CPU sampling rate outside 0 (none) ... `KernelCollector.maximumSampleHertz`.
    case cpuSampleRate(hertz: Int)

    package var description: String {
        switch self {
        case .tracefsNotMounted(let searched, nil):
            return "tracefs is not mounted (looked in \(searched.joined(separator: ", "))): "
                + "mount it with `mount -t tracefs nodev /sys/kernel/tracing`"
        case .tracefsNotMounted(let searched, let failure?):
            return "tracefs is not mounted (looked in \(searched.joined(separator: ", "))), and "
                + "\(failure) (mounting it needs root: `mount -t tracefs nodev /sys/kernel/tracing`)"
        case .tracefsUnreadable(let error):
            if Self.isPermission(error.errno) {
                return "\(error) (tracefs is readable by root only: run traced as root, or run `traced --prepare-kernel RUNTIME_DIR/kernel` as root before it, as the packaged unit does, and grant it CAP_PERFMON)"
            }
            return "\(error) (is this kernel built with CONFIG_TRACEPOINTS and the sched events?)"
        case .preparedUnreadable(let error):
            return "\(error) (the kernel files `traced --prepare-kernel` copied must be readable by traced's user: "
                + "directories 0755, files 0640 root:traced; run it again as root, as the packaged unit's ExecStartPre= does)"
        case .tracepointFormat(let event, let path, let problem):
            return "tracepoint \(event) cannot be decoded: \(problem) in '\(path)'"
        case .onlineCPUs(let path, let problem):
            return "cannot tell which CPUs are online: \(problem) in '\(path)'"
        case .ringSize(let bytes, let pageSize):
            return "a perf ring of \(bytes) bytes is not a power of two number of \(pageSize)-byte pages "
                + "between \(pageSize) and \(PerfRing.maximumDataSize) bytes"
        case .open(let event, let cpu, let error):
            return "perf_event_open(\(event), cpu \(cpu)) failed: \(error.errno)\(Self.openAdvice(error.errno))"
        case .map(let cpu, let bytes, let error):
            var text = "mmap of the \(bytes / 1024) KiB perf ring of cpu \(cpu) failed: \(error.errno)"
            if Self.isPermission(error.errno) {
                text += " (perf rings are locked memory: past kernel.perf_event_mlock_kb they count against "
                    + "RLIMIT_MEMLOCK; raise it (LimitMEMLOCK=64M in a drop-in of the unit), or grant CAP_IPC_LOCK)"
            }
            return text
        case .ringGeometry(let cpu, let problem):
            return "the perf ring of cpu \(cpu) is not what was mapped: \(problem)"
        case .control(let event, let cpu, let error):
            return "\(error.call) on \(event), cpu \(cpu) failed: \(error.errno)"
        case .kernelSymbols(let error):
            return "\(error) (the kernel's symbols name what a sleeping thread waits for: "
                + "is /proc mounted?)"
        case .cpuSampleRate(let hertz):
            return "a CPU sampling rate of \(hertz) Hz is out of range: give 0 (no samples) "
                + "to \(KernelCollector.maximumSampleHertz) Hz"
        }
    }

    private static func isPermission(_ errno: Errno) -> Bool {
        errno == .permissionDenied || errno == Errno(rawValue: EPERM)
    }

    private static func openAdvice(_ errno: Errno) -> String {
        if isPermission(errno) { return " (traced needs CAP_PERFMON: the packaged unit grants it (AmbientCapabilities=CAP_PERFMON); or run it as root)" }
        switch errno.rawValue {
        case EMFILE, ENFILE: return " (traced opens three or four perf events per CPU: raise its open-file limit)"
        case ENOENT, ENODEV: return " (this kernel does not have that event)"
        case EOVERFLOW:
            return " (callchains of \(Callchain.limit) entries exceed kernel.perf_event_max_stack: raise it to \(Callchain.limit))"
        case EINVAL, E2BIG: return " (the kernel refused the attributes: traced needs Linux 6.0 or later)"
        default: return ""
        }
    }
}
