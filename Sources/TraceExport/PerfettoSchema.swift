/// Field numbers and enum values of the Perfetto messages the export writes,
/// copied from Perfetto's .proto files (github.com/google/perfetto, paths
/// under protos/perfetto/) and checked against the `perfetto` Python
/// package's descriptors (0.59.1). Proto field numbers never change once
/// released, so these hold for every trace_processor that knows the field.
enum PerfettoSchema {
    /// trace/trace.proto: `message Trace`.
    enum Trace {
        static let packet: UInt32 = 1
    }

    /// trace/trace_packet.proto: `message TracePacket`.
    enum TracePacket {
        static let timestamp: UInt32 = 8
        static let clockSnapshot: UInt32 = 6
        static let trustedPacketSequenceID: UInt32 = 10
        static let trackEvent: UInt32 = 11
        static let internedData: UInt32 = 12
        static let sequenceFlags: UInt32 = 13
        static let incrementalStateCleared: UInt32 = 41
        static let tracePacketDefaults: UInt32 = 59
        static let trackDescriptor: UInt32 = 60
        static let firstPacketOnSequence: UInt32 = 87

        /// `enum SequenceFlags`.
        static let sequenceIncrementalStateCleared: UInt64 = 1
        static let sequenceNeedsIncrementalState: UInt64 = 2
    }

    /// trace/trace_packet_defaults.proto: `message TracePacketDefaults`.
    enum TracePacketDefaults {
        static let timestampClockID: UInt32 = 58
    }

    /// trace/clock_snapshot.proto: `message ClockSnapshot` and its `Clock`.
    enum ClockSnapshot {
        static let clocks: UInt32 = 1
        static let primaryTraceClock: UInt32 = 2
        static let clockID: UInt32 = 1
        static let clockTimestamp: UInt32 = 2
    }

    /// common/builtin_clock.proto: `enum BuiltinClock`.
    enum BuiltinClock {
        static let realtime: UInt64 = 1
        static let monotonic: UInt64 = 3
    }

    /// trace/track_event/track_descriptor.proto: `message TrackDescriptor`.
    enum TrackDescriptor {
        static let uuid: UInt32 = 1
        static let name: UInt32 = 2
        static let process: UInt32 = 3
        static let thread: UInt32 = 4
        static let parentUUID: UInt32 = 5
        static let counter: UInt32 = 8
        static let siblingMergeBehavior: UInt32 = 15

        /// `enum SiblingMergeBehavior`: never merge a track with a sibling of
        /// the same name (trace_processor v52 merges by name by default, which
        /// would put overlapping slices of two lanes on one track).
        static let siblingMergeNone: UInt64 = 2
    }

    /// trace/track_event/process_descriptor.proto: `message ProcessDescriptor`.
    enum ProcessDescriptor {
        static let pid: UInt32 = 1
        static let processName: UInt32 = 6
    }

    /// trace/track_event/thread_descriptor.proto: `message ThreadDescriptor`.
    enum ThreadDescriptor {
        static let pid: UInt32 = 1
        static let tid: UInt32 = 2
        static let threadName: UInt32 = 5
    }

    /// trace/track_event/counter_descriptor.proto: `message CounterDescriptor`
    /// (empty: a counter track of plain values).
    enum CounterDescriptor {}

    /// trace/track_event/track_event.proto: `message TrackEvent`.
    enum TrackEvent {
        static let categoryIIDs: UInt32 = 3
        static let debugAnnotations: UInt32 = 4
        static let type: UInt32 = 9
        static let nameIID: UInt32 = 10
        static let trackUUID: UInt32 = 11
        static let counterValue: UInt32 = 30
        static let doubleCounterValue: UInt32 = 44
        static let flowIDs: UInt32 = 47
        static let terminatingFlowIDs: UInt32 = 48
        /// `InlineCallstack callstack = 55` (read by trace_processor from v53).
        static let callstack: UInt32 = 55

        /// `enum Type`.
        static let typeSliceBegin: UInt64 = 1
        static let typeSliceEnd: UInt64 = 2
        static let typeInstant: UInt64 = 3
        static let typeCounter: UInt64 = 4
    }

    /// trace/track_event/track_event.proto: `message TrackEvent.InlineCallstack`
    /// (`repeated Frame frames = 1`) and its `message Frame`.
    enum InlineCallstack {
        static let frames: UInt32 = 1
        static let functionName: UInt32 = 1
        static let sourceFile: UInt32 = 2
        static let lineNumber: UInt32 = 3
    }

    /// trace/track_event/debug_annotation.proto: `message DebugAnnotation`.
    enum DebugAnnotation {
        static let nameIID: UInt32 = 1
        static let boolValue: UInt32 = 2
        static let uintValue: UInt32 = 3
        static let intValue: UInt32 = 4
        static let stringValue: UInt32 = 6
        static let stringValueIID: UInt32 = 17
    }

    /// trace/interned_data/interned_data.proto: `message InternedData`.
    enum InternedData {
        static let eventCategories: UInt32 = 1
        static let eventNames: UInt32 = 2
        static let debugAnnotationNames: UInt32 = 3
        static let debugAnnotationStringValues: UInt32 = 29
    }

    /// `EventCategory`, `EventName` (track_event.proto) and `DebugAnnotationName`
    /// (debug_annotation.proto): `iid = 1`, `name = 2`; `InternedString`
    /// (profiling/profile_common.proto): `iid = 1`, `str = 2`.
    enum Interned {
        static let iid: UInt32 = 1
        static let name: UInt32 = 2
    }
}
