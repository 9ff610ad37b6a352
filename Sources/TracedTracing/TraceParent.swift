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

    /// The length of the header value this version writes.
    static let headerLength = 55

    /// The trace id as 32 lower-case hex digits (one allocation: swift-log's
    /// `.traced` provider builds it for every log line).
    public var traceID: String {
        String(unsafeUninitializedCapacity: 32) { out in
            let start = UnsafeMutableRawPointer(out.baseAddress.unsafelyUnwrapped)
            Hex.store(traceIDHigh, at: start)
            Hex.store(traceIDLow, at: start + 16)
            return 32
        }
    }

    /// The span id as 16 lower-case hex digits.
    public var spanIDString: String {
        String(unsafeUninitializedCapacity: 16) { out in
            Hex.store(spanID, at: UnsafeMutableRawPointer(out.baseAddress.unsafelyUnwrapped))
            return 16
        }
    }

    /// The header value, `00-<trace id>-<span id>-<flags>`.
    public var description: String {
        String(unsafeUninitializedCapacity: Self.headerLength) { out in
            store(at: UnsafeMutableRawPointer(out.baseAddress.unsafelyUnwrapped))
            return Self.headerLength
        }
    }

    /// Writes the header value's `headerLength` bytes at `out`.
    func store(at out: UnsafeMutableRawPointer) {
        out.storeBytes(of: UInt8(ascii: "0"), as: UInt8.self)
        out.storeBytes(of: UInt8(ascii: "0"), toByteOffset: 1, as: UInt8.self)
        out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 2, as: UInt8.self)
        Hex.store(traceIDHigh, at: out + 3)
        Hex.store(traceIDLow, at: out + 19)
        out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 35, as: UInt8.self)
        Hex.store(spanID, at: out + 36)
        out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 52, as: UInt8.self)
        Hex.store(flags, at: out + 53)
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
    /// Stores the 16 digits of `value`, most significant first, at `out`
    /// (any alignment).
    static func store(_ value: UInt64, at out: UnsafeMutableRawPointer) {
        out.storeBytes(of: digits(UInt32(truncatingIfNeeded: value >> 32)).bigEndian, as: UInt64.self)
        out.storeBytes(of: digits(UInt32(truncatingIfNeeded: value)).bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// Stores the 2 digits of `value` at `out`.
    static func store(_ value: UInt8, at out: UnsafeMutableRawPointer) {
        let both = digits(UInt32(value))  // digits 0 and 1 in the two lowest bytes
        out.storeBytes(of: UInt8(truncatingIfNeeded: both >> 8), as: UInt8.self)
        out.storeBytes(of: UInt8(truncatingIfNeeded: both), toByteOffset: 1, as: UInt8.self)
    }

    /// The 8 digits of `value` as ASCII in one word, the least significant
    /// digit in the lowest byte, computed for all bytes at once: the nibbles
    /// spread one to a byte, then `'0'` added to each and `'a' - '0' - 10`
    /// more to each over 9 (a nibble over 9 plus 6 sets its byte's bit 4).
    /// No byte carries into the next: the largest is `0xf + 0x30 + 0x27`.
    /// About a tenth of a digit-by-digit loop's time; a span writes 48
    /// digits (docs/performance.md, "Spans").
    private static func digits(_ value: UInt32) -> UInt64 {
        var x = UInt64(value)
        x = (x | x << 16) & 0x0000_ffff_0000_ffff
        x = (x | x << 8) & 0x00ff_00ff_00ff_00ff
        x = (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f
        let over9 = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return x &+ 0x3030_3030_3030_3030 &+ over9 &* 0x27
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
