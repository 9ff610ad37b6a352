import CTraceABI

/// A region of code whose execution interval is traced, started with
/// `Trace.startRegion` and ended with `end()`.
///
/// Regions nest: end a region before the region it is nested in. In async
/// code a region belongs to the Swift task that started it and may end on
/// another thread after an `await`; the trace records both the threads and
/// the Swift task, so a timeline shows the region hopping threads.
///
/// ```swift
/// let region = Trace.startRegion("steamMilk")
/// defer { region.end() }
/// ```
///
/// Misuse never crashes and is recorded for analysis to flag: ending a
/// region twice, out of order, or on another task. A region started while
/// tracing was off is inactive and its `end()` does nothing. A region whose
/// begin was dropped (the buffer was full) has its end dropped and counted
/// too.
public struct TraceRegion: Sendable {
    @usableFromInline let thread: UInt32
    @usableFromInline let sequence: UInt64

    @usableFromInline
    init(thread: UInt32, sequence: UInt64) {
        self.thread = thread
        self.sequence = sequence
    }

    /// A region whose begin was dropped for `reason` (TC_DROP_*): thread 0
    /// (no thread has index 0) and the reason + 1 in `sequence`; thread 0
    /// with sequence 0 is an inactive region.
    @usableFromInline
    init(droppedFor reason: UInt32) {
        self.init(thread: 0, sequence: UInt64(reason) + 1)
    }

    /// Marks the end of the region.
    @inlinable
    public func end() {
        guard thread != 0 else {
            if sequence != 0 { EventWriter.regionEndDropped(reason: UInt32(truncatingIfNeeded: sequence - 1)) }
            return
        }
        EventWriter.regionEnd(self)
    }
}
