import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The ftrace filters that make the kernel record the switches and
/// wakings of some threads only (`KernelCollector.select`).
///
/// The kernel tests a tracepoint event's filter in `perf_tp_event`, before
/// the sample, its callchain or a byte of the ring: a thread not chosen
/// costs the tracepoint's raw record and the test. It takes one filter per
/// event (a second `PERF_EVENT_IOC_SET_FILTER` fails with EEXIST), so a new
/// set of threads means new events, and a filter of at most a page (4,095
/// characters; EINVAL past it): runs of consecutive thread ids become
/// ranges, and a set that still does not fit is not filtered at all.
///
/// `newerThan`: thread ids above it (the kernel's last allocated one when
/// the filter was made) are recorded too, so that a new thread of a
/// recorded process is recorded from its first switch, before its fork
/// record has been read and the filter remade. Until then new threads of
/// other processes are recorded too, and dropped by the reader. After the
/// kernel's ids wrap around (pid_max), a new thread's events up to the
/// next filter are not recorded.
package struct ThreadFilter: Equatable, Sendable {
    /// sched_switch: the thread leaving its CPU is chosen and leaves it
    /// to wait (the event with kernel and user callchains: the kernel
    /// unwinds only a chosen thread's stacks, and its kernel frames say
    /// what it waits for).
    package let switchOutFilter: String
    /// sched_switch: the thread leaving its CPU is chosen and still
    /// runnable, preempted or yielding (the event with user callchains
    /// only: such a thread waits for nothing its kernel frames would tell).
    package let runnableOutFilter: String
    /// sched_switch: the thread taking the CPU is chosen and the one
    /// leaving is not (the event without callchains; with the one above,
    /// each switch is recorded once).
    package let switchInFilter: String
    /// sched_waking: the thread woken is chosen.
    package let wakingFilter: String
    /// sched_switch: either thread is chosen (one event, when switches
    /// carry no callchain).
    package let switchFilter: String

    /// The kernel's limit, less the terminating zero.
    package static let maximumLength = 4095

    /// The filters for `threads` (host thread ids), nil if they do not fit.
    package init?(threads: [Int32], newerThan: Int32?) {
        let runs = Self.runs(threads)
        func expression(_ field: String) -> String {
            var terms = runs.map { run in
                run.lowerBound == run.upperBound ? "\(field)==\(run.lowerBound)"
                    : "(\(field)>=\(run.lowerBound)&&\(field)<=\(run.upperBound))"
            }
            if let newerThan { terms.append("\(field)>\(newerThan)") }
            // An empty set: a test no thread passes (ids are positive).
            return terms.isEmpty ? "\(field)<0" : terms.joined(separator: "||")
        }
        let previous = expression("prev_pid"), next = expression("next_pid")
        // prev_state's TASK_REPORT bits (S 0x1 ... I 0x80), none for a
        // runnable thread, whether or not the preempted bit (0x100) is set:
        // a thread preempted on its way back to user mode is plain R.
        switchOutFilter = "(\(previous))&&prev_state&255"
        runnableOutFilter = "(\(previous))&&!(prev_state&255)"
        switchInFilter = "(\(next))&&!(\(previous))"
        switchFilter = previous + "||" + next
        wakingFilter = expression("pid")
        let filters = [switchOutFilter, runnableOutFilter, switchInFilter, switchFilter, wakingFilter]
        guard filters.allSatisfy({ $0.utf8.count <= Self.maximumLength }) else { return nil }
    }

    /// `threads` as sorted runs of consecutive ids.
    static func runs(_ threads: [Int32]) -> [ClosedRange<Int32>] {
        var runs: [ClosedRange<Int32>] = []
        for tid in Set(threads).sorted() {
            if let last = runs.last, last.upperBound < Int32.max, last.upperBound + 1 == tid {
                runs[runs.count - 1] = last.lowerBound...tid
            } else {
                runs.append(tid...tid)
            }
        }
        return runs
    }
}

extension ThreadFilter {
    package static let lastPIDPath = "/proc/sys/kernel/ns_last_pid"

    /// The last thread id the kernel handed out in this pid namespace
    /// (`/proc/sys/kernel/ns_last_pid`), nil if it cannot be read.
    package static func lastAllocatedThread() -> Int32? {
        guard let descriptor = try? FileDescriptor.open(lastPIDPath, O_RDONLY) else { return nil }
        defer { descriptor.close() }
        var bytes = (UInt64(0), UInt64(0))
        let count = withUnsafeMutableBytes(of: &bytes) { try? descriptor.read(into: $0) } ?? 0
        let text = withUnsafeBytes(of: bytes) { String(decoding: $0.prefix(count), as: UTF8.self) }
        return Int32(text.filter { !$0.isWhitespace })
    }
}
