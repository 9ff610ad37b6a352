import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a child process writes on its standard output and error, read
/// from both pipes through poll(2) until both end.
///
/// One thread reads (`read`); any other may look at what came so far or
/// wait until it says something (`wait`). Every look and every wait goes
/// through `condition`, so what a reader saw happens-before what a waiter
/// sees (ThreadSanitizer checks this), and a waiter wakes when output
/// arrives, not when a clock says so.
final class ChildOutput: @unchecked Sendable {
    // Sendable: every stored `var` is read and written with `condition` locked.
    private let condition = NSCondition()
    private var output: [UInt8] = []
    private var errors: [UInt8] = []
    /// The complete lines of `output` so far (and, once it ended, its
    /// unterminated last line): a line being written is never seen half.
    private var completeLines: [String] = []
    private var lineStart = 0
    private var ended = false

    init() {}

    var standardOutput: String { condition.withLock { String(decoding: output, as: UTF8.self) } }
    var standardError: String { condition.withLock { String(decoding: errors, as: UTF8.self) } }
    var lines: [String] { condition.withLock { completeLines } }

    /// Reads the pipes `output` and `error` (read ends, closed here at their
    /// end) until both end, on the calling thread.
    func read(output: FileHandle, error: FileHandle) {
        var watched = [pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: error.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        // poll skips entries whose descriptor is negative: an ended pipe.
        while watched.contains(where: { $0.fd >= 0 }) {
            if poll(&watched, nfds_t(watched.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in watched.indices where watched[index].fd >= 0 && watched[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(watched[index].fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                guard count > 0 else {
                    watched[index].fd = -1
                    continue
                }
                append(chunk[..<count], toErrors: index == 1)
            }
        }
        try? output.close()
        try? error.close()
        condition.withLock {
            if lineStart < self.output.count { completeLines.append(String(decoding: self.output[lineStart...], as: UTF8.self)) }
            lineStart = self.output.count
            ended = true
            condition.broadcast()
        }
    }

    private func append(_ bytes: ArraySlice<UInt8>, toErrors: Bool) {
        condition.withLock {
            if toErrors {
                errors.append(contentsOf: bytes)
            } else {
                output.append(contentsOf: bytes)
                while let newline = output[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                    completeLines.append(String(decoding: output[lineStart..<newline], as: UTF8.self))
                    lineStart = newline + 1
                }
            }
            condition.broadcast()
        }
    }

    /// Waits until `satisfied` holds for the complete lines of standard
    /// output (true), or until the output ended or `seconds` passed without
    /// it (false). `seconds` is a limit for a child that hangs, not a guess
    /// at how long it takes.
    func wait(seconds: Double, until satisfied: ([String]) -> Bool) -> Bool {
        waitLocked(seconds: seconds) { satisfied(completeLines) }
    }

    /// Waits until standard error contains `text` (true), or until the
    /// output ended or `seconds` passed without it (false).
    func waitForError(containing text: String, seconds: Double) -> Bool {
        waitLocked(seconds: seconds) { String(decoding: errors, as: UTF8.self).contains(text) }
    }

    /// Waits until both pipes ended (true), or `seconds` passed (false).
    func waitForEnd(seconds: Double) -> Bool {
        waitLocked(seconds: seconds) { ended }
    }

    /// Evaluates `satisfied` with `condition` locked, again at every change
    /// (`seconds` may be infinite).
    private func waitLocked(seconds: Double, _ satisfied: () -> Bool) -> Bool {
        let deadline = seconds.isFinite ? Date().addingTimeInterval(seconds) : nil
        return condition.withLock {
            while true {
                if satisfied() { return true }
                if ended { return false }
                if let deadline {
                    if !condition.wait(until: deadline) { return satisfied() }
                } else {
                    condition.wait()
                }
            }
        }
    }
}
