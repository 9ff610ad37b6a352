import TraceFormat
import TraceSystem

/// Where a session's records go: rotating files (streaming) or a window
/// in memory (flight recorder).
protocol SessionOutput: AnyObject {
    /// Appends records. A write failure is remembered, not thrown: the
    /// session keeps draining its clients (they must never block), counts
    /// what it could not write, and reports the failure in its status.
    func append(_ body: (inout ByteWriter) -> Void)
    /// Closes the current frame (so readers and a crash see everything up
    /// to now) and applies size and age limits.
    func flush(now: UInt64)
    /// Writes the end and closes; afterwards `files` are complete.
    func finish()
    /// The complete trace so far, as paths to concatenate, or as bytes.
    func snapshot() -> TraceSnapshot
    var statistics: OutputStatistics { get }
    var failure: String? { get }
    /// Records appended before this instant (CLOCK_MONOTONIC ns) are no
    /// longer held, so no future file needs what they referred to. Rotating
    /// files: every record is on disk at once (`UInt64.max`).
    var heldSince: UInt64 { get }
}

struct OutputStatistics: Equatable, Sendable {
    var bytesRaw: UInt64 = 0
    var bytesCompressed: UInt64 = 0
    var files: UInt64 = 0
    var filesDeleted: UInt64 = 0
    var diskBytes: UInt64 = 0
}

/// What `fetch` streams: files (each a complete trace file, the last
/// possibly still being written: read up to its current size) or bytes.
enum TraceSnapshot {
    case files([String])
    case bytes([UInt8])
}

/// Writes the first records of every new file of a session: its clock
/// sync, process records and all metadata, so each file decodes alone.
typealias Preamble = (inout ByteWriter) -> Void
