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
    var statistics: OutputStatistics {
        var now = totals
        now.bytesCompressed &+= UInt64(current?.writer.compressedBytes ?? 0)
        return now
    }
    private(set) var failure: String?

    init(directory: String, session: String, maxFileSize: UInt64, maxFiles: Int, maxAgeSeconds: UInt64,
         firstIndex: UInt64 = 0, trash: Trash, framing: Framing) {
        self.directory = directory
        self.trash = trash
        self.session = session
        self.maxFileSize = maxFileSize
        self.maxFiles = maxFiles
        self.maxAgeNanoseconds = maxAgeSeconds * 1_000_000_000
        self.framing = framing
        self.index = firstIndex
    }

    static func name(_ index: UInt64) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".trace"
    }

    private func open() {
        guard current == nil, failure == nil else { return }
        let path = directory + "/" + Self.name(index) + ".tmp"
        do {
            let descriptor = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o640)
            let header = FileHeader(createdRealtimeNanoseconds: tc_realtime_ns(), producer: "traced \(Version.current)",
                                    session: session, fileIndex: index)
            // Frames close well before the file's size limit, so rotation is prompt.
            let writer = TraceFileWriter(descriptor: descriptor, header: header,
                                             frameTarget: Int(min(1 << 20, max(16 << 10, maxFileSize / 4))),
                                             writingBack: true)
            current = (writer, descriptor, path)
            totals.files += 1
            try writer.append(framing.preamble)
        } catch {
            failure = "cannot write '\(path)': \(error)"
        }
    }

    func append(_ body: (inout ByteWriter) -> Void) {
        open()
        guard let current, failure == nil else { return }
        let before = current.writer.uncompressedBytes + current.writer.pendingBytes
        do {
            try current.writer.append(body)
        } catch {
            failure = "writing '\(current.path)' failed: \(error)"
        }
        totals.bytesRaw &+= UInt64(max(0, current.writer.uncompressedBytes + current.writer.pendingBytes - before))
        if UInt64(current.writer.compressedBytes) >= maxFileSize { rotate() }
    }

    func flush(now: UInt64) {
        if let current, failure == nil {
            do {
                try current.writer.flushFrame()
            } catch {
                failure = "writing '\(current.path)' failed: \(error)"
            }
            if UInt64(current.writer.compressedBytes) >= maxFileSize { rotate() }
        }
        retain(now: now)
        updateDisk()
    }

    /// Ends the current file and starts the next one (lazily, on the next append).
    private func rotate() {
        close()
        index += 1
        open()
        retain(now: tc_monotonic_ns())
    }

    private func close() {
        guard let current else { return }
        self.current = nil
        let final = directory + "/" + Self.name(index)
        do {
            try current.writer.append(framing.ending)
            try current.writer.finish()
            try current.descriptor.sync()
            current.descriptor.close()
            try Syscall.call("rename", subject: current.path) { rename(current.path, final) }
            Self.syncDirectory(directory)
            complete.append((final, UInt64(current.writer.compressedBytes), tc_monotonic_ns()))
        } catch {
            current.descriptor.close()
            failure = failure ?? "finishing '\(current.path)' failed: \(error)"
        }
        totals.bytesCompressed &+= UInt64(current.writer.compressedBytes)
    }

    /// Deletes complete files beyond the count and age limits.
    private func retain(now: UInt64) {
        while complete.count > max(0, maxFiles - (current == nil ? 0 : 1)) {
            remove(complete.removeFirst().path)
        }
        if maxAgeNanoseconds > 0 {
            while let oldest = complete.first, now &- oldest.closed > maxAgeNanoseconds {
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
        totals.diskBytes = complete.reduce(0) { $0 + $1.bytes } + UInt64(current?.writer.compressedBytes ?? 0)
    }

    func finish() {
        close()
        updateDisk()
    }

    var heldSince: UInt64 { .max }

    func snapshot() -> TraceSnapshot {
        if let current {
            do {
                try current.writer.flushFrame()
            } catch {
                failure = failure ?? "writing '\(current.path)' failed: \(error)"
            }
        }
        return .files(complete.map(\.path) + (current.map { [$0.path] } ?? []))
    }

    /// `fsync(2)` on a directory, so a rename survives a crash.
    static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        Glibc.close(fd)
    }
}
