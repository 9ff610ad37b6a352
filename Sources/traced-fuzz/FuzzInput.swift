/// A cursor over a fuzz input that hands out numbers and byte runs; past
/// the end it hands out zeros, so every input is a complete program.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { offset >= bytes.count }
    var remaining: Int { max(0, bytes.count - offset) }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A little-endian integer of `T`'s width.
    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
        var value: T = 0
        for shift in stride(from: 0, to: T.bitWidth, by: 8) { value |= T(byte()) << shift }
        return value
    }

    /// Up to `limit` bytes, the count taken from the input first.
    mutating func run(limit: Int) -> UnsafeRawBufferPointer {
        let wanted = Int(integer(UInt16.self)) % (limit + 1)
        return take(wanted)
    }

    /// The next `count` bytes (fewer at the end).
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let start = min(offset, bytes.count)
        let end = min(start + count, bytes.count)
        offset = end
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Everything left.
    mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }
}

import TraceProtocol

extension FuzzInput {
    /// Feeds the rest of the input to a `MessageBuffer` in pieces of up to
    /// `piece` bytes whose sizes the input picks, framing at `limits.0` or
    /// `limits.1` (the input's first byte picks), and hands every message to
    /// `decode`: how a socket's reader sees what a peer sent.
    mutating func messages(limits: (Int, Int), piece: Int, _ decode: (MessageBuffer.Message) -> Void) {
        var buffer = MessageBuffer()
        let limit = byte() & 1 == 0 ? limits.0 : limits.1
        while !isAtEnd {
            buffer.append(run(limit: piece))
            while case .message(let message) = buffer.next(limit: limit) { decode(message) }
        }
    }
}
