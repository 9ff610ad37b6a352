import TestSupport
import Testing

/// Real threads writing real shared memory, drained to a real file: every
/// emitted event is either recorded or counted as dropped.
@Suite(.serialized, .tags(.concurrency)) struct ReconciliationTests {
    @Test(.tags(.slow)) func eightThreadsOfAMillionEventsEachReconcileExactly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("burst.trace")
        // Half of it under ThreadSanitizer (it took 325 s of the 376 the
        // sanitized suites ran): still many laps of the buffer.
        let threads = 8, events = Processes.sanitizer == nil ? 1_000_000 : 500_000
        let result = try Processes.fixture("burst", ["out": path, "threads": "\(threads)", "events": "\(events)"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.values["emitted"] == "\(threads * events)")
        #expect(try Processes.lz4Test(path).status == 0)

        let tally = try BurstTally(path: path)
        #expect(tally.violations.isEmpty, "\(tally.violations.prefix(5))")
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.perThread.count == threads)
        #expect(UInt64(tally.recorded) + tally.dropped == UInt64(threads * events))
        // Tens of MB of events through a 4 MiB buffer of 479 chunks of 8 KiB:
        // chunks were handed back and reused many times over.
        #expect(tally.batches > 2 * 479)
    }

    /// Counters alone, and counters inside regions: a region whose begin
    /// is dropped has its end dropped and counted too.
    @Test(arguments: [false, true])
    func aFullBufferDropsAndCountsEveryLostEvent(regions: Bool) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("full.trace")
        let threads = 4, events = 300_000
        let result = try Processes.fixture(
            "burst", ["out": path, "threads": "\(threads)", "events": "\(events)", "regions": regions ? "1" : "0"],
            environment: ["TRACED_BUFFER_SIZE": "64K", "TRACED_CHUNK_SIZE": "4K"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try Processes.lz4Test(path).status == 0)

        let tally = try BurstTally(path: path)
        #expect(tally.violations.isEmpty, "\(tally.violations.prefix(5))")
        #expect(tally.diagnostics.isEmpty, "\(tally.diagnostics)")
        #expect(tally.dropped > 0, "a 64 KiB buffer should overflow under four writing threads")
        let emitted = try #require(result.values["emitted"].flatMap(UInt64.init))
        #expect(emitted == UInt64(threads * events * (regions ? 3 : 1)))
        #expect(UInt64(tally.recorded) + tally.dropped == emitted)
    }
}
