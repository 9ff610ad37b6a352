package import TraceFormat

/// OTLP's two encodings of `ExportTraceServiceRequest`
/// (opentelemetry-proto, collector/trace/v1/trace_service.proto): protobuf,
/// what OTLP/HTTP sends as `application/x-protobuf`, and the OTLP JSON
/// mapping (ids as hex, enums as numbers, 64-bit integers as strings).
package enum OTLPEncoding {
    /// The instrumentation scope every span is under.
    static let scopeName = "traced"

    // Field numbers, from trace.proto, common.proto and resource.proto.
    private enum Field {
        static let resourceSpans: UInt32 = 1  // ExportTraceServiceRequest
        static let resource: UInt32 = 1, scopeSpans: UInt32 = 2  // ResourceSpans
        static let scope: UInt32 = 1, spans: UInt32 = 2  // ScopeSpans
        static let scopeName: UInt32 = 1  // InstrumentationScope
        static let resourceAttributes: UInt32 = 1  // Resource
        static let traceID: UInt32 = 1, spanID: UInt32 = 2, parentSpanID: UInt32 = 4, name: UInt32 = 5, kind: UInt32 = 6
        static let start: UInt32 = 7, end: UInt32 = 8, attributes: UInt32 = 9, droppedAttributes: UInt32 = 10
        static let events: UInt32 = 11, droppedEvents: UInt32 = 12, links: UInt32 = 13, droppedLinks: UInt32 = 14
        static let status: UInt32 = 15
        static let eventTime: UInt32 = 1, eventName: UInt32 = 2, eventAttributes: UInt32 = 3, eventDropped: UInt32 = 4
        static let linkTraceID: UInt32 = 1, linkSpanID: UInt32 = 2, linkAttributes: UInt32 = 4
        static let statusMessage: UInt32 = 2, statusCode: UInt32 = 3
        static let key: UInt32 = 1, value: UInt32 = 2  // KeyValue
        static let string: UInt32 = 1, bool: UInt32 = 2, int: UInt32 = 3, double: UInt32 = 4  // AnyValue
    }

    // MARK: Protobuf

    /// One `ExportTraceServiceRequest` holding `groups`, as its bytes.
    package static func protobuf(_ groups: [OTLPResourceSpans], into writer: ProtobufWriter) {
        for group in groups {
            protobuf(group.resource, into: writer) {
                for span in group.spans { protobuf(span, into: writer) }
            }
        }
    }

    /// One `ResourceSpans` of an `ExportTraceServiceRequest`: `resource`, and
    /// the spans `spans` writes (`protobuf(_:into:)` of each, or their bytes
    /// written before).
    package static func protobuf(_ resource: OTLPResource, into writer: ProtobufWriter, spans: () -> Void) {
        let resourceSpans = writer.begin(Field.resourceSpans)
        let resourceMark = writer.begin(Field.resource)
        for attribute in resource.attributes { keyValue(attribute, Field.resourceAttributes, writer) }
        writer.end(resourceMark)
        let scopeSpans = writer.begin(Field.scopeSpans)
        let scope = writer.begin(Field.scope)
        writer.string(Field.scopeName, scopeName)
        writer.end(scope)
        spans()
        writer.end(scopeSpans)
        writer.end(resourceSpans)
    }

    /// One span as a `ScopeSpans` holds it (its field, length and message):
    /// bytes that can wait, and be written into a request as they are.
    package static func protobuf(_ span: OTLPSpan, into writer: ProtobufWriter) {
        let message = writer.begin(Field.spans)
        id(span.traceID, Field.traceID, writer)
        id(span.spanID, Field.spanID, writer)
        if span.parentSpanID != 0 { id(span.parentSpanID, Field.parentSpanID, writer) }
        writer.string(Field.name, span.name)
        writer.varint(Field.kind, span.kind.rawValue)
        writer.fixed64(Field.start, span.start)
        writer.fixed64(Field.end, span.end)
        for attribute in span.attributes { keyValue(attribute, Field.attributes, writer) }
        if span.droppedAttributes > 0 { writer.varint(Field.droppedAttributes, UInt64(span.droppedAttributes)) }
        for event in span.events {
            let nested = writer.begin(Field.events)
            writer.fixed64(Field.eventTime, event.time)
            writer.string(Field.eventName, event.name)
            for attribute in event.attributes { keyValue(attribute, Field.eventAttributes, writer) }
            if event.droppedAttributes > 0 { writer.varint(Field.eventDropped, UInt64(event.droppedAttributes)) }
            writer.end(nested)
        }
        if span.droppedEvents > 0 { writer.varint(Field.droppedEvents, UInt64(span.droppedEvents)) }
        for link in span.links {
            let nested = writer.begin(Field.links)
            id(link.traceID, Field.linkTraceID, writer)
            id(link.spanID, Field.linkSpanID, writer)
            for attribute in link.attributes { keyValue(attribute, Field.linkAttributes, writer) }
            writer.end(nested)
        }
        if span.droppedLinks > 0 { writer.varint(Field.droppedLinks, UInt64(span.droppedLinks)) }
        if span.status.code != 0 || !span.status.message.isEmpty {
            let nested = writer.begin(Field.status)
            if !span.status.message.isEmpty { writer.string(Field.statusMessage, span.status.message) }
            writer.varint(Field.statusCode, span.status.code)
            writer.end(nested)
        }
        writer.end(message)
    }

    private static func id(_ id: TraceID, _ field: UInt32, _ writer: ProtobufWriter) {
        withUnsafeBytes(of: (id.high.bigEndian, id.low.bigEndian)) { writer.bytes(field, $0) }
    }

    private static func id(_ id: UInt64, _ field: UInt32, _ writer: ProtobufWriter) {
        withUnsafeBytes(of: id.bigEndian) { writer.bytes(field, $0) }
    }

    static func keyValue(_ attribute: OTLPAttribute, _ field: UInt32, _ writer: ProtobufWriter) {
        let pair = writer.begin(field)
        writer.string(Field.key, attribute.key)
        let value = writer.begin(Field.value)
        switch attribute.value {
        case .string(let text): writer.string(Field.string, text)
        case .bool(let flag): writer.bool(Field.bool, flag)
        case .int(let number): writer.int64(Field.int, number)
        case .double(let number): writer.double(Field.double, number)
        }
        writer.end(value)
        writer.end(pair)
    }

    // MARK: JSON

    /// One `ExportTraceServiceRequest` holding `groups` in the OTLP JSON
    /// mapping, on one line (no newline).
    package static func json(_ groups: [OTLPResourceSpans], into writer: ProtobufWriter) {
        let json = JSONWriter(writer: writer)
        json.raw("{\"resourceSpans\":[")
        for (index, group) in groups.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"resource\":{\"attributes\":")
            json.attributes(group.resource.attributes)
            json.raw("},\"scopeSpans\":[{\"scope\":{\"name\":")
            json.string(scopeName)
            json.raw("},\"spans\":[")
            for (index, span) in group.spans.enumerated() {
                if index > 0 { json.raw(",") }
                json.span(span)
            }
            json.raw("]}]}")
        }
        json.raw("]}")
    }
}

