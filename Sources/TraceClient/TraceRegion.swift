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
/// tracing was off is inactive and its `end()` does nothing.
public struct TraceRegion: Sendable {
    @usableFromInline let thread: UInt32
    @usableFromInline let sequence: UInt64

    @usableFromInline
    init(thread: UInt32, sequence: UInt64) {
        self.thread = thread
        self.sequence = sequence
    }

    /// Marks the end of the region.
    @inlinable
    public func end() {
        guard thread != 0 else { return }
        EventWriter.regionEnd(self)
    }
}
