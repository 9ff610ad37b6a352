import TraceAnalysis
import TraceFormat

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
        contextCategory = catalog.lookup(String(describing: SpanCategory.context))?.index
        linkCategory = catalog.lookup(String(describing: SpanCategory.link))?.index
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
        guard let context = SpanContextText(message) else { return 0 }
        return context.spanID | 1 << 63
    }
}
