/// A small protobuf message encoded into an array of its own, for what is
/// encoded once and written many times or kept until a packet takes it
/// (an inline callstack, an interned frame). Everything written per event
/// goes through `ProtobufWriter` instead, straight into the output.
struct ProtobufMessage {
    private(set) var bytes: [UInt8] = []

    /// A varint field.
    mutating func varint(_ field: UInt32, _ value: UInt64) {
        Self.raw(UInt64(field) << 3, into: &bytes)
        Self.raw(value, into: &bytes)
    }

    /// A bytes, string or nested message field.
    mutating func field(_ field: UInt32, _ value: [UInt8]) {
        Self.raw(UInt64(field) << 3 | 2, into: &bytes)
        Self.raw(UInt64(value.count), into: &bytes)
        bytes += value
    }

    private static func raw(_ value: UInt64, into bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
