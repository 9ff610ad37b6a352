import CTraceABI
import Synchronization
import TraceFormat
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The process's shared-memory buffer (trace_abi.h): a sealed memfd mapped
/// once and never unmapped, because every tracing thread holds a cursor
/// into it for the life of the process.
final class ProcessBuffer: Sendable {
    let descriptor: FileDescriptor
    let mapping: MemoryMapping
    let geometry: BufferGeometry
    /// Signalled when a producer completes a chunk while the consumer sleeps.
    let notifier: EventNotifier
    /// Bytes of the metadata area in use; appends are serialized by the lock.
    private let metadataUsed = Mutex<Int>(0)
    /// Where the next chunk search starts, so threads spread over the buffer.
    private let chunkHint = Atomic<Int>(0)

    /// Default size: 4 MiB holds ~800k typical events (about 1/4 s of one
    /// thread at full speed) and costs nothing until pages are touched.
    static let defaultSize = 4 << 20
    /// 8 KiB chunks: ~1600 events between slow paths, and a buffer of 4 MiB
    /// still has ~500 chunks for threads to hold.
    static let defaultChunkSize = 8 << 10

    private init(descriptor: FileDescriptor, mapping: MemoryMapping, geometry: BufferGeometry, notifier: EventNotifier) {
        self.descriptor = descriptor
        self.mapping = mapping
        self.geometry = geometry
        self.notifier = notifier
    }

    /// Creates, seals, maps and initializes a buffer.
    static func create(size: Int, chunkSize: Int, clockKind: UInt32, processName: String) throws(SystemError) -> ProcessBuffer {
        var geometry = BufferGeometry.layout(totalSize: size, chunkSize: chunkSize)
        geometry.clockKind = clockKind
        let descriptor = try SharedMemory.create(name: "traced:\(processName)", size: geometry.totalSize)
        do {
            // Populated now: a page fault on a fresh chunk would be a kernel
            // entry on the hot path (~2 µs per 4 KiB page).
            let mapping = try MemoryMapping(descriptor: descriptor, size: geometry.totalSize, populate: true)
            geometry.writeHeader(at: mapping.base, producerPID: getpid())
            let notifier = try EventNotifier.create()
            return ProcessBuffer(descriptor: descriptor, mapping: mapping, geometry: geometry, notifier: notifier)
        } catch {
            descriptor.close()
            throw error
        }
    }

    var header: UnsafeMutablePointer<tc_buffer_header> { geometry.header(in: mapping.base) }

    // MARK: Metadata area

    /// Appends one record and publishes it with a release-store of
    /// `metadata_committed`. Returns false, counting TC_LOST_METADATA, when
    /// the area is full.
    func appendMetadata(_ record: MetadataRecord) -> Bool {
        var writer = ByteWriter(capacity: 128)
        record.encodeForBuffer(into: &writer)
        let appended = metadataUsed.withLock { used -> Bool in
            guard used + writer.count <= geometry.metadataSize else { return false }
            writer.bytes.withUnsafeBytes { bytes in
                (mapping.base + geometry.metadataOffset + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            used += writer.count
            tc_metadata_committed_store_release(header, UInt32(used))
            return true
        }
        if !appended { countDrop(reason: UInt32(TC_LOST_METADATA), stripe: 0) }
        return appended
    }

    // MARK: Chunks

    /// Takes a FREE chunk (compare-exchange FREE -> WRITING, acquire), or nil.
    func acquireChunk() -> UnsafeMutablePointer<tc_chunk_header>? {
        let count = geometry.chunkCount
        let start = chunkHint.wrappingAdd(1, ordering: .relaxed).oldValue
        for step in 0..<count {
            let chunk = geometry.chunk((start &+ step) % count, in: mapping.base)
            if tc_chunk_state_load_relaxed(chunk) == UInt32(TC_CHUNK_FREE),
               tc_chunk_state_cas_acquire(chunk, UInt32(TC_CHUNK_FREE), UInt32(TC_CHUNK_WRITING)) {
                return chunk
            }
        }
        return nil
    }

    /// Hands a chunk holding `events` events to the consumer (release-store
    /// COMPLETE) and wakes it if it announced it was going to sleep.
    func complete(_ chunk: UnsafeMutablePointer<tc_chunk_header>, events: UInt32) {
        chunk.pointee.event_count = events
        tc_chunk_state_store_release(chunk, UInt32(TC_CHUNK_COMPLETE))
        let index = geometry.index(of: chunk, in: mapping.base)
        tc_mark_completed(header, geometry.bitmap(in: mapping.base), UInt32(index))
        if tc_waiting_take_seq_cst(header) == 1 {
            notifier.signal()
        }
    }

    /// The consumer's free-chunk generation (relaxed: only a retry hint).
    var freeGeneration: UInt32 { tc_free_generation_load_relaxed(header) }

    func countDrop(reason: UInt32, stripe: UInt32) {
        tc_fetch_add_relaxed_u64(tc_drop_counter(header, stripe, reason), 1)
    }
}
