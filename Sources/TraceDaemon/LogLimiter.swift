/// Messages that any local process can cause at will — bad producer input,
/// refused or silent connections, registrations — limited as journald limits
/// a service: at most `burst` of a kind per `interval`; the rest are
/// counted, and when the interval ends one line says how many were
/// suppressed. Owned by the daemon's loop (not thread-safe).
final class LogLimiter {
    enum Kind: String, CaseIterable {
        case producerViolation = "about bad producer input"
        case producerRefused = "about refused registrations"
        case producerConnections = "about producer connections"
        case controlConnections = "about control connections"
        case clients = "about clients registering and leaving"
    }

    static let burst = 10
    static let interval: UInt64 = 10_000_000_000

    private let log: Log
    private var windows: [Kind: (start: UInt64, logged: Int, suppressed: Int, level: Log.Level)] = [:]

    init(log: Log) { self.log = log }

    /// Logs `message` unless `kind` already used its burst in this interval.
    func write(_ kind: Kind, _ level: Log.Level, _ message: @autoclosure () -> String,
               fields: @autoclosure () -> [Log.Field] = [], now: UInt64) {
        flush(kind, now: now)
        var window = windows[kind] ?? (now, 0, 0, level)
        if window.logged < Self.burst {
            window.logged += 1
            log.write(level, message(), fields: fields())
        } else {
            window.suppressed += 1
            window.level = min(window.level, level)
        }
        windows[kind] = window
    }

    /// Ends the intervals that are over, saying what each suppressed (at
    /// every scrape, so the count is not held back until the next message).
    func flush(now: UInt64) {
        for kind in Kind.allCases { flush(kind, now: now) }
    }

    private func flush(_ kind: Kind, now: UInt64) {
        guard let window = windows[kind], now.saturatingSubtract(window.start) >= Self.interval else { return }
        windows[kind] = nil
        if window.suppressed > 0 {
            log.write(window.level, "\(window.suppressed) similar message(s) \(kind.rawValue) suppressed in the last \(Self.interval / 1_000_000_000) s")
        }
    }
}
