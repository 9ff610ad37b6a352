import CTraceABI
import Testing
import TraceAnalysis
import TraceFormat

/// Numbers a reader takes from a file reach arithmetic only saturated:
/// values at the ends of their types give values at the ends of the
/// results, never a trap (docs/design.md, "Untrusted numbers").
@Suite struct HostileNumberTests {
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
        #expect(steep.realtimeOffset(from: [top]) == 0)
        let apart = ClockSync(clockKind: tsc, ticks: 0, monotonicNanoseconds: 0, realtimeNanoseconds: .max)
        #expect(steep.realtimeOffset(from: [apart]) == Int64.max)
    }

    @Test func dropCountsThatSumPastUInt64StickAtItsMaximum() {
        let counts = DropCounts(process: 1, counts: [0: .max / 2 + 1, 1: .max / 2 + 1, UInt32(TC_LOST_METADATA): 5])
        #expect(counts.droppedEvents == UInt64.max)
        #expect([counts, DropCounts(process: 2, counts: [0: .max])].map(\.droppedEvents).saturatingSum() == UInt64.max)
    }

    @Test func aSummaryOverTimesAtBothEndsOfInt64SaturatesInsteadOfTrapping() {
        let walk = TraceWalk(sources: [])
        var summary = TraceSummary(catalog: walk.catalog)
        let order = TraceName(index: 1), brew = TraceName(index: 2)
        summary.taskEnded(TaskSpan(process: 1, id: 1, parent: 0, type: order, begin: .min, end: .max, thread: 1,
                                   swiftTask: 0, stack: 0))
        func region(_ begin: Int64, _ end: Int64, serial: UInt64) -> RegionSpan {
            RegionSpan(process: 1, type: brew, task: 0, serial: serial, parent: 0, depth: 0, beginThread: 1, swiftTask: 0,
                       sequence: serial, begin: begin, end: end, endThread: 1, stack: 0, misuse: [])
        }
        summary.regionEnded(region(1, .max - 1, serial: 1))
        summary.regionEnded(region(0, .max, serial: 2))
        let task = summary.tasks[order]?.distribution
        #expect(task?.count == 1)
        #expect(task?.maximum == Int64.max && task?.total == Int64.max)
        #expect(task?.percentile(50) == Int64.max)
        // Durations of Int64.max - 2 and Int64.max: their total sticks.
        let regions = summary.regions[brew]?.distribution
        #expect(regions?.count == 2)
        #expect(regions?.minimum == Int64.max - 2)
        #expect(regions?.total == Int64.max)
    }
}
