"""What check_otlp.py and otlp_sink.py read out of OTLP messages decoded
with opentelemetry-proto: plain values, for JSON."""


def value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def attributes(pairs):
    return {pair.key: value(pair.value) for pair in pairs}


def spans(request):
    """Every span of an ExportTraceServiceRequest, with its resource and scope."""
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "resource": resource,
                    "scope": scope_spans.scope.name,
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "attributes": attributes(span.attributes),
                    "dropped_attributes": span.dropped_attributes_count,
                    "events": [{"name": event.name, "time": event.time_unix_nano,
                                "attributes": attributes(event.attributes)} for event in span.events],
                    "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(),
                               "attributes": attributes(link.attributes)} for link in span.links],
                    "status": {"code": span.status.code, "message": span.status.message},
                }


def metrics(request):
    """Every metric of an ExportMetricsServiceRequest, with its resource and points."""
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                yield {
                    "resource": resource, "name": metric.name, "kind": kind,
                    "monotonic": kind == "sum" and metric.sum.is_monotonic,
                    "points": [{"attributes": attributes(point.attributes),
                                "value": getattr(point, point.WhichOneof("value")),
                                "time": point.time_unix_nano, "start": point.start_time_unix_nano}
                               for point in getattr(metric, kind).data_points],
                }
