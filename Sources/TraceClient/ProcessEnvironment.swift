import TraceProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What the environment asks of this process's tracing (docs/design.md,
/// "Environment"). Read when the buffer is created and at autostart.
struct ProcessEnvironment {
    /// TRACED_BUFFER_SIZE: bytes, with an optional K, M, G or T suffix.
    var bufferSize: Int?
    /// TRACED_CHUNK_SIZE: chunk bytes (a power of two from 4K to 1M); for
    /// tests and tuning.
    var chunkSize: Int?
    /// TRACED_STACKS=1: capture stacks in a TRACED_FILE trace.
    var stacks: Bool
    /// TRACED_CLOCK=monotonic: never use the TSC.
    var forceMonotonicClock: Bool
    var processName: String

    init() {
        bufferSize = Self.size("TRACED_BUFFER_SIZE")
        chunkSize = Self.size("TRACED_CHUNK_SIZE")
        stacks = Self.value("TRACED_STACKS").map { $0 == "1" || $0 == "yes" || $0 == "true" } ?? false
        forceMonotonicClock = Self.value("TRACED_CLOCK") == "monotonic"
        processName = Self.programName()
    }

    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// "64K", "4M", "1G", "64MB" or plain bytes (Units.bytes); nil if
    /// absent or malformed. The buffer's own limits apply afterwards.
    static func size(_ name: String) -> Int? {
        guard let text = value(name), let bytes = Units.bytes(text), bytes > 0 else { return nil }
        return Int(clamping: bytes)
    }

    /// The program's name as `ps` shows it (/proc/self/comm).
    static func programName() -> String {
        let fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "process" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return "process" }
        return String(decoding: buffer[0..<n].prefix { $0 != 0x0a }, as: UTF8.self)
    }
}
