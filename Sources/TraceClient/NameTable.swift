import Synchronization
import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Runtime (`String`) names: region and task types, log categories and
/// counter names given as `String`, interned per process in a bounded table
/// that an event searches without a lock or an allocation.
///
/// The bound: at most `capacity` (4096) distinct dynamic names per process.
/// Past it a new name is recorded as `(other)`, the overflow is counted, and
/// the table does not grow; the count goes into the trace as the counter
/// `traced.names.overflowed` (EventWriter.noteNameOverflow). A name longer
/// than `StringRecord.maximumLength` (1024) bytes is cut there (at a
/// character boundary), as its string record would be.
///
/// Invariants (what makes the lock-free read safe):
/// - `slots` holds `slotCount` = 2 × `capacity` words, each 0 (empty) or the
///   address of an entry. A slot is written once, under `inserting`, with a
///   release store, after its entry is complete; readers acquire-load it, so
///   they see the entry's bytes. A slot never changes again and nothing is
///   removed, so linear probing from `hash` meets the name or an empty slot.
/// - At most `capacity` slots are ever set, so every probe ends at an empty
///   slot (the table is never more than half full).
/// - Entries (`hash` 8 bytes, `id` 4, `length` 4, then the UTF-8 bytes) are
///   allocated on the miss path and never freed or written after publication:
///   at most `capacity` × (16 + 1024) bytes for the process's lifetime.
/// - `full` is set (under `inserting`) once `capacity` names are in: from then
///   on a miss is an overflow, counted with one relaxed add and no lock.
/// - Locks: `inserting` is taken only on a miss, and the StringInterner's
///   lock inside it (never the other way round).
final class NameTable: @unchecked Sendable {  // slots: written once each, under `inserting`, read by acquire loads
    /// The process's table (names are ids in its StringInterner).
    static let shared = NameTable()

    // Computed, not stored: a stored static is a lazy global, a call and a
    // check on every event.
    static var capacity: Int { 4096 }  // = RuntimeNames.limit (NameTests checks)
    static var slotCount: Int { 8192 }  // 2 × capacity
    static var maximumLength: Int { 1024 }  // = StringRecord.maximumLength
    static let otherName = RuntimeNames.other
    private static var entryHeader: Int { 16 }

    private let slots: UnsafeMutablePointer<Atomic<UInt>>
    private let inserting = Mutex<Int>(0)
    private let full = Atomic<Bool>(false)
    private let overflows = Atomic<UInt64>(0)
    private let otherID = Atomic<UInt32>(0)

    init() {
        slots = .allocate(capacity: Self.slotCount)
        for index in 0..<Self.slotCount { (slots + index).initialize(to: Atomic(0)) }
    }

    /// Dynamic names interned so far (at most `capacity`).
    var count: Int { inserting.withLock { $0 } }

    /// Events whose dynamic name was recorded as `(other)`.
    var overflowCount: UInt64 { overflows.load(ordering: .relaxed) }

    /// The bytes of a name as interned: cut at `StringRecord.maximumLength`,
    /// at a character boundary.
    @inline(__always)
    static func clamp(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard bytes.count > maximumLength else { return bytes }
        var length = maximumLength
        while length > 0 && bytes[length] & 0xC0 == 0x80 { length -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[0..<length])
    }

    /// A 64-bit hash, 8 bytes at a time (a multiply-xorshift mix).
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let m: UInt64 = 0xFF51_AFD7_ED55_8CCD
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
        guard let base = bytes.baseAddress else { return h }
        var offset = 0
        while offset + 8 <= bytes.count {
            h = (h ^ base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* m
            h ^= h &>> 29
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count {
                tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) &<< shift
                shift &+= 8
                offset += 1
            }
            h = (h ^ tail) &* m
        }
        h ^= h &>> 32
        h &*= m
        return h ^ (h &>> 29)
    }

    /// The id of an interned name, or 0 if it is not in the table. No lock,
    /// no allocation: acquire loads and a byte comparison.
    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        var index = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
        while true {
            let address = (slots + index).pointee.load(ordering: .acquiring)
            guard let entry = UnsafeRawPointer(bitPattern: address) else { return 0 }
            if Self.matches(entry, bytes, hash) { return entry.load(fromByteOffset: 8, as: UInt32.self) }
            index = (index + 1) & (Self.slotCount - 1)
        }
    }

    @inline(__always)
    private static func matches(_ entry: UnsafeRawPointer, _ bytes: UnsafeRawBufferPointer, _ hash: UInt64) -> Bool {
        guard entry.load(as: UInt64.self) == hash,
              Int(entry.load(fromByteOffset: 12, as: UInt32.self)) == bytes.count else { return false }
        guard let base = bytes.baseAddress else { return true }
        return memcmp(entry + entryHeader, base, bytes.count) == 0
    }

    /// The miss path: interns the name (defining it in `buffer`) if the
    /// table has room, else counts an overflow and returns the id of
    /// `(other)`. Returns 0 if the buffer's metadata area is full.
    func insert(_ bytes: UnsafeRawBufferPointer, hash: UInt64, strings: StringInterner, buffer: ProcessBuffer)
        -> (id: UInt32, overflowed: Bool)
    {
        if !full.load(ordering: .relaxed) {
            let id = inserting.withLock { count -> UInt32? in
                var index = Int(truncatingIfNeeded: hash) & (Self.slotCount - 1)
                while true {
                    let address = (slots + index).pointee.load(ordering: .acquiring)
                    guard let entry = UnsafeRawPointer(bitPattern: address) else { break }
                    // Another thread interned it since our lookup.
                    if Self.matches(entry, bytes, hash) { return entry.load(fromByteOffset: 8, as: UInt32.self) }
                    index = (index + 1) & (Self.slotCount - 1)
                }
                guard count < Self.capacity else { return nil }
                let id = strings.id(for: String(decoding: bytes, as: UTF8.self), in: buffer)
                guard id != 0 else { return 0 }
                let entry = UnsafeMutableRawPointer.allocate(byteCount: Self.entryHeader + bytes.count, alignment: 8)
                entry.storeBytes(of: hash, as: UInt64.self)
                entry.storeBytes(of: id, toByteOffset: 8, as: UInt32.self)
                entry.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count), toByteOffset: 12, as: UInt32.self)
                if let base = bytes.baseAddress { (entry + Self.entryHeader).copyMemory(from: base, byteCount: bytes.count) }
                (slots + index).pointee.store(UInt(bitPattern: entry), ordering: .releasing)
                count += 1
                if count == Self.capacity { full.store(true, ordering: .relaxed) }
                return id
            }
            if let id { return (id, false) }
        } else {
            // Full since our lookup missed, perhaps by this very name
            // (another thread took the last place with it): once full the
            // table never changes, so this lookup is final.
            let id = lookup(bytes, hash: hash)
            if id != 0 { return (id, false) }
        }
        overflows.add(1, ordering: .relaxed)
        var other = otherID.load(ordering: .relaxed)
        if other == 0 {
            other = strings.id(for: Self.otherName, in: buffer)
            otherID.store(other, ordering: .relaxed)
        }
        return (other, true)
    }
}
