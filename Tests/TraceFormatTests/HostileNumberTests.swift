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
        var model = TraceModel()
        model.drops = [1: counts, 2: DropCounts(process: 2, counts: [0: .max])]
        #expect(model.droppedEvents == UInt64.max)
        let report = TraceReport(model)
        #expect(report.droppedEvents == UInt64.max)
        #expect(report.drops == [0: UInt64.max, 1: UInt64.max / 2 + 1, UInt32(TC_LOST_METADATA): 5])
    }

    @Test func aReportOverTimesAtBothEndsOfInt64SaturatesInsteadOfTrapping() {
        var model = TraceModel()
        func event(_ time: Int64, _ kind: TraceModel.Kind) -> TraceModel.Event {
            TraceModel.Event(process: 1, thread: 1, time: time, swiftTask: 0, kind: kind)
        }
        model.events = [
            event(.min, .taskBegin(id: 1, parent: 0, type: "order", stack: 0)),
            event(0, .regionBegin(type: "brew", sequence: 0, task: 0, stack: 0)),
            event(1, .regionBegin(type: "brew", sequence: 1, task: 0, stack: 0)),
            event(.max - 1, .regionEnd(beginThread: 1, beginSequence: 1)),
            event(.max, .regionEnd(beginThread: 1, beginSequence: 0)),
            event(.max, .taskEnd(id: 1)),
        ]
        let report = TraceReport(model)
        #expect(report.span == Int64.max)
        #expect(report.tasks["order"] == TraceReport.Distribution([Int64.max]))
        #expect(report.tasks["order"]?.maximum == Int64.max)
        // Durations of Int64.max - 2 and Int64.max: their total sticks.
        #expect(report.regions["brew"]?.count == 2)
        #expect(report.regions["brew"]?.minimum == Int64.max - 2)
        #expect(report.regions["brew"]?.total == Int64.max)
    }
}
