import CTraceABI
package import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Takes clock-sync readings for the files a consumer writes.
package enum ClockSampler {
    /// Reads the event clock of `clockKind` next to CLOCK_MONOTONIC and
    /// CLOCK_REALTIME. For the TSC it brackets clock_gettime with two TSC
    /// reads, keeps the narrowest bracket of five tries and uses its
    /// midpoint, so the pair is off by at most half that bracket.
    package static func sample(clockKind: UInt32) -> ClockSync {
        if clockKind != UInt32(TC_CLOCK_TSC) {
            let monotonic = tc_monotonic_ns()
            return ClockSync(clockKind: clockKind, ticks: monotonic, monotonicNanoseconds: monotonic,
                             realtimeNanoseconds: tc_realtime_ns())
        }
        var best = ClockSync(clockKind: clockKind, ticks: 0, monotonicNanoseconds: 0, realtimeNanoseconds: 0)
        var narrowest = UInt64.max
        for _ in 0..<5 {
            let before = tc_read_tsc()
            let monotonic = tc_monotonic_ns()
            let after = tc_read_tsc()
            let realtime = tc_realtime_ns()
            guard after >= before else { continue }
            if after - before < narrowest {
                narrowest = after - before
                // Event timestamps are TSC / 64 (TC_TSC_SHIFT): so are syncs.
                best = ClockSync(clockKind: clockKind, ticks: (before + (after - before) / 2) >> UInt64(TC_TSC_SHIFT),
                                 monotonicNanoseconds: monotonic, realtimeNanoseconds: realtime)
            }
        }
        return best
    }

    /// Ticks per second of the event clock (TSC / 64), measured over about a
    /// millisecond (for TC_CLOCK_MONOTONIC_NS, exactly 1e9). A hint for
    /// readers of files that hold a single clock-sync record.
    package static func nominalRate(clockKind: UInt32) -> UInt64 {
        guard clockKind == UInt32(TC_CLOCK_TSC) else { return 1_000_000_000 }
        let first = sample(clockKind: clockKind)
        var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        var remaining = timespec()
        while nanosleep(&pause, &remaining) != 0 { pause = remaining }
        let second = sample(clockKind: clockKind)
        let nanoseconds = second.monotonicNanoseconds &- first.monotonicNanoseconds
        guard nanoseconds > 0, second.ticks > first.ticks else { return 0 }
        return UInt64((Double(second.ticks - first.ticks) * 1e9 / Double(nanoseconds)).rounded())
    }
}
