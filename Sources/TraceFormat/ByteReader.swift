/// Why bytes could not be decoded.
package enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside a field.
    case truncated(field: String)
    /// A varint ran past 10 bytes or past 64 bits.
    case overlongVarint(field: String)
    /// A value is outside what the field allows.
    case invalid(field: String, value: UInt64)

    package var description: String {
        switch self {
        case .truncated(let field): "input ends inside \(field)"
        case .overlongVarint(let field): "varint \(field) is longer than 64 bits"
        case .invalid(let field, let value): "\(field) has invalid value \(value)"
        }
    }
}

/// A bounds-checked cursor over bytes that may be hostile. Every read checks
/// the remaining length first; nothing here traps on bad input.
package struct ByteReader {
    package let base: UnsafeRawBufferPointer
    package private(set) var offset: Int

    package init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    package var remaining: Int { base.count - offset }
    package var isAtEnd: Bool { offset >= base.count }

    @inline(__always)
    package mutating func byte(_ field: StaticString = "byte") throws(DecodeError) -> UInt8 {
        guard offset < base.count else { throw .truncated(field: "\(field)") }
        let value = base[offset]
        offset += 1
        return value
    }

    @inline(__always)
    package mutating func varint(_ field: StaticString = "varint") throws(DecodeError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < base.count else { throw .truncated(field: "\(field)") }
            let b = base[offset]
            offset += 1
            if shift == 63 && b > 1 { throw .overlongVarint(field: "\(field)") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw .overlongVarint(field: "\(field)") }
        }
    }

    /// A varint that must fit in 32 bits (ids, indices).
    package mutating func varint32(_ field: StaticString) throws(DecodeError) -> UInt32 {
        let value = try varint(field)
        guard value <= UInt64(UInt32.max) else { throw .invalid(field: "\(field)", value: value) }
        return UInt32(value)
    }

    package mutating func zigzag(_ field: StaticString = "zigzag") throws(DecodeError) -> Int64 {
        let raw = try varint(field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    package mutating func double(_ field: StaticString = "double") throws(DecodeError) -> Double {
        guard remaining >= 8 else { throw .truncated(field: "\(field)") }
        var bits: UInt64 = 0
        for i in 0..<8 { bits |= UInt64(base[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: bits)
    }

    /// `count` raw bytes, without copying.
    package mutating func bytes(_ count: Int, _ field: StaticString) throws(DecodeError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else { throw .truncated(field: "\(field)") }
        let slice = UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// A varint length (at most `limit`) followed by that many bytes.
    package mutating func lengthPrefixed(_ field: StaticString, limit: Int = 1 << 20) throws(DecodeError) -> UnsafeRawBufferPointer {
        let length = try varint(field)
        guard length <= UInt64(limit) else { throw .invalid(field: "\(field)", value: length) }
        return try bytes(Int(length), field)
    }

    package mutating func string(_ field: StaticString, limit: Int = 1 << 16) throws(DecodeError) -> String {
        String(decoding: try lengthPrefixed(field, limit: limit), as: UTF8.self)
    }

    package mutating func skip(_ count: Int, _ field: StaticString) throws(DecodeError) {
        guard count >= 0, remaining >= count else { throw .truncated(field: "\(field)") }
        offset += count
    }
}
