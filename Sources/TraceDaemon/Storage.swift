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
        try Self.makeDirectory(stateDirectory, mode: 0o750)
        try Self.makeDirectory(sessionsDirectory, mode: 0o750)
        trash = try Trash(directory: stateDirectory + "/trash")
    }

    static func makeDirectory(_ path: String, mode: mode_t) throws(SystemError) {
        var partial = ""
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", subject: partial) }
        }
        _ = chmod(path, mode)
    }

    func directory(for session: String) -> String { sessionsDirectory + "/" + session }

    func create(session: String) throws(SystemError) -> String {
        let path = directory(for: session)
        guard mkdir(path, 0o750) == 0 else { throw SystemError("mkdir", subject: path) }
        return path
    }

    private struct Record: Codable {
        var config: SessionConfig
        var status: SessionStatus
    }

    /// Writes `session.json` (temporary name, then rename); `durable`
    /// fsyncs it first, so it survives the machine crashing too (the
    /// periodic saves of a running session skip that: they only have to
    /// survive traced).
    func persist(_ session: Session, durable: Bool = true) throws(SystemError) {
        let record = Record(config: session.config, status: session.status())
        let path = directory(for: session.name) + "/session.json"
        guard let data = try? JSONEncoder().encode(record) else { return }
        let descriptor = try FileDescriptor.open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
        defer { descriptor.close() }
        try descriptor.writeAll(Array(data))
        if durable { try descriptor.sync() }
        try Syscall.call("rename", subject: path) { rename(path + ".tmp", path) }
    }

    /// Sessions left by an earlier traced. Those it did not finish are
    /// interrupted: their unfinished files keep what they hold, readable up
    /// to their last complete frame.
    func recover(log: Log) -> [Session] {
        var sessions: [Session] = []
        for name in Self.entries(sessionsDirectory) {
            let path = directory(for: name)
            guard let data = try? Self.read(path + "/session.json"),
                  let record = try? JSONDecoder().decode(Record.self, from: Data(data)) else {
                log.warning("\(path) has no readable session.json, ignoring it")
                continue
            }
            var status = record.status
            if status.state == .running || status.state == .stopping {
                for file in Self.entries(path) where file.hasSuffix(".trace.tmp") {
                    Self.salvage(path + "/" + file, log: log)
                    rename(path + "/" + file, path + "/" + String(file.dropLast(4)))
                }
                status.state = .interrupted
                // Counters stay as last saved (within a second of the
                // kill); no client is connected to a session that ended.
                for index in status.clients.indices { status.clients[index].connected = false }
                log.warning("session '\(name)' was interrupted (traced stopped without finishing it); its files are kept")
            }
            let files = Self.entries(path).filter { $0.hasSuffix(".trace") }.sorted().map { path + "/" + $0 }
            status.files = UInt64(files.count)
            status.diskBytes = Self.size(of: files)
            let session = Session(stored: status, config: record.config, directory: path, files: files)
            sessions.append(session)
            try? persist(session)
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

    static func size(of paths: [String]) -> UInt64 {
        paths.reduce(0) { total, path in
            var info = stat()
            return total + (stat(path, &info) == 0 ? UInt64(info.st_size) : 0)
        }
    }

    static func entries(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let descriptor = try FileDescriptor.open(path, O_RDONLY)
        defer { descriptor.close() }
        return try descriptor.readToEnd(limit: 1 << 20)
    }
}
