import TraceClient
import TracedTracing
import Tracing
#if canImport(Glibc)
import Glibc
#endif

/// Requests as a service traced with TracedTracer serves them, for the OTLP
/// tests: once tracing is on, --tasks spans "request" (SERVER, continuing
/// --traceparent when given), one after another, each with the attribute
/// `request.index`, a TraceClient region "handle" that sleeps --slow-us
/// (1500; request --outlier-at K sleeps --outlier-us instead) and a region
/// "tiny" that does nothing; then the counter `requests.served` is the
/// number served so far. Prints `tasks=N`.
enum RequestScenario {
    static func run(_ options: Fixture.Options) {
        InstrumentationSystem.bootstrap(TracedTracer())
        Fixture.waitUntilEnabled(options)
        let tasks = options.number("tasks", default: 20)
        let slow = options.number("slow-us", default: 1500)
        let outlier = options.number("outlier-at", default: -1)
        let outlierSleep = options.number("outlier-us", default: 150_000)
        var incoming = ServiceContext.topLevel
        if let header = options.optionalString("traceparent") {
            InstrumentationSystem.instrument.extract(["traceparent": header], into: &incoming, using: DictionaryExtractor())
        }
        for index in 0..<tasks {
            withSpan("request", context: incoming, ofKind: .server) { span in
                span.attributes["request.index"] = index
                Trace.withRegion("handle") { _ = usleep(UInt32(index == outlier ? outlierSleep : slow)) }
                Trace.withRegion("tiny") {}
            }
            Trace.counter("requests.served", index + 1)
        }
        print("tasks=\(tasks)")
    }
}
