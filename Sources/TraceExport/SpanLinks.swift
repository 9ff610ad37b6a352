import TraceAnalysis

/// Links between spans (TracedTracing, docs/format.md "Spans") as flows:
/// every span's `trace.context` log starts a flow named after its span id,
/// and a `span.link` log naming that span id ends it, so a viewer draws an
/// arrow from the linked span (inside its task's slice or region) to the
/// span that links to it. Nothing is kept per span: a flow whose link never
/// comes is just never drawn. A span linked to twice gets one arrow, from
/// the first link (the second finds the flow ended).
struct SpanLinks {
    private let contextCategory: UInt32?
    private let linkCategory: UInt32?

    init(catalog: TraceCatalog) {
        contextCategory = catalog.lookup("trace.context")?.index
        linkCategory = catalog.lookup("span.link")?.index
    }

    /// The flow ids the log starts and ends (0: none).
    func flows(category: UInt32, message: UnsafeRawBufferPointer) -> (out: UInt64, in: UInt64) {
        if category == contextCategory { return (Self.flowID(message), 0) }
        if category == linkCategory { return (0, Self.flowID(message)) }
        return (0, 0)
    }

    /// The flow id of the span id in `[name] 00-<trace id>-<span id>-<flags>…`:
    /// the span id with the top bit set, apart from the layout's task flows
    /// (counted up from 1). 0 when the message is not of that form.
    static func flowID(_ message: UnsafeRawBufferPointer) -> UInt64 {
        var start = 0
        if message.first == UInt8(ascii: "[") {
            guard let close = message.firstIndex(of: UInt8(ascii: "]")) else { return 0 }
            start = close + 2
        }
        // "00-" + 32 + "-" + 16
        guard message.count >= start + 52, message[start + 2] == UInt8(ascii: "-"),
              message[start + 35] == UInt8(ascii: "-") else { return 0 }
        var value: UInt64 = 0
        for byte in message[(start + 36)..<(start + 52)] {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            default: return 0
            }
            value = value << 4 | UInt64(nibble)
        }
        return value == 0 ? 0 : value | 1 << 63
    }
}
