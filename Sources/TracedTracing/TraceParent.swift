import TraceFormat

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
    public var spanIDString: String { Hex.text(spanID) }

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

    private static func hex(_ bytes: [UInt8], _ offset: Int, _ count: Int) -> UInt64? {
        bytes.withUnsafeBytes { Hex.value($0, offset, count) }
    }

    /// Parses a `traceparent` header value; nil when it must be ignored.
    public init?(_ header: some StringProtocol) {
        let bytes = Array(header.utf8)
        // 2 + 1 + 32 + 1 + 16 + 1 + 2; a future version may append "-..."
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
              bytes[52] == UInt8(ascii: "-"),
              let version = Self.hex(bytes, 0, 2), version != 0xff else { return nil }
        if version == 0 {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }
        }
        guard let high = Self.hex(bytes, 3, 16), let low = Self.hex(bytes, 19, 16),
              let span = Self.hex(bytes, 36, 16), let flags = Self.hex(bytes, 53, 2),
              high != 0 || low != 0, span != 0 else { return nil }
        self.init(traceIDHigh: high, traceIDLow: low, spanID: span, flags: UInt8(truncatingIfNeeded: flags))
    }
}
