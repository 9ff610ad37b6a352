package import Tracing
import TraceFormat

/// A log message written in place: UTF-8 appended to a buffer on the
/// caller's stack, handed to TraceClient as bytes. What spans and log
/// lines record is built this way, without a `String` per piece
/// (docs/performance.md, "Spans").
///
/// The buffer holds a whole log message (1024 bytes, TraceClient's
/// longest) and keeps the first byte past it aside: with that byte
/// TraceClient cuts the message at a character boundary and marks it
/// truncated, and what goes further is dropped. 1024 bytes is also the most
/// `withUnsafeTemporaryAllocation` always puts on the stack: for one byte
/// more the standard library checks the stack's room at run time, and here
/// it took the heap instead, a malloc for every span and log line (the
/// benchmark's root span went from 3 mallocs to 2 with 1024, a request
/// from 37 to 24; docs/performance.md, "Spans").
package struct LogLine: ~Copyable {
    /// TraceClient's longest message (TC_MAX_LOG_MESSAGE).
    static let capacity = 1024
    /// Longest attribute value, event or error text kept, in UTF-8 bytes.
    package static let valueLimit = 256
    package static let truncationMark = SpanCategory.truncationMark

    private let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    /// The first byte that did not fit, once one did not.
    private var spill: UInt8?

    private init(base: UnsafeMutablePointer<UInt8>) {
        self.base = base
    }

    /// Runs `body` with an empty line on the stack.
    package static func build<Result>(_ body: (inout LogLine) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var line = LogLine(base: buffer.baseAddress.unsafelyUnwrapped)
            return body(&line)
        }
    }

    /// Runs `body` with the message: the bytes written, followed by the
    /// first byte that did not fit, if any (TraceClient then records the
    /// message cut and marked truncated).
    package func withMessage<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        guard let spill else { return body(UnsafeRawBufferPointer(start: base, count: count)) }
        // Rare: only a message that overflowed copies itself once more.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count + 1) { whole in
            let start = whole.baseAddress.unsafelyUnwrapped
            start.update(from: base, count: count)
            start[count] = spill
            return body(UnsafeRawBufferPointer(whole))
        }
    }

    package mutating func append(_ byte: UInt8) {
        guard count < Self.capacity else {
            if spill == nil { spill = byte }
            return
        }
        base[count] = byte
        count += 1
    }

    package mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let n = min(bytes.count, Self.capacity - count)
        if n < bytes.count, spill == nil { spill = bytes[n] }
        guard n > 0, let source = bytes.baseAddress else { return }
        (base + count).update(from: source.assumingMemoryBound(to: UInt8.self), count: n)
        count += n
    }

    /// `text` whole, or its first `limit` bytes (cut before a scalar, never
    /// inside one) followed by the truncation mark.
    package mutating func append(bounded text: String, limit: Int = valueLimit) {
        var text = text
        text.withUTF8 { utf8 in
            guard utf8.count > limit else { return append(UnsafeRawBufferPointer(utf8)) }
            var end = limit
            while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }
            append(UnsafeRawBufferPointer(start: utf8.baseAddress, count: end))
            append(Self.truncationMark)
        }
    }

    /// `value` in decimal.
    package mutating func append(decimal value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var v = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 20 digits at most
        withUnsafeMutableBytes(of: &digits) { scratch in
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: v % 10)
                v /= 10
            } while v != 0
            append(UnsafeRawBufferPointer(rebasing: scratch[i...]))
        }
    }

    /// `value` as 16 lower-case hex digits (W3C's form).
    package mutating func append(hex value: UInt64) {
        store(count: 16) { Hex.store(value, at: $0) }
    }

    /// `00-<trace id>-<span id>-<flags>`.
    package mutating func append(ids: TraceParent) {
        store(count: TraceParent.headerLength) { ids.store(at: $0) }
    }

    /// Lets `write` store `n` bytes in place, or, the rare time fewer are
    /// left, on the side first (appended as far as they fit).
    private mutating func store(count n: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
        if Self.capacity - count >= n {
            write(UnsafeMutableRawPointer(base + count))
            count += n
            return
        }
        withUnsafeTemporaryAllocation(byteCount: n, alignment: 1) { aside in
            write(aside.baseAddress.unsafelyUnwrapped)
            append(UnsafeRawBufferPointer(aside))
        }
    }

    /// A span attribute's value, bounded.
    package mutating func append(attribute value: SpanAttribute) {
        switch value {
        case .int32(let v): append(decimal: Int64(v))
        case .int64(let v): append(decimal: v)
        case .bool(let v): append(v ? "true" : "false")
        case .string(let v): append(bounded: v)
        case .double(let v): append(bounded: String(v))
        case .stringConvertible(let v): append(bounded: v.description)
        default: append(bounded: Self.render(value))
        }
    }

    /// Arrays and anything rarer, as text.
    private static func render(_ value: SpanAttribute) -> String {
        switch value {
        case .int32Array(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .int64Array(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .doubleArray(let v): "[" + v.map { String($0) }.joined(separator: ",") + "]"
        case .boolArray(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .stringArray(let v): "[" + v.joined(separator: ",") + "]"
        case .stringConvertibleArray(let v): "[" + v.map(\.description).joined(separator: ",") + "]"
        default: "?"
        }
    }

    /// ` key=value`, both bounded, for each attribute, keys sorted so that a
    /// trace reads the same each run.
    package mutating func append(attributes: SpanAttributes) {
        for (key, value) in SpanAttributeList(attributes).sorted {
            append(UInt8(ascii: " "))
            append(pair: key, value)
        }
    }

    /// `key=value`, both bounded.
    package mutating func append(pair key: String, _ value: SpanAttribute) {
        append(bounded: key)
        append(UInt8(ascii: "="))
        append(attribute: value)
    }
}

/// A span's attributes as pairs sorted by key.
package struct SpanAttributeList {
    package let sorted: [(String, SpanAttribute)]

    package init(_ attributes: SpanAttributes) {
        var pairs: [(String, SpanAttribute)] = []
        pairs.reserveCapacity(attributes.count)
        attributes.forEach { pairs.append(($0, $1)) }
        pairs.sort { $0.0 < $1.0 }
        sorted = pairs
    }
}
