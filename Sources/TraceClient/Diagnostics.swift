#if canImport(Glibc)
import Glibc
#endif

/// The library's only output: a line on stderr, for failures that have no
/// caller to return them to (autostart, the exit-time flush).
enum Diagnostics {
    static func report(_ message: String) {
        let line = message + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { buffer in
            write(2, buffer.baseAddress, buffer.count - 1)
        }
    }
}
