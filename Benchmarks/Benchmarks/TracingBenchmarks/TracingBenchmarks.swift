// swift-distributed-tracing spans through TracedTracer against the
// library's own NoOpTracer, in the same run: one iteration is one
// `withSpan` (start, the body made current, end). docs/performance.md
// records the figures and the targets (off <= 1.2x NoOpTracer, on <=
// NoOpTracer + 150 ns).
import Benchmark
import BenchmarkSupport
import Logging
import TraceClient
import TracedLogging
import TracedTracing
import Tracing

let benchmarks: @Sendable () -> Void = {
    configureBenchmarks()
    let noop = NoOpTracer()
    let traced = TracedTracer()
    // A parent span for the nested benchmarks: its context is what a child
    // span starts under (a region of the parent's task when tracing is on).
    let name = "bench.span"

    // MARK: Root spans (a trace task each when on)

    Benchmark("NoOpTracer: withSpan") { benchmark in
        measure(benchmark) { noop.withSpan(name, context: .topLevel) { _ in } }
    }

    // What any recording tracer adds to NoOpTracer's span at least: the
    // span put into the context that withSpan makes current, one class
    // instance under one key (as TracedTracer does), and dropped after.
    Benchmark("floor: one ServiceContext write") { benchmark in
        let value = TraceTaskContextValue(task: TraceTask("bench.floor"))  // tracing off: id 0
        measure(benchmark) {
            var context = ServiceContext.topLevel
            context[TraceTaskContextKey.self] = value
            blackHole(context)
        }
    }

    Benchmark("off: TracedTracer withSpan") { benchmark in
        measure(benchmark) { traced.withSpan(name, context: .topLevel) { _ in } }
    }

    Benchmark("on: TracedTracer withSpan (task, 3 events)", configuration: tracing("span")) { benchmark in
        measure(benchmark) { traced.withSpan(name, context: .topLevel) { _ in } }
    }

    // MARK: The span's floor (BareTracer.swift): one attribute, as a request span has

    Benchmark("NoOpTracer: withSpan + 1 attribute") { benchmark in
        var index = 0
        measure(benchmark) {
            noop.withSpan(name, context: .topLevel) { span in span.attributes["request.index"] = index }
            index &+= 1
        }
    }

    Benchmark("bare: withSpan + 1 attribute (a span that records nothing)") { benchmark in
        let bare = BareTracer()
        var index = 0
        measure(benchmark) {
            bare.withSpan(name, context: .topLevel) { span in span.attributes["request.index"] = index }
            index &+= 1
        }
    }

    Benchmark("on: TracedTracer withSpan + 1 attribute (task, 4 events)", configuration: tracing("attribute")) { benchmark in
        var index = 0
        measure(benchmark) {
            traced.withSpan(name, context: .topLevel) { span in span.attributes["request.index"] = index }
            index &+= 1
        }
    }

    // MARK: Child spans (a region of the parent's task when on)

    Benchmark("NoOpTracer: nested withSpan") { benchmark in
        noop.withSpan("bench.parent", context: .topLevel) { parent in
            measure(benchmark) { noop.withSpan(name, context: parent.context) { _ in } }
        }
    }

    Benchmark("off: TracedTracer nested withSpan") { benchmark in
        traced.withSpan("bench.parent", context: .topLevel) { parent in
            measure(benchmark) { traced.withSpan(name, context: parent.context) { _ in } }
        }
    }

    Benchmark("on: TracedTracer nested withSpan (region, 3 events)", configuration: tracing("childspan")) { benchmark in
        traced.withSpan("bench.parent", context: .topLevel) { parent in
            measure(benchmark) { traced.withSpan(name, context: parent.context) { _ in } }
        }
    }

    // MARK: A request's worth (RequestShape.swift)

    Benchmark("NoOpTracer: request (3 spans, 7 attributes, 1 log line)") { benchmark in
        let logger = Logger(label: "bench.request", factory: { _ in DiscardingLogHandler() })
        measure(benchmark) { request(noop, logger) }
    }

    Benchmark("on: TracedTracer + TraceLogHandler request (3 spans, 7 attributes, 1 log line)",
              configuration: tracing("request")) { benchmark in
        let logger = Logger(label: "bench.request", factory: { label in
            TraceLogHandler(label: label, forwardingTo: DiscardingLogHandler(), metadataProvider: .traced)
        })
        measure(benchmark) { request(traced, logger) }
    }
}
