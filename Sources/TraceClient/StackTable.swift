import CTraceABI
import Synchronization
import TraceFormat

/// Deduplicates captured call stacks into ids, each stack defined once in
/// the metadata area.
///
/// Lookup is lock-free: an open-addressing table of (hash, id) pairs where
/// the id is stored before the hash is release-stored, so a reader that
/// acquire-loads a matching hash sees its id. Inserts take a lock. Stacks
/// are identified by a 64-bit hash of their frames (a collision needs ~2^32
/// distinct stacks).
final class StackTable: @unchecked Sendable {
    // Sendable: `entries` is written only under `lock` and read through the
    // acquire/release helpers described above.
    private let entries: UnsafeMutablePointer<UInt64>
    private let capacity = 4096
    /// Unique stacks kept; past this, events carry stack id 0.
    private var limit: Int { capacity * 3 / 4 }
    private let lock = Mutex<UInt32>(1)

    init() {
        entries = .allocate(capacity: capacity * 2)
        entries.initialize(repeating: 0, count: capacity * 2)
    }

    deinit { entries.deallocate() }

    /// The id of the stack in `frames` (innermost first, the first
    /// `syncDepth` from the thread's stack, the rest async), recording it on
    /// first sight; 0 when the table or the metadata area is full.
    func id(for frames: UnsafeBufferPointer<UInt>, syncDepth: Int, buffer: ProcessBuffer, images: ImageList) -> UInt32 {
        guard !frames.isEmpty else { return 0 }
        let hash = Self.hash(frames, syncDepth: syncDepth)
        var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
        while true {
            let stored = tc_load_acquire_u64(entries + 2 * slot)
            if stored == hash { return UInt32(truncatingIfNeeded: tc_load_relaxed_u64(entries + 2 * slot + 1)) }
            if stored == 0 { break }
            slot = (slot + 1) & (capacity - 1)
        }
        return insert(frames, syncDepth: syncDepth, hash: hash, buffer: buffer, images: images)
    }

    private func insert(_ frames: UnsafeBufferPointer<UInt>, syncDepth: Int, hash: UInt64,
                        buffer: ProcessBuffer, images: ImageList) -> UInt32 {
        lock.withLock { next -> UInt32 in
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while true {
                let stored = tc_load_relaxed_u64(entries + 2 * slot)
                if stored == hash { return UInt32(truncatingIfNeeded: tc_load_relaxed_u64(entries + 2 * slot + 1)) }
                if stored == 0 { break }
                slot = (slot + 1) & (capacity - 1)
            }
            guard Int(next) <= limit else {
                buffer.countDrop(reason: UInt32(TC_LOST_METADATA), stripe: 0)
                return 0
            }
            let addresses = frames.map { UInt64($0) }
            // A stack through a library loaded after start-up: record it too.
            if !images.covers(addresses) { images.refresh(in: buffer) }
            let id = next
            guard buffer.appendMetadata(.stack(StackRecord(id: id, frames: addresses, syncDepth: syncDepth))) else { return 0 }
            next += 1
            tc_store_relaxed_u64(entries + 2 * slot + 1, UInt64(id))
            tc_store_release_u64(entries + 2 * slot, hash)
            return id
        }
    }

    /// FNV-1a over the frames and where the async ones begin, never 0 (0
    /// marks an empty slot).
    private static func hash(_ frames: UnsafeBufferPointer<UInt>, syncDepth: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for frame in frames {
            h ^= UInt64(frame)
            h = h &* 0x0000_0100_0000_01b3
            h ^= h >> 29
        }
        h ^= UInt64(truncatingIfNeeded: syncDepth)
        h = h &* 0x0000_0100_0000_01b3
        return h == 0 ? 1 : h
    }
}
