package import TraceFormat

/// What `tracectl list` and `status` show of a session.
package struct SessionStatus: Equatable, Sendable, Codable {
    package enum State: UInt64, Sendable, Codable {
        case running = 0
        case stopping = 1
        case stopped = 2
        /// The daemon stopped without finishing it (it was killed); its
        /// files are kept and readable up to their last complete frame.
        case interrupted = 3
    }

    /// One client's part in a session.
    package struct Client: Equatable, Sendable, Codable {
        package var pid: Int32
        package var name: String
        package var connected: Bool
        package var events: UInt64
        /// Dropped events by reason ("buffer full", ...) while in the session.
        package var dropped: [String: UInt64]
        package var bytes: UInt64
        /// Chunks (and metadata records) of its buffer that failed
        /// validation and were dropped, over the client's registration.
        package var malformed: UInt64
        /// Why its counters cannot be believed (a drop counter went
        /// backwards, a chunk claimed more events than its bytes hold), or
        /// nil. An untrusted client's drops are not shown or summed.
        package var untrusted: String?
        /// Chunks of its shared buffer holding events not yet drained (being
        /// written, or complete), and the buffer's chunks in all (0 once it
        /// left): how close it is to dropping.
        package var chunksInUse: UInt64 = 0
        package var chunks: UInt64 = 0

        package init(pid: Int32, name: String, connected: Bool, events: UInt64, dropped: [String: UInt64], bytes: UInt64,
                     malformed: UInt64 = 0, untrusted: String? = nil, chunksInUse: UInt64 = 0, chunks: UInt64 = 0) {
            self.pid = pid
            self.name = name
            self.connected = connected
            self.events = events
            self.dropped = dropped
            self.bytes = bytes
            self.malformed = malformed
            self.untrusted = untrusted
            self.chunksInUse = chunksInUse
            self.chunks = chunks
        }
    }

    /// The last time writing the session's trace failed (a full disk).
    package struct WriteFailure: Equatable, Sendable, Codable {
        package var message: String
        package var realtimeNanoseconds: UInt64
        /// Whether writing works again (on the next file).
        package var resumed: Bool

        package init(message: String, realtimeNanoseconds: UInt64, resumed: Bool) {
            self.message = message
            self.realtimeNanoseconds = realtimeNanoseconds
            self.resumed = resumed
        }
    }

    /// The kernel's part: execution events (docs/design.md, "Execution events").
    package struct Execution: Equatable, Sendable, Codable {
        /// Whether traced records them for this session now (or did).
        package var recording: Bool
        /// Why not, and the setting that would enable them; or what is
        /// missing from what it records. Empty when nothing is.
        package var problem: String
        /// Kernel events written.
        package var events: UInt64
        /// Records the kernel had no room for in traced's perf rings while
        /// the session ran (`PERF_RECORD_LOST`), over all processes: the
        /// drop reason "kernel ring full".
        package var lost: UInt64
        /// Processes whose execution events the session records.
        package var processes: [Int32]
        /// Processes the session selects but does not record, each with why.
        package var leftOut: [String]

        package init(recording: Bool, problem: String = "", events: UInt64 = 0, lost: UInt64 = 0, processes: [Int32] = [],
                     leftOut: [String] = []) {
            self.recording = recording
            self.problem = problem
            self.events = events
            self.lost = lost
            self.processes = processes
            self.leftOut = leftOut
        }
    }

    /// What the session sends to an OpenTelemetry backend (docs/design.md, "OTLP").
    package struct OTLP: Equatable, Sendable, Codable {
        /// The URL spans are POSTed to.
        package var url: String
        /// Spans made of the session's tasks and regions.
        package var spans: UInt64 = 0
        /// Spans the endpoint accepted, in `requests` requests.
        package var sent: UInt64 = 0
        package var requests: UInt64 = 0
        /// Spans waiting to be sent now.
        package var queued: UInt64 = 0
        /// Spans not sent, by reason: `queue full` (the endpoint was slow or
        /// down), `refused` (it answered 4xx or 5xx), `undelivered` (retried
        /// until given up, or left when the session stopped), `sampled out`
        /// (--otlp-sample, --otlp-only-slower-than: by choice), `open limit`
        /// (tasks and regions begun while 65536 were open, not made into
        /// spans), `late` (regions and logs of a task already sent).
        package var dropped: [String: UInt64] = [:]
        /// Attempts that failed and were retried.
        package var retries: UInt64 = 0
        /// Metrics requests (every 10 s: counters, events recorded and
        /// dropped) delivered, and lost.
        package var metricsSent: UInt64 = 0
        package var metricsLost: UInt64 = 0
        /// The last failure, and when (CLOCK_REALTIME ns; 0: none).
        package var lastProblem = ""
        package var lastProblemRealtimeNanoseconds: UInt64 = 0

        package init(url: String) { self.url = url }
    }

    package var name: String
    package var state: State
    package var mode: SessionConfig.Mode
    package var owner: UInt32
    package var startedRealtimeNanoseconds: UInt64
    package var stoppedRealtimeNanoseconds: UInt64
    package var events: UInt64
    /// Dropped events by reason, over all clients.
    package var dropped: [String: UInt64]
    /// Event bytes before compression, and trace bytes written (or held).
    package var bytesRaw: UInt64
    package var bytesCompressed: UInt64
    package var files: UInt64
    package var filesDeleted: UInt64
    package var diskBytes: UInt64
    package var writeFailure: WriteFailure?
    package var clients: [Client]
    /// Nil when the session asked for none (`--no-exec`).
    package var execution: Execution?
    /// Nil when the session sends nothing over OTLP.
    package var otlp: OTLP?

    package init(name: String, state: State, mode: SessionConfig.Mode, owner: UInt32, startedRealtimeNanoseconds: UInt64,
                 stoppedRealtimeNanoseconds: UInt64, events: UInt64, dropped: [String: UInt64], bytesRaw: UInt64,
                 bytesCompressed: UInt64, files: UInt64, filesDeleted: UInt64, diskBytes: UInt64,
                 writeFailure: WriteFailure? = nil, clients: [Client], execution: Execution? = nil, otlp: OTLP? = nil) {
        self.name = name
        self.state = state
        self.mode = mode
        self.owner = owner
        self.startedRealtimeNanoseconds = startedRealtimeNanoseconds
        self.stoppedRealtimeNanoseconds = stoppedRealtimeNanoseconds
        self.events = events
        self.dropped = dropped
        self.bytesRaw = bytesRaw
        self.bytesCompressed = bytesCompressed
        self.files = files
        self.filesDeleted = filesDeleted
        self.diskBytes = diskBytes
        self.writeFailure = writeFailure
        self.clients = clients
        self.execution = execution
        self.otlp = otlp
    }

    /// The clients' drops summed by reason (saturating): a session's `dropped`.
    package static func droppedByReason(of clients: [Client]) -> [String: UInt64] {
        var dropped: [String: UInt64] = [:]
        for client in clients {
            for (reason, count) in client.dropped { dropped[reason] = dropped[reason, default: 0].saturatingAdd(count) }
        }
        return dropped
    }

    /// Events dropped, lost metadata aside. Counts come from clients'
    /// buffers: their sum sticks at 2^64 - 1 rather than trapping.
    package var droppedTotal: UInt64 { dropped.filter { $0.key != "metadata lost" }.values.saturatingSum() }

    package func encode(into w: inout ByteWriter) {
        w.string(name)
        w.varint(state.rawValue)
        w.varint(mode.rawValue)
        w.varint(owner)
        w.varint(startedRealtimeNanoseconds)
        w.varint(stoppedRealtimeNanoseconds)
        w.varint(events)
        Self.encode(dropped, into: &w)
        w.varint(bytesRaw)
        w.varint(bytesCompressed)
        w.varint(files)
        w.varint(filesDeleted)
        w.varint(diskBytes)
        w.byte(writeFailure == nil ? 0 : 1)
        if let writeFailure {
            w.string(writeFailure.message)
            w.varint(writeFailure.realtimeNanoseconds)
            w.byte(writeFailure.resumed ? 1 : 0)
        }
        w.varint(clients.count)
        for client in clients {
            w.varint(UInt32(bitPattern: client.pid))
            w.string(client.name)
            w.byte(client.connected ? 1 : 0)
            w.varint(client.events)
            Self.encode(client.dropped, into: &w)
            w.varint(client.bytes)
            w.varint(client.malformed)
            w.string(client.untrusted ?? "")
            w.varint(client.chunksInUse)
            w.varint(client.chunks)
        }
        w.byte(execution == nil ? 0 : 1)
        if let execution {
            w.byte(execution.recording ? 1 : 0)
            w.string(execution.problem)
            w.varint(execution.events)
            w.varint(execution.lost)
            w.varint(execution.processes.count)
            for pid in execution.processes { w.varint(UInt32(bitPattern: pid)) }
            w.varint(execution.leftOut.count)
            for note in execution.leftOut { w.string(note) }
        }
        w.byte(otlp == nil ? 0 : 1)
        if let otlp {
            w.string(otlp.url)
            w.varint(otlp.spans)
            w.varint(otlp.sent)
            w.varint(otlp.requests)
            w.varint(otlp.queued)
            Self.encode(otlp.dropped, into: &w)
            w.varint(otlp.retries)
            w.varint(otlp.metricsSent)
            w.varint(otlp.metricsLost)
            w.string(otlp.lastProblem)
            w.varint(otlp.lastProblemRealtimeNanoseconds)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        name = try r.string("session name", limit: 256)
        state = State(rawValue: try r.varint("state")) ?? .stopped
        mode = SessionConfig.Mode(rawValue: try r.varint("mode")) ?? .streaming
        owner = try r.varint32("owner")
        startedRealtimeNanoseconds = try r.varint("started")
        stoppedRealtimeNanoseconds = try r.varint("stopped")
        events = try r.varint("events")
        dropped = try Self.decodeCounts(&r)
        bytesRaw = try r.varint("bytes raw")
        bytesCompressed = try r.varint("bytes compressed")
        files = try r.varint("files")
        filesDeleted = try r.varint("files deleted")
        diskBytes = try r.varint("disk bytes")
        if try r.byte("write failure") != 0 {
            writeFailure = WriteFailure(message: try r.string("write failure", limit: 4096),
                                        realtimeNanoseconds: try r.varint("write failure time"),
                                        resumed: try r.byte("resumed") != 0)
        }
        let count = try r.varint("client count")
        guard count <= 4_000_000 else { throw .invalid(field: "client count", value: count) }
        clients = []
        for _ in 0..<count {
            let pid = Int32(bitPattern: try r.varint32("pid"))
            let name = try r.string("client name", limit: 256)
            let connected = try r.byte("connected") != 0
            let events = try r.varint("events")
            let dropped = try Self.decodeCounts(&r)
            let bytes = try r.varint("bytes")
            let malformed = try r.varint("malformed")
            let untrusted = try r.string("untrusted", limit: 4096)
            let chunksInUse = try r.varint("chunks in use")
            let chunks = try r.varint("chunks")
            clients.append(Client(pid: pid, name: name, connected: connected, events: events, dropped: dropped, bytes: bytes,
                                  malformed: malformed, untrusted: untrusted.isEmpty ? nil : untrusted,
                                  chunksInUse: chunksInUse, chunks: chunks))
        }
        if try r.byte("execution") != 0 {
            var execution = Execution(recording: try r.byte("recording") != 0, problem: try r.string("problem", limit: 4096),
                                      events: try r.varint("kernel events"), lost: try r.varint("kernel lost"))
            let pids = try r.varint("process count")
            guard pids <= 1_000_000 else { throw .invalid(field: "process count", value: pids) }
            for _ in 0..<pids { execution.processes.append(Int32(bitPattern: try r.varint32("pid"))) }
            let notes = try r.varint("left-out count")
            guard notes <= 1024 else { throw .invalid(field: "left-out count", value: notes) }
            for _ in 0..<notes { execution.leftOut.append(try r.string("left out", limit: 4096)) }
            self.execution = execution
        }
        if try r.byte("otlp") != 0 {
            var otlp = OTLP(url: try r.string("otlp url", limit: 4096))
            otlp.spans = try r.varint("otlp spans")
            otlp.sent = try r.varint("otlp sent")
            otlp.requests = try r.varint("otlp requests")
            otlp.queued = try r.varint("otlp queued")
            otlp.dropped = try Self.decodeCounts(&r)
            otlp.retries = try r.varint("otlp retries")
            otlp.metricsSent = try r.varint("otlp metrics sent")
            otlp.metricsLost = try r.varint("otlp metrics lost")
            otlp.lastProblem = try r.string("otlp problem", limit: 4096)
            otlp.lastProblemRealtimeNanoseconds = try r.varint("otlp problem time")
            self.otlp = otlp
        }
    }

    private static func encode(_ counts: [String: UInt64], into w: inout ByteWriter) {
        let sorted = counts.sorted { $0.key < $1.key }
        w.varint(sorted.count)
        for (reason, count) in sorted {
            w.string(reason)
            w.varint(count)
        }
    }

    private static func decodeCounts(_ r: inout ByteReader) throws(DecodeError) -> [String: UInt64] {
        let count = try r.varint("reason count")
        guard count <= 64 else { throw .invalid(field: "reason count", value: count) }
        var counts: [String: UInt64] = [:]
        for _ in 0..<count {
            let reason = try r.string("reason", limit: 64)
            counts[reason] = try r.varint("count")
        }
        return counts
    }
}
