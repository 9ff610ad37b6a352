import CTraceABI
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A streaming session's files: `000000.trace`, `000001.trace`, ... in the
/// session's directory. The file being written is `NNNNNN.trace.tmp`; when
/// it reaches `maxFileSize` it gets its end record, is fsynced and renamed,
/// so a rotated file is complete and self-contained before the next begins.
/// Beyond `maxFiles` (and `maxAge`) the oldest complete files are deleted.
///
/// A failed write (a full disk) suspends writing: the file being written is
/// cut back to its last whole frame and kept as a finished file without an
/// end record; records appended meanwhile are lost (and counted by the
/// session as "write failed"); every `retryInterval`, and once more at the
/// end, a new file is tried, whose preamble repeats every process and
/// metadata record and the drop counts the failure kept from the files,
/// and writing resumes once one can be written.
final class RotatingFiles: SessionOutput {
    private let directory: String
    private let session: String
    private let maxFileSize: UInt64
    private let maxFiles: Int
    private let maxAgeNanoseconds: UInt64
    private let framing: Framing
    private let trash: Trash
    private var index: UInt64 = 0
    private var current: (writer: TraceFileWriter, descriptor: FileDescriptor, path: String)?
    /// Complete files, oldest first, with the monotonic time they were closed.
    private var complete: [(path: String, bytes: UInt64, closed: UInt64)] = []
    private var totals = OutputStatistics()
    private(set) var failure: SessionStatus.WriteFailure?
    /// Writing is suspended after a failure until `retryAt` (CLOCK_MONOTONIC ns).
    private var suspended = false
    private var retryAt: UInt64 = 0
    static let retryInterval: UInt64 = 1_000_000_000

    var statistics: OutputStatistics {
        var now = totals
        now.bytesRaw = now.bytesRaw.saturatingAdd(UInt64(current?.writer.uncompressedBytes ?? 0))
        now.bytesCompressed = now.bytesCompressed.saturatingAdd(UInt64(current?.writer.compressedBytes ?? 0))
        return now
    }

    /// `maxFiles` and `maxAgeSeconds` are within `SessionConfig.Limit`.
    init(directory: String, session: String, maxFileSize: UInt64, maxFiles: Int, maxAgeSeconds: UInt64,
         firstIndex: UInt64 = 0, trash: Trash, framing: Framing) {
        self.directory = directory
        self.trash = trash
        self.session = session
        self.maxFileSize = maxFileSize
        self.maxFiles = maxFiles
        self.maxAgeNanoseconds = maxAgeSeconds.saturatingMultiply(1_000_000_000)
        self.framing = framing
        self.index = firstIndex
    }

