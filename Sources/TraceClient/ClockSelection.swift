import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// Chooses what event timestamps count (docs/format.md, "Clocks").
///
/// The TSC (≈10-25 ns to read here) is used only when the CPU reports it
/// invariant (constant rate, ticking in deep sleep) and the kernel itself
/// uses it as the clocksource (so it verified the TSCs of all CPUs agree).
/// Otherwise, or with TRACED_CLOCK=monotonic, CLOCK_MONOTONIC (≈25-45 ns).
enum ClockSelection {
    static func choose(environment: ProcessEnvironment) -> UInt32 {
        guard !environment.forceMonotonicClock, tc_cpu_has_invariant_tsc() == 1, kernelClocksource() == "tsc" else {
            return UInt32(TC_CLOCK_MONOTONIC_NS)
        }
        return UInt32(TC_CLOCK_TSC)
    }

    static func kernelClocksource() -> String? {
        let fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].prefix { $0 != 0x0a }, as: UTF8.self)
    }
}
