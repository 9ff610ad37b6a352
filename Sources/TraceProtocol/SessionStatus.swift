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

        package init(pid: Int32, name: String, connected: Bool, events: UInt64, dropped: [String: UInt64], bytes: UInt64,
                     malformed: UInt64 = 0) {
            self.pid = pid
            self.name = name
            self.connected = connected
            self.events = events
            self.dropped = dropped
            self.bytes = bytes
            self.malformed = malformed
        }
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
    package var clients: [Client]

    package init(name: String, state: State, mode: SessionConfig.Mode, owner: UInt32, startedRealtimeNanoseconds: UInt64,
                 stoppedRealtimeNanoseconds: UInt64, events: UInt64, dropped: [String: UInt64], bytesRaw: UInt64,
                 bytesCompressed: UInt64, files: UInt64, filesDeleted: UInt64, diskBytes: UInt64, clients: [Client]) {
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
        self.clients = clients
    }

    package var droppedTotal: UInt64 { dropped.filter { $0.key != "metadata lost" }.values.reduce(0, +) }

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
        w.varint(clients.count)
        for client in clients {
            w.varint(UInt32(bitPattern: client.pid))
            w.string(client.name)
            w.byte(client.connected ? 1 : 0)
            w.varint(client.events)
            Self.encode(client.dropped, into: &w)
            w.varint(client.bytes)
            w.varint(client.malformed)
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
            clients.append(Client(pid: pid, name: name, connected: connected, events: events, dropped: dropped, bytes: bytes,
                                  malformed: malformed))
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
