import FoundationEssentials
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Sessions on disk: `STATE/sessions/NAME/` holds a session's trace files
/// and `session.json` (its config and last status), so stopped sessions
/// stay listable and fetchable across restarts of traced.
struct Storage {
    let sessionsDirectory: String
    /// Where deleted files and sessions go: `STATE/trash/`.
    let trash: Trash

    init(stateDirectory: String) throws(SystemError) {
        sessionsDirectory = stateDirectory + "/sessions"
        try FileSystem.makeDirectories(stateDirectory, mode: 0o750)
        try FileSystem.makeDirectories(sessionsDirectory, mode: 0o750)
        trash = try Trash(directory: stateDirectory + "/trash")
    }

    func directory(for session: String) -> String { sessionsDirectory + "/" + session }

    func create(session: String) throws(SystemError) -> String {
        let path = directory(for: session)
        try FileSystem.makeDirectory(path, mode: 0o750)
        return path
    }

    private struct Record: Codable {
        var config: SessionConfig
        var status: SessionStatus
        /// A streaming session's writing position at this status (nil in
        /// files of earlier versions, and for flight recorders).
        var position: WrittenPosition?
    }

    /// Writes `session.json` (temporary name, then rename); `durable`
    /// fsyncs it first, so it survives the machine crashing too (the
    /// periodic saves of a running session skip that: they only have to
    /// survive traced). If writing fails (a full disk), the temporary file
    /// is removed and the previous `session.json` stays.
    func persist(_ session: Session, durable: Bool = true) throws(SystemError) {
        let record = Record(config: session.config, status: session.status(), position: session.writtenPosition)
        let path = directory(for: session.name) + "/session.json"
        guard let data = try? JSONEncoder().encode(record) else { return }
        try FileSystem.replace(path, with: Array(data), durable: durable)
    }

    /// Sessions left by an earlier traced. Those it did not finish are
    /// interrupted: their unfinished files keep what they hold, readable up
    /// to their last complete frame.
    func recover(log: Log) -> [Session] {
        var sessions: [Session] = []
        for name in FileSystem.entries(sessionsDirectory) {
            let path = directory(for: name)
            guard let data = try? Self.read(path + "/session.json"),
                  let record = try? JSONDecoder().decode(Record.self, from: Data(data)) else {
                log.warning("\(path) has no readable session.json, ignoring it")
                continue
            }
            var status = record.status
            let interrupted = status.state == .running || status.state == .stopping
            if interrupted {
                for file in FileSystem.entries(path) where file.hasSuffix(".trace.tmp") {
                    Self.salvage(path + "/" + file, log: log)
                    do {
                        try FileSystem.rename(path + "/" + file, to: path + "/" + String(file.dropLast(4)))
                    } catch {
                        log.warning("cannot keep '\(path)/\(file)': \(error), ignoring it")
                    }
                }
                status.state = .interrupted
                // No client is connected to a session that ended.
                for index in status.clients.indices { status.clients[index].connected = false }
                log.warning("session '\(name)' was interrupted (traced stopped without finishing it); its files are kept", fields: Log.session(name))
            }
            let files = FileSystem.entries(path).filter { $0.hasSuffix(".trace") }.map { path + "/" + $0 }
            status.files = UInt64(files.count)
            status.diskBytes = files.compactMap(FileSystem.size(of:)).saturatingSum()
            // Counters were saved up to a second before the kill; the
            // files hold what was written until it.
            if interrupted, let position = record.position {
                SessionCount(files: files, after: position).apply(to: &status)
            }
            let session = Session(stored: status, config: record.config, directory: path, files: files)
            sessions.append(session)
            do {
                try persist(session)
            } catch {
                log.warning("cannot save the state of session '\(name)': \(error), ignoring", fields: Log.session(name))
            }
        }
        return sessions.sorted { $0.startedRealtime < $1.startedRealtime }
    }

    /// Cuts a file its writer did not finish after its last complete frame
    /// (a kill mid-write leaves part of one), so that every reader and
    /// `lz4 -t` accept it. It keeps lacking an end record, which readers
    /// report: the trace was interrupted.
    private static func salvage(_ path: String, log: Log) {
        do {
            let descriptor = try FileDescriptor.open(path, O_RDWR)
            defer { descriptor.close() }
            let size = try descriptor.size()
            guard size > 0 else { return }
            let mapping = try MemoryMapping(descriptor: descriptor, size: size)
            let complete = try CompleteFrames.length(of: UnsafeRawBufferPointer(mapping.bytes))
            guard complete < size else { return }
            try descriptor.truncate(to: complete)
            try descriptor.sync()
            log.notice("\(path): cut \(size - complete) bytes of an unfinished frame after its last complete one")
        } catch {
            log.warning("cannot check '\(path)' for an unfinished frame: \(error); readers skip one")
        }
    }

    func remove(_ session: Session) {
        trash.discard(session.directory)
    }

    /// A small file's bytes (at most 1 MiB): `session.json` and the like.
    static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let descriptor = try FileDescriptor.open(path, O_RDONLY)
        defer { descriptor.close() }
        return try descriptor.readToEnd(limit: 1 << 20)
    }
}
