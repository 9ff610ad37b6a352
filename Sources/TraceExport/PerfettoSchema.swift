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
        static let ftraceEvents: UInt32 = 1
        static let processTree: UInt32 = 2
        static let perfSample: UInt32 = 66

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
        static let boottime: UInt64 = 6
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
    enum CounterDescriptor {
        static let unit: UInt32 = 3

        /// `enum Unit`.
        static let unitTimeNanoseconds: UInt64 = 1
        static let unitCount: UInt64 = 2
        static let unitSizeBytes: UInt64 = 3
    }

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
        static let functionNames: UInt32 = 5
        static let frames: UInt32 = 6
        static let callstacks: UInt32 = 7
        static let buildIDs: UInt32 = 16
        static let mappingPaths: UInt32 = 17
        static let mappings: UInt32 = 19
        static let kernelSymbols: UInt32 = 26
    }

    /// ftrace/ftrace_event_bundle.proto: `message FtraceEventBundle` (one
    /// CPU's events).
    enum FtraceEventBundle {
        static let cpu: UInt32 = 1
        static let event: UInt32 = 2
    }

    /// ftrace/ftrace_event.proto: `message FtraceEvent`: the event's
    /// time and the thread running (`pid`, a tid), then one event message.
    enum FtraceEvent {
        static let timestamp: UInt32 = 1
        static let pid: UInt32 = 2
        static let schedSwitch: UInt32 = 4
        static let schedBlockedReason: UInt32 = 18
        static let schedWaking: UInt32 = 20
    }

    /// ftrace/sched.proto: `message SchedSwitchFtraceEvent`.
    enum SchedSwitch {
        static let prevComm: UInt32 = 1
        static let prevPID: UInt32 = 2
        static let prevPrio: UInt32 = 3
        static let prevState: UInt32 = 4
        static let nextComm: UInt32 = 5
        static let nextPID: UInt32 = 6
        static let nextPrio: UInt32 = 7

        /// The kernel's priority of a normal thread at nice 0. traced does
        /// not record priorities; without one (0) the UI marks every run
        /// of a recorded thread real-time ("(RT)", below 100).
        static let normalPriority: UInt64 = 120
    }

    /// ftrace/sched.proto: `message SchedWakingFtraceEvent`.
    enum SchedWaking {
        static let comm: UInt32 = 1
        static let pid: UInt32 = 2
        static let targetCPU: UInt32 = 5
    }

    /// ftrace/sched.proto: `message SchedBlockedReasonFtraceEvent`:
    /// `caller` is an iid of `InternedData.kernel_symbols`.
    enum SchedBlockedReason {
        static let pid: UInt32 = 1
        static let caller: UInt32 = 2
        static let ioWait: UInt32 = 3
    }

    /// The `prev_state` values of sched_switch (the kernel's TASK_REPORT
    /// bits), as trace_processor decodes them without a kernel version
    /// (src/trace_processor/types/task_state.cc: bits up to 0x20 as they
    /// are, the rest as Linux 4.4 numbered them).
    enum TaskState {
        static let runnable: Int64 = 0
        static let interruptible: Int64 = 0x01
        static let uninterruptible: Int64 = 0x02
        static let stopped: Int64 = 0x04
        static let dead: Int64 = 0x10
        /// TASK_UNINTERRUPTIBLE | TASK_NOLOAD (0x400 before 4.14), which
        /// trace_processor shows as I (idle).
        static let idle: Int64 = 0x402
    }

    /// ps/process_tree.proto: `message ProcessTree` and its `Thread`.
    enum ProcessTree {
        static let threads: UInt32 = 2
        static let tid: UInt32 = 1
        static let name: UInt32 = 2
        static let tgid: UInt32 = 3
    }

    /// profiling/profile_packet.proto: `message PerfSample`.
    enum PerfSample {
        static let cpu: UInt32 = 1
        static let pid: UInt32 = 2
        static let tid: UInt32 = 3
        static let callstackIID: UInt32 = 4
        static let cpuMode: UInt32 = 5

        /// `Profiling.CpuMode`: the sample's stack is a user stack.
        static let modeUser: UInt64 = 2
    }

    /// profiling/profile_common.proto: `message Mapping`.
    enum Mapping {
        static let iid: UInt32 = 1
        static let buildID: UInt32 = 2
        static let start: UInt32 = 4
        static let end: UInt32 = 5
        static let loadBias: UInt32 = 6
        static let pathStringIDs: UInt32 = 7
    }

    /// profiling/profile_common.proto: `message Frame`.
    enum Frame {
        static let iid: UInt32 = 1
        static let functionNameID: UInt32 = 2
        static let mappingID: UInt32 = 3
        static let relPC: UInt32 = 4
    }

    /// profiling/profile_common.proto: `message Callstack`, its frames
    /// outermost ("bottom") first.
    enum Callstack {
        static let iid: UInt32 = 1
        static let frameIDs: UInt32 = 2
    }

    /// `EventCategory`, `EventName` (track_event.proto) and `DebugAnnotationName`
    /// (debug_annotation.proto): `iid = 1`, `name = 2`; `InternedString`
    /// (profiling/profile_common.proto): `iid = 1`, `str = 2`.
    enum Interned {
        static let iid: UInt32 = 1
        static let name: UInt32 = 2
    }
}
