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
        if clockKind == UInt32(TC_CLOCK_MONOTONIC_NS) { return Int64(bitPattern: ticks) }
        guard clockKind == UInt32(TC_CLOCK_TSC) else { return nil }
        switch tscSyncs.count {
        case 0:
            return nil
        case 1:
            guard nominalTicksPerSecond > 0 else { return nil }
            let sync = tscSyncs[0]
            let ns = Double(Int64(bitPattern: ticks &- sync.ticks)) * 1e9 / Double(nominalTicksPerSecond)
            return Int64(clamping: sync.monotonicNanoseconds).saturatingAdd(Int64(saturating: ns.rounded()))
        default:
            let index = segmentIndex(for: ticks)
            let a = tscSyncs[index], b = tscSyncs[index + 1]
            let slope = Double(b.monotonicNanoseconds - a.monotonicNanoseconds) / Double(b.ticks - a.ticks)
            let delta = Double(Int64(bitPattern: ticks &- a.ticks)) * slope
            return Int64(clamping: a.monotonicNanoseconds).saturatingAdd(Int64(saturating: delta.rounded()))
        }
    }

    /// CLOCK_REALTIME minus CLOCK_MONOTONIC at the first sync, for wall-clock display.
    package func realtimeOffset(from syncs: [ClockSync]) -> Int64? {
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
