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
/// Wire format: https://protobuf.dev/programming-guides/encoding/
package final class ProtobufWriter {
    /// Where a nested message's length byte is.
    package struct Mark {
        fileprivate let offset: Int
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

    package var totalBytes: UInt64 { flushedBytes + UInt64(count) }

    // MARK: Fields

    /// A varint field (int32, int64, uint32, uint64, bool, enum).
    @inline(__always)
    package func varint(_ field: UInt32, _ value: UInt64) {
        reserve(20)
        count = Self.put(value, at: Self.put(UInt64(field) << 3, at: count, in: storage), in: storage)
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
    /// numbers, the JSON export's numbers).
    package func decimal(_ value: UInt64) {
        reserve(20)
        // The digits are counted first (comparisons), then written from the
        // last, two per 64-bit division: a JSON export writes about six
        // numbers per event.
        var digits = 1
        var bound: UInt64 = 10
        while value >= bound {
            digits += 1
            if digits == 20 { break }
            bound &*= 10
        }
        var at = count + digits
        count = at
        var rest = value
        while rest >= 100 {
            let pair = UInt8(truncatingIfNeeded: rest % 100)
            rest /= 100
            at -= 2
            storage[at] = UInt8(ascii: "0") + pair / 10
            storage[at + 1] = UInt8(ascii: "0") + pair % 10
        }
        let last = UInt8(truncatingIfNeeded: rest)
        if last >= 10 {
            storage[at - 2] = UInt8(ascii: "0") + last / 10
            storage[at - 1] = UInt8(ascii: "0") + last % 10
        } else {
            storage[at - 1] = UInt8(ascii: "0") + last
        }
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
    private static func put(_ value: UInt64, at start: Int, in storage: UnsafeMutablePointer<UInt8>) -> Int {
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
