"""An OTLP/HTTP receiver for tests: takes POST /v1/traces (protobuf,
gzip or not), decodes every request with opentelemetry-proto, and keeps
what it received; a test reads it back with GET /received (JSON: every
span with its resource, and the number of requests).

  Tests/Tools/otlp-sink PORT_FILE [--port N] [--answer STATUS]... [--hang] [--count-only]

It binds 127.0.0.1 on a free port and writes the port to PORT_FILE once it
listens. --answer STATUS answers the next request with STATUS instead of
200 (repeatable, in order; 503 and 429 come with Retry-After: 0). POST
/control/answer with a body of statuses (one per line) queues more; POST
/control/hang makes it accept requests and never answer until POST
/control/release. GET /received?clear=1 also forgets what it holds.
--count-only keeps only counts (requests, spans), for load: a receiver
that keeps up with a service under wrk (the Hummingbird A/B).
"""
import gzip
import time
import os
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest, ExportMetricsServiceResponse)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)

import otlp_records

started = time.monotonic()
lock = threading.Lock()
spans = []
metrics = []
requests = {"count": 0, "gzip": 0, "refused": 0, "span_count": 0}
# Every POST /v1/traces: [seconds since the sink started, the status answered].
attempts = []
count_only = False
answers = []
hang = threading.Event()
release = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="application/x-protobuf", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, val in (extra or {}).items():
            self.send_header(key, val)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length)

    def decode(self, message, data):
        """The request's body (gunzipped if it says so) parsed into `message`,
        or None once a 400 was answered."""
        if self.headers.get("Content-Encoding", "") == "gzip":
            data = gzip.decompress(data)
        try:
            message.ParseFromString(data)
        except Exception as error:
            self.reply(400, f"does not decode: {error}".encode(), "text/plain")
            return None
        return message

    def take_metrics(self, data):
        request = self.decode(ExportMetricsServiceRequest(), data)
        if request is None:
            return
        received = list(otlp_records.metrics(request))
        with lock:
            metrics.extend(received)
        self.reply(200, ExportMetricsServiceResponse().SerializeToString())

    def do_GET(self):
        if not self.path.startswith("/received"):
            return self.reply(404, b"not found", "text/plain")
        with lock:
            document = {"spans": list(spans), "metrics": list(metrics), "attempts": list(attempts), **requests}
            if "clear=1" in self.path:
                spans.clear()
                metrics.clear()
                requests.update(count=0, gzip=0, refused=0, span_count=0)
        self.reply(200, json.dumps(document).encode(), "application/json")

    def do_POST(self):
        data = self.body()
        if self.path == "/control/answer":
            with lock:
                answers.extend(int(line) for line in data.decode().split())
            return self.reply(200, b"", "text/plain")
        if self.path == "/control/hang":
            release.clear()
            hang.set()
            return self.reply(200, b"", "text/plain")
        if self.path == "/control/release":
            hang.clear()
            release.set()
            return self.reply(200, b"", "text/plain")
        if self.path == "/v1/metrics":
            return self.take_metrics(data)
        if self.path != "/v1/traces":
            return self.reply(404, b"not found", "text/plain")
        if hang.is_set():
            release.wait()
            return
        with lock:
            status = answers.pop(0) if answers else 200
            attempts.append([time.monotonic() - started, status])
        if status != 200:
            with lock:
                requests["refused"] += 1
            extra = {"Retry-After": "0"} if status in (429, 503) else None
            return self.reply(status, b"refused by the test's sink", "text/plain", extra)
        compressed = self.headers.get("Content-Encoding", "") == "gzip"
        request = self.decode(ExportTraceServiceRequest(), data)
        if request is None:
            return
        if count_only:
            total = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
            with lock:
                requests["count"] += 1
                requests["gzip"] += 1 if compressed else 0
                requests["span_count"] += total
            return self.reply(200, ExportTraceServiceResponse().SerializeToString())
        received = list(otlp_records.spans(request))
        with lock:
            spans.extend(received)
            requests["count"] += 1
            requests["gzip"] += 1 if compressed else 0
            requests["span_count"] += len(received)
        self.reply(200, ExportTraceServiceResponse().SerializeToString())


def main():
    global count_only
    port_file = sys.argv[1]
    arguments = sys.argv[2:]
    port = 0
    while arguments:
        option = arguments.pop(0)
        if option == "--answer":
            answers.append(int(arguments.pop(0)))
        elif option == "--hang":
            hang.set()
        elif option == "--port":
            port = int(arguments.pop(0))
        elif option == "--count-only":
            count_only = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
