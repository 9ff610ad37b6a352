// The orders service with traced not linked at all: no tracer is
// bootstrapped (every span is swift-distributed-tracing's no-op), logs go
// to standard error only. The baseline of the A/B in docs/performance.md.
import Logging
import OrdersApp

let options = ordersOptionsOrExit()
LoggingSystem.bootstrap(StreamLogHandler.standardError)
let app = makeOrdersApplication(options, logger: Logger(label: "hummingbird-orders"))
try await app.runService()
