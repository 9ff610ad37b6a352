import Foundation

/// Runs `body` until it returns true (true), at most `seconds` (false):
/// how a test waits for what another process does.
package func eventually(_ seconds: Double = 20, _ body: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try body() { return true }
        usleep(20_000)
    }
    return false
}
