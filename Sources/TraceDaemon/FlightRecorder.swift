import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A flight-recorder session's output: compressed frames kept in memory,
/// the oldest dropped beyond `windowBytes` (and, if set, `windowSeconds`).
/// Nothing is written until stop (or fetch): then a file is made of a
/// fresh first frame — header, clock sync, process records and every
/// metadata record, since the frames that defined them may be gone — then
/// the frames still in the window (each starting with clock syncs), then a
/// last frame: clock syncs, drop counts, the ends of the processes that
/// left, and the end record.
final class FlightRecorder: SessionOutput {
    private let session: String
    private let windowBytes: UInt64
    private let windowNanoseconds: UInt64
    private let framing: Framing
    private let compressor: LZ4FrameCompressor
    private var pending = ByteWriter(capacity: 1 << 20)
    /// The clock syncs a frame starts with: a frame of only these is not
    /// worth closing.
    private var openingBytes = 0
    private var frames: [(bytes: [UInt8], closed: UInt64)] = []
    private var frameStart = 0
    private var heldBytes: UInt64 = 0
    private var totals = OutputStatistics()
    private(set) var failure: SessionStatus.WriteFailure?
    private let directory: String
    private var written: String?

    /// `holdLonger`: nanoseconds kept beyond `windowSeconds` (when that is
    /// set), so that a snapshot taken up to that long after a slow task's
    /// end still holds `windowSeconds` before it.
    init(directory: String, session: String, windowBytes: UInt64, windowSeconds: UInt64, holdLonger: UInt64 = 0,
         framing: Framing) {
        self.directory = directory
        self.session = session
        self.windowBytes = windowBytes
        self.windowNanoseconds = windowSeconds == 0 ? 0 : windowSeconds.saturatingMultiply(1_000_000_000).saturatingAdd(holdLonger)
        self.framing = framing
        self.compressor = LZ4FrameCompressor()
    }

    var position: WrittenPosition? { nil }

    var statistics: OutputStatistics {
        var now = totals
        now.bytesCompressed = heldBytes
        return now
    }

    func append(_ body: (inout ByteWriter) -> Void) {
        let before = pending.count
        body(&pending)
        totals.bytesRaw = totals.bytesRaw.saturatingAdd(UInt64(pending.count - before))
        // Frames of ~1/16 of the window keep eviction fine-grained.
        if pending.count >= Int(min(1 << 20, max(16 << 10, windowBytes / 16))) { closeFrame(now: tc_monotonic_ns()) }
    }

    private func closeFrame(now: UInt64) {
        guard pending.count > openingBytes else { return }
        let frame = pending.bytes.withUnsafeBytes { Array(compressor.frame(of: $0)) }
        framing.closed(frame[...])
        frames.append((frame, now))
        heldBytes &+= UInt64(frame.count)
        pending.removeAll()
        // In the window: written, as far as this session's counts go.
        framing.settled(true)
        framing.clockSyncs(&pending)
        openingBytes = pending.count
        evict(now: now)
    }

    /// When the oldest frame held began: the close of the last one dropped.
    private(set) var heldSince: UInt64 = 0

    /// When the oldest task a snapshot trigger watches began
    /// (CLOCK_MONOTONIC ns), if any: frames closed after it are not dropped
    /// for their age, so that its snapshot holds it whole (`--window` still
    /// bounds the bytes). Asked only when a frame is old enough to go.
    var holdSince: (() -> UInt64?)?

    private func evict(now: UInt64) {
        // `holdSince` asked at most once an eviction, and only when age
        // would drop a frame.
        var asked = false
        var hold = UInt64.max
        while frameStart < frames.count {
            let closed = frames[frameStart].closed
            if heldBytes <= windowBytes {
                guard windowNanoseconds > 0, now.saturatingSubtract(closed) > windowNanoseconds else { break }
                if !asked {
                    asked = true
                    hold = holdSince?() ?? .max
                }
                guard closed < hold else { break }
            }
            heldSince = closed
            heldBytes &-= UInt64(frames[frameStart].bytes.count)
            frames[frameStart].bytes = []
            frameStart += 1
        }
        if frameStart > 64 && frameStart * 2 > frames.count {
            frames.removeFirst(frameStart)
            frameStart = 0
        }
    }

    func flush(now: UInt64) {
        closeFrame(now: now)
        evict(now: now)
    }

    /// The window as one trace file's bytes.
    private func dump() -> [UInt8] {
        closeFrame(now: tc_monotonic_ns())
        var end = ByteWriter(capacity: 4096)
        framing.ending(&end)
        end.record(Int(TC_REC_FILE_END)) { $0.varint(UInt64(frames.count - frameStart + 2)) }
        var out = Framing.firstFrame(session: session, preamble: framing.preamble, compressor: compressor)
        for frame in frames[frameStart...] { out += frame.bytes }
        out += end.bytes.withUnsafeBytes { compressor.frame(of: $0) }
        return out
    }

    /// The window now, as one trace file's bytes (a triggered snapshot).
    func window() -> [UInt8] { dump() }

    /// Writes the window to `000000.trace` in the session's directory. If
    /// that fails (a full disk), the window is lost: the failure is in the
    /// status and no partial file is left.
    func finish() {
        guard written == nil else { return }
        let bytes = dump()
        let path = directory + "/" + RotatingFiles.name(0)
        do {
            try FileSystem.replace(path, with: bytes, durable: true)
            try FileSystem.syncDirectory(directory)
            written = path
            totals.files = 1
            totals.diskBytes = UInt64(bytes.count)
        } catch {
            failure = SessionStatus.WriteFailure(message: "writing '\(path)' failed: \(error)",
                                                 realtimeNanoseconds: tc_realtime_ns(), resumed: false)
        }
        frames = []
        frameStart = 0
        heldBytes = UInt64(bytes.count)
    }

    func snapshot() -> TraceSnapshot {
        if let written { return .files([written]) }
        return .bytes(dump())
    }
}
