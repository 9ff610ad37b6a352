// The orders service with traced linked in: every span (Hummingbird's
// TracingMiddleware and the handlers' own) goes to TracedTracer, every
// swift-log message through TraceLogHandler into the trace and on to
// standard error, with trace_id/span_id in its metadata. It records while a
// session of traced selects it; with none (or TRACED_DAEMON=off) each span
// and log costs a load and a branch on top of swift-distributed-tracing.
import Logging
import OrdersApp
import TracedLogging
import TracedTracing
import Tracing

let options = ordersOptionsOrExit()
InstrumentationSystem.bootstrap(TracedTracer())
LoggingSystem.bootstrap(TraceLogHandler.forwarding(to: { label, provider in
    StreamLogHandler.standardError(label: label, metadataProvider: provider)
}), metadataProvider: .traced)
let app = makeOrdersApplication(options, logger: Logger(label: "hummingbird-orders"))
try await app.runService()