    static func name(_ index: UInt64) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".trace"
    }

    private func open() {
        guard current == nil, !suspended else { return }
        let path = directory + "/" + Self.name(index) + ".tmp"
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
        } catch {
            suspend("cannot create '\(path)': \(error)")
            return
        }
        let header = FileHeader(createdRealtimeNanoseconds: tc_realtime_ns(), producer: "traced \(Version.current)",
                                session: session, fileIndex: index)
        // Frames close well before the file's size limit, so rotation is prompt.
        let writer = TraceFileWriter(descriptor: descriptor, header: header,
                                     frameTarget: Int(min(1 << 20, max(16 << 10, maxFileSize / 4))), writingBack: true)
        writer.frameWritten = framing.closed
        current = (writer, descriptor, path)
        totals.files += 1
        write { writer throws(TraceWriteError) in try writer.append(framing.preamble) }
    }

    func append(_ body: (inout ByteWriter) -> Void) {
        open()
        guard current != nil else {
            framing.settled(false)
            return
        }
        write { writer throws(TraceWriteError) in try writer.append(body) }
        if let current, UInt64(current.writer.compressedBytes) >= maxFileSize { rotate() }
    }

    /// Runs `body` on the current file's writer: settles what a frame it
    /// wrote took, or suspends writing if it failed.
    private func write(_ body: (TraceFileWriter) throws(TraceWriteError) -> Void) {
        guard let current else { return }
        let frames = current.writer.frames
        do {
            try body(current.writer)
        } catch {
            suspend("writing '\(current.path)' failed: \(error)")
            return
        }
        if current.writer.frames != frames { framing.settled(true) }
    }

    func flush(now: UInt64) {
        if suspended && now >= retryAt { resume() }
        write { writer throws(TraceWriteError) in try writer.flushFrame() }
        if let current, UInt64(current.writer.compressedBytes) >= maxFileSize { rotate() }
        retain(now: now)
        updateDisk()
    }

    /// Ends the current file and starts the next one (lazily, on the next append).
    private func rotate() {
        close()
        open()
        retain(now: tc_monotonic_ns())
    }

    private func close() {
        guard let current else { return }
        let frames = current.writer.frames
        do {
            try current.writer.append(framing.ending)
            try current.writer.finish()
            try current.descriptor.sync()
        } catch {
            suspend("finishing '\(current.path)' failed: \(error)")
            return
        }
        if current.writer.frames != frames { framing.settled(true) }
        keep(current)
    }

    /// Closes the current file and keeps its whole frames as the next
    /// complete file, renamed from `.tmp` (a file without a whole frame is
    /// deleted).
    private func keep(_ file: (writer: TraceFileWriter, descriptor: FileDescriptor, path: String)) {
        current = nil
        file.descriptor.close()
        totals.bytesRaw = totals.bytesRaw.saturatingAdd(UInt64(file.writer.uncompressedBytes))
        totals.bytesCompressed = totals.bytesCompressed.saturatingAdd(UInt64(file.writer.compressedBytes))
        guard file.writer.compressedBytes > 0 else {
            totals.files -= 1
            do {
                try FileSystem.unlink(file.path)
            } catch {
                // While suspended, the failure that suspended writing is the one shown.
                if !suspended { note("deleting '\(file.path)' failed: \(error)") }
            }
            return
        }
        let final = directory + "/" + Self.name(index)
        index += 1
        do {
            try FileSystem.rename(file.path, to: final)
            try FileSystem.syncDirectory(directory)
        } catch {
            if !suspended { note("keeping '\(file.path)' failed: \(error)") }
        }
        complete.append((final, UInt64(file.writer.compressedBytes), tc_monotonic_ns()))
    }

    /// A write failed: what is pending is lost, the file being written is
    /// cut back to its whole frames and kept, and nothing is written until
    /// a retry succeeds.
    private func suspend(_ message: String) {
        suspended = true
        note(message)
        retryAt = tc_monotonic_ns().saturatingAdd(Self.retryInterval)
        if let current {
            current.writer.discardPending()
            // A failed write may have left part of a frame.
            try? current.descriptor.truncate(to: current.writer.compressedBytes)
            keep(current)
        }
        framing.settled(false)
    }

    /// Remembers a failure for status; `resumed` while writing goes on.
    private func note(_ message: String) {
        failure = SessionStatus.WriteFailure(message: message, realtimeNanoseconds: tc_realtime_ns(), resumed: !suspended)
    }

    /// Tries a new file: its preamble written as a frame is the proof that
    /// writing works again.
    private func resume() {
        suspended = false
        open()
        write { writer throws(TraceWriteError) in try writer.flushFrame() }
        if !suspended { failure?.resumed = true }
    }

    /// Deletes complete files beyond the count and age limits.
    private func retain(now: UInt64) {
        while complete.count > max(0, maxFiles - (current == nil ? 0 : 1)) {
            remove(complete.removeFirst().path)
        }
        if maxAgeNanoseconds > 0 {
            while let oldest = complete.first, now.saturatingSubtract(oldest.closed) > maxAgeNanoseconds {
                remove(complete.removeFirst().path)
            }
        }
    }

    private func remove(_ path: String) {
        if trash.discard(path) { totals.filesDeleted += 1 }
    }

    /// Deletes the oldest complete file to make room under a disk quota;
    /// returns the bytes freed (0 if there is none).
    func evictOldest() -> UInt64 {
        guard !complete.isEmpty else { return 0 }
        let oldest = complete.removeFirst()
        remove(oldest.path)
        updateDisk()
        return oldest.bytes
    }

    private func updateDisk() {
        totals.diskBytes = complete.map(\.bytes).saturatingSum().saturatingAdd(UInt64(current?.writer.compressedBytes ?? 0))
    }

    func finish() {
        // Suspended by a failure: one more file is tried now, whatever the
        // retry interval, so that if space is back the session's last
        // counts (what the failure lost included) reach the files.
        if suspended { resume() }
        close()
        updateDisk()
    }

    var heldSince: UInt64 { .max }

    var position: WrittenPosition? {
        WrittenPosition(file: index, offset: UInt64(current?.writer.compressedBytes ?? 0))
    }

    func snapshot() -> TraceSnapshot {
        write { writer throws(TraceWriteError) in try writer.flushFrame() }
        return .files(complete.map(\.path) + (current.map { [$0.path] } ?? []))
    }
}
