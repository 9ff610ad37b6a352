package import TraceFormat

// Messages on the control socket (docs/protocol.md, "Control socket"). One
// request per connection: ControlHello, the request, then the reply (a
// fetch replies with FetchData messages and a FetchEnd).

/// A request from tracectl.
package enum ControlRequest: Equatable, Sendable {
    case start(name: String, config: SessionConfig)
    case stop(name: String)
    case list
    case status(name: String)
    case fetch(name: String)
    /// A flight recorder's snapshots.
    case listSnapshots(name: String)
    /// One snapshot's file, streamed as a fetch is.
    case fetchSnapshot(name: String, index: UInt64)
    /// A snapshot of a running flight recorder's window, now.
    case takeSnapshot(name: String)
    /// A running session's trace as it is written, until it stops
    /// (`tracectl top`, `tail`): LiveData, LiveLost and LiveStatus replies,
    /// then Stopped.
    case watch(name: String)

    package func encode() -> [UInt8] {
        switch self {
        case .start(let name, let config):
            Frame.encode(.start) { w in
                w.string(name)
                config.encode(into: &w)
            }
        case .stop(let name): Frame.encode(.stop) { $0.string(name) }
        case .list: Frame.encode(.list) { _ in }
        case .status(let name): Frame.encode(.status) { $0.string(name) }
        case .fetch(let name): Frame.encode(.fetch) { $0.string(name) }
        case .listSnapshots(let name): Frame.encode(.listSnapshots) { $0.string(name) }
        case .fetchSnapshot(let name, let index):
            Frame.encode(.fetchSnapshot) { w in
                w.string(name)
                w.varint(index)
            }
        case .takeSnapshot(let name): Frame.encode(.takeSnapshot) { $0.string(name) }
        case .watch(let name): Frame.encode(.watch) { $0.string(name) }
        }
    }

    package init(type: UInt8, decoding r: inout ByteReader) throws(ProtocolError) {
        guard let kind = MessageType(rawValue: type),
              [.start, .stop, .list, .status, .fetch, .listSnapshots, .fetchSnapshot, .takeSnapshot, .watch].contains(kind) else {
            throw .invalidRequest("message type 0x\(String(type, radix: 16)) is not a request")
        }
        do throws(DecodeError) {
            switch kind {
            case .start:
                let name = try r.string("session name", limit: 256)
                self = .start(name: name, config: try SessionConfig(decoding: &r))
            case .stop: self = .stop(name: try r.string("session name", limit: 256))
            case .list: self = .list
            case .status: self = .status(name: try r.string("session name", limit: 256))
            case .listSnapshots: self = .listSnapshots(name: try r.string("session name", limit: 256))
            case .fetchSnapshot:
                self = .fetchSnapshot(name: try r.string("session name", limit: 256), index: try r.varint("snapshot index"))
            case .takeSnapshot: self = .takeSnapshot(name: try r.string("session name", limit: 256))
            case .watch: self = .watch(name: try r.string("session name", limit: 256))
            default: self = .fetch(name: try r.string("session name", limit: 256))
            }
        } catch {
            throw .invalidRequest("malformed request: \(error)")
        }
    }
}

/// The first message of a control connection.
package struct ControlHello: Equatable, Sendable {
    package var protocolVersion: UInt64 = ProtocolVersion.control

    package init() {}

    package func encode() -> [UInt8] { Frame.encode(.controlHello) { $0.varint(protocolVersion) } }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        protocolVersion = try r.varint("protocol version")
    }
}

/// What the daemon says about itself in a status reply.
package struct DaemonStatus: Equatable, Sendable, Codable {
    package var version: String
    package var pid: Int32
    package var uptimeSeconds: UInt64
    package var clients: UInt64
    package var runtimeDirectory: String
    package var stateDirectory: String
    package var diskBytes: UInt64
    package var diskQuota: UInt64

    package init(version: String, pid: Int32, uptimeSeconds: UInt64, clients: UInt64, runtimeDirectory: String,
                 stateDirectory: String, diskBytes: UInt64, diskQuota: UInt64) {
        self.version = version
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.clients = clients
        self.runtimeDirectory = runtimeDirectory
        self.stateDirectory = stateDirectory
        self.diskBytes = diskBytes
        self.diskQuota = diskQuota
    }

    package func encode(into w: inout ByteWriter) {
        w.string(version)
        w.varint(UInt32(bitPattern: pid))
        w.varint(uptimeSeconds)
        w.varint(clients)
        w.string(runtimeDirectory)
        w.string(stateDirectory)
        w.varint(diskBytes)
        w.varint(diskQuota)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        version = try r.string("version", limit: 64)
        pid = Int32(bitPattern: try r.varint32("pid"))
        uptimeSeconds = try r.varint("uptime")
        clients = try r.varint("clients")
        runtimeDirectory = try r.string("runtime directory", limit: 4096)
        stateDirectory = try r.string("state directory", limit: 4096)
        diskBytes = try r.varint("disk bytes")
        diskQuota = try r.varint("disk quota")
    }
}

