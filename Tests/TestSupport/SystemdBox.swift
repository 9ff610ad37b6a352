import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway container booted with the real systemd as its PID 1
/// (`Tests/Tools/systemd-box`): a copy-on-write view of this machine's root,
/// its own namespaces, fresh /run and journal. Halted when released.
package final class SystemdBox: Sendable {
    /// The host's pid of the container's PID 1 (systemd).
    package let pid: Int32
    /// Bound at /share inside the container.
    package let share: TemporaryDirectory
    private static let tool = TraceReaders.repositoryRoot + "/Tests/Tools/systemd-box"

    package struct Failed: Error, CustomStringConvertible {
        package var description: String
        package init(description: String) { self.description = description }
    }

    /// Boots one. Fails, saying why, when this machine cannot (not root, no
    /// cgroup2, no systemd).
    package init() throws {
        share = try TemporaryDirectory("systemd-box")
        let booted = try Processes.run(Self.tool, ["boot", share.path])
        guard booted.status == 0, let pid = Int32(booted.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Failed(description: "a container with systemd did not boot (\(booted.status)): \(booted.standardError)")
        }
        self.pid = pid
    }

    deinit {
        _ = try? Processes.run(Self.tool, ["halt", String(pid), share.path])
    }

    /// Runs `command` inside as root, in a clean environment.
    @discardableResult
    package func run(_ command: String...) throws -> ProcessResult {
        try run(command)
    }

    package func run(_ command: [String]) throws -> ProcessResult {
        try Processes.run(Self.tool, ["run", String(pid)] + command)
    }

    /// Runs `command` inside as `user` (with the user's groups).
    package func run(as user: String, _ command: String...) throws -> ProcessResult {
        try run(["setpriv", "--reuid", user, "--regid", user, "--init-groups", "--reset-env"] + command)
    }

    /// A shell command line inside, as root.
    package func shell(_ script: String) throws -> ProcessResult {
        try run(["sh", "-c", script])
    }
}
