// The cost of each annotation, with tracing on (in-process trace to a file,
// drained by its writer thread on the other core), with tracing off, and
// with stacks on. One benchmark iteration is one API call; a region's
// begin+end is two events. docs/performance.md records the figures.
import Benchmark
import TraceClient

#if canImport(Glibc)
import Glibc
#endif

/// Where the traced benchmarks write; scripts/benchmark checks these files
/// for drops afterwards (a figure measured while dropping would be wrong).
func traceFile(_ name: String) -> String { "/tmp/traced-benchmark-\(name).trace" }

/// A big buffer, so the writer can fall behind for seconds without drops.
let bufferBytes = 512 << 20

func tracing(_ name: String, stacks: Bool = false) -> (setup: Benchmark.BenchmarkSetupHook, teardown: Benchmark.BenchmarkTeardownHook) {
    ({
        try Trace.start(writingTo: traceFile(name), options: TraceOptions(stacks: stacks))
    }, {
        try Trace.stop()
    })
}

let benchmarks: @Sendable () -> Void = {
    try? Trace.configureBuffer(size: bufferBytes)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .mega,
        maxDuration: .seconds(2),
        maxIterations: 20
    )

    // MARK: Tracing on

    let regionOn = tracing("region")
    Benchmark("on: region begin+end (2 events)", configuration: .init(setup: regionOn.setup, teardown: regionOn.teardown)) { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.startRegion("bench.region").end()
        }
    }

    let withRegionOn = tracing("withregion")
    Benchmark("on: withRegion (2 events)", configuration: .init(setup: withRegionOn.setup, teardown: withRegionOn.teardown)) { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.withRegion("bench.withRegion") { blackHole(1) }
        }
    }

    let logOn = tracing("log")
    Benchmark("on: log (1 event)", configuration: .init(setup: logOn.setup, teardown: logOn.teardown)) { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.log("bench.category", "a short static message")
        }
    }

    let counterOn = tracing("counter")
    Benchmark("on: counter (1 event)", configuration: .init(setup: counterOn.setup, teardown: counterOn.teardown)) { benchmark in
        var value = 0
        for _ in benchmark.scaledIterations {
            value &+= 1
            Trace.counter("bench.counter", value)
        }
    }

    let taskOn = tracing("task")
    Benchmark("on: task create+end (2 events)", configuration: .init(setup: taskOn.setup, teardown: taskOn.teardown)) { benchmark in
        for _ in benchmark.scaledIterations {
            TraceTask("bench.task").end()
        }
    }

    let regionInTask = tracing("region-in-task")
    Benchmark("on: region begin+end inside a current task (2 events)",
              configuration: .init(setup: regionInTask.setup, teardown: regionInTask.teardown)) { benchmark in
        let task = TraceTask("bench.outer")
        task.withCurrent {
            for _ in benchmark.scaledIterations {
                Trace.startRegion("bench.region").end()
            }
        }
        task.end()
    }

    // MARK: Tracing off

    Benchmark("off: region begin+end") { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.startRegion("bench.region").end()
        }
    }

    Benchmark("off: withRegion") { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.withRegion("bench.withRegion") { blackHole(1) }
        }
    }

    Benchmark("off: log") { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.log("bench.category", "a short static message")
        }
    }

    Benchmark("off: counter") { benchmark in
        var value = 0
        for _ in benchmark.scaledIterations {
            value &+= 1
            Trace.counter("bench.counter", value)
        }
    }

    Benchmark("off: task create+end") { benchmark in
        for _ in benchmark.scaledIterations {
            TraceTask("bench.task").end()
        }
    }

    // MARK: Stacks on

    let stacksOn = tracing("stacks", stacks: true)
    Benchmark("stacks: region begin+end (stack on begin)",
              configuration: .init(scalingFactor: .kilo, setup: stacksOn.setup, teardown: stacksOn.teardown)) { benchmark in
        for _ in benchmark.scaledIterations {
            Trace.startRegion("bench.region").end()
        }
    }
}
