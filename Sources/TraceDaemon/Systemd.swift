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
}
