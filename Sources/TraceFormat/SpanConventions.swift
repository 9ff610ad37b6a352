/// How spans of swift-distributed-tracing are written as logs (docs/format.md,
/// "Spans"): the categories, and the text of a span's W3C ids. TracedTracing
/// writes them; `tasks --trace-id`, the exports' link flows and OTLP read them.
package enum SpanCategory {
    /// The span starts: `00-<trace id>-<span id>-<flags>[ parent=<16 hex>]`.
    package static let context: StaticString = "trace.context"
    /// `key=value`, one log per attribute, at the span's end.
    package static let attribute: StaticString = "span.attribute"
    /// `name key=value …`.
    package static let event: StaticString = "span.event"
    /// `<error type>: <description> key=value …`.
    package static let error: StaticString = "span.error"
    /// `ok`, `error` or `error: <message>`.
    package static let status: StaticString = "span.status"
    /// The linked span's `traceparent`, then ` key=value …`.
    package static let link: StaticString = "span.link"
    /// A region span's rename: `[old] new`.
    package static let name: StaticString = "span.name"
    /// A task's new type (any TraceClient user may log one).
    package static let taskType: StaticString = "task.type"

    /// The mark a bounded value ends with when it was cut.
    package static let truncationMark: StaticString = "…(truncated)"
}

/// A span's ids as a `trace.context` (or `span.link`) log writes them, read
/// back: `[name] ` first for a region span, then `00-<32 hex>-<16 hex>-<2 hex>`,
/// then ` parent=<16 hex>` when the parent is in another process.
package struct SpanContextText: Equatable, Sendable {
    package var traceIDHigh: UInt64
    package var traceIDLow: UInt64
    package var spanID: UInt64
    package var flags: UInt8
    /// The parent span in another process (0: none, or not said).
    package var remoteParent: UInt64
    /// Bytes of the message after the ids (and after ` parent=…`): a link's
    /// ` key=value …`.
    package var restOffset: Int

    /// Nil when `message` (after an optional `[name] `) does not start with
    /// ids of that form, or the trace id or span id is zero.
    package init?(_ message: UnsafeRawBufferPointer) {
        let start = SpanContextText.nameEnd(message)
        // "00-" + 32 + "-" + 16 + "-" + 2
        guard message.count >= start + 55, message[start + 2] == UInt8(ascii: "-"),
              message[start + 35] == UInt8(ascii: "-"), message[start + 52] == UInt8(ascii: "-"),
              let high = Hex.value(message, start + 3, 16), let low = Hex.value(message, start + 19, 16),
              let span = Hex.value(message, start + 36, 16), let flags = Hex.value(message, start + 53, 2),
              high != 0 || low != 0, span != 0 else { return nil }
        traceIDHigh = high
        traceIDLow = low
        spanID = span
        self.flags = UInt8(truncatingIfNeeded: flags)
        remoteParent = 0
        restOffset = start + 55
        let parentKey = " parent="
        let keyLength = parentKey.utf8.count
        if message.count >= restOffset + keyLength + 16,
           message[restOffset..<(restOffset + keyLength)].elementsEqual(parentKey.utf8),
           let parent = Hex.value(message, restOffset + keyLength, 16) {
            remoteParent = parent
            restOffset += keyLength + 16
        }
    }

    /// Where the text after a region span's `[name] ` starts (0 without one).
    /// A name is bounded, so its `]` is the first one.
    package static func nameEnd(_ message: UnsafeRawBufferPointer) -> Int {
        guard message.first == UInt8(ascii: "["), let close = message.firstIndex(of: UInt8(ascii: "]")),
              close + 1 < message.count, message[close + 1] == UInt8(ascii: " ") else { return 0 }
        return close + 2
    }

    /// The `name` of a message that starts with `[name] `, nil without one.
    package static func regionName(_ message: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let end = nameEnd(message)
        return end == 0 ? nil : UnsafeRawBufferPointer(rebasing: message[1..<(end - 2)])
    }
}

/// Lower-case hex, the only form W3C trace context allows: written on the
/// span hot path (TracedTracing), read back by every reader.
package enum Hex {
    /// Stores the 16 digits of `value`, most significant first, at `out`
    /// (any alignment).
    @inlinable
    package static func store(_ value: UInt64, at out: UnsafeMutableRawPointer) {
        out.storeBytes(of: digits(UInt32(truncatingIfNeeded: value >> 32)).bigEndian, as: UInt64.self)
        out.storeBytes(of: digits(UInt32(truncatingIfNeeded: value)).bigEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// Stores the 2 digits of `value` at `out`.
    @inlinable
    package static func store(_ value: UInt8, at out: UnsafeMutableRawPointer) {
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
    @inlinable
    package static func digits(_ value: UInt32) -> UInt64 {
        var x = UInt64(value)
        x = (x | x << 16) & 0x0000_ffff_0000_ffff
        x = (x | x << 8) & 0x00ff_00ff_00ff_00ff
        x = (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f
        let over9 = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return x &+ 0x3030_3030_3030_3030 &+ over9 &* 0x27
    }

    /// The value of the `count` (at most 16) lower-case hex digits at
    /// `offset`; nil on any other byte, or when they run past the end.
    package static func value(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> UInt64? {
        guard count <= 16, offset >= 0, offset + count <= bytes.count, let base = bytes.baseAddress else { return nil }
        var result: UInt64 = 0
        var invalid: UInt8 = 0
        for index in offset..<(offset + count) {
            // '0'-'9' and 'a'-'f' as 0-15; anything else sets bit 4.
            let nibble = nibbles[Int(base.load(fromByteOffset: index, as: UInt8.self))]
            invalid |= nibble
            result = result << 4 | UInt64(nibble & 0xF)
        }
        return invalid & 0x10 == 0 ? result : nil
    }

    /// Each byte's value as a lower-case hex digit, or 0x10.
    private static let nibbles: [UInt8] = (0..<256).map { byte in
        switch byte {
        case 48...57: UInt8(byte - 48)
        case 97...102: UInt8(byte - 87)
        default: 0x10
        }
    }

    /// `value` as 16 digits.
    package static func text(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            store(value, at: UnsafeMutableRawPointer(out.baseAddress.unsafelyUnwrapped))
            return 16
        }
    }
}

/// splitmix64's output function: the span and trace ids TracedTracing makes
/// and those OTLP gives spans without any.
package enum SplitMix64 {
    /// A well-mixed id of `z`, never 0 (W3C forbids all-zero ids).
    @inlinable
    package static func id(_ z: UInt64) -> UInt64 {
        var z = z
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        z ^= z >> 31
        return z == 0 ? 1 : z
    }
}
