/// Finds the second copy of a switch or waking in one CPU's ring while
/// `KernelCollector.select` replaced its events: for a moment an old and
/// a new event both record it, and the kernel writes the two copies one
/// after the other (the tracepoint's events run in turn, interrupts off,
/// in `perf_tp_event`). Two different switches, or wakings, on one CPU
/// never share a nanosecond, so a record equal to the last one of its
/// kind is the copy.
struct Duplicates {
    private var lastSwitch: ContextSwitch?
    private var lastWakeup: Wakeup?

    /// Whether `record` repeats the last switch or waking; remembers it.
    mutating func repeats(_ record: KernelRecord) -> Bool {
        switch record {
        case .contextSwitch(let change):
            defer { lastSwitch = change }
            return change == lastSwitch
        case .wakeup(let wakeup):
            defer { lastWakeup = wakeup }
            return wakeup == lastWakeup
        default:
            return false
        }
    }
}
