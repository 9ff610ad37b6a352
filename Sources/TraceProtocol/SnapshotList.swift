package import TraceFormat

/// A flight recorder's snapshots (docs/design.md, "Snapshots triggered by
/// latency"): what `tracectl snapshots` shows, and what traced keeps in
/// `snapshots/snapshots.json` beside the files.
package struct SnapshotList: Equatable, Sendable, Codable {
    /// One snapshot kept.
    package struct Entry: Equatable, Sendable, Codable {
        package var index: UInt64
        /// Its file in the session's `snapshots/` directory.
        package var file: String
        package var realtimeNanoseconds: UInt64
        /// What fired it (`TYPE>DURATION`), or `by hand` (`tracectl snapshot`).
        package var trigger: String
        /// The slow task; "" and 0 for a snapshot taken by hand.
        package var taskType: String
        package var taskID: UInt64
        package var pid: Int32
        package var latencyNanoseconds: UInt64
        package var bytes: UInt64

        package init(index: UInt64, file: String, realtimeNanoseconds: UInt64, trigger: String, taskType: String, taskID: UInt64,
                     pid: Int32, latencyNanoseconds: UInt64, bytes: UInt64) {
            self.index = index
            self.file = file
            self.realtimeNanoseconds = realtimeNanoseconds
            self.trigger = trigger
            self.taskType = taskType
            self.taskID = taskID
            self.pid = pid
            self.latencyNanoseconds = latencyNanoseconds
            self.bytes = bytes
        }
    }

    /// A trigger, and what it saw.
    package struct Trigger: Equatable, Sendable, Codable {
        /// `TYPE>DURATION`.
        package var trigger: String
        /// Tasks of its type that ended.
        package var tasks: UInt64 = 0
        /// Of those, slower than its threshold.
        package var slow: UInt64 = 0

        package init(trigger: String) { self.trigger = trigger }
    }

    package var snapshots: [Entry] = []
    package var triggers: [Trigger] = []
    /// Triggers that fired within `--trigger-interval` of the one before.
    package var heldBack: UInt64 = 0
    /// Task ends whose begin traced never saw (begun before the session).
    package var unmatched: UInt64 = 0

    package init() {}

    /// Entries at most in a reply (`--max-snapshots`' limit).
    static let entryLimit: UInt64 = 1000

    package func encode(into w: inout ByteWriter) {
        w.varint(snapshots.count)
        for entry in snapshots { entry.encode(into: &w) }
        w.varint(triggers.count)
        for trigger in triggers {
            w.string(trigger.trigger)
            w.varint(trigger.tasks)
            w.varint(trigger.slow)
        }
        w.varint(heldBack)
        w.varint(unmatched)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        let count = try r.varint("snapshot count")
        guard count <= Self.entryLimit else { throw .invalid(field: "snapshot count", value: count) }
        for _ in 0..<count { snapshots.append(try Entry(decoding: &r)) }
        let triggerCount = try r.varint("trigger count")
        guard triggerCount <= UInt64(SessionConfig.Snapshots.maximumTriggers) else {
            throw .invalid(field: "trigger count", value: triggerCount)
        }
        for _ in 0..<triggerCount {
            var trigger = Trigger(trigger: try r.string("trigger", limit: 512))
            trigger.tasks = try r.varint("trigger tasks")
            trigger.slow = try r.varint("trigger slow")
            triggers.append(trigger)
        }
        heldBack = try r.varint("held back")
        unmatched = try r.varint("unmatched")
    }
}

extension SnapshotList.Entry {
    package func encode(into w: inout ByteWriter) {
        w.varint(index)
        w.string(file)
        w.varint(realtimeNanoseconds)
        w.string(trigger)
        w.string(taskType)
        w.varint(taskID)
        w.varint(UInt32(bitPattern: pid))
        w.varint(latencyNanoseconds)
        w.varint(bytes)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        self.init(index: try r.varint("snapshot index"), file: try r.string("snapshot file", limit: 64),
                  realtimeNanoseconds: try r.varint("snapshot time"), trigger: try r.string("snapshot trigger", limit: 512),
                  taskType: try r.string("snapshot task type", limit: 1024), taskID: try r.varint("snapshot task"),
                  pid: Int32(bitPattern: try r.varint32("snapshot pid")), latencyNanoseconds: try r.varint("snapshot latency"),
                  bytes: try r.varint("snapshot bytes"))
    }
}
