import CTraceABI

/// The first record of every file: what wrote it and which piece of a
/// rotated session it is.
package struct FileHeader: Equatable, Sendable {
    package var major: UInt64 = FormatVersion.major
    package var minor: UInt64 = FormatVersion.minor
    package var createdRealtimeNanoseconds: UInt64
    /// Who wrote the file, e.g. "traced 0.1" or "TraceClient (in-process)".
    package var producer: String
    /// Session name ("" for in-process traces).
    package var session: String
    /// Position of this file in its session's rotation, from 0.
    package var fileIndex: UInt64

    package init(createdRealtimeNanoseconds: UInt64, producer: String, session: String, fileIndex: UInt64) {
        self.createdRealtimeNanoseconds = createdRealtimeNanoseconds
        self.producer = producer
        self.session = session
        self.fileIndex = fileIndex
    }

    package func encode(into writer: inout ByteWriter) {
        writer.record(TC_REC_FILE_HEADER) { w in
            w.raw(FormatVersion.magic)
            w.varint(major)
            w.varint(minor)
            w.varint(createdRealtimeNanoseconds)
            w.string(producer)
            w.string(session)
            w.varint(fileIndex)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        let magic = try r.bytes(4, "file magic")
        guard Array(magic) == FormatVersion.magic else {
            throw .invalid(field: "file magic", value: UInt64(magic.loadUnaligned(as: UInt32.self)))
        }
        major = try r.varint("format major")
        minor = try r.varint("format minor")
        createdRealtimeNanoseconds = try r.varint("created")
        producer = try r.string("producer")
        session = try r.string("session")
        fileIndex = try r.varint("file index")
    }
}

/// A traced process, under a key unique within the file.
package struct ProcessRecord: Equatable, Sendable {
    package var process: UInt32
    package var pid: Int32
    package var uid: UInt32
    package var name: String
    /// TC_CLOCK_*: what this process's event timestamps count.
    package var clockKind: UInt32
    package var nominalTicksPerSecond: UInt64

    package init(process: UInt32, pid: Int32, uid: UInt32, name: String, clockKind: UInt32, nominalTicksPerSecond: UInt64) {
        self.process = process
        self.pid = pid
        self.uid = uid
        self.name = name
        self.clockKind = clockKind
        self.nominalTicksPerSecond = nominalTicksPerSecond
    }

    package func encode(into writer: inout ByteWriter) {
        writer.record(TC_REC_PROCESS) { w in
            w.varint(process)
            w.varint(UInt32(bitPattern: pid))
            w.varint(uid)
            w.string(name)
            w.varint(clockKind)
            w.varint(nominalTicksPerSecond)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        process = try r.varint32("process")
        pid = Int32(bitPattern: try r.varint32("pid"))
        uid = try r.varint32("uid")
        name = try r.string("process name")
        clockKind = try r.varint32("clock kind")
        nominalTicksPerSecond = try r.varint("nominal ticks per second")
    }
}

/// One reading of an event clock next to CLOCK_MONOTONIC and CLOCK_REALTIME,
/// taken by the writer; readers convert ticks to nanoseconds between them.
package struct ClockSync: Equatable, Sendable {
    package var clockKind: UInt32
    package var ticks: UInt64
    package var monotonicNanoseconds: UInt64
    package var realtimeNanoseconds: UInt64

    package init(clockKind: UInt32, ticks: UInt64, monotonicNanoseconds: UInt64, realtimeNanoseconds: UInt64) {
        self.clockKind = clockKind
        self.ticks = ticks
        self.monotonicNanoseconds = monotonicNanoseconds
        self.realtimeNanoseconds = realtimeNanoseconds
    }

    package func encode(into writer: inout ByteWriter) {
        writer.record(TC_REC_CLOCK_SYNC) { w in
            w.varint(clockKind)
            w.varint(ticks)
            w.varint(monotonicNanoseconds)
            w.varint(realtimeNanoseconds)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        clockKind = try r.varint32("clock kind")
        ticks = try r.varint("ticks")
        monotonicNanoseconds = try r.varint("monotonic")
        realtimeNanoseconds = try r.varint("realtime")
    }
}

/// Cumulative counts of what a process could not record, by reason
/// (TC_DROP_*), since the session (or in-process trace) began.
package struct DropCounts: Equatable, Sendable {
    package var process: UInt32
    package var counts: [UInt32: UInt64]

    package init(process: UInt32, counts: [UInt32: UInt64]) {
        self.process = process
        self.counts = counts
    }

    /// The `process` of the kernel collector's drops (TC_DROP_KERNEL_RING_FULL):
    /// not a process (no process record has key 0), since records the
    /// kernel had no room for cannot be told apart by process.
    package static let kernelCollector: UInt32 = 0

    /// Events lost, not counting TC_LOST_METADATA (which is not an event);
    /// for the kernel collector, kernel records of any process.
    /// The counts are read from a file (or a client's buffer): their sum
    /// saturates.
    package var droppedEvents: UInt64 {
        counts.filter { $0.key != UInt32(TC_LOST_METADATA) }.values.saturatingSum()
    }

    package func encode(into writer: inout ByteWriter) {
        writer.record(TC_REC_DROPS) { w in
            w.varint(process)
            let nonzero = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            w.varint(nonzero.count)
            for (reason, count) in nonzero {
                w.varint(reason)
                w.varint(count)
            }
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        process = try r.varint32("process")
        let n = try r.varint("drop reasons")
        guard n <= 256 else { throw .invalid(field: "drop reasons", value: n) }
        counts = [:]
        for _ in 0..<n {
            let reason = try r.varint32("drop reason")
            counts[reason] = try r.varint("drop count")
        }
    }
}

/// The end of a process's data in this file.
package struct ProcessEnd: Equatable, Sendable {
    package enum Reason: UInt64, Sendable {
        /// Tracing stopped while the process ran on.
        case tracingStopped = 0
        /// The process closed its connection or exited normally.
        case exited = 1
        /// The connection broke without a goodbye (killed, crashed).
        case disconnected = 2
    }

    package var process: UInt32
    package var ticks: UInt64
    package var reason: Reason

    package init(process: UInt32, ticks: UInt64, reason: Reason) {
        self.process = process
        self.ticks = ticks
        self.reason = reason
    }

    package func encode(into writer: inout ByteWriter) {
        writer.record(TC_REC_PROCESS_END) { w in
            w.varint(process)
            w.varint(ticks)
            w.varint(reason.rawValue)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        process = try r.varint32("process")
        ticks = try r.varint("ticks")
        let raw = try r.varint("end reason")
        reason = Reason(rawValue: raw) ?? .disconnected
    }
}
