import Foundation

/// A child process running while the test goes on; its output collected.
package final class Background: @unchecked Sendable {
    // Sendable: `output` is Sendable; `process` is only used from the
    // test's thread.
    private let process = Process()
    private let output = ChildOutput()

    package init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = Processes.childEnvironment(environment)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = self.output
        Thread { output.read(output: out.fileHandleForReading, error: err.fileHandleForReading) }.start()
    }

    package var pid: Int32 { process.processIdentifier }
    package var isRunning: Bool { process.isRunning }
    package var standardOutput: String { output.standardOutput }
    package var standardError: String { output.standardError }
    /// The complete lines of its standard output so far.
    package var lines: [String] { output.lines }

    /// Waits for `line` to appear in its output (true), or for it to end
    /// without it, or for `seconds`.
    package func waitFor(line: String, seconds: Double = 20) -> Bool {
        output.wait(seconds: seconds) { $0.contains(line) }
    }

    /// Waits until `satisfied` holds for the lines of its output so far
    /// (true), or for it to end without that, or for `seconds`. Wakes at
    /// each output, never on a timer.
    package func waitForOutput(seconds: Double = 30, until satisfied: ([String]) -> Bool) -> Bool {
        output.wait(seconds: seconds, until: satisfied)
    }

    /// Waits until standard error contains `text` (true), or for it to end
    /// without it, or for `seconds`.
    package func waitForError(containing text: String, seconds: Double = 20) -> Bool {
        output.waitForError(containing: text, seconds: seconds)
    }

    /// Waits for it to exit (after `seconds`, SIGKILL): its output ends when
    /// it exits, and all of it has been read by then.
    @discardableResult
    package func wait(seconds: Double = 60) -> ProcessResult {
        if !output.waitForEnd(seconds: seconds) {
            kill(SIGKILL)
            _ = output.waitForEnd(seconds: .infinity)
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus, standardOutput: standardOutput, standardError: standardError)
    }

    package func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        // Even when it has exited: Foundation's Process and its run loop
        // source hold each other until someone waits, and a Process nobody
        // waited for was never freed (LeakSanitizer found two per run).
        process.waitUntilExit()
    }
}
