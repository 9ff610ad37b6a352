import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where traced's sockets are: one rule for the daemon, for clients and for
/// tracectl (docs/design.md, "Where things are").
///
/// `TRACED_RUNTIME_DIR` if set; else `/run/traced` for root; else
/// `$XDG_RUNTIME_DIR/traced`; else `/tmp/traced-UID`.
package struct RuntimePaths: Equatable, Sendable {
    package var directory: String

    package init(directory: String) {
        self.directory = directory
    }

    package var producerSocket: String { directory + "/producer.sock" }
    package var controlSocket: String { directory + "/control.sock" }

    /// The environment variable that overrides the directory.
    package static let environmentVariable = "TRACED_RUNTIME_DIR"

    package static func resolve(explicit: String? = nil) -> RuntimePaths {
        if let explicit, !explicit.isEmpty { return RuntimePaths(directory: explicit) }
        if let value = getenv(environmentVariable).map({ String(cString: $0) }), !value.isEmpty {
            return RuntimePaths(directory: value)
        }
        if getuid() == 0 { return RuntimePaths(directory: "/run/traced") }
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return RuntimePaths(directory: runtime + "/traced")
        }
        return RuntimePaths(directory: "/tmp/traced-\(getuid())")
    }
}
