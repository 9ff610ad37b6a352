import CTraceABI
import TestSupport
import Testing
import TraceFormat
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

@Suite(.tags(.concurrency)) struct BufferConsumerTests {
    @Test func aBufferIsSealedAgainstResizing() throws {
        let buffer = try TestBuffer()
        let seals = try SharedMemory.seals(of: buffer.descriptor)
        #expect(seals & SharedMemory.requiredSeals == SharedMemory.requiredSeals)
        #expect(throws: SystemError.self) { try buffer.descriptor.truncate(to: 4096) }
    }

    @Test func scrapedPrefixesAndTheRestOfAChunkArriveExactlyOnce() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        buffer.begin(0, thread: 7, sequence: 0, baseTicks: 1000, droppedBefore: 4)
        buffer.append(0, TestBuffer.counters(from: 0, count: 10))

        #expect(drain(consumer, scrape: false).batches.isEmpty)
        let first = drain(consumer, scrape: true)
        #expect(first.values == Array(0..<10))
        #expect(first.ticks == Array(1001...1010))
        #expect(first.batches.map(\.segmentOffset) == [0])
        #expect(first.batches.first?.droppedBefore == 4)

        buffer.append(0, TestBuffer.counters(from: 10, count: 5))
        let second = drain(consumer, scrape: true)
        #expect(second.values == Array(10..<15))
        #expect(second.ticks == Array(1011...1015))
        #expect(second.batches.first?.baseTicks == 1010)
        #expect(second.batches.first?.droppedBefore == 0)
        #expect(drain(consumer, scrape: true).batches.isEmpty)

        buffer.append(0, TestBuffer.counters(from: 15, count: 1))
        buffer.complete(0)
        let before = tc_free_generation_load_relaxed(buffer.header)
        let last = drain(consumer, scrape: false)
        #expect(last.values == [15])
        #expect(buffer.state(0) == UInt32(TC_CHUNK_FREE))
        #expect(tc_chunk_committed_load_acquire(buffer.chunk(0)) == 0)
        #expect(tc_free_generation_load_relaxed(buffer.header) == before + 1)
        #expect(consumer.statistics.events == 16)
    }

    @Test func completedChunksAreFoundThroughTheBitmapAlone() throws {
        let buffer = try TestBuffer(size: 1 << 20)
        let consumer = try buffer.consumer()
        let indices = [0, 63, 64, 65, buffer.geometry.chunkCount - 1]
        for (n, index) in indices.enumerated() {
            buffer.begin(index, thread: UInt32(n + 1), sequence: 0)
            buffer.append(index, TestBuffer.counters(from: n * 100, count: 3))
            buffer.complete(index)
        }
        // A COMPLETE chunk whose bit was never set is only seen by a scrape.
        buffer.begin(10, thread: 99, sequence: 0)
        buffer.append(10, TestBuffer.counters(from: 9900, count: 1))
        tc_chunk_state_store_release(buffer.chunk(10), UInt32(TC_CHUNK_COMPLETE))

        #expect(!consumer.prepareToSleep())
        let taken = drain(consumer, scrape: false)
        #expect(taken.batches.map(\.thread) == [1, 2, 3, 4, 5])
        #expect(taken.values.count == 15)
        #expect(indices.allSatisfy { buffer.state($0) == UInt32(TC_CHUNK_FREE) })
        #expect(consumer.prepareToSleep())
        consumer.awake()
        #expect(drain(consumer, scrape: true).values == [9900])
    }

    @Test func batchesOfOnePassAreOrderedByThreadAndSequence() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        buffer.begin(0, thread: 2, sequence: 1)
        buffer.begin(1, thread: 1, sequence: 0)
        buffer.begin(2, thread: 2, sequence: 0)
        for index in 0..<3 {
            buffer.append(index, TestBuffer.counters(from: index, count: 1))
            buffer.complete(index)
        }
        let taken = drain(consumer, scrape: false)
        #expect(taken.batches.map { [$0.thread, $0.chunkSequence] } == [[1, 0], [2, 0], [2, 1]])
    }

    @Test func aThreadsChunksComeOutInSequenceOrderWhateverTheirPlaceInTheBuffer() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        // Chunk 1 of the thread sits at a lower index than chunk 0, and is
        // complete while chunk 0 is still being written.
        buffer.begin(5, thread: 1, sequence: 0)
        buffer.append(5, TestBuffer.counters(from: 0, count: 2))
        buffer.begin(2, thread: 1, sequence: 1)
        buffer.append(2, TestBuffer.counters(from: 2, count: 2))
        buffer.complete(2)
        #expect(drain(consumer, scrape: false).values.isEmpty)
        buffer.complete(5)
        #expect(drain(consumer, scrape: false).values == [0, 1, 2, 3])
    }

    @Test func garbageAfterValidEventsPoisonsOnlyItsChunk() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        buffer.begin(0, thread: 1, sequence: 0)
        buffer.append(0, TestBuffer.counters(from: 0, count: 4) + [0x3F, 9, 9, 9])
        buffer.begin(1, thread: 2, sequence: 0)
        buffer.append(1, TestBuffer.counters(from: 100, count: 2))
        let first = drain(consumer, scrape: true)
        #expect(first.values == [0, 1, 2, 3, 100, 101])
        #expect(first.undecodable == 0)
        #expect(consumer.statistics.malformedChunks == 1)
        #expect(consumer.statistics.malformedBytes == 4)
        // Nothing more is taken from the poisoned chunk until it is handed back.
        buffer.append(0, TestBuffer.counters(from: 4, count: 2))
        buffer.append(1, TestBuffer.counters(from: 102, count: 1))
        #expect(drain(consumer, scrape: true).values == [102])
        buffer.complete(0)
        #expect(drain(consumer, scrape: false).values.isEmpty)
        #expect(buffer.state(0) == UInt32(TC_CHUNK_FREE))
    }

    @Test func completeChunksAreSpotCheckedAndOneBadChunkMakesEveryChunkChecked() throws {
        let buffer = try TestBuffer(size: 1 << 20)
        let consumer = try buffer.consumer()
        // The first complete chunk is checked; a good one keeps spot checks.
        buffer.begin(0, thread: 1, sequence: 0)
        buffer.append(0, TestBuffer.counters(from: 0, count: 3))
        buffer.chunk(0).pointee.event_count = 3
        buffer.complete(0)
        #expect(drain(consumer, scrape: false).values == [0, 1, 2])
        #expect(!consumer.verifyingEverything)
        // An unchecked chunk is copied as it is, counted from its header;
        // readers reject what is malformed in it.
        buffer.begin(1, thread: 1, sequence: 1)
        buffer.append(1, TestBuffer.counters(from: 3, count: 2) + [0x3F])
        buffer.chunk(1).pointee.event_count = 2
        buffer.complete(1)
        let unchecked = drain(consumer, scrape: false)
        #expect(unchecked.values == [3, 4] && unchecked.undecodable == 1)
        #expect(consumer.statistics.events == 5 && consumer.statistics.malformedChunks == 0)
        // Spot checks land on every 64th complete chunk: a malformed one is
        // cut and from then on every chunk is checked.
        for n in 2..<66 {
            let index = n % buffer.geometry.chunkCount
            buffer.begin(index, thread: 1, sequence: UInt32(n))
            buffer.append(index, TestBuffer.counters(from: 10 * n, count: 1) + [0x3F])
            buffer.chunk(index).pointee.event_count = 1
            buffer.complete(index)
            _ = drain(consumer, scrape: false)
        }
        // Chunk 64 was the spot check; chunk 65 was checked because of it.
        #expect(consumer.verifyingEverything)
        #expect(consumer.statistics.malformedChunks == 2)
    }

    @Test func metadataIsTakenInOrderAndGarbageStopsIt() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        var writer = ByteWriter()
        MetadataRecord.string(StringRecord(id: 1, value: "alpha")).encodeForBuffer(into: &writer)
        MetadataRecord.thread(ThreadRecord(index: 1, tid: 10, name: "main")).encodeForBuffer(into: &writer)
        let area = buffer.mapping.base + buffer.geometry.metadataOffset
        writer.bytes.withUnsafeBytes { area.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        tc_metadata_committed_store_release(buffer.header, UInt32(writer.count))
        #expect(consumer.takeMetadata() == [
            .string(StringRecord(id: 1, value: "alpha")), .thread(ThreadRecord(index: 1, tid: 10, name: "main")),
        ])
        #expect(consumer.takeMetadata().isEmpty)
        // A record kind that is not metadata: the rest of the area is ignored.
        let garbage: [UInt8] = [0x04, 2, 0, 0]
        garbage.withUnsafeBytes { (area + writer.count).copyMemory(from: $0.baseAddress!, byteCount: 4) }
        tc_metadata_committed_store_release(buffer.header, UInt32(writer.count + 4))
        #expect(consumer.takeMetadata().isEmpty)
        #expect(consumer.statistics.malformedMetadata == 1)
        #expect(consumer.metadata.count == 2)
    }

    @Test func dropCountersAreSummedOverStripes() throws {
        let buffer = try TestBuffer()
        let consumer = try buffer.consumer()
        for stripe in 0..<UInt32(TC_DROP_STRIPES) {
            tc_fetch_add_relaxed_u64(tc_drop_counter(buffer.header, stripe, UInt32(TC_DROP_BUFFER_FULL)), UInt64(stripe))
        }
        tc_fetch_add_relaxed_u64(tc_drop_counter(buffer.header, 3, UInt32(TC_DROP_REENTRANT)), 2)
        #expect(consumer.dropCounters() == [UInt32(TC_DROP_BUFFER_FULL): 120, UInt32(TC_DROP_REENTRANT): 2])
    }

    @Test func aBufferFullOfRandomBytesIsSurvivedAndReported() throws {
        var generator = SeededGenerator(seed: 2024)
        var malformed = 0
        for round in 0..<20 {
            let buffer = try TestBuffer(size: 128 << 10, chunkSize: 4096)
            // Everything after the header's geometry: control words, bitmap,
            // metadata, every chunk header and payload.
            let base = buffer.mapping.base
            for offset in 64..<buffer.geometry.totalSize where offset < 1024 || offset >= Int(TC_HEADER_SIZE) {
                base.storeBytes(of: UInt8.random(in: 0...255, using: &generator), toByteOffset: offset, as: UInt8.self)
            }
            if round % 2 == 0 {
                // Half the rounds, give chunks valid states so their random payloads are read.
                for index in 0..<buffer.geometry.chunkCount {
                    let state = UInt32.random(in: 0...2, using: &generator)
                    tc_chunk_state_store_release(buffer.chunk(index), state)
                }
            }
            let consumer = try buffer.consumer()
            for pass in 0..<4 {
                _ = consumer.takeMetadata()
                let taken = drain(consumer, scrape: pass % 2 == 0)
                #expect(taken.batches.count <= buffer.geometry.chunkCount)
                _ = consumer.dropCounters()
                _ = consumer.prepareToSleep()
            }
            let statistics = consumer.statistics
            malformed += statistics.malformedChunks + statistics.invalidChunkStates + statistics.malformedMetadata
        }
        #expect(malformed > 0)
    }

    @Test func headersThatDoNotAddUpAreRefused() throws {
        let buffer = try TestBuffer()
        let base = buffer.mapping.base
        func refused(_ change: (UnsafeMutablePointer<tc_buffer_header>) -> Void) -> Bool {
            buffer.geometry.writeHeader(at: base, producerPID: 1)
            change(buffer.header)
            return (try? BufferGeometry(validating: base, mappedSize: buffer.mapping.size)) == nil
        }
        #expect(!refused { _ in })
        #expect(refused { $0.pointee.magic = 0 })
        #expect(refused { $0.pointee.abi_major = 2 })
        #expect(refused { $0.pointee.total_size += 4096 })
        #expect(refused { $0.pointee.chunk_size = 5000 })
        #expect(refused { $0.pointee.chunk_count += 1 })
        #expect(refused { $0.pointee.metadata_size = UInt32.max })
        #expect(refused { $0.pointee.chunks_offset = 100 })
        #expect(refused { $0.pointee.bitmap_size = 0 })
        #expect(refused { $0.pointee.clock_kind = 9 })
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<2000 {
            for offset in 0..<64 {
                base.storeBytes(of: UInt8.random(in: 0...255, using: &generator), toByteOffset: offset, as: UInt8.self)
            }
            _ = try? BufferGeometry(validating: base, mappedSize: buffer.mapping.size)
        }
    }
}
