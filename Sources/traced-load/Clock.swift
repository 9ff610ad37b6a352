import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds, and sleeping until an instant of it.
enum Clock {
    static func now() -> UInt64 { tc_monotonic_ns() }

    /// `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)`, resumed after signals.
    static func sleep(until deadline: UInt64) {
        var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }

    /// Checks `condition` every millisecond for at most `seconds`.
    static func waitUntil(seconds: Int, _ condition: () -> Bool) -> Bool {
        let deadline = now() + UInt64(max(0, seconds)) * 1_000_000_000
        while !condition() {
            guard now() < deadline else { return false }
            sleep(until: now() + 1_000_000)
        }
        return true
    }
}
