package import TraceFormat

/// A metric as OTLP carries it (opentelemetry-proto, metrics/v1/metrics.proto):
/// a gauge (a TraceClient counter's last value) or a cumulative monotonic
/// sum (events recorded and dropped).
package struct OTLPMetric: Equatable, Sendable {
    package enum Kind: Equatable, Sendable {
        case gauge
        /// Cumulative and monotonic, counted from `start`.
        case sum(start: UInt64)
    }

    package enum Value: Equatable, Sendable {
        case int(Int64), double(Double)
    }

    package struct Point: Equatable, Sendable {
        package var attributes: [OTLPAttribute]
        package var time: UInt64
        package var value: Value

        package init(attributes: [OTLPAttribute] = [], time: UInt64, value: Value) {
            self.attributes = attributes
            self.time = time
            self.value = value
        }
    }

    package var name: String
    package var unit: String
    package var kind: Kind
    package var points: [Point]

    package init(name: String, unit: String = "", kind: Kind, points: [Point]) {
        self.name = name
        self.unit = unit
        self.kind = kind
        self.points = points
    }
}

/// Metrics of one resource, as one `ResourceMetrics` holds them.
package struct OTLPResourceMetrics: Sendable {
    package var resource: OTLPResource
    package var metrics: [OTLPMetric]

    package init(resource: OTLPResource, metrics: [OTLPMetric]) {
        self.resource = resource
        self.metrics = metrics
    }
}

extension OTLPEncoding {
    // Field numbers, from metrics.proto and metrics_service.proto.
    private enum MetricField {
        static let resourceMetrics: UInt32 = 1  // ExportMetricsServiceRequest
        static let resource: UInt32 = 1, scopeMetrics: UInt32 = 2  // ResourceMetrics
        static let scope: UInt32 = 1, metrics: UInt32 = 2  // ScopeMetrics
        static let name: UInt32 = 1, unit: UInt32 = 3, gauge: UInt32 = 5, sum: UInt32 = 7  // Metric
        static let dataPoints: UInt32 = 1, temporality: UInt32 = 2, monotonic: UInt32 = 3  // Gauge, Sum
        static let start: UInt32 = 2, time: UInt32 = 3, double: UInt32 = 4, int: UInt32 = 6, attributes: UInt32 = 7  // NumberDataPoint
    }

    /// `AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE`.
    private static let cumulative: UInt64 = 2

    /// One `ExportMetricsServiceRequest` holding `groups`.
    package static func protobuf(_ groups: [OTLPResourceMetrics], into writer: ProtobufWriter) {
        for group in groups {
            let resourceMetrics = writer.begin(MetricField.resourceMetrics)
            let resource = writer.begin(MetricField.resource)
            for attribute in group.resource.attributes { keyValue(attribute, 1, writer) }
            writer.end(resource)
            let scopeMetrics = writer.begin(MetricField.scopeMetrics)
            let scope = writer.begin(MetricField.scope)
            writer.string(1, scopeName)
            writer.end(scope)
            for metric in group.metrics {
                let message = writer.begin(MetricField.metrics)
                writer.string(MetricField.name, metric.name)
                if !metric.unit.isEmpty { writer.string(MetricField.unit, metric.unit) }
                var start: UInt64 = 0
                let data: ProtobufWriter.Mark
                switch metric.kind {
                case .gauge:
                    data = writer.begin(MetricField.gauge)
                case .sum(let from):
                    start = from
                    data = writer.begin(MetricField.sum)
                }
                for point in metric.points {
                    let nested = writer.begin(MetricField.dataPoints)
                    if start != 0 { writer.fixed64(MetricField.start, start) }
                    writer.fixed64(MetricField.time, point.time)
                    switch point.value {
                    case .int(let value): writer.fixed64(MetricField.int, UInt64(bitPattern: value))
                    case .double(let value): writer.double(MetricField.double, value)
                    }
                    for attribute in point.attributes { keyValue(attribute, MetricField.attributes, writer) }
                    writer.end(nested)
                }
                if case .sum = metric.kind {
                    writer.varint(MetricField.temporality, cumulative)
                    writer.bool(MetricField.monotonic, true)
                }
                writer.end(data)
                writer.end(message)
            }
            writer.end(scopeMetrics)
            writer.end(resourceMetrics)
        }
    }
}
