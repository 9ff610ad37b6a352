"""Prints, as JSON, the inline callstacks (TrackEvent.callstack) of a
Perfetto protobuf trace, decoded with Perfetto's own schema
(perfetto_trace_pb2 from the perfetto wheel): one list of frames
{function, file, line} per track event that carries one, in file order."""
import json
import sys

from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace

trace = Trace()
with open(sys.argv[1], "rb") as f:
    trace.ParseFromString(f.read())
stacks = []
for packet in trace.packet:
    if packet.HasField("track_event") and packet.track_event.HasField("callstack"):
        stacks.append([
            {"function": frame.function_name, "file": frame.source_file, "line": frame.line_number}
            for frame in packet.track_event.callstack.frames
        ])
json.dump({"callstacks": stacks}, sys.stdout)
