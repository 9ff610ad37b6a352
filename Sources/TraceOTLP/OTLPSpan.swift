/// A span as OTLP carries it (opentelemetry-proto, trace/v1/trace.proto):
/// what `SpanAssembler` makes of a task or region, and what the encoders
/// write. Times are nanoseconds since the Unix epoch.
package struct OTLPSpan: Equatable, Sendable {
    package enum Kind: UInt64, Sendable {
        case unspecified = 0, `internal` = 1, server = 2, client = 3, producer = 4, consumer = 5
    }

    package struct Status: Equatable, Sendable {
        /// 0 unset, 1 ok, 2 error (`Status.StatusCode`).
        package var code: UInt64 = 0
        package var message = ""

        package init(code: UInt64 = 0, message: String = "") {
            self.code = code
            self.message = message
        }
    }

    package struct Event: Equatable, Sendable {
        package var time: UInt64
        package var name: String
        package var attributes: [OTLPAttribute]
        package var droppedAttributes: UInt32 = 0
    }

    package struct Link: Equatable, Sendable {
        package var traceID: TraceID
        package var spanID: UInt64
        package var attributes: [OTLPAttribute]
    }

    package var traceID: TraceID
    package var spanID: UInt64
    /// 0: a root span.
    package var parentSpanID: UInt64 = 0
    package var name: String
    package var kind: Kind = .internal
    package var start: UInt64
    package var end: UInt64
    package var attributes: [OTLPAttribute] = []
    package var events: [Event] = []
    package var links: [Link] = []
    package var status = Status()
    package var droppedAttributes: UInt32 = 0
    package var droppedEvents: UInt32 = 0
    package var droppedLinks: UInt32 = 0

    package init(traceID: TraceID, spanID: UInt64, name: String, start: UInt64, end: UInt64) {
        self.traceID = traceID
        self.spanID = spanID
        self.name = name
        self.start = start
        self.end = end
    }
}

/// A 128-bit W3C trace id.
package struct TraceID: Hashable, Sendable {
    package var high: UInt64
    package var low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// An attribute (`KeyValue` with an `AnyValue` of one of the scalar kinds).
package struct OTLPAttribute: Equatable, Sendable {
    package enum Value: Equatable, Sendable {
        case string(String), bool(Bool), int(Int64), double(Double)
    }

    package var key: String
    package var value: Value

    package init(_ key: String, _ value: Value) {
        self.key = key
        self.value = value
    }
}

/// Who sent the spans: OTLP's `Resource`, one per traced process.
package struct OTLPResource: Equatable, Sendable {
    package var serviceName: String
    package var hostName: String
    package var pid: Int32
    /// More, after the three (`service.instance.id`, ...).
    package var extra: [OTLPAttribute] = []

    package init(serviceName: String, hostName: String, pid: Int32) {
        self.serviceName = serviceName
        self.hostName = hostName
        self.pid = pid
    }

    var attributes: [OTLPAttribute] {
        [OTLPAttribute("service.name", .string(serviceName)), OTLPAttribute("host.name", .string(hostName)),
         OTLPAttribute("process.pid", .int(Int64(pid)))] + extra
    }
}

/// Spans of one resource, as one `ResourceSpans` holds them.
package struct OTLPResourceSpans: Sendable {
    package var resource: OTLPResource
    package var spans: [OTLPSpan]

    package init(resource: OTLPResource, spans: [OTLPSpan]) {
        self.resource = resource
        self.spans = spans
    }
}
