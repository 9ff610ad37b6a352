package import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started without waiting for it, with one descriptor of
/// the parent handed to it as descriptor 3 (for a socket to the test).
package final class Spawned {
    package let pid: pid_t
    private var reaped = false

    package init(_ path: String, _ arguments: [String], passing descriptor: CInt) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, descriptor, 3)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        self.pid = pid
    }

    /// Sends `signal` and waits; returns the raw wait status.
    @discardableResult
    package func kill(_ signal: CInt = SIGKILL) -> CInt {
        Glibc.kill(pid, signal)
        return wait()
    }

    @discardableResult
    package func wait() -> CInt {
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        return status
    }

    deinit {
        if !reaped { kill() }
    }
}
