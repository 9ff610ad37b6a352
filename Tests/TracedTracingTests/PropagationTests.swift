import Logging
import Testing
import Tracing
@testable import TracedLogging
@testable import TracedTracing

/// inject/extract through the Instrument protocol, with tracing off in
/// this process: what a service forwards and what its log lines carry.
struct PropagationTests {
    struct Extractor: Tracing.Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    struct Injector: Tracing.Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    }

    static let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func anExtractedParentIsForwardedWithItsTracestate() {
        let tracer = TracedTracer()
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": Self.header, "tracestate": "a=1,b=2"], into: &context, using: Extractor())
        #expect(context.traceParent?.description == Self.header)
        var out: [String: String] = [:]
        tracer.inject(context, into: &out, using: Injector())
        #expect(out == ["traceparent": Self.header, "tracestate": "a=1,b=2"])
    }

    @Test(arguments: [
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b",
    ])
    func anInvalidTraceparentStartsANewTrace(_ header: String) {
        let tracer = TracedTracer()
        var context = ServiceContext.topLevel
        tracer.extract(["traceparent": header, "tracestate": "a=1"], into: &context, using: Extractor())
        #expect(context.traceParent == nil)
        var out: [String: String] = [:]
        tracer.inject(context, into: &out, using: Injector())
        #expect(out.isEmpty)
    }

    @Test func anOversizedTracestateIsDropped() {
        var context = ServiceContext.topLevel
        let state = String(repeating: "k=v,", count: 200)
        TracedTracer().extract(["traceparent": Self.header, "tracestate": state], into: &context, using: Extractor())
        var out: [String: String] = [:]
        TracedTracer().inject(context, into: &out, using: Injector())
        #expect(out == ["traceparent": Self.header])
    }

    @Test func theMetadataProviderAddsTheIdsOfTheContextsSpan() {
        var context = ServiceContext.topLevel
        TracedTracer().extract(["traceparent": Self.header], into: &context, using: Extractor())
        let metadata = ServiceContext.withValue(context) { Logger.MetadataProvider.traced.get() }
        #expect(metadata == ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"])
        #expect(ServiceContext.withValue(.topLevel) { Logger.MetadataProvider.traced.get() }.isEmpty)
    }

    @Test func aLogLineIsRenderedWithSortedBoundedMetadataWithoutTheIds() {
        let event = LogEvent(level: .warning, message: "slow", metadata: ["b": "2", "trace_id": "x", "long": "\(String(repeating: "y", count: 300))"],
                             source: nil, file: #fileID, function: #function, line: #line)
        let provider = Logger.MetadataProvider { ["a": "1", "span_id": "y"] }
        let merged = LogText.merge(handler: ["c": "3", "b": "handler"], provider: provider, explicit: event.metadata)
        let text = LogLine.build { line in
            LogText.write(event, merged, into: &line)
            return line.withMessage { String(decoding: $0, as: UTF8.self) }
        }
        #expect(text == "[warning] slow a=1 b=2 c=3 long=\(String(repeating: "y", count: 256))…(truncated)")
    }

    /// A line holds 1024 bytes and keeps the first byte past them, which is
    /// how TraceClient knows to cut the message at a character boundary and
    /// mark it truncated; a line that fits is handed over as written.
    @Test func aLineKeepsTheFirstByteThatDidNotFit() {
        let fits = LogLine.build { line in
            line.append("[info] ")
            line.append(bounded: "ok")
            return line.withMessage { Array($0) }
        }
        #expect(fits == Array("[info] ok".utf8))
        let long = String(repeating: "é", count: 600)  // 1200 bytes, 2 each
        let (overflow, count) = LogLine.build { line in
            line.append("x")
            line.append(bounded: long, limit: 2000)
            line.append("never")
            return (line.withMessage { Array($0) }, line.count)
        }
        #expect(count == 1024)
        #expect(overflow.count == 1025)
        #expect(overflow == Array(("x" + long).utf8.prefix(1025)))
        let bytewise = LogLine.build { line in
            for _ in 0..<1030 { line.append(UInt8(ascii: "a")) }
            line.append(UInt8(ascii: "b"))
            return line.withMessage { Array($0) }
        }
        #expect(bytewise == Array(repeating: UInt8(ascii: "a"), count: 1025))
    }

    @Test func theHandlerForwardsEveryMessageAndItsSettings() {
        let seen = Seen()
        var handler = TraceLogHandler(label: "orders", forwardingTo: Recording(seen: seen))
        handler.logLevel = .debug
        handler[metadataKey: "table"] = "7"
        let configured = handler
        var logger = Logger(label: "orders", factory: { _ in configured })
        logger.debug("hello")
        logger.logLevel = .error
        logger.info("dropped by level")
        #expect(seen.lines.withLock { $0 } == ["debug hello table=7"])
    }
}

import Synchronization

final class Seen: Sendable {
    let lines = Mutex<[String]>([])
}

struct Recording: LogHandler {
    let seen: Seen
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        // As StreamLogHandler: the handler's metadata, then the event's.
        let pairs = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        seen.lines.withLock { $0.append("\(event.level) \(event.message) \(pairs)") }
    }
}
