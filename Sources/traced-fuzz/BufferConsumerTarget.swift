import CTraceABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import TraceFormat
import TraceRing
import TraceSystem

/// The consumer of a client's shared buffer, on a buffer a hostile client
/// writes: the input picks a layout from `BufferGeometry.layout`, optionally
/// scribbles over the header before the consumer validates it, then runs a
/// program of producer moves (chunk states and header fields, event bytes,
/// completion bits, metadata, drop counters, raw bytes anywhere) interleaved
/// with consumer passes (drain, scrape, takeMetadata, dropCounters, sleep
/// checks, flush, a second consumer attaching to the buffer in use). Every
/// batch handed on is decoded as a reader would.
enum BufferConsumerTarget {
    /// Layouts to choose from: 2 chunks of 4 KiB, 46 of 4 KiB, 3 of 16 KiB.
    static let layouts = [(64 << 10, 4096), (256 << 10, 4096), (128 << 10, 16 << 10)]

    /// One memfd mapping per layout, reused (zeroed) by every input.
    private static let buffers = Mutex<[Int: MemoryMapping]>([:])

    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let flags = input.byte()
        let layout = layouts[Int(flags & 3) % layouts.count]
        let geometry = BufferGeometry.layout(totalSize: layout.0, chunkSize: layout.1)
        guard let mapping = mapping(for: geometry) else { return }
        // memset, not a Swift loop: the checked (debug) build zeroes 256 KiB per input.
        memset(mapping.base, 0, mapping.size)
        geometry.writeHeader(at: mapping.base, producerPID: 1)
        var program = Program(mapping: mapping, geometry: geometry)
        if flags & 4 != 0 {
            // A header the client scribbled on before registering.
            for _ in 0..<Int(input.byte() % 8) { program.writeRaw(&input, within: 0..<Int(TC_HEADER_SIZE)) }
        }
        guard var consumer = try? BufferConsumer(mapping: mapping, attachingInUse: flags & 8 != 0) else { return }
        while !input.isAtEnd {
            program.step(&input, &consumer)
        }
        consumer.flushHeld { header, events, _ in Program.decode(header, events) }
    }

    private static func mapping(for geometry: BufferGeometry) -> MemoryMapping? {
        buffers.withLock { buffers -> MemoryMapping? in
            if let mapping = buffers[geometry.totalSize] { return mapping }
            guard let descriptor = try? SharedMemory.create(name: "traced-fuzz", size: geometry.totalSize) else { return nil }
            defer { descriptor.close() }
            guard let mapping = try? MemoryMapping(descriptor: descriptor, size: geometry.totalSize) else { return nil }
            buffers[geometry.totalSize] = mapping
            return mapping
        }
    }

    /// The producer's moves and the consumer's passes.
    private struct Program {
        let mapping: MemoryMapping
        let geometry: BufferGeometry

        var header: UnsafeMutablePointer<tc_buffer_header> { geometry.header(in: mapping.base) }

        func chunk(_ input: inout FuzzInput) -> UnsafeMutablePointer<tc_chunk_header> {
            geometry.chunk(Int(input.byte()) % geometry.chunkCount, in: mapping.base)
        }

        mutating func step(_ input: inout FuzzInput, _ consumer: inout BufferConsumer) {
            switch input.byte() % 16 {
            case 0:
                writeRaw(&input, within: 0..<mapping.size)
            case 1:
                // A state in the ABI most of the time, any value sometimes.
                let c = chunk(&input)
                let raw = input.byte()
                tc_chunk_state_store_release(c, raw < 0xF0 ? UInt32(raw % 3) : UInt32(raw) << 24 | UInt32(raw))
            case 2:
                let c = chunk(&input)
                c.pointee.thread_index = UInt32(input.byte() % 4) | (input.byte() == 0xFF ? input.integer() : 0)
                c.pointee.sequence = UInt32(input.byte() % 8) &- 2
                c.pointee.base_ticks = input.integer()
                c.pointee.region_seq_base = UInt64(input.byte())
                c.pointee.dropped_before = input.integer()
                c.pointee.event_count = input.integer()
            case 3:
                // Event bytes appended after what is committed, then committed.
                let c = chunk(&input)
                let committed = Int(tc_chunk_committed_load_acquire(c)) % geometry.payloadSize
                let bytes = input.run(limit: geometry.payloadSize - committed)
                let payload = UnsafeMutableRawPointer(c) + Int(TC_CHUNK_HEADER_SIZE) + committed
                if let base = bytes.baseAddress { payload.copyMemory(from: base, byteCount: bytes.count) }
                tc_chunk_committed_store_release(c, UInt32(committed + bytes.count))
            case 4:
                tc_chunk_committed_store_release(chunk(&input), input.integer())
            case 5:
                // Completion bits as a producer sets them, for any index.
                tc_mark_completed(header, geometry.bitmap(in: mapping.base), UInt32(input.byte()) % UInt32(geometry.chunkCount))
            case 6:
                // Any bits in the bitmap and the summary.
                let words = geometry.bitmapSize / 8
                tc_store_release_u64(geometry.bitmap(in: mapping.base) + Int(input.byte()) % words, input.integer())
                tc_store_release_u64(tc_summary_word(header, UInt32(input.byte())), input.integer())
            case 7:
                // Metadata records appended and committed (or any count committed).
                let committed = Int(tc_metadata_committed_load_acquire(header)) % (geometry.metadataSize + 1)
                let bytes = input.run(limit: geometry.metadataSize - committed)
                let area = mapping.base + geometry.metadataOffset + committed
                if let base = bytes.baseAddress { area.copyMemory(from: base, byteCount: bytes.count) }
                let raw = input.byte()
                tc_metadata_committed_store_release(header, raw == 0xFF ? input.integer() : UInt32(committed + bytes.count))
            case 8:
                tc_store_relaxed_u64(tc_drop_counter(header, UInt32(input.byte()), UInt32(input.byte())), input.integer())
            case 9:
                consumer.drain(process: 1, scrape: false) { header, events, _ in Self.decode(header, events) }
            case 10:
                consumer.drain(process: 1, scrape: true) { header, events, _ in Self.decode(header, events) }
            case 11:
                for record in consumer.takeMetadata() {
                    var writer = ByteWriter()
                    record.encode(process: 1, into: &writer)
                }
            case 12:
                _ = consumer.dropCounters().values.saturatingSum()
                _ = consumer.statistics
            case 13:
                if !consumer.prepareToSleep() { _ = consumer.completedChunks() }
                consumer.awake()
            case 14:
                consumer.flushHeld { header, events, _ in Self.decode(header, events) }
            default:
                // Another consumer attaches to the buffer in use (a daemon restarted).
                if let next = try? BufferConsumer(mapping: mapping, attachingInUse: true) { consumer = next }
            }
        }

        /// Input bytes copied to an offset in `range` of the buffer.
        mutating func writeRaw(_ input: inout FuzzInput, within range: Range<Int>) {
            let offset = range.lowerBound + Int(input.integer(UInt32.self)) % range.count
            let bytes = input.run(limit: min(64, range.upperBound - offset))
            if let base = bytes.baseAddress { (mapping.base + offset).copyMemory(from: base, byteCount: bytes.count) }
        }

        /// What a reader does with a batch record's events.
        static func decode(_ header: BatchHeader, _ events: UnsafeRawBufferPointer) {
            var reader = ByteReader(events)
            var state = header.initialState
            while !reader.isAtEnd {
                guard (try? EventDecoder.next(&reader, &state)) != nil else { return }
            }
        }
    }
}
