/// An append-only byte buffer with the format's primitive encodings:
/// LEB128 varints, zigzag signed varints, little-endian doubles, and
/// length-prefixed byte strings.
package struct ByteWriter: Sendable {
    package private(set) var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package var count: Int { bytes.count }
    package var isEmpty: Bool { bytes.isEmpty }

    package mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    @inline(__always)
    package mutating func byte(_ value: UInt8) { bytes.append(value) }

    @inline(__always)
    package mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    package mutating func varint<T: BinaryInteger>(_ value: T) { varint(UInt64(value)) }

    package mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    package mutating func double(_ value: Double) {
        var bits = value.bitPattern.littleEndian
        withUnsafeBytes(of: &bits) { bytes.append(contentsOf: $0) }
    }

    package mutating func raw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    package mutating func raw(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }

    /// A varint length followed by the bytes.
    package mutating func lengthPrefixed(_ data: some Collection<UInt8>) {
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    package mutating func string(_ text: String) { lengthPrefixed(Array(text.utf8)) }

    /// Appends a record: kind, varint payload length, payload.
    package mutating func record(_ kind: Int, _ payload: (inout ByteWriter) -> Void) {
        var body = ByteWriter()
        payload(&body)
        record(kind, body: body.bytes)
    }

    package mutating func record(_ kind: Int, body: some Collection<UInt8>) {
        byte(UInt8(truncatingIfNeeded: kind))
        varint(UInt64(body.count))
        bytes.append(contentsOf: body)
    }

    /// Number of bytes `varint(value)` writes.
    package static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}
