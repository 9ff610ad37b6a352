import Foundation
import Synchronization

/// A child process running while the test goes on; its output collected.
package final class Background: @unchecked Sendable {
    // Sendable: `output` and `errors` are Mutexes; `process` is only used
    // from the test's thread.
    private let process = Process()
    private final class Collector: Sendable {
        let text = Mutex<String>("")
    }
    private let output = Collector()
    private let errors = Collector()
    private let readers: [Thread]

    package init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = Processes.childEnvironment(environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = self.output, errors = self.errors
        readers = [
            Thread { Background.collect(out.fileHandleForReading, into: output) },
            Thread { Background.collect(err.fileHandleForReading, into: errors) },
        ]
        readers.forEach { $0.start() }
    }

    private static func collect(_ handle: FileHandle, into collector: Collector) {
        while true {
            let data = handle.availableData
            if data.isEmpty { return }
            collector.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
    }

    package var pid: Int32 { process.processIdentifier }
    package var isRunning: Bool { process.isRunning }
    package var standardOutput: String { output.text.withLock { $0 } }
    package var standardError: String { errors.text.withLock { $0 } }
    package var lines: [String] { standardOutput.split(separator: "\n").map(String.init) }

    /// Waits for `line` to appear in its output (true), or for `seconds`.
    package func waitFor(line: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if lines.contains(line) { return true }
            if !process.isRunning && !lines.contains(line) { usleep(20_000); return lines.contains(line) }
            usleep(5_000)
        }
        return false
    }

    /// Waits for it to exit (at most `seconds`, then SIGKILL).
    @discardableResult
    package func wait(seconds: Double = 60) -> ProcessResult {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(SIGKILL) }
        process.waitUntilExit()
        while readers.contains(where: { !$0.isFinished }) { usleep(1_000) }
        return ProcessResult(status: process.terminationStatus, standardOutput: standardOutput, standardError: standardError)
    }

    package func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
