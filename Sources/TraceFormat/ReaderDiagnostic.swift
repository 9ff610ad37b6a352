/// Something a reader skipped, and why. Readers never stop at the first
/// problem: they report it and go on with what they can still decode.
package struct ReaderDiagnostic: Hashable, Sendable, CustomStringConvertible {
    package enum Problem: Hashable, Sendable {
        /// The bytes do not start with an LZ4 frame: not a trace file.
        case notATraceFile
        /// A frame failed to decode (bad header, block or checksum); the
        /// reader looked for the next frame after it.
        case corruptFrame(String)
        /// The file ends inside a frame (for example, cut short by a crash).
        case truncatedFrame(bytes: Int)
        /// Bytes between frames that are not a frame, skipped.
        case skippedBytes(Int)
        /// The file was written by an incompatible major version.
        case unsupportedVersion(major: UInt64)
        /// The file is of a newer minor version: unknown kinds are skipped.
        case newerMinorVersion(UInt64)
        /// No file header record was found where the file begins.
        case missingHeader
        /// A record of a kind this reader does not know, skipped (count).
        case unknownRecord(kind: UInt8, count: Int)
        /// A record whose payload did not decode, skipped.
        case malformedRecord(kind: UInt8, reason: String)
        /// A batch's events stopped decoding; the events before were kept.
        case malformedEvents(reason: String, keptEvents: Int, lostBytes: Int)
        /// Extension events of a kind this reader does not know (count).
        case unknownEvent(kind: UInt8, count: Int)
        /// The file has no end record: its writer did not finish it.
        case missingFileEnd
        /// Events of `process` timed outside the session (`SessionWindow`:
        /// a client scribbled their timestamps), left out of the timeline.
        case outsideSession(process: UInt32, count: Int)
    }

    /// The file's path (empty when the reader was given bytes).
    package var file: String
    /// Offset in the file of the frame where the problem was found.
    package var fileOffset: Int
    package var problem: Problem

    package init(file: String = "", fileOffset: Int, problem: Problem) {
        self.file = file
        self.fileOffset = fileOffset
        self.problem = problem
    }

    package var description: String {
        let at = file.isEmpty ? "at byte \(fileOffset)" : "at byte \(fileOffset) of \(file)"
        switch problem {
        case .notATraceFile: return "not a trace file: no LZ4 frame \(at)"
        case .corruptFrame(let reason): return "corrupt frame \(at) skipped: \(reason)"
        case .truncatedFrame(let bytes): return "truncated frame \(at) ignored (\(bytes) bytes; the writer stopped mid-frame)"
        case .skippedBytes(let count): return "\(count) bytes that are not a frame skipped \(at)"
        case .unsupportedVersion(let major): return "format version \(major) is not supported by this reader (it reads version \(FormatVersion.major))"
        case .newerMinorVersion(let minor): return "file is format \(FormatVersion.major).\(minor), newer than this reader's \(FormatVersion.major).\(FormatVersion.minor): unknown kinds are skipped"
        case .missingHeader: return "no file header \(at)"
        case .unknownRecord(let kind, let count): return "\(count) record(s) of unknown kind 0x\(String(kind, radix: 16)) skipped"
        case .malformedRecord(let kind, let reason): return "malformed record of kind 0x\(String(kind, radix: 16)) \(at) skipped: \(reason)"
        case .malformedEvents(let reason, let kept, let lost): return "events of a batch \(at) stop decoding (\(reason)): kept \(kept), skipped \(lost) bytes"
        case .unknownEvent(let kind, let count): return "\(count) event(s) of unknown extension kind 0x\(String(kind, radix: 16)) skipped"
        case .missingFileEnd: return "\(file.isEmpty ? "file" : file) has no end record: its writer did not finish it"
        case .outsideSession(let process, let count):
            return "\(count) event(s) of process \(process) timed more than \(SessionWindow.margin / 1_000_000_000) s outside "
                + "the session's clock syncs left out of the timeline (scribbled timestamps)"
        }
    }

    /// Problems after which nothing more of the file can be read.
    package var isFatal: Bool {
        switch problem {
        case .notATraceFile, .unsupportedVersion: true
        default: false
        }
    }
}
