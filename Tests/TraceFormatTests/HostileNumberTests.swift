import CTraceABI
import TestSupport
import Testing
import TraceFormat

/// Numbers a reader takes from a file reach arithmetic only saturated:
/// values at the ends of their types give values at the ends of the
/// results, never a trap (docs/design.md, "Untrusted numbers").
@Suite(.tags(.hostileInput)) struct HostileNumberTests {
    let tsc = UInt32(TC_CLOCK_TSC)

    @Test func clockSyncsPastInt64GiveTimesAtItsBoundsNotATrap() {
        let top = ClockSync(clockKind: tsc, ticks: 0, monotonicNanoseconds: .max, realtimeNanoseconds: .max)
        // One sync: its time plus the nominal-rate offset.
        let single = ClockConverter(syncs: [top], nominalTicksPerSecond: 1)
        #expect(single.monotonicNanoseconds(ticks: 0, clockKind: tsc) == Int64.max)
        #expect(single.monotonicNanoseconds(ticks: 1 << 62, clockKind: tsc) == Int64.max)
        #expect(single.monotonicNanoseconds(ticks: .max, clockKind: tsc) == Int64.max - 1_000_000_000)
        // Two syncs: a slope of 2^64 ns per tick, extrapolated either way.
        let steep = ClockConverter(syncs: [ClockSync(clockKind: tsc, ticks: 10, monotonicNanoseconds: 0, realtimeNanoseconds: 0),
                                           ClockSync(clockKind: tsc, ticks: 11, monotonicNanoseconds: .max, realtimeNanoseconds: 0)])
        #expect(steep.monotonicNanoseconds(ticks: 1 << 40, clockKind: tsc) == Int64.max)
        #expect(steep.monotonicNanoseconds(ticks: 0, clockKind: tsc) == Int64.min)
        #expect(ClockConverter.realtimeOffset(from: [top]) == 0)
        let apart = ClockSync(clockKind: tsc, ticks: 0, monotonicNanoseconds: 0, realtimeNanoseconds: .max)
        #expect(ClockConverter.realtimeOffset(from: [apart]) == Int64.max)
    }

    @Test func dropCountsThatSumPastUInt64StickAtItsMaximum() {
        let counts = DropCounts(process: 1, counts: [0: .max / 2 + 1, 1: .max / 2 + 1, UInt32(TC_LOST_METADATA): 5])
        #expect(counts.droppedEvents == UInt64.max)
        #expect([counts, DropCounts(process: 2, counts: [0: .max])].map(\.droppedEvents).saturatingSum() == UInt64.max)
    }
}
