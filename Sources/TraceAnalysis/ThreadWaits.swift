/// One wait of a thread off its CPU (docs/analysis.md, "Waits"): from a
/// switch-out waiting (lock, io, sleep or syscall, as `Activity` tells it)
/// to the wakeup that ended it, or to its switch-in if the trace has no
/// wakeup before it. The time after the wakeup is the wait for a CPU
/// (runnable, the scheduler latency), not part of it.
package struct ThreadWait: Sendable {
    package var process: UInt32
    package var thread: UInt32
    package var begin: Int64
    package var end: Int64
    /// lock, io, sleep or syscall.
    package var activity: Activity
    /// The system call or kernel function it waited in (the empty name: not told).
    package var why: TraceName
    /// Its user stack where it left its CPU (0: none recorded).
    package var stack: UInt32
    /// The wakeup that ended it; nil when its switch-in came first (the
    /// trace lost the wakeup).
    package var wakeup: Wakeup?

    package var duration: Int64 { end.saturatingSubtract(begin) }
}

/// Follows the kernel events of every thread and hands out each wait as it
/// ends. A wait whose end the trace lost (the thread's next event is
/// another switch-out or its exit, or the trace ends first) is never handed
/// out: its length is not known. Memory: one entry per thread waiting.
struct WaitTracker {
    private struct Key: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    private struct Pending {
        var begin: Int64
        var activity: Activity
        var why: TraceName
        var stack: UInt32
    }

    private var pending: [Key: Pending] = [:]

    /// A kernel event of a thread: the wait it ends, if it ends one.
    mutating func kernel(_ event: TraceEvent) -> ThreadWait? {
        let key = Key(process: event.process, thread: event.thread)
        switch event.kind {
        case .switchOut(let out):
            let activity = Activity(out)
            switch activity {
            case .lock, .io, .sleep, .syscall:
                pending[key] = Pending(begin: event.time, activity: activity, why: out.why, stack: out.stack)
            case .running, .runnable, .suspended, .unknown:
                pending[key] = nil
            }
            return nil
        case .wakeup(let wakeup):
            return end(key, at: event.time, wakeup: wakeup)
        case .switchIn:
            return end(key, at: event.time, wakeup: nil)
        case .threadExit:
            pending[key] = nil
            return nil
        default:
            return nil
        }
    }

    private mutating func end(_ key: Key, at time: Int64, wakeup: Wakeup?) -> ThreadWait? {
        guard let wait = pending.removeValue(forKey: key) else { return nil }
        return ThreadWait(process: key.process, thread: key.thread, begin: wait.begin, end: max(time, wait.begin),
                          activity: wait.activity, why: wait.why, stack: wait.stack, wakeup: wakeup)
    }
}
