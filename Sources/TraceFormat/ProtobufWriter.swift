package import TraceSystem

/// Protocol buffers' wire format, written straight into a growing byte
/// buffer that goes to a file descriptor about every MiB (at top-level
/// message boundaries), so an export of any size holds one buffer.
///
/// Only what the Perfetto export needs: varints, fixed64, doubles, bytes
/// and nested (length-delimited) messages. A nested message is opened with
/// `begin(_:)` and closed with `end(_:)`: its length is written in one byte
/// and, when the message turned out longer than 127 bytes, the body is moved
/// to make room for a longer varint, so lengths are always minimal.
///
/// Fields of a small message written on every event go through a `Cursor`
/// instead (`withRoom`): room for all of them is reserved once, and the
/// cursor writes with no capacity check per field.
/// Wire format: https://protobuf.dev/programming-guides/encoding/
package final class ProtobufWriter {
    /// Where a nested message's length byte is.
    package struct Mark {
        fileprivate let offset: Int
    }

    /// Writes fields into room reserved by `withRoom`. Its methods say the
    /// most each writes, so that a caller can add up what it reserves.
    package struct Cursor {
        fileprivate let storage: UnsafeMutablePointer<UInt8>
        fileprivate var at: Int

        /// A varint field: at most 11 bytes for a field number below 16
        /// (a one-byte key), 12 below 2048.
        @inline(__always)
        package mutating func varint(_ field: UInt32, _ value: UInt64) {
            at = ProtobufWriter.put(value, at: ProtobufWriter.put(UInt64(field) << 3, at: at, in: storage), in: storage)
        }

        /// A fixed64 field: 9 bytes below field 16, 10 below 2048.
        @inline(__always)
        package mutating func fixed64(_ field: UInt32, _ value: UInt64) {
            at = ProtobufWriter.put(UInt64(field) << 3 | 1, at: at, in: storage)
            UnsafeMutableRawPointer(storage + at).storeBytes(of: value.littleEndian, as: UInt64.self)
            at += 8
        }

        /// Opens a nested message: 2 bytes below field 16.
        @inline(__always)
        package mutating func begin(_ field: UInt32) -> Mark {
            at = ProtobufWriter.put(UInt64(field) << 3 | 2, at: at, in: storage)
            storage[at] = 0
            at += 1
            return Mark(offset: at - 1)
        }

        /// Closes a nested message whose body is known to be shorter than
        /// 128 bytes (its length fits the byte `begin` left).
        @inline(__always)
        package mutating func endShort(_ mark: Mark) {
            let length = at - mark.offset - 1
            precondition(length < 0x80, "a short protobuf message is 128 bytes or longer")
            storage[mark.offset] = UInt8(truncatingIfNeeded: length)
        }
    }

    /// Reserves `room` bytes and lets `body` write at most that much
    /// through a cursor (checked after it, as a write past the room would
    /// have been past the buffer).
    @inline(__always)
    package func withRoom<Result>(_ room: Int, _ body: (inout Cursor) -> Result) -> Result {
        reserve(room)
        var cursor = Cursor(storage: storage, at: count)
        let result = body(&cursor)
        precondition(cursor.at - count <= room, "protobuf fields overran the room reserved for them")
        count = cursor.at
        return result
    }

    // Written for every byte: without `unchecked`, each access pays a dynamic
    // exclusivity check (a quarter of an export's time). Only this class's
    // own methods touch them, none re-entrantly.
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var count = 0
    private let output: FileDescriptor?
    private let flushThreshold: Int
    /// Bytes handed to the output so far.
    package private(set) var flushedBytes: UInt64 = 0

    /// Writes to `output` once `flushThreshold` bytes are pending at a
    /// top-level boundary; without an output the bytes stay in memory
    /// (`bytes`), for tests.
    package init(output: FileDescriptor?, flushThreshold: Int = 1 << 20) {
        self.output = output
        self.flushThreshold = flushThreshold
        capacity = max(4096, flushThreshold + flushThreshold / 4)
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    /// Everything written and not yet flushed (all of it without an output).
    package var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    /// `body` with what `bytes` holds, uncopied (valid during the call).
    package func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// Forgets what was written (a writer without an output, used again),
    /// keeping its room up to `keptCapacity` bytes: one outsized message
    /// does not pin its size for the writer's life.
    package func removeAll(keptCapacity: Int = 1 << 20) {
        precondition(output == nil, "removeAll is for a writer without an output")
        count = 0
        guard capacity > max(4096, keptCapacity) else { return }
        storage.deallocate()
        capacity = max(4096, keptCapacity)
        storage = .allocate(capacity: capacity)
    }

    package var totalBytes: UInt64 { flushedBytes + UInt64(count) }

    /// Where the next byte goes, for `copy(since:into:)`. Valid until the
    /// next `boundary()` (which may flush the buffer).
    package var position: Int { count }

    /// Replaces `bytes` with what was written since `start` (a `position`
    /// of the same top-level message): text made once and written again.
    package func copy(since start: Int, into bytes: inout [UInt8]) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: UnsafeBufferPointer(start: storage + start, count: count - start))
    }

    // MARK: Fields

    /// A varint field (int32, int64, uint32, uint64, bool, enum).
    @inline(__always)
    package func varint(_ field: UInt32, _ value: UInt64) {
        reserve(20)
        count = Self.put(value, at: Self.put(UInt64(field) << 3, at: count, in: storage), in: storage)
    }

    /// A varint with no field key: the length before each message of a
    /// stream of length-delimited messages.
    package func lengthPrefix(_ length: Int) {
        reserve(10)
        count = Self.put(UInt64(length), at: count, in: storage)
    }

    /// An int64 field: negative values take ten bytes, as the format says.
    @inline(__always)
    package func int64(_ field: UInt32, _ value: Int64) { varint(field, UInt64(bitPattern: value)) }

    @inline(__always)
    package func bool(_ field: UInt32, _ value: Bool) { varint(field, value ? 1 : 0) }

    /// A fixed64 field (wire type 1).
    package func fixed64(_ field: UInt32, _ value: UInt64) {
        reserve(18)
        let at = Self.put(UInt64(field) << 3 | 1, at: count, in: storage)
        UnsafeMutableRawPointer(storage + at).storeBytes(of: value.littleEndian, as: UInt64.self)
        count = at + 8
    }

    /// A double field (wire type 1).
    package func double(_ field: UInt32, _ value: Double) { fixed64(field, value.bitPattern) }

    /// A bytes or string field (wire type 2).
    package func bytes(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        reserve(20 + value.count)
        let at = Self.put(UInt64(value.count), at: Self.put(UInt64(field) << 3 | 2, at: count, in: storage), in: storage)
        if let base = value.baseAddress, value.count > 0 {
            (storage + at).update(from: base.assumingMemoryBound(to: UInt8.self), count: value.count)
        }
        count = at + value.count
    }

    package func string(_ field: UInt32, _ value: String) {
        var text = value
        text.withUTF8 { bytes(field, UnsafeRawBufferPointer($0)) }
    }

    package func bytes(_ field: UInt32, _ value: [UInt8]) {
        value.withUnsafeBytes { bytes(field, $0) }
    }

    /// Text as it is. Copied byte by byte: inlined, the length is a
    /// constant and the copy a few stores, where `memmove` was a call for
    /// every piece of JSON syntax.
    @inline(__always)
    package func raw(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        let source = text.utf8Start
        let target = storage + count
        for index in 0..<length { target[index] = source[index] }
        count += length
    }

    /// Bytes as they are (the JSON export writes its text through this buffer too).
    package func raw(_ value: UnsafeRawBufferPointer) {
        reserve(value.count)
        if let base = value.baseAddress, value.count > 0 {
            (storage + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: value.count)
        }
        count += value.count
    }

    /// `value` in decimal ASCII digits, as they are (names that hold
    /// numbers, the JSON export's numbers: about five per event there).
    /// The digits are counted first, then written from the last, two at a
    /// time from a table of pairs.
    package func decimal(_ value: UInt64) {
        reserve(20)
        var at = count + Self.decimalDigits(value)
        count = at
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = UnsafeRawPointer(pairs.utf8Start)
        @inline(__always) func pair(_ twoDigits: UInt32, at offset: Int) {
            UnsafeMutableRawPointer(storage + offset).storeBytes(
                of: table.loadUnaligned(fromByteOffset: 2 &* Int(truncatingIfNeeded: twoDigits), as: UInt16.self), as: UInt16.self)
        }
        // Eight digits at a time off a 64-bit value, then 32-bit arithmetic
        // (cheaper divisions) for the rest: most numbers fit 32 bits, and a
        // timestamp's microseconds are eight digits more.
        var rest = value
        while rest >= 100_000_000 {
            var low = UInt32(truncatingIfNeeded: rest % 100_000_000)
            rest /= 100_000_000
            for _ in 0..<4 {
                at &-= 2
                pair(low % 100, at: at)
                low /= 100
            }
        }
        var small = UInt32(truncatingIfNeeded: rest)
        while small >= 100 {
            at &-= 2
            pair(small % 100, at: at)
            small /= 100
        }
        if small >= 10 {
            pair(small, at: at &- 2)
        } else {
            storage[at &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: small)
        }
    }

    /// The number of decimal digits of `value` (1 for 0): from its bit
    /// length (log10(2) ≈ 1233 / 4096), corrected by one comparison.
    @inline(__always)
    private static func decimalDigits(_ value: UInt64) -> Int {
        let estimate = ((64 &- (value | 1).leadingZeroBitCount) &* 1233) &>> 12
        let power: UInt64 = switch estimate {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        default: 10_000_000_000_000_000_000
        }
        return max(1, estimate &+ (value >= power ? 1 : 0))
    }

    /// `value` < 1000 as exactly three decimal digits (leading zeros kept).
    @inline(__always)
    package func threeDigits(_ value: UInt64) {
        reserve(3)
        let value = UInt16(truncatingIfNeeded: value)
        storage[count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / 100)
        storage[count + 1] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / 10 % 10)
        storage[count + 2] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
        count += 3
    }

    /// Opens a nested message (or a bytes field written piecewise) in
    /// `field`; close it with `end`.
    @inline(__always)
    package func begin(_ field: UInt32) -> Mark {
        reserve(12)
        let at = Self.put(UInt64(field) << 3 | 2, at: count, in: storage)
        storage[at] = 0
        count = at + 1
        return Mark(offset: at)
    }

    /// Closes the nested message `mark` opened: writes its length.
    @inline(__always)
    package func end(_ mark: Mark) {
        let length = count - mark.offset - 1
        if length < 0x80 {
            storage[mark.offset] = UInt8(length)
            return
        }
        var size = 1
        var rest = length >> 7
        while rest > 0 { size += 1; rest >>= 7 }
        reserve(size)
        let body = storage + mark.offset + 1
        (body + size - 1).update(from: body, count: length)
        var value = UInt64(length)
        var at = mark.offset
        while value >= 0x80 {
            storage[at] = UInt8(truncatingIfNeeded: value) | 0x80
            value >>= 7
            at += 1
        }
        storage[at] = UInt8(value)
        count += size - 1
    }

    // MARK: Output

    /// Called between top-level messages: writes out the buffer once it
    /// passed the threshold.
    @inline(__always)
    package func boundary() throws(SystemError) {
        if count >= flushThreshold, output != nil { try flush() }
    }

    /// Writes out everything pending.
    package func flush() throws(SystemError) {
        guard let output, count > 0 else { return }
        try output.writeAll(UnsafeRawBufferPointer(start: storage, count: count))
        flushedBytes += UInt64(count)
        count = 0
    }

    // MARK: Encoding

    @inline(__always)
    private func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity = newCapacity
    }

    /// A raw varint at `at`; returns where it ends. Room was reserved by
    /// the caller. Static, on locals: as a method updating `count` byte by
    /// byte, every byte reloaded `storage` and `count` from the object
    /// (the stores could alias them, as far as the compiler knows).
    @inline(__always)
    fileprivate static func put(_ value: UInt64, at start: Int, in storage: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var at = start
        while v >= 0x80 {
            storage[at] = UInt8(truncatingIfNeeded: v) | 0x80
            at &+= 1
            v >>= 7
        }
        storage[at] = UInt8(truncatingIfNeeded: v)
        return at &+ 1
    }
}