/// JSON of the OTLP mapping, written into a `ProtobufWriter`'s buffer.
private struct JSONWriter {
    let writer: ProtobufWriter

    func raw(_ text: StaticString) { writer.raw(text) }

    func string(_ text: String) {
        var text = text
        raw("\"")
        text.withUTF8 { JSONText.escape(UnsafeRawBufferPointer($0)) { writer.raw($0) } }
        raw("\"")
    }

    /// A 64-bit integer: a JSON string, as protobuf's JSON mapping writes them.
    func integer(_ value: UInt64) {
        raw("\"")
        writer.decimal(value)
        raw("\"")
    }

    func hex(_ values: UInt64...) {
        var text = ""
        for value in values { text += Hex.text(value) }
        string(text)
    }

    func attributes(_ list: [OTLPAttribute]) {
        raw("[")
        for (index, attribute) in list.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"key\":")
            string(attribute.key)
            raw(",\"value\":{")
            switch attribute.value {
            case .string(let text):
                raw("\"stringValue\":")
                string(text)
            case .bool(let flag):
                raw("\"boolValue\":")
                if flag { raw("true") } else { raw("false") }
            case .int(let number):
                raw("\"intValue\":\"")
                if number < 0 { raw("-") }
                writer.decimal(number.magnitude)
                raw("\"")
            case .double(let number):
                raw("\"doubleValue\":")
                if number.isFinite {
                    var text = "\(number)"
                    text.withUTF8 { writer.raw(UnsafeRawBufferPointer($0)) }
                } else {
                    string(number.isNaN ? "NaN" : (number < 0 ? "-Infinity" : "Infinity"))
                }
            }
            raw("}}")
        }
        raw("]")
    }

    func span(_ span: OTLPSpan) {
        raw("{\"traceId\":")
        hex(span.traceID.high, span.traceID.low)
        raw(",\"spanId\":")
        hex(span.spanID)
        if span.parentSpanID != 0 {
            raw(",\"parentSpanId\":")
            hex(span.parentSpanID)
        }
        raw(",\"name\":")
        string(span.name)
        raw(",\"kind\":")
        writer.decimal(span.kind.rawValue)
        raw(",\"startTimeUnixNano\":")
        integer(span.start)
        raw(",\"endTimeUnixNano\":")
        integer(span.end)
        raw(",\"attributes\":")
        attributes(span.attributes)
        if span.droppedAttributes > 0 {
            raw(",\"droppedAttributesCount\":")
            writer.decimal(UInt64(span.droppedAttributes))
        }
        raw(",\"events\":[")
        for (index, event) in span.events.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"timeUnixNano\":")
            integer(event.time)
            raw(",\"name\":")
            string(event.name)
            raw(",\"attributes\":")
            attributes(event.attributes)
            if event.droppedAttributes > 0 {
                raw(",\"droppedAttributesCount\":")
                writer.decimal(UInt64(event.droppedAttributes))
            }
            raw("}")
        }
        raw("]")
        if span.droppedEvents > 0 {
            raw(",\"droppedEventsCount\":")
            writer.decimal(UInt64(span.droppedEvents))
        }
        raw(",\"links\":[")
        for (index, link) in span.links.enumerated() {
            if index > 0 { raw(",") }
            raw("{\"traceId\":")
            hex(link.traceID.high, link.traceID.low)
            raw(",\"spanId\":")
            hex(link.spanID)
            raw(",\"attributes\":")
            attributes(link.attributes)
            raw("}")
        }
        raw("]")
        if span.droppedLinks > 0 {
            raw(",\"droppedLinksCount\":")
            writer.decimal(UInt64(span.droppedLinks))
        }
        raw(",\"status\":{")
        if span.status.code != 0 || !span.status.message.isEmpty {
            raw("\"code\":")
            writer.decimal(span.status.code)
            if !span.status.message.isEmpty {
                raw(",\"message\":")
                string(span.status.message)
            }
        }
        raw("}}")
    }
}
