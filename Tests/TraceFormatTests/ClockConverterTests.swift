import CTraceABI
import Testing
import TraceFormat

@Suite struct ClockConverterTests {
    let tsc = UInt32(TC_CLOCK_TSC)

    func sync(_ ticks: UInt64, _ ns: UInt64) -> ClockSync {
        ClockSync(clockKind: tsc, ticks: ticks, monotonicNanoseconds: ns, realtimeNanoseconds: ns + 1_000_000)
    }

    @Test func ticksBetweenTwoSyncsAreInterpolated() {
        let clock = ClockConverter(syncs: [sync(1000, 500), sync(3000, 1500)])
        #expect(clock.monotonicNanoseconds(ticks: 1000, clockKind: tsc) == 500)
        #expect(clock.monotonicNanoseconds(ticks: 2000, clockKind: tsc) == 1000)
        #expect(clock.monotonicNanoseconds(ticks: 3000, clockKind: tsc) == 1500)
    }

    @Test func eachIntervalUsesItsOwnRate() {
        // 2 ticks/ns, then 4 ticks/ns.
        let clock = ClockConverter(syncs: [sync(0, 0), sync(2000, 1000), sync(6000, 2000)])
        #expect(clock.monotonicNanoseconds(ticks: 1000, clockKind: tsc) == 500)
        #expect(clock.monotonicNanoseconds(ticks: 4000, clockKind: tsc) == 1500)
    }

    @Test func ticksOutsideTheSyncsAreExtrapolatedFromTheNearestInterval() {
        let clock = ClockConverter(syncs: [sync(1000, 1000), sync(2000, 1500)])
        #expect(clock.monotonicNanoseconds(ticks: 0, clockKind: tsc) == 500)
        #expect(clock.monotonicNanoseconds(ticks: 4000, clockKind: tsc) == 2500)
    }

    @Test func aSingleSyncUsesTheNominalRate() {
        let clock = ClockConverter(syncs: [sync(1_000_000, 10)], nominalTicksPerSecond: 2_000_000_000)
        #expect(clock.monotonicNanoseconds(ticks: 3_000_000, clockKind: tsc) == 1_000_010)
        #expect(ClockConverter(syncs: [sync(1, 1)]).monotonicNanoseconds(ticks: 5, clockKind: tsc) == nil)
    }

    @Test func monotonicTimestampsNeedNoConversion() {
        let clock = ClockConverter(syncs: [])
        #expect(clock.monotonicNanoseconds(ticks: 123, clockKind: UInt32(TC_CLOCK_MONOTONIC_NS)) == 123)
        #expect(clock.monotonicNanoseconds(ticks: 123, clockKind: tsc) == nil)
    }

    @Test func syncsThatGoBackwardsAreIgnored() {
        let clock = ClockConverter(syncs: [sync(1000, 1000), sync(2000, 900), sync(3000, 2000)])
        #expect(clock.monotonicNanoseconds(ticks: 2000, clockKind: tsc) == 1500)
    }
}
