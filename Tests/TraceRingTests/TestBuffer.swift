import CTraceABI
import TestSupport
import TraceFormat
import TraceRing
import TraceSystem

/// A real sealed memfd buffer with a producer written by hand from the ABI
/// header: tests drive each chunk through its states and check what a
/// BufferConsumer takes.
final class TestBuffer {
    let descriptor: FileDescriptor
    let mapping: MemoryMapping
    let geometry: BufferGeometry

    init(size: Int = 256 << 10, chunkSize: Int = 4096) throws {
        geometry = BufferGeometry.layout(totalSize: size, chunkSize: chunkSize)
        descriptor = try SharedMemory.create(name: "traced-test", size: geometry.totalSize)
        mapping = try MemoryMapping(descriptor: descriptor, size: geometry.totalSize)
        geometry.writeHeader(at: mapping.base, producerPID: 1)
    }

    deinit { descriptor.close() }

    func consumer() throws -> BufferConsumer { try BufferConsumer(mapping: mapping) }

    var header: UnsafeMutablePointer<tc_buffer_header> { geometry.header(in: mapping.base) }

    func chunk(_ index: Int) -> UnsafeMutablePointer<tc_chunk_header> { geometry.chunk(index, in: mapping.base) }

    /// FREE -> WRITING with header fields, as a producer thread does.
    func begin(_ index: Int, thread: UInt32, sequence: UInt32, baseTicks: UInt64 = 1000, regions: UInt64 = 0,
               droppedBefore: UInt64 = 0) {
        let c = chunk(index)
        let acquired = tc_chunk_state_cas_acquire(c, UInt32(TC_CHUNK_FREE), UInt32(TC_CHUNK_WRITING))
        precondition(acquired, "test chunk \(index) was not free")
        c.pointee.thread_index = thread
        c.pointee.sequence = sequence
        c.pointee.base_ticks = baseTicks
        c.pointee.region_seq_base = regions
        c.pointee.dropped_before = droppedBefore
    }

    /// Appends `bytes` after what is committed and commits them (release).
    func append(_ index: Int, _ bytes: [UInt8]) {
        let c = chunk(index)
        let committed = Int(tc_chunk_committed_load_acquire(c))
        let payload = UnsafeMutableRawPointer(c) + Int(TC_CHUNK_HEADER_SIZE)
        bytes.withUnsafeBytes { (payload + committed).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        tc_chunk_committed_store_release(c, UInt32(committed + bytes.count))
    }

    /// WRITING -> COMPLETE, and the completion bits, as a producer does.
    func complete(_ index: Int) {
        tc_chunk_state_store_release(chunk(index), UInt32(TC_CHUNK_COMPLETE))
        tc_mark_completed(header, geometry.bitmap(in: mapping.base), UInt32(index))
    }

    func state(_ index: Int) -> UInt32 { tc_chunk_state_load_acquire(chunk(index)) }

    /// `count` counters named 1 with values start..., one tick apart.
    static func counters(from start: Int, count: Int) -> [UInt8] {
        var events = EventEncoding()
        for value in start..<(start + count) { events.counter(dt: 1, name: 1, value: Int64(value)) }
        return events.bytes
    }
}

/// Everything a drain handed on, decoded.
struct Taken {
    var batches: [BatchHeader] = []
    var values: [Int64] = []
    var ticks: [UInt64] = []
    var undecodable = 0

    mutating func take(_ header: BatchHeader, _ events: UnsafeRawBufferPointer) {
        batches.append(header)
        var reader = ByteReader(events)
        var state = header.initialState
        while !reader.isAtEnd {
            guard let event = try? EventDecoder.next(&reader, &state) else {
                undecodable += 1
                return
            }
            values.append(event.integerValue)
            ticks.append(event.ticks)
        }
    }
}

func drain(_ consumer: BufferConsumer, scrape: Bool) -> Taken {
    var taken = Taken()
    consumer.drain(process: 1, scrape: scrape) { header, events, _ in taken.take(header, events) }
    return taken
}
