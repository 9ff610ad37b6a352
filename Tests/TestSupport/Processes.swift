import Foundation

/// What a finished child process left behind.
package struct ProcessResult: Sendable {
    package var status: Int32
    package var standardOutput: String
    package var standardError: String

    /// `key=value` lines of standard output.
    package var values: [String: String] {
        var values: [String: String] = [:]
        for line in standardOutput.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    package var lines: [String] { standardOutput.split(separator: "\n").map(String.init) }
}

/// Runs child processes for tests.
package enum Processes {
    /// The sanitizer the suite runs under (scripts/sanitize sets
    /// TRACED_TEST_SANITIZER), if any: a test whose load only has to be
    /// large enough may take less of it there, where everything runs
    /// several times slower.
    package static var sanitizer: String? { ProcessInfo.processInfo.environment["TRACED_TEST_SANITIZER"] }

    /// The directory of the running test binary, where SwiftPM also puts the
    /// package's executables (TraceFixture, tracectl).
    package static var buildDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    package static func executable(_ name: String) -> String { buildDirectory + "/" + name }

    /// Runs `path` with `arguments` to completion.
    package static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = childEnvironment(environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes are read to their end before waiting, so a chatty child
        // never blocks; on this thread, so what was read is simply there.
        let collected = ChildOutput()
        collected.read(output: out.fileHandleForReading, error: err.fileHandleForReading)
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             standardOutput: collected.standardOutput, standardError: collected.standardError)
    }

    /// The test's environment with `extra` added, for a child process. It
    /// never traces into a file, nor registers with a traced the machine
    /// may be running: tests that want a daemon start their own and say so.
    package static func childEnvironment(_ extra: [String: String]) -> [String: String] {
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "TRACED_FILE")
        merged["TRACED_DAEMON"] = "off"
        return merged.merging(extra) { $1 }
    }

    /// Runs the TraceFixture scenario with `--name value` options.
    package static func fixture(_ scenario: String, _ options: [String: String] = [:],
                                environment: [String: String] = [:]) throws -> ProcessResult {
        let arguments = [scenario] + options.sorted { $0.key < $1.key }.flatMap { ["--\($0.key)", $0.value] }
        return try run(executable("TraceFixture"), arguments, environment: environment)
    }

    /// `lz4 -t FILE`: whether the lz4 tool accepts the file, and what it said.
    package static func lz4Test(_ file: String) throws -> ProcessResult {
        try run("/usr/bin/lz4", ["-t", file])
    }
}
