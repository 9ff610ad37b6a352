/// A request the daemon refused, as it travels in an error reply. Its code
/// decides `tracectl`'s exit status (docs/protocol.md, "Errors").
package enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRequest(String)
    case unknownSession(String)
    case sessionExists(String)
    case permissionDenied(String)
    case limitReached(String)
    /// Carries the version traced speaks (it sends this error).
    case unsupportedVersion(UInt64)
    case failed(String)

    package var code: UInt64 {
        switch self {
        case .invalidRequest: 1
        case .unknownSession: 2
        case .sessionExists: 3
        case .permissionDenied: 4
        case .limitReached: 5
        case .unsupportedVersion: 6
        case .failed: 7
        }
    }

    package init(code: UInt64, message: String) {
        switch code {
        case 1: self = .invalidRequest(message)
        case 2: self = .unknownSession(message)
        case 3: self = .sessionExists(message)
        case 4: self = .permissionDenied(message)
        case 5: self = .limitReached(message)
        case 6: self = .unsupportedVersion(UInt64(message) ?? 0)
        default: self = .failed(message)
        }
    }

    package var message: String {
        switch self {
        case .invalidRequest(let text), .unknownSession(let text), .sessionExists(let text),
             .permissionDenied(let text), .limitReached(let text), .failed(let text):
            text
        case .unsupportedVersion(let version): "\(version)"
        }
    }

    package var description: String {
        switch self {
        case .invalidRequest(let text): "invalid request: \(text)"
        case .unknownSession(let name): "no session '\(name)' (list them with `tracectl list`)"
        case .sessionExists(let name): "a session '\(name)' already exists (pick another name, or stop it first)"
        case .permissionDenied(let text): "permission denied: \(text)"
        case .limitReached(let text): text
        case .unsupportedVersion(let version): "traced speaks protocol \(version), this program \(ProtocolVersion.control): update tracectl or traced so they match"
        case .failed(let text): text
        }
    }
}
