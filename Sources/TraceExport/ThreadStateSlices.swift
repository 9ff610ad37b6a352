import TraceAnalysis

/// Each recorded thread's state over time, from the kernel's events, as
/// slices that follow one another on the thread: running (on a CPU),
/// runnable (wanting one), or waiting, and for what (`Activity`'s names, the
/// report's: lock, io, sleep, syscall, unknown) and in what (the system
/// call). The Chrome JSON export draws them; the Perfetto export leaves
/// this to trace_processor, which derives the same from scheduler events.
///
/// A state starts at the event that puts the thread in it: a switch-in
/// (running), a switch-out (runnable, or the wait it entered), a wakeup of
/// a waiting thread (runnable; a wakeup of a thread on a CPU or already
/// wanting one changes nothing, as in `ThreadActivity`). It ends at the
/// next of these, at the thread's exit or last switch (dead), or at the end
/// of the trace. Before a thread's first kernel event its state is not
/// known, and no slice says anything there. A state that lasts no time
/// makes no slice.
///
/// Memory: one entry per thread seen.
struct ThreadStateSlices {
    enum State: Equatable {
        case running(cpu: UInt32)
        case runnable
        /// Waiting: what for, and the system call or kernel function (the
        /// empty name: not known).
        case waiting(Activity, why: TraceName)
        case stopped
    }

    struct Slice {
        var process: UInt32
        var thread: UInt32
        var begin: Int64
        var end: Int64
        var state: State
    }

    private struct Key: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    private var open: [Key: (state: State, since: Int64)] = [:]

    /// Follows a kernel event: the slice it ends, if it ends one.
    mutating func follow(_ event: TraceEvent) -> Slice? {
        let key = Key(process: event.process, thread: event.thread)
        let next: State?
        switch event.kind {
        case .switchIn(let cpu): next = .running(cpu: cpu)
        case .switchOut(let out):
            switch out.state {
            case .runnable: next = .runnable
            case .stopped: next = .stopped
            case .dead: next = nil
            case .sleeping, .disk, .other: next = .waiting(Activity(out), why: out.why)
            }
        case .wakeup:
            if let current = open[key]?.state {
                if case .running = current { return nil }
                if current == .runnable { return nil }
            }
            next = .runnable
        case .threadExit: next = nil
        default: return nil
        }
        let ended = open[key].map { Slice(process: key.process, thread: key.thread, begin: $0.since, end: event.time, state: $0.state) }
        open[key] = next.map { ($0, event.time) }
        return ended.flatMap { $0.end > $0.begin ? $0 : nil }
    }

    /// Ends every open state at `time`: the slices, by process and thread.
    mutating func finish(at time: Int64) -> [Slice] {
        let slices = open.sorted { ($0.key.process, $0.key.thread) < ($1.key.process, $1.key.thread) }
            .map { Slice(process: $0.key.process, thread: $0.key.thread, begin: $0.value.since, end: time, state: $0.value.state) }
            .filter { $0.end > $0.begin }
        open.removeAll()
        return slices
    }
}
