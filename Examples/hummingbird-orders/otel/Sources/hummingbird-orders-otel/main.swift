// The orders service over swift-otel: every span (Hummingbird's
// TracingMiddleware and the handlers' own) goes to OTel.bootstrap's
// OTelTracer, whose batch span processor and OTLP/HTTP exporter send them
// from inside this process to OTEL_EXPORTER_OTLP_ENDPOINT (the OTel
// environment variables apply: OTEL_BSP_MAX_QUEUE_SIZE, ...). swift-log
// messages go to standard error with the span's ids in their metadata, as
// the traced build's do; metrics and logs are not exported.
import Logging
import OrdersApp
import OTel

let options = ordersOptionsOrExit()
var configuration = OTel.Configuration.default
configuration.serviceName = "hummingbird-orders-otel"
configuration.metrics.enabled = false
configuration.logs.enabled = false
configuration.traces.otlpExporter.protocol = .httpProtobuf
let observability = try OTel.bootstrap(configuration: configuration)
let provider = OTel.makeLoggingMetadataProvider()
LoggingSystem.bootstrap({ label, _ in StreamLogHandler.standardError(label: label, metadataProvider: provider) },
                       metadataProvider: provider)
let app = makeOrdersApplication(options, logger: Logger(label: "hummingbird-orders"), services: [observability])
try await app.runService()
