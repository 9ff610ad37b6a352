import CTraceABI
import TestSupport
import Testing
import TraceFormat
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A client killed mid-write: the consumer, in another process, still takes
/// every event the client committed, and nothing torn.
@Suite(.tags(.concurrency)) struct ProducerCrashTests {
    @Test func everyCommittedEventSurvivesAClientKilledMidWrite() throws {
        let (ours, theirs) = try UnixSocket.pair()
        defer { ours.close() }
        let producer = try Spawned(Processes.executable("TraceFixture"), ["producer", "--socket", "3", "--threads", "3"],
                                   passing: theirs.rawValue)
        theirs.close()

        let received = try UnixSocket.receive(on: ours, capacity: 16, maxDescriptors: 2)
        #expect(received.bytes == [1] && received.descriptors.count == 2 && !received.truncated)
        let memory = received.descriptors[0], wake = EventNotifier(descriptor: received.descriptors[1])
        defer { memory.close(); wake.close() }
        // What the daemon does before mapping a client's buffer.
        #expect(try SharedMemory.seals(of: memory) & SharedMemory.requiredSeals == SharedMemory.requiredSeals)
        let mapping = try MemoryMapping(descriptor: memory, size: try memory.size())
        let consumer = try BufferConsumer(mapping: mapping)

        var values: [UInt32: [Int64]] = [:]
        var undecodable = 0
        func collect(_ header: BatchHeader, _ events: UnsafeRawBufferPointer, _ count: Int) {
            var reader = ByteReader(events)
            var state = header.initialState
            while !reader.isAtEnd {
                guard let event = try? EventDecoder.next(&reader, &state) else { undecodable += 1; return }
                if event.kind == .counterInteger { values[header.thread, default: []].append(event.integerValue) }
            }
        }
        // Drain while it writes at full speed, then kill it mid-burst.
        let deadline = tc_monotonic_ns() + 300_000_000
        while tc_monotonic_ns() < deadline {
            consumer.drain(process: 1, scrape: false, sink: collect)
            if consumer.prepareToSleep() { try wake.wait(timeoutMilliseconds: 10); consumer.awake() }
        }
        let status = producer.kill(SIGKILL)
        #expect(status & 0x7f == SIGKILL)
        let beforeScrape = values.values.map(\.count).reduce(0, +)

        // The client is gone: take the committed prefixes of the chunks it
        // was writing, then anything held back for ordering.
        consumer.drain(process: 1, scrape: true, sink: collect)
        consumer.drain(process: 1, scrape: true, sink: collect)
        consumer.flushHeld(sink: collect)
        let recorded = values.values.map(\.count).reduce(0, +)

        #expect(undecodable == 0)
        #expect(consumer.statistics.malformedChunks == 0 && consumer.statistics.invalidChunkStates == 0)
        #expect(values.count == 3)
        #expect(recorded > beforeScrape, "the last chunks each thread was writing are only reachable by scraping")
        // Each thread's values rise by one, except where drops were counted.
        let dropped = consumer.dropCounters()[UInt32(TC_DROP_BUFFER_FULL)] ?? 0
        var gaps: UInt64 = 0
        for (thread, series) in values {
            #expect(series.first == 0, "thread \(thread) starts at \(series.first ?? -1)")
            for (previous, next) in zip(series, series.dropFirst()) {
                #expect(next > previous, "thread \(thread): \(next) after \(previous)")
                gaps += UInt64(next - previous - 1)
            }
        }
        #expect(gaps <= dropped)
    }
}
