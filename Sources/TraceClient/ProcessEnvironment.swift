import TraceProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What the environment asks of this process's tracing (docs/design.md,
/// "Environment"). Read once, when the buffer is created or at autostart,
/// so a bad value is said once.
struct ProcessEnvironment: Sendable {
    static let current = ProcessEnvironment()

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
        stacks = Self.flag("TRACED_STACKS")
        forceMonotonicClock = Self.choice("TRACED_CLOCK", ["monotonic", "auto"]) == "monotonic"
        processName = Self.programName()
    }

    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// 1/yes/true or 0/no/false; anything else is said on stderr and off.
    static func flag(_ name: String) -> Bool {
        guard let text = value(name) else { return false }
        switch text.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off", "": return false
        default:
            Diagnostics.report("traced: \(name)='\(text)' is not 1 or 0 (yes/no, true/false); taking it as 0")
            return false
        }
    }

    /// One of `choices`; anything else is said on stderr and nil.
    static func choice(_ name: String, _ choices: [String]) -> String? {
        guard let text = value(name) else { return nil }
        guard choices.contains(text) else {
            Diagnostics.report("traced: \(name)='\(text)' is not one of \(choices.joined(separator: ", ")); using the default")
            return nil
        }
        return text
    }

    /// "64K", "4M", "1G", "64MB" or plain bytes (Units.bytes); nil if
    /// absent. A value that is not a size is said on stderr, naming the
    /// variable, and tracing goes on with the default (the process must not
    /// fail for its environment). The buffer's own limits apply afterwards.
    static func size(_ name: String) -> Int? {
        guard let text = value(name) else { return nil }
        guard let bytes = Units.bytes(text), bytes > 0 else {
            Diagnostics.report("traced: \(name)='\(text)' is not a size (like 64K, 16M or 1G); using the default")
            return nil
        }
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
