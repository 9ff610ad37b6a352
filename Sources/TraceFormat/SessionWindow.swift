/// When a trace's events can have happened: from its earliest clock sync
/// to its latest (CLOCK_MONOTONIC), widened by `margin` on each side. An
/// event timed outside is not believed (docs/analysis.md, "Timestamps
/// outside the session"): readers leave it out of the timeline and count it.
///
/// Timestamps are untrusted input. A client writes its events' deltas into
/// its own shared memory and can write anything there; one delta of 2^62
/// put a trace's end 146 years after its start. Clock syncs are written by
/// the trace's writer (traced or the in-process writer), never by a
/// client, and they bracket the session: traced takes each clock's first
/// sync when the first process using it joins, before any of its events,
/// one at every scrape and at every file's end (docs/format.md, "0x03
/// clock sync").
package struct SessionWindow: Equatable, Sendable {
    /// How far outside its syncs an event may legitimately be timed: two
    /// of the longest `scrape_interval` (60 s). An event waits in a buffer
    /// at most until the next scrape before traced takes it, and every
    /// scrape writes a sync, so an event the syncs do not bracket is one
    /// that waited for a scrape past the last sync of a file cut short (or
    /// fetched while it is written), or one a process wrote for another
    /// session just before it joined this one. A scribbled time is years
    /// off; this one bounds what a scribble that passes can do to a trace.
    package static let margin: Int64 = 120_000_000_000

    /// The earliest and latest time believed.
    package let lower: Int64
    package let upper: Int64

    /// The window of `syncs` (every sync of the trace's files); nil
    /// without any, when nothing in the files tells when the session was.
    package init?(syncs: [ClockSync]) {
        guard let earliest = syncs.lazy.map(\.monotonicNanoseconds).min(),
              let latest = syncs.lazy.map(\.monotonicNanoseconds).max() else { return nil }
        lower = Int64(clamping: earliest).saturatingSubtract(Self.margin)
        upper = Int64(clamping: latest).saturatingAdd(Self.margin)
    }

    @inline(__always)
    package func contains(_ time: Int64) -> Bool { time >= lower && time <= upper }
}
