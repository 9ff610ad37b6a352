/// Finds the second copy of a switch or waking in one CPU's ring while
/// `KernelCollector.select` replaced its events: for a moment an old and
/// a new event both record it. The kernel writes the copies one right
/// after the other (the tracepoint's events run in turn, interrupts off,
/// in `perf_tp_event`), each with its own reading of the clock, taken
/// after the previous copy's callchain was unwound. So a record is a copy
/// if the one before it in the ring is the same switch (the same threads
/// and state) at most `window` earlier, or the same waking at most
/// `wakingWindow` earlier. The copies may differ in their callchains (an
/// old event with them, a new one without), and the first is kept.
///
/// Two switches alike in a row on one CPU cannot both be real: the thread
/// that left must have come back on this CPU in between, and that switch
/// is recorded too. Two wakings alike in a row can (the wakee slept again
/// on another CPU, whose ring has its switches), hence the narrower window
/// for wakings: their copies have no callchain between them.
package struct Duplicates {
    private var last: KernelRecord?
    /// More than a deep callchain takes to unwind.
    package static let window: UInt64 = 100_000
    /// More than writing a record takes; less than a thread takes to be
    /// woken, run, and sleep again.
    package static let wakingWindow: UInt64 = 5_000

    package init() {}

    /// Whether `record` repeats the record before it; remembers it.
    package mutating func repeats(_ record: KernelRecord) -> Bool {
        defer { last = record }
        switch (record, last) {
        case (.contextSwitch(let change), .contextSwitch(let before)?):
            return change.time >= before.time && change.time - before.time <= Self.window
                && change.previousTID == before.previousTID && change.nextTID == before.nextTID
                && change.previousState == before.previousState && change.preempted == before.preempted
        case (.wakeup(var wakeup), .wakeup(let before)?):
            guard wakeup.time >= before.time, wakeup.time - before.time <= Self.wakingWindow else { return false }
            wakeup.time = before.time
            return wakeup == before
        default:
            return false
        }
    }
}
