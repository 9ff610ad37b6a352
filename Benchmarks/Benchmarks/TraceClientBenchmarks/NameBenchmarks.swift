// Runtime (`String`) names against literal (`StaticString`) ones, and the
// cost of taking the current task from ServiceContext (docs/performance.md,
// "Runtime names and ServiceContext"). Same conventions as
// TraceClientBenchmarks.swift: one iteration is one API call.
import Benchmark
import BenchmarkSupport
import ServiceContextModule
import TraceClient

/// A runtime name on the heap (over 15 UTF-8 bytes: not a small string).
let heapName = "bench.dynamicRegion.\(Int.random(in: 1...9))"
/// A runtime name of at most 15 bytes: Swift stores it inline (small string).
let smallName = "bench.dyn\(Int.random(in: 1...9))"

func nameBenchmarks() {
    // MARK: Tracing on

    Benchmark("on: region begin+end, runtime name (2 events)", configuration: tracing("region-dynamic")) { benchmark in
        let name = heapName
        measure(benchmark) {
            Trace.startRegion(name).end()
        }
    }

    Benchmark("on: region begin+end, small runtime name (2 events)",
              configuration: tracing("region-dynamic-small")) { benchmark in
        let name = smallName
        measure(benchmark) {
            Trace.startRegion(name).end()
        }
    }

    Benchmark("on: log, runtime category (1 event)", configuration: tracing("log-dynamic")) { benchmark in
        let category = heapName
        measure(benchmark) {
            Trace.log(category, "a short static message")
        }
    }

    // ServiceContext: the fallback off (the default), then on with a
    // TraceTask in ServiceContext.current, then on with none there.
    Benchmark("on: region begin+end, ServiceContext fallback off (2 events)",
              configuration: tracing("region-context-off")) { benchmark in
        TraceTask.followsServiceContext(false)
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
    }

    Benchmark("on: region begin+end, task from ServiceContext (2 events)",
              configuration: tracing("region-context-on")) { benchmark in
        let task = TraceTask("bench.span")
        var context = ServiceContext.topLevel
        context.traceTask = task
        TraceTask.followsServiceContext()
        ServiceContext.withValue(context) {
            measure(benchmark) {
                Trace.startRegion("bench.region").end()
            }
        }
        TraceTask.followsServiceContext(false)
        task.end()
    }

    Benchmark("on: region begin+end, fallback on, no ServiceContext (2 events)",
              configuration: tracing("region-context-empty")) { benchmark in
        TraceTask.followsServiceContext()
        measure(benchmark) {
            Trace.startRegion("bench.region").end()
        }
        TraceTask.followsServiceContext(false)
    }

    // MARK: Tracing off

    Benchmark("off: region begin+end, runtime name") { benchmark in
        let name = heapName
        measure(benchmark) {
            Trace.startRegion(name).end()
        }
    }

    Benchmark("off: log, runtime category") { benchmark in
        let category = heapName
        measure(benchmark) {
            Trace.log(category, "a short static message")
        }
    }
}
