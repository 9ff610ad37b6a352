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
        pid = try Self.spawn(path, arguments, environment: nil) { posix_spawn_file_actions_adddup2(&$0, descriptor, 3) }
    }

    /// Starts `path` with `environment` added to the test's, its output and
    /// errors appended to the file `log`. (Foundation's Process cannot
    /// host a child that execs another program in place, such as
    /// systemd-socket-activate: its monitor then blocks every other
    /// Process's termination until that child exits.)
    package init(_ path: String, _ arguments: [String], environment: [String: String], log: String) throws {
        pid = try Self.spawn(path, arguments, environment: Processes.childEnvironment(environment)) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
    }

    /// Starts `path` with `environment` added to the test's, its standard
    /// output on `standardOutput` (the write end of a pipe the test reads
    /// when it chooses) and its errors appended to the file `log`.
    package init(_ path: String, _ arguments: [String], environment: [String: String], standardOutput: CInt, log: String) throws {
        pid = try Self.spawn(path, arguments, environment: Processes.childEnvironment(environment)) { actions in
            posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
            posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
    }

    /// `posix_spawn` with the file actions `prepare` adds; `environment`
    /// nil passes the test's own.
    private static func spawn(_ path: String, _ arguments: [String], environment: [String: String]?,
                              _ prepare: (inout posix_spawn_file_actions_t) -> Void) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        prepare(&actions)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { (argv + (envp ?? [])).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = envp.map { posix_spawn(&pid, path, &actions, nil, argv, $0) } ?? posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        return pid
    }

    /// Whether it has not exited yet (without reaping it).
    package var isRunning: Bool {
        guard !reaped else { return false }
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._kill.si_pid == 0
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
