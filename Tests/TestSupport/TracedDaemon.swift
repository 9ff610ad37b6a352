import Foundation

/// A traced started for one test: its own runtime and state directories,
/// its own log; `tracectl` and clients are pointed at it.
package final class TracedDaemon {
    package let directory: TemporaryDirectory
    package var runtime: String { directory.path + "/run" }
    package var state: String { directory.path + "/state" }
    package private(set) var process: Background
    private let extraArguments: [String]
    private let launcher: [String]

    /// `launcher`: a command traced runs under (e.g. setpriv, to run it as
    /// another user with chosen capabilities); `prepare` runs before it,
    /// with the directory (e.g. to hand it to that user).
    package init(arguments: [String] = [], launcher: [String] = [], prepare: (String) throws -> Void = { _ in }) throws {
        directory = try TemporaryDirectory("traced-daemon")
        extraArguments = arguments
        self.launcher = launcher
        try prepare(directory.path)
        process = try Self.launch(directory.path, arguments, launcher: launcher)
        try waitUntilServing()
    }

    private static func launch(_ base: String, _ arguments: [String], launcher: [String] = []) throws -> Background {
        let command = [Processes.executable("traced"), "--runtime-dir", base + "/run", "--state-dir", base + "/state",
                       "--log-level", "debug"] + arguments
        guard let program = launcher.first else { return try Background(command[0], Array(command.dropFirst())) }
        return try Background(program, Array(launcher.dropFirst()) + command)
    }

    /// Waits until traced says it listens (it has bound both sockets and
    /// watches them), then checks that `tracectl list` answers.
    package func waitUntilServing(seconds: Double = 20) throws {
        guard process.waitForError(containing: "listening on ", seconds: seconds) else {
            throw DaemonFailure(log: (process.isRunning ? "traced did not listen within \(seconds) s: " : "") + process.standardError)
        }
        let list = try tracectl(["list"])
        guard list.status == 0 else {
            throw DaemonFailure(log: "traced listens, but `tracectl list` failed: \(list.standardError)\n" + process.standardError)
        }
    }

    /// The environment a client of this daemon needs.
    package var clientEnvironment: [String: String] { ["TRACED_RUNTIME_DIR": runtime, "TRACED_DAEMON": "on"] }

    package func tracectl(_ arguments: [String]) throws -> ProcessResult {
        try Processes.run(Processes.executable("tracectl"), arguments, environment: ["TRACED_RUNTIME_DIR": runtime])
    }

    /// `tracectl ARGS --json`, decoded.
    package func json(_ arguments: [String]) throws -> Any {
        let result = try tracectl(arguments + ["--json"])
        guard result.status == 0 else { throw DaemonFailure(log: "tracectl \(arguments): \(result.standardError)") }
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    }

    /// A client process running the TraceFixture scenario `load`.
    package func client(_ options: [String: String]) throws -> Background {
        let arguments = ["load"] + options.sorted { $0.key < $1.key }.flatMap { ["--\($0.key)", $0.value] }
        return try Background(Processes.executable("TraceFixture"), arguments, environment: clientEnvironment)
    }

    /// Kills traced with SIGKILL: no chance to finish anything.
    package func kill() {
        process.kill(SIGKILL)
        process.wait()
    }

    /// Starts traced again on the same directories (after `kill` or
    /// `terminate`).
    package func restart() throws {
        process = try Self.launch(directory.path, extraArguments, launcher: launcher)
        try waitUntilServing()
    }

    /// SIGTERM, and its exit status.
    package func terminate() -> ProcessResult {
        process.kill(SIGTERM)
        return process.wait(seconds: 30)
    }

    package var log: String { process.standardError }

    deinit {
        if process.isRunning {
            process.kill(SIGKILL)
            process.wait()
        }
    }
}

package struct DaemonFailure: Error, CustomStringConvertible {
    package var log: String
    package init(log: String) { self.log = log }
    package var description: String { "traced failed: \(log)" }
}