/// A reply from the daemon.
package enum ControlReply: Equatable, Sendable {
    case started(name: String)
    case stopped(SessionStatus)
    case sessions([SessionStatus])
    case status(DaemonStatus, [SessionStatus])
    case fetchData([UInt8])
    case fetchEnd(bytes: UInt64, files: UInt64)
    case snapshots(SnapshotList)
    case snapshotTaken(SnapshotList.Entry)
    /// A watched session's trace bytes: LZ4 frames, a trace file's start
    /// (header, metadata) first, as a fetch's bytes are read.
    case liveData([UInt8])
    /// The viewer did not keep up and this much of the session's trace was
    /// not sent to it; the next LiveData starts a trace file again.
    case liveLost(LiveLoss)
    /// A watched session's status, once a second.
    case liveStatus(SessionStatus)
    case error(ProtocolError)

    package func encode() -> [UInt8] {
        switch self {
        case .started(let name): Frame.encode(.started) { $0.string(name) }
        case .stopped(let status): Frame.encode(.stopped) { status.encode(into: &$0) }
        case .sessions(let sessions):
            Frame.encode(.sessions) { w in
                w.varint(sessions.count)
                for session in sessions { session.encode(into: &w) }
            }
        case .status(let daemon, let sessions):
            Frame.encode(.statusReport) { w in
                daemon.encode(into: &w)
                w.varint(sessions.count)
                for session in sessions { session.encode(into: &w) }
            }
        case .fetchData(let bytes): Frame.encode(.fetchData) { $0.raw(bytes) }
        case .fetchEnd(let bytes, let files):
            Frame.encode(.fetchEnd) { w in
                w.varint(bytes)
                w.varint(files)
            }
        case .snapshots(let list): Frame.encode(.snapshots) { list.encode(into: &$0) }
        case .snapshotTaken(let entry): Frame.encode(.snapshotTaken) { entry.encode(into: &$0) }
        case .liveData(let bytes): Frame.encode(.liveData) { $0.raw(bytes) }
        case .liveLost(let loss): Frame.encode(.liveLost) { loss.encode(into: &$0) }
        case .liveStatus(let status): Frame.encode(.liveStatus) { status.encode(into: &$0) }
        case .error(let error):
            Frame.encode(.error) { w in
                w.varint(error.code)
                w.string(error.message)
            }
        }
    }

    package init(type: UInt8, decoding r: inout ByteReader) throws(DecodeError) {
        switch MessageType(rawValue: type) {
        case .started: self = .started(name: try r.string("session name", limit: 256))
        case .stopped: self = .stopped(try SessionStatus(decoding: &r))
        case .sessions: self = .sessions(try Self.decodeSessions(&r))
        case .statusReport:
            let daemon = try DaemonStatus(decoding: &r)
            self = .status(daemon, try Self.decodeSessions(&r))
        case .fetchData: self = .fetchData(Array(try r.bytes(r.remaining, "fetch data")))
        case .fetchEnd: self = .fetchEnd(bytes: try r.varint("bytes"), files: try r.varint("files"))
        case .snapshots: self = .snapshots(try SnapshotList(decoding: &r))
        case .snapshotTaken: self = .snapshotTaken(try SnapshotList.Entry(decoding: &r))
        case .liveData: self = .liveData(Array(try r.bytes(r.remaining, "live data")))
        case .liveLost: self = .liveLost(try LiveLoss(decoding: &r))
        case .liveStatus: self = .liveStatus(try SessionStatus(decoding: &r))
        case .error:
            let code = try r.varint("error code")
            self = .error(ProtocolError(code: code, message: try r.string("error message", limit: 4096)))
        default:
            throw .invalid(field: "reply type", value: UInt64(type))
        }
    }

    private static func decodeSessions(_ r: inout ByteReader) throws(DecodeError) -> [SessionStatus] {
        let count = try r.varint("session count")
        guard count <= 10_000 else { throw .invalid(field: "session count", value: count) }
        var sessions: [SessionStatus] = []
        for _ in 0..<count { sessions.append(try SessionStatus(decoding: &r)) }
        return sessions
    }
}

/// What a watching viewer missed because it did not take its bytes in time
/// (traced never waits for a viewer): whole frames of the session's trace.
package struct LiveLoss: Equatable, Sendable, Codable {
    package var frames: UInt64 = 0
    package var bytes: UInt64 = 0
    /// The clients' events those frames held.
    package var events: UInt64 = 0

    package init(frames: UInt64 = 0, bytes: UInt64 = 0, events: UInt64 = 0) {
        self.frames = frames
        self.bytes = bytes
        self.events = events
    }

    package var isEmpty: Bool { frames == 0 }

    /// Counts `other` too (each sum stops at 2^64 - 1).
    package mutating func add(_ other: LiveLoss) {
        frames = frames.saturatingAdd(other.frames)
        bytes = bytes.saturatingAdd(other.bytes)
        events = events.saturatingAdd(other.events)
    }

    package func encode(into w: inout ByteWriter) {
        w.varint(frames)
        w.varint(bytes)
        w.varint(events)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        frames = try r.varint("lost frames")
        bytes = try r.varint("lost bytes")
        events = try r.varint("lost events")
    }
}
