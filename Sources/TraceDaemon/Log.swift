import Synchronization
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log. Under systemd (stderr is the journal stream) each
/// message is a journal entry with its priority, so `journalctl -u traced -p
/// warning` selects by level, and with structured fields that name what it
/// is about (`SESSION=`, `CLIENT_PID=`, `CLIENT_UID=`, `CLIENT_NAME=`), so
/// `journalctl -u traced SESSION=web` selects by session. Elsewhere one line
/// per message on stderr, the level spelled out.
final class Log: Sendable {
    enum Level: Int, Comparable, Sendable {
        case error = 3
        case warning = 4
        case notice = 5
        case info = 6
        case debug = 7

        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        init?(name: String) {
            switch name {
            case "error": self = .error
            case "warning": self = .warning
            case "notice": self = .notice
            case "info": self = .info
            case "debug": self = .debug
            default: return nil
            }
        }

        var name: String {
            switch self {
            case .error: "error"
            case .warning: "warning"
            case .notice: "notice"
            case .info: "info"
            case .debug: "debug"
            }
        }
    }

    private let threshold: Atomic<Int>
    private let toJournal: Bool

    init(level: Level) {
        threshold = Atomic(level.rawValue)
        toJournal = Self.stderrIsJournal()
    }

    func setLevel(_ level: Level) { threshold.store(level.rawValue, ordering: .relaxed) }

    func error(_ message: String, fields: [Field] = []) { write(.error, message, fields: fields) }
    func warning(_ message: String, fields: [Field] = []) { write(.warning, message, fields: fields) }
    func notice(_ message: String, fields: [Field] = []) { write(.notice, message, fields: fields) }
    func info(_ message: String, fields: [Field] = []) { write(.info, message, fields: fields) }
    func debug(_ message: String) { write(.debug, message) }

    /// A structured field of a message: `SESSION`, `CLIENT_PID`, ...
    typealias Field = (name: String, value: String)

    static func session(_ name: String) -> [Field] { [("SESSION", name)] }

    /// A traced process (on the producer socket), by what the kernel says.
    static func client(_ credentials: UnixSocket.Credentials, name: String? = nil) -> [Field] {
        [("CLIENT_PID", String(credentials.pid)), ("CLIENT_UID", String(credentials.uid))]
            + (name.map { [("CLIENT_NAME", $0)] } ?? [])
    }

    /// A tracectl (on the control socket), by what the kernel says.
    static func requester(_ credentials: UnixSocket.Credentials) -> [Field] {
        [("REQUESTER_PID", String(credentials.pid)), ("REQUESTER_UID", String(credentials.uid))]
    }

    func write(_ level: Level, _ message: String, fields: [Field] = []) {
        guard level.rawValue <= threshold.load(ordering: .relaxed) else { return }
        if toJournal && Systemd.journal(priority: level.rawValue, message: message, fields: fields) { return }
        // The journal refused (or is not there): the stream still takes a
        // line, prefixed with its priority for journald.
        let line = toJournal ? "<\(level.rawValue)>\(message)\n" : "traced: \(level.name): \(message)\n"
        try? FileDescriptor.standardError.writeAll(Array(line.utf8))
    }

    /// Whether stderr is the stream JOURNAL_STREAM names ("device:inode").
    private static func stderrIsJournal() -> Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":").compactMap { UInt64($0) }
        guard parts.count == 2, let info = try? FileDescriptor.standardError.status() else { return false }
        return UInt64(info.st_dev) == parts[0] && UInt64(info.st_ino) == parts[1]
    }
}
