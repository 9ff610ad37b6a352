/// A W3C trace context `traceparent` value (https://www.w3.org/TR/trace-context/):
/// `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`, lower-case.
///
/// Parsing is strict where the recommendation says a receiver must discard:
/// a version other than 2 hex digits, the version `ff`, upper-case or other
/// non-hex digits, an all-zero trace id or span id, a missing `-`, and a
/// length other than 55 for version 00 (a later version may append
/// `-fields`, which are ignored). A rejected header starts a new trace.
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// The 128-bit trace id, high half first.
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    /// The span id: the sender's span, the parent of the receiver's.
    public var spanID: UInt64
    /// Trace flags; bit 0 is "sampled".
    public var flags: UInt8

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, flags: UInt8) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.flags = flags
    }

    /// The trace id as 32 lower-case hex digits (one allocation: swift-log's
    /// `.traced` provider builds it for every log line).
    public var traceID: String {
        String(unsafeUninitializedCapacity: 32) { out in
            Hex.write(traceIDHigh, into: out, at: 0)
            Hex.write(traceIDLow, into: out, at: 16)
            return 32
        }
    }

    /// The span id as 16 lower-case hex digits.
    public var spanIDString: String { Hex.string(spanID) }

    /// The header value, `00-<trace id>-<span id>-<flags>`.
    public var description: String {
        // One allocation: a span writes this as its trace.context log.
        String(unsafeUninitializedCapacity: 55) { out in
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: "0")
            out[2] = UInt8(ascii: "-")
            Hex.write(traceIDHigh, into: out, at: 3)
            Hex.write(traceIDLow, into: out, at: 19)
            out[35] = UInt8(ascii: "-")
            Hex.write(spanID, into: out, at: 36)
            out[52] = UInt8(ascii: "-")
            Hex.write(flags, into: out, at: 53)
            return 55
        }
    }

    /// Parses a `traceparent` header value; nil when it must be ignored.
    public init?(_ header: some StringProtocol) {
        let bytes = Array(header.utf8)
        // 2 + 1 + 32 + 1 + 16 + 1 + 2; a future version may append "-..."
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
              bytes[52] == UInt8(ascii: "-"),
              let version = Hex.value(bytes[0..<2]), version != 0xff else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }
        }
        guard let high = Hex.value(bytes[3..<19]), let low = Hex.value(bytes[19..<35]),
              let span = Hex.value(bytes[36..<52]), let flags = Hex.value(bytes[53..<55]),
              high != 0 || low != 0, span != 0 else { return nil }
        self.init(traceIDHigh: high, traceIDLow: low, spanID: span, flags: UInt8(truncatingIfNeeded: flags))
    }
}

/// Lower-case hex, the only form W3C trace context allows.
enum Hex {
    /// Writes `value` as `bitWidth / 4` lower-case hex digits at `offset`.
    static func write(_ value: some FixedWidthInteger, into out: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        let digits = value.bitWidth / 4
        var v = value
        for i in stride(from: offset + digits - 1, through: offset, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: v & 0xf)
            out[i] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            v >>= 4
        }
    }

    static func string(_ value: some FixedWidthInteger) -> String {
        String(unsafeUninitializedCapacity: value.bitWidth / 4) { out in
            write(value, into: out, at: 0)
            return value.bitWidth / 4
        }
    }

    /// The value of up to 16 lower-case hex digits; nil on any other byte.
    static func value(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard digits.count <= 16 else { return nil }
        var result: UInt64 = 0
        for byte in digits {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            result = result << 4 | UInt64(nibble)
        }
        return result
    }
}
