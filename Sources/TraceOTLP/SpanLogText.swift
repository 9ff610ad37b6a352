import TraceFormat

/// What the `span.*` logs say (docs/format.md, "Spans"), as OTLP fields,
/// and the size limits OTLP output keeps to (the specification lets an SDK
/// bound names, values and counts; a cut value ends with the mark).
package enum SpanLogText {
    /// Bytes of a span name or attribute key.
    package static let nameLimit = 256
    /// Bytes of an attribute value or event name.
    package static let valueLimit = 1024
    /// Attributes, events and links per span (OpenTelemetry SDKs' default: 128).
    package static let countLimit = 128

    /// `text` within `limit` bytes: cut before a scalar, never inside one,
    /// and ended with the truncation mark when cut.
    package static func bounded(_ bytes: UnsafeRawBufferPointer, limit: Int) -> String {
        guard bytes.count > limit else { return String(decoding: bytes, as: UTF8.self) }
        var end = limit
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
            + String(describing: SpanCategory.truncationMark)
    }

    package static func bounded(_ text: String, limit: Int) -> String {
        var text = text
        return text.withUTF8 { bounded(UnsafeRawBufferPointer($0), limit: limit) }
    }

    /// A value as recorded (text: TracedTracing writes every attribute as
    /// text) typed back: an integer that fits Int64 is an int, `true` and
    /// `false` are bools, the rest strings. So `http.status_code=200` can be
    /// compared as a number in a backend; a string attribute that looks like
    /// an integer becomes one.
    package static func value(_ bytes: UnsafeRawBufferPointer) -> OTLPAttribute.Value {
        if bytes.elementsEqual("true".utf8) { return .bool(true) }
        if bytes.elementsEqual("false".utf8) { return .bool(false) }
        if let number = integer(bytes) { return .int(number) }
        return .string(bounded(bytes, limit: valueLimit))
    }

    /// `-?[0-9]+` within Int64, nil otherwise.
    private static func integer(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = negative ? 1 : 0
        guard bytes.count > digits, bytes.count - digits <= 19 else { return nil }
        // Accumulated as a negative number, whose range holds Int64.min.
        var value: Int64 = 0
        for byte in bytes[digits...] {
            guard byte >= 48 && byte <= 57 else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (next, under) = times.subtractingReportingOverflow(Int64(byte - 48))
            guard !overflow && !under else { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    /// `key=value key=value…` (values may hold spaces: a word without `=`
    /// belongs to the value before it), read as bytes: it runs for every
    /// attribute of every span.
    package static func pairs(_ bytes: UnsafeRawBufferPointer) -> [OTLPAttribute] {
        var attributes: [OTLPAttribute] = []
        forEachPair(bytes) { attributes.append($0) }
        return attributes
    }

    /// Each pair of `key=value key=value…`, in order, with nothing kept
    /// between them.
    package static func forEachPair(_ bytes: UnsafeRawBufferPointer, _ body: (OTLPAttribute) -> Void) {
        let space = UInt8(ascii: " "), equals = UInt8(ascii: "=")
        var pending: (key: Range<Int>, value: Range<Int>)?
        func flush() {
            guard let pair = pending else { return }
            body(OTLPAttribute(bounded(UnsafeRawBufferPointer(rebasing: bytes[pair.key]), limit: nameLimit),
                               value(UnsafeRawBufferPointer(rebasing: bytes[pair.value]))))
        }
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != space { end += 1 }
            var split = start
            while split < end && bytes[split] != equals { split += 1 }
            if split > start && split < end {
                flush()
                pending = (start..<split, (split + 1)..<end)
            } else if let pair = pending {
                pending = (pair.key, pair.value.lowerBound..<end)
            }
            start = end + 1
        }
        flush()
    }

    /// A `span.status` message: `ok`, `error` or `error: <message>`.
    package static func status(_ text: Substring) -> OTLPSpan.Status {
        if text == "ok" { return OTLPSpan.Status(code: 1) }
        guard text.hasPrefix("error") else { return OTLPSpan.Status() }
        let message = text.dropFirst("error".count)
        return OTLPSpan.Status(code: 2, message: message.hasPrefix(": ") ? String(message.dropFirst(2)) : "")
    }

    /// A `span.event` message: `name key=value …`.
    package static func event(_ bytes: UnsafeRawBufferPointer, time: UInt64) -> OTLPSpan.Event {
        let space = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
        let name = bounded(UnsafeRawBufferPointer(rebasing: bytes[..<space]), limit: valueLimit)
        let attributes = space < bytes.count ? pairs(UnsafeRawBufferPointer(rebasing: bytes[(space + 1)...])) : []
        return OTLPSpan.Event(time: time, name: name, attributes: attributes)
    }

    /// A `span.error` message, `<error type>: <description> key=value …`, as
    /// OpenTelemetry's `exception` event.
    package static func exception(_ text: Substring, time: UInt64) -> OTLPSpan.Event {
        var attributes: [OTLPAttribute] = []
        if let colon = text.indices.first(where: { text[$0] == ":" && text.index(after: $0) < text.endIndex
                                                    && text[text.index(after: $0)] == " " }) {
            let message = text.index(colon, offsetBy: 2)
            attributes.append(OTLPAttribute("exception.type", .string(bounded(String(text[..<colon]), limit: valueLimit))))
            attributes.append(OTLPAttribute("exception.message", .string(bounded(String(text[message...]), limit: valueLimit))))
        } else {
            attributes.append(OTLPAttribute("exception.message", .string(bounded(String(text), limit: valueLimit))))
        }
        return OTLPSpan.Event(time: time, name: "exception", attributes: attributes)
    }
}
