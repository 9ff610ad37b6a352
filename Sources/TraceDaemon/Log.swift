import Synchronization
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's log: one line per message on stderr. Under systemd (stderr
/// is the journal stream) each line starts with its syslog priority
/// (`<4>`), so `journalctl -u traced -p warning` selects by level; on a
/// terminal the level is spelled out.
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

    func error(_ message: String) { write(.error, message) }
    func warning(_ message: String) { write(.warning, message) }
    func notice(_ message: String) { write(.notice, message) }
    func info(_ message: String) { write(.info, message) }
    func debug(_ message: String) { write(.debug, message) }

    func write(_ level: Level, _ message: String) {
        guard level.rawValue <= threshold.load(ordering: .relaxed) else { return }
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
