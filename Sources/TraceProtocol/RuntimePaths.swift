package import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where traced's sockets are: one rule for the daemon, for clients and for
/// tracectl (docs/design.md, "Where things are").
///
/// A daemon listens in `TRACED_RUNTIME_DIR` if set; else `/run/traced` when
/// run by root; else `$XDG_RUNTIME_DIR/traced`; else `/tmp/traced-UID`
/// (`listening`). A client or tracectl connects to the same place, except
/// that an ordinary user with no traced of their own running (no socket in
/// their directory) reaches the system's traced in `/run/traced`
/// (`connecting`): services run as any user are traced system-wide. A
/// socket of their own that refuses connections (left by a traced that was
/// killed) also sends them to `/run/traced` (`connect`).
package struct RuntimePaths: Equatable, Sendable {
    package var directory: String

    package init(directory: String) {
        self.directory = directory
    }

    package var producerSocket: String { directory + "/producer.sock" }
    package var controlSocket: String { directory + "/control.sock" }

    /// The environment variable that overrides the directory.
    package static let environmentVariable = "TRACED_RUNTIME_DIR"
    /// Where the system's traced (run by root or systemd) listens.
    package static let system = RuntimePaths(directory: "/run/traced")

    /// Where a traced run by this user listens.
    package static func listening(explicit: String? = nil) -> RuntimePaths {
        if let named = named(explicit) { return named }
        if getuid() == 0 { return system }
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return RuntimePaths(directory: runtime + "/traced")
        }
        return RuntimePaths(directory: "/tmp/traced-\(getuid())")
    }

    /// Where a client or tracectl connects: a directory it was given; else
    /// the user's own traced if one has its `socket` there; else the
    /// system's.
    package static func connecting(explicit: String? = nil, socket: KeyPath<RuntimePaths, String>) -> RuntimePaths {
        if let named = named(explicit) { return named }
        let own = listening()
        return own == system || access(own[keyPath: socket], F_OK) == 0 ? own : system
    }

    /// Connects to `socket` where `connecting` says. When that is the
    /// user's own directory but nothing listens there (a traced that was
    /// killed leaves its socket file behind), the system's traced is tried
    /// instead. Returns the socket and the path it is connected to; throws
    /// the error of the last path tried.
    package static func connect(
        explicit: String? = nil, socket: KeyPath<RuntimePaths, String>
    ) throws(SystemError) -> (descriptor: FileDescriptor, path: String) {
        let first = connecting(explicit: explicit, socket: socket)
        do {
            return (try UnixSocket.connect(path: first[keyPath: socket]), first[keyPath: socket])
        } catch {
            guard named(explicit) == nil, first != system, error.errno == .connectionRefused else { throw error }
        }
        return (try UnixSocket.connect(path: system[keyPath: socket]), system[keyPath: socket])
    }

    /// The directory given by a flag, else by `TRACED_RUNTIME_DIR`.
    private static func named(_ explicit: String?) -> RuntimePaths? {
        if let explicit, !explicit.isEmpty { return RuntimePaths(directory: explicit) }
        if let value = getenv(environmentVariable).map({ String(cString: $0) }), !value.isEmpty {
            return RuntimePaths(directory: value)
        }
        return nil
    }
}
