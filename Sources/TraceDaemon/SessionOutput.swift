import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem

/// Where a session's records go: rotating files (streaming) or a window
/// in memory (flight recorder).
protocol SessionOutput: AnyObject {
    /// Appends records. Every record appended is, sooner or later, either
    /// written or lost, and `Framing.settled` says which. A write failure
    /// is remembered, not thrown: the session keeps draining its clients
    /// (they must never block), counts what was lost as dropped ("write
    /// failed"), and shows the failure in its status.
    func append(_ body: (inout ByteWriter) -> Void)
    /// Closes the current frame (so readers and a crash see everything up
    /// to now) and applies size and age limits.
    func flush(now: UInt64)
    /// Writes the end and closes; afterwards `files` are complete.
    func finish()
    /// The complete trace so far, as paths to concatenate, or as bytes.
    func snapshot() -> TraceSnapshot
    var statistics: OutputStatistics { get }
    /// Where the records written so far end (streaming files only).
    var position: WrittenPosition? { get }
    /// The last write failure, and whether writing has resumed since.
    var failure: SessionStatus.WriteFailure? { get }
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

/// The records a session writes around its stream of batches, so that every
/// file decodes alone, with every timestamp between two clock syncs.
struct Framing {
    /// The first records of every new file (or flight recorder dump):
    /// clock syncs, process records and all metadata.
    let preamble: (inout ByteWriter) -> Void
    /// The last records before a file's end record: clock syncs (its last
    /// events are bracketed however short the file), drop counts, and for
    /// a flight recorder the ends of departed processes it still holds.
    let ending: (inout ByteWriter) -> Void
    /// Clock syncs alone: a flight recorder starts every frame with them,
    /// so the window it keeps has a sync before its first event.
    let clockSyncs: (inout ByteWriter) -> Void
    /// Everything appended since the last call was written (true: it is in
    /// a frame on disk, or in the flight recorder's window) or lost (false:
    /// a write failed, or writing is suspended after one).
    let settled: (_ written: Bool) -> Void
    /// A frame was closed: its compressed bytes, as written (before the
    /// `settled(true)` that counts what it holds). Viewers of the session
    /// get them (`Session.frameObserver`).
    let closed: (_ frame: ArraySlice<UInt8>) -> Void

    /// The first frame of a trace made from memory (a flight recorder's
    /// dump, a viewer's start): a file header, then `preamble`, compressed.
    static func firstFrame(session: String, preamble: (inout ByteWriter) -> Void, compressor: LZ4FrameCompressor) -> [UInt8] {
        var first = ByteWriter(capacity: 64 << 10)
        FileHeader(createdRealtimeNanoseconds: tc_realtime_ns(), producer: "traced \(Version.current)", session: session,
                   fileIndex: 0).encode(into: &first)
        preamble(&first)
        return first.bytes.withUnsafeBytes { Array(compressor.frame(of: $0)) }
    }
}
