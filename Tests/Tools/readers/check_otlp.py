"""Decodes an OTLP export (tracectl export --format otlp or otlp-json) with
opentelemetry-proto, the OpenTelemetry project's own generated classes, and
prints one JSON object of what it read: every span with its resource.

  Tests/Tools/check-otlp FILE [--json]

--json reads OTLP JSON lines (one ExportTraceServiceRequest per line, ids in
hex as the OTLP JSON mapping says); otherwise the file is protobuf
ExportTraceServiceRequest messages, each after its length as a varint.
A file that does not decode exits 1 with the reason.
"""
import base64
import json
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import otlp_records


def varint(data, offset):
    result = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise ValueError("a length runs past the end of the file")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, offset
        shift += 7
        if shift > 63:
            raise ValueError("a length is longer than 10 bytes")


def protobuf_requests(data):
    offset = 0
    while offset < len(data):
        length, offset = varint(data, offset)
        if offset + length > len(data):
            raise ValueError(f"a message of {length} bytes at {offset} runs past the end of the file")
        request = ExportTraceServiceRequest()
        request.ParseFromString(data[offset:offset + length])
        offset += length
        yield request


def hex_ids_to_base64(node):
    """OTLP JSON writes ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                hex_ids_to_base64(value)
    elif isinstance(node, list):
        for value in node:
            hex_ids_to_base64(value)


def json_requests(text):
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        document = json.loads(line)
        hex_ids_to_base64(document)
        request = ExportTraceServiceRequest()
        try:
            json_format.ParseDict(document, request)
        except json_format.ParseError as error:
            raise ValueError(f"line {number}: {error}")
        yield request


def main():
    path = sys.argv[1]
    as_json = "--json" in sys.argv[2:]
    try:
        if as_json:
            with open(path, encoding="utf-8") as handle:
                requests = list(json_requests(handle.read()))
        else:
            with open(path, "rb") as handle:
                requests = list(protobuf_requests(handle.read()))
    except Exception as error:  # any decoding failure is the answer
        print(f"check-otlp: {path} does not decode: {error}", file=sys.stderr)
        sys.exit(1)
    spans = [span for request in requests for span in otlp_records.spans(request)]
    print(json.dumps({"requests": len(requests), "spans": spans}))


if __name__ == "__main__":
    main()
