import CTraceABI

/// Places event timestamps on one nanosecond timeline (CLOCK_MONOTONIC).
///
/// A TSC timestamp is converted by linear interpolation between the two
/// clock-sync records around it (extrapolating from the nearest pair at the
/// ends, or from the nominal rate when a file holds a single sync). Each
/// sync is taken as rdtsc / clock_gettime / rdtsc, keeping the narrowest of
/// a few tries, so its own error is half that window (~10-25 ns here);
/// between syncs the error adds at most the clock's rate drift over the
/// interval (NTP slews CLOCK_MONOTONIC by ≤ 500 ppm). docs/format.md
/// ("Clocks") gives the bound. CLOCK_MONOTONIC_NS timestamps need no
/// conversion.
package struct ClockConverter: Sendable {
    private let tscSyncs: [ClockSync]
    private let nominalTicksPerSecond: UInt64

    package init(syncs: [ClockSync], nominalTicksPerSecond: UInt64 = 0) {
        var sorted = syncs.filter { $0.clockKind == UInt32(TC_CLOCK_TSC) }.sorted { $0.ticks < $1.ticks }
        // Keep ticks strictly increasing so every interval has a slope.
        var unique: [ClockSync] = []
        for sync in sorted where unique.last.map({ sync.ticks > $0.ticks && sync.monotonicNanoseconds >= $0.monotonicNanoseconds }) ?? true {
            unique.append(sync)
        }
        sorted = unique
        self.tscSyncs = sorted
        self.nominalTicksPerSecond = nominalTicksPerSecond
    }

    /// CLOCK_MONOTONIC nanoseconds of `ticks` of `clockKind`, or nil if
    /// nothing in the file says how to convert them.
    ///
    /// Ticks, syncs and the nominal rate come from the file: a scribbled
    /// value can put a timestamp centuries away or past Int64's range, so
    /// the result saturates at Int64's bounds (an implausible time the
    /// report shows as such) instead of trapping.
    package func monotonicNanoseconds(ticks: UInt64, clockKind: UInt32) -> Int64? {
        segment(ticks: ticks, clockKind: clockKind)?.nanoseconds(ticks)
    }

    /// The same for a run of timestamps (a batch's, a thread's): through
    /// `piece` while it covers them, else through the piece that does,
    /// kept in `piece` for the next; no search per timestamp.
    @inline(__always)
    package func monotonicNanoseconds(ticks: UInt64, clockKind: UInt32, piece: inout Segment?) -> Int64? {
        if let known = piece, known.covers(ticks) { return known.nanoseconds(ticks) }
        piece = segment(ticks: ticks, clockKind: clockKind)
        return piece?.nanoseconds(ticks)
    }

    /// The linear piece that converts `ticks` and its neighbours, for a
    /// reader converting a run of timestamps: `Segment.covers` tells when
    /// a later timestamp needs another piece. Nil as `monotonicNanoseconds`.
    package func segment(ticks: UInt64, clockKind: UInt32) -> Segment? {
        if clockKind == UInt32(TC_CLOCK_MONOTONIC_NS) { return .identity }
        guard clockKind == UInt32(TC_CLOCK_TSC) else { return nil }
        switch tscSyncs.count {
        case 0:
            return nil
        case 1:
            guard nominalTicksPerSecond > 0 else { return nil }
            let sync = tscSyncs[0]
            return Segment(ticks: sync.ticks, nanoseconds: sync.monotonicNanoseconds, slope: 1e9,
                           divisor: Double(nominalTicksPerSecond), range: 0...UInt64.max)
        default:
            let index = segmentIndex(for: ticks)
            let a = tscSyncs[index], b = tscSyncs[index + 1]
            let slope = Double(b.monotonicNanoseconds - a.monotonicNanoseconds) / Double(b.ticks - a.ticks)
            // The first and last pieces extend past the syncs at their ends.
            let low = index == 0 ? 0 : a.ticks
            let high = index + 2 == tscSyncs.count ? UInt64.max : b.ticks - 1
            return Segment(ticks: a.ticks, nanoseconds: a.monotonicNanoseconds, slope: slope, range: low...high)
        }
    }

    /// One linear piece of the conversion.
    package struct Segment: Sendable {
        package static let identity = Segment(ticks: 0, nanoseconds: 0, slope: 0, range: 0...UInt64.max, identity: true)

        private let ticks: UInt64
        private let base: Int64
        private let slope: Double
        private let divisor: Double
        private let identity: Bool
        /// The ticks this piece converts.
        package let range: ClosedRange<UInt64>

        init(ticks: UInt64, nanoseconds: UInt64, slope: Double, divisor: Double = 1, range: ClosedRange<UInt64>,
             identity: Bool = false) {
            self.ticks = ticks
            self.base = Int64(clamping: nanoseconds)
            self.slope = slope
            self.divisor = divisor
            self.range = range
            self.identity = identity
        }

        @inline(__always)
        package func covers(_ ticks: UInt64) -> Bool { range.contains(ticks) }

        /// Ticks, syncs and the nominal rate come from the file: a scribbled
        /// value can put a timestamp centuries away or past Int64's range,
        /// so the result saturates at Int64's bounds (an implausible time
        /// the report shows as such) instead of trapping.
        @inline(__always)
        package func nanoseconds(_ ticks: UInt64) -> Int64 {
            if identity { return Int64(bitPattern: ticks) }
            let delta = Double(Int64(bitPattern: ticks &- self.ticks)) * slope / divisor
            return base.saturatingAdd(Int64(saturating: delta.rounded()))
        }
    }

    /// CLOCK_REALTIME minus CLOCK_MONOTONIC at the first sync, for wall-clock display.
    package static func realtimeOffset(from syncs: [ClockSync]) -> Int64? {
        guard let sync = syncs.first else { return nil }
        return Int64(clamping: sync.realtimeNanoseconds).saturatingSubtract(Int64(clamping: sync.monotonicNanoseconds))
    }

    /// The interval [i, i+1] to use for `ticks`: the one containing it, or the
    /// first/last one when it lies outside all syncs.
    private func segmentIndex(for ticks: UInt64) -> Int {
        var low = 0, high = tscSyncs.count - 1
        if ticks <= tscSyncs[0].ticks { return 0 }
        if ticks >= tscSyncs[high].ticks { return high - 1 }
        while high - low > 1 {
            let mid = (low + high) / 2
            if tscSyncs[mid].ticks <= ticks { low = mid } else { high = mid }
        }
        return low
    }
}
