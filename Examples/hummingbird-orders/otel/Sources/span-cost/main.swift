// One span's cost under each tracer, for docs/performance.md ("Spans against
// swift-otel"): `span-cost TRACER SPANS` runs SPANS root `withSpan` calls
// with an empty body (one attribute set, as a request span has) under
// TRACER, pinned by the caller, and prints one line of key=value:
//   inline_p50_ns  the calling thread's CPU per span (CLOCK_THREAD_CPUTIME_ID
//                  over batches of 1000 spans; the median batch)
//   process_ns     the whole process's CPU per span (getrusage), exporter
//                  threads included, over the run and until the tracer's
//                  exporter has flushed (at most 10 s after the last span)
// TRACER: noop (swift-distributed-tracing's NoOpTracer), floor (no span:
// one value written into a `ServiceContext`, what `withSpan` makes a
// recording tracer's span do at least), traced
// (TracedTracer; TRACED_DAEMON or TRACED_FILE must turn tracing on),
// otel (swift-otel 1.6.0's OTelTracer: batch span processor and OTLP/HTTP
// exporter to OTEL_EXPORTER_OTLP_ENDPOINT, run as its service).
import Foundation
import OTel
import ServiceLifecycle
import TraceClient
import TracedTracing
import Tracing
#if canImport(Glibc)
import Glibc
#endif

func threadCPU() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

func processCPU() -> Int64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func ns(_ t: timeval) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_usec) * 1000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// Runs `spans` spans on `tracer`; the batches' thread CPU per span.
func measure(_ tracer: some Tracer, spans: Int) -> [Double] {
    var perBatch: [Double] = []
    var index = 0
    while index < spans {
        let start = threadCPU()
        for _ in 0..<1000 {
            tracer.withSpan("request", context: .topLevel, ofKind: .server) { span in
                span.attributes["request.index"] = index
            }
            index += 1
        }
        perBatch.append(Double(threadCPU() - start) / 1000)
    }
    return perBatch
}

enum FloorKey: ServiceContextKey {
    typealias Value = Int
}

/// One `ServiceContext` write per iteration, in batches like `measure`.
func measureFloor(spans: Int) -> [Double] {
    var perBatch: [Double] = []
    var index = 0
    var sink = 0
    while index < spans {
        let start = threadCPU()
        for _ in 0..<1000 {
            var context = ServiceContext.topLevel
            context[FloorKey.self] = index
            sink &+= context[FloorKey.self] ?? 0
            index += 1
        }
        perBatch.append(Double(threadCPU() - start) / 1000)
    }
    if sink == -1 { print("") }
    return perBatch
}

func report(_ tracer: String, _ batches: [Double], spans: Int, process: Int64) {
    let sorted = batches.sorted()
    print("tracer=\(tracer) spans=\(spans) inline_p50_ns=\(Int(sorted[sorted.count / 2])) process_ns=\(Int(Double(process) / Double(spans)))")
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let spans = Int(arguments[2]), spans >= 1000 else {
    FileHandle.standardError.write(Data("usage: span-cost noop|traced|otel SPANS (at least 1000)\n".utf8))
    exit(2)
}
switch arguments[1] {
case "noop":
    let before = processCPU()
    let batches = measure(NoOpTracer(), spans: spans)
    report("noop", batches, spans: spans, process: processCPU() - before)
case "floor":
    let before = processCPU()
    let batches = measureFloor(spans: spans)
    report("floor", batches, spans: spans, process: processCPU() - before)
case "traced":
    Trace.counter("span-cost.start", 0)
    let deadline = Date().addingTimeInterval(10)
    while !Trace.isEnabled && Date() < deadline { usleep(1000) }
    guard Trace.isEnabled else {
        FileHandle.standardError.write(Data("tracing never turned on (TRACED_DAEMON with a session, or TRACED_FILE)\n".utf8))
        exit(3)
    }
    let before = processCPU()
    let batches = measure(TracedTracer(), spans: spans)
    report("traced", batches, spans: spans, process: processCPU() - before)
case "otel":
    var configuration = OTel.Configuration.default
    configuration.serviceName = "span-cost"
    configuration.metrics.enabled = false
    configuration.logs.enabled = false
    configuration.traces.otlpExporter.protocol = .httpProtobuf
    let backend = try OTel.makeTracingBackend(configuration: configuration)
    let before = processCPU()
    try await withThrowingTaskGroup(of: Void.self) { group in
        let lifecycle = ServiceGroup(configuration: .init(services: [backend.service], logger: .init(label: "span-cost")))
        group.addTask { try await lifecycle.run() }
        let batches = await Task.detached { measure(backend.factory, spans: spans) }.value
        // Its exporter's share: shutting down flushes what the processor holds.
        await lifecycle.triggerGracefulShutdown()
        try await group.waitForAll()
        report("otel", batches, spans: spans, process: processCPU() - before)
    }
default:
    FileHandle.standardError.write(Data("usage: span-cost noop|traced|otel SPANS\n".utf8))
    exit(2)
}
