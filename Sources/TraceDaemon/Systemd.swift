import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// The only file that calls libsystemd. Outside systemd every call is a
/// no-op (`sd_notify` returns 0 without NOTIFY_SOCKET).
enum Systemd {
    /// `sd_notify`: READY=1, STATUS=..., STOPPING=1, WATCHDOG=1, RELOADING=1.
    static func notify(_ state: String) {
        _ = sd_notify(0, state)
    }

    /// Sockets passed by socket activation, by their FileDescriptorName.
    static func listenedSockets() -> [String: CInt] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [:] }
        var sockets: [String: CInt] = [:]
        for i in 0..<Int(count) {
            let name = names?[i].map { String(cString: $0) } ?? "unknown"
            sockets[name] = SD_LISTEN_FDS_START + CInt(i)
            free(names?[i])
        }
        free(names)
        return sockets
    }

    /// The watchdog interval systemd expects pings within, if enabled.
    static func watchdogMicroseconds() -> UInt64? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(1, &usec) > 0, usec > 0 else { return nil }
        return usec
    }

    /// `sd_journal_sendv`: one entry with `MESSAGE=`, `PRIORITY=`,
    /// `SYSLOG_IDENTIFIER=traced` and `fields` (names in upper case, as the
    /// journal wants them). False if the journal did not take it.
    static func journal(priority: Int, message: String, fields: [(name: String, value: String)]) -> Bool {
        let entries = [("MESSAGE", message), ("PRIORITY", String(priority)), ("SYSLOG_IDENTIFIER", "traced")]
            + fields.map { ($0.name, $0.value) }
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for (name, value) in entries {
            let start = bytes.count
            bytes.append(contentsOf: name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: value.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            let vectors = ranges.map { iovec(iov_base: buffer.baseAddress! + $0.lowerBound, iov_len: $0.count) }
            return sd_journal_sendv(vectors, CInt(vectors.count)) == 0
        }
    }
}
