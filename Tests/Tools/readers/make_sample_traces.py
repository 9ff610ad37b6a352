"""Writes small traces whose contents are known, to check check-trace itself.

  make_sample_traces.py DIR

writes into DIR:
  good.pftrace   Perfetto TrackEvent: process "cafe" (pid 100), thread
                 "worker" (tid 101), a task track "order 42" with two nested
                 slices, one slice on the thread, one instant, a counter track
                 "cups" with values 1, 2, 3, one flow between two slices
  good.json      the same in Chrome JSON trace events
  broken.pftrace an END without a BEGIN and a BEGIN without an END
  broken.json    two complete events on one thread that overlap without
                 nesting, and an END without a BEGIN
The expected counts are in selftest.py, which checks check-trace on these.
"""

import json
import os
import sys

from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb

SEQ = 1
PROCESS, THREAD, ORDER, CUPS = 1, 2, 3, 4
TE = pb.TrackEvent


def packet(trace, ts=None):
  p = trace.packet.add()
  p.trusted_packet_sequence_id = SEQ
  if ts is not None:
    p.timestamp = ts
  return p


def descriptors(trace):
  p = packet(trace)
  p.sequence_flags = pb.TracePacket.SEQ_INCREMENTAL_STATE_CLEARED
  p.track_descriptor.uuid = PROCESS
  p.track_descriptor.process.pid = 100
  p.track_descriptor.process.process_name = 'cafe'
  p = packet(trace)
  p.track_descriptor.uuid = THREAD
  p.track_descriptor.parent_uuid = PROCESS
  p.track_descriptor.thread.pid = 100
  p.track_descriptor.thread.tid = 101
  p.track_descriptor.thread.thread_name = 'worker'
  p = packet(trace)
  p.track_descriptor.uuid = ORDER
  p.track_descriptor.parent_uuid = PROCESS
  p.track_descriptor.name = 'order 42'
  p = packet(trace)
  p.track_descriptor.uuid = CUPS
  p.track_descriptor.parent_uuid = PROCESS
  p.track_descriptor.name = 'cups'
  p.track_descriptor.counter.SetInParent()


def event(trace, ts, track, kind, name=None, category=None):
  p = packet(trace, ts)
  e = p.track_event
  e.track_uuid = track
  e.type = kind
  if name is not None:
    e.name = name
  if category is not None:
    e.categories.append(category)
  return e


def good_proto():
  trace = pb.Trace()
  descriptors(trace)
  event(trace, 1000, ORDER, TE.TYPE_SLICE_BEGIN, 'makeCappuccino', 'task')
  milk = event(trace, 1100, ORDER, TE.TYPE_SLICE_BEGIN, 'steamMilk', 'region')
  milk.flow_ids.append(7)
  log = event(trace, 1200, THREAD, TE.TYPE_INSTANT, 'orderID', 'log')
  annotation = log.debug_annotations.add()
  annotation.name = 'orderID'
  annotation.string_value = '42'
  event(trace, 1500, ORDER, TE.TYPE_SLICE_END)
  event(trace, 2000, ORDER, TE.TYPE_SLICE_END)
  mix = event(trace, 2100, THREAD, TE.TYPE_SLICE_BEGIN, 'mixMilkCoffee',
              'region')
  mix.terminating_flow_ids.append(7)
  event(trace, 2300, THREAD, TE.TYPE_SLICE_END)
  for ts, value in ((1000, 1), (1500, 2), (2000, 3)):
    event(trace, ts, CUPS, TE.TYPE_COUNTER).counter_value = value
  return trace.SerializeToString()


def broken_proto():
  trace = pb.Trace()
  descriptors(trace)
  event(trace, 1000, ORDER, TE.TYPE_SLICE_END)  # no BEGIN on this track
  event(trace, 1100, THREAD, TE.TYPE_SLICE_BEGIN, 'neverEnds', 'region')
  return trace.SerializeToString()


def chrome(*events):
  meta = [
      {'ph': 'M', 'name': 'process_name', 'pid': 100, 'args': {'name': 'cafe'}},
      {'ph': 'M', 'name': 'thread_name', 'pid': 100, 'tid': 101,
       'args': {'name': 'worker'}},
  ]
  return json.dumps({'traceEvents': meta + list(events),
                     'displayTimeUnit': 'ns'}).encode()


def good_json():
  t = {'pid': 100, 'tid': 101}
  return chrome(
      {'ph': 'B', 'name': 'makeCappuccino', 'cat': 'task', 'ts': 1.0, **t},
      {'ph': 'X', 'name': 'steamMilk', 'cat': 'region', 'ts': 1.1, 'dur': 0.4,
       **t},
      {'ph': 's', 'name': 'handoff', 'cat': 'flow', 'id': 7, 'ts': 1.2, **t},
      {'ph': 'i', 's': 't', 'name': 'orderID', 'cat': 'log', 'ts': 1.3,
       'args': {'orderID': '42'}, **t},
      {'ph': 'E', 'ts': 2.0, **t},
      {'ph': 'X', 'name': 'mixMilkCoffee', 'cat': 'region', 'ts': 2.1,
       'dur': 0.2, **t},
      {'ph': 'f', 'bp': 'e', 'name': 'handoff', 'cat': 'flow', 'id': 7,
       'ts': 2.2, **t},
      {'ph': 'C', 'name': 'cups', 'pid': 100, 'ts': 1.0, 'args': {'value': 1}},
      {'ph': 'C', 'name': 'cups', 'pid': 100, 'ts': 1.5, 'args': {'value': 2}},
      {'ph': 'C', 'name': 'cups', 'pid': 100, 'ts': 2.0, 'args': {'value': 3}},
  )


def broken_json():
  t = {'pid': 100, 'tid': 101}
  return chrome(
      {'ph': 'X', 'name': 'first', 'cat': 'region', 'ts': 1.0, 'dur': 1.0, **t},
      {'ph': 'X', 'name': 'overlaps', 'cat': 'region', 'ts': 1.5, 'dur': 1.0,
       **t},
      {'ph': 'E', 'ts': 3.0, **t},
  )


def write(out):
  os.makedirs(out, exist_ok=True)
  for name, data in (('good.pftrace', good_proto()),
                     ('broken.pftrace', broken_proto()),
                     ('good.json', good_json()),
                     ('broken.json', broken_json())):
    with open(os.path.join(out, name), 'wb') as f:
      f.write(data)


if __name__ == '__main__':
  write(sys.argv[1])
