#if canImport(Glibc)
import Glibc
#endif

/// This machine's name (`gethostname`), as OTLP's `host.name` carries it.
package enum HostName {
    /// The name, or "localhost" in the one case `gethostname` fails here
    /// (a name longer than the buffer, which Linux caps at 64 bytes).
    package static var current: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
