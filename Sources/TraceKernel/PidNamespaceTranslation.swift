import TraceSystem

/// The thread ids of the tracepoints' raw fields, in the collector's pid
/// namespace, for a collector that runs in a pid namespace of its own (a
/// container: systemd-nspawn, Docker, Tests/Tools/systemd-box).
///
/// sched_switch's `prev_pid` and `next_pid` and sched_waking's `pid` are
/// the kernel's own ids, those of the initial pid namespace, whoever reads
/// them; the pid and tid perf writes in a sample's header and in fork,
/// exit and comm records are translated into the namespace of the process
/// that opened the event (0 for a task it cannot see, -1 for one the kernel
/// already let go of). Without this, a collector in a container matches
/// the kernel's ids against its own and finds no switch or wakeup of its
/// threads, or those of others.
///
/// The translation is learned from the switches themselves: a switch
/// sample is taken in the thread that switches out, so its header's tid
/// and its `prev_pid` name one thread in both namespaces. A thread is
/// known from its first switch-out after the collector opened; the
/// switch-ins and wakeups it had before that name thread 0 (one this
/// namespace cannot see). Its last switch-out (dead, zombie) forgets it,
/// as the kernel may give its id to another.
///
/// Not thread-safe: the thread that drains the rings owns it, one for
/// every CPU's decoder (threads move between CPUs).
package final class PidNamespaceTranslation {
    /// The kernel's id of each thread seen switching out → its id here.
    private var local: [Int32: Int32] = [:]

    /// At most this many threads known at once (live threads of the
    /// namespace that ran since the collector opened); past it, all are
    /// forgotten and learned again from their next switch-outs.
    package static let maximumThreads = 1 << 18

    /// The initial pid namespace's inode (PROC_PID_INIT_INO,
    /// include/linux/proc_ns.h), the same on every kernel since 3.8.
    static let initialNamespaceInode: UInt64 = 0xEFFF_FFFC

    package init() {}

    /// One for a collector outside the initial pid namespace (the inode of
    /// `/proc/self/ns/pid` is not the initial one's); nil where the
    /// kernel's ids are this process's.
    package static func ifNeeded() -> PidNamespaceTranslation? {
        guard let inode = FileSystem.inode(of: "/proc/self/ns/pid"), inode != initialNamespaceInode else { return nil }
        return PidNamespaceTranslation()
    }

    /// Thread `kernelTID` (`prev_pid`) switches out in a sample whose
    /// header names thread `tid`; `last` when it never runs again. Its id
    /// here, 0 if it has none.
    package func switchedOut(kernelTID: Int32, tid: Int32, last: Bool) -> Int32 {
        guard kernelTID > 0 else { return 0 }
        let here: Int32
        if tid > 0 {
            if local[kernelTID] != tid {
                if local.count >= Self.maximumThreads { local.removeAll() }
                local[kernelTID] = tid
            }
            here = tid
        } else {
            // -1: the kernel let go of it, its last switch-out; 0: a thread
            // of another namespace, which may have taken a departed
            // thread's id.
            here = tid < 0 ? local[kernelTID] ?? 0 : 0
            if tid == 0 { local[kernelTID] = nil }
        }
        if last { local[kernelTID] = nil }
        return here
    }

    /// Thread `kernelTID`'s id here (`next_pid`, a wakee); 0 if it has not
    /// switched out since the collector opened, or is not of this
    /// namespace.
    package func local(_ kernelTID: Int32) -> Int32 {
        kernelTID > 0 ? local[kernelTID] ?? 0 : 0
    }
}
