import CTraceABI
package import TraceSystem

/// Writes one trace file: records, buffered and compressed into LZ4 frames.
///
/// A frame always ends at a record boundary and is written whole, so a
/// file cut short decodes up to its last complete frame. `flushFrame()` ends
/// the current frame early (writers call it on a timer and on stop, which
/// bounds what a crash can lose).
package final class TraceFileWriter {
    package let descriptor: FileDescriptor
    /// A frame is closed once this many uncompressed bytes are pending.
    package let frameTarget: Int
    private var pending: ByteWriter
    private let compressor: LZ4FrameCompressor
    /// Bytes written to the descriptor (compressed).
    package private(set) var compressedBytes = 0
    /// Record bytes handed to the compressor (uncompressed).
    package private(set) var uncompressedBytes = 0
    package private(set) var frames = 0
    package private(set) var finished = false
    /// Whether each frame's pages are sent to disk as soon as it is written,
    /// and dropped from the page cache a frame later.
    private var writesBack: Bool
    /// Whether pages of written frames are still dropped (until that fails).
    private var dropsPages = true
    /// Where the last frame written starts in the file.
    private var previousFrameStart = 0
    /// Told each frame's compressed bytes once they are written.
    package var frameWritten: ((ArraySlice<UInt8>) -> Void)?

    /// Starts a file on `descriptor` with `header` as its first record.
    ///
    /// With `writingBack`, each frame's writeback starts right after its
    /// write (`sync_file_range`, not waiting): otherwise a file's dirty pages
    /// stay in the page cache until the fsync that ends it, which then
    /// writes the whole file at once (~20 ms for 64 MiB here), and the
    /// daemon's single thread drains nothing meanwhile.
    package init(
        descriptor: FileDescriptor, header: FileHeader, frameTarget: Int = 1 << 20, writingBack: Bool = false
    ) {
        self.descriptor = descriptor
        self.frameTarget = frameTarget
        self.writesBack = writingBack
        self.compressor = LZ4FrameCompressor()
        self.pending = ByteWriter(capacity: frameTarget + (64 << 10))
        header.encode(into: &pending)
    }

    /// Appends records built by `body`; closes the frame if it is big enough.
    package func append(_ body: (inout ByteWriter) -> Void) throws(TraceWriteError) {
        body(&pending)
        if pending.count >= frameTarget {
            try flushFrame()
        }
    }

    /// Uncompressed bytes waiting for the next frame.
    package var pendingBytes: Int { pending.count }

    /// Forgets what is pending (after a failed write: the caller counts
    /// what it held as lost). The file stays `compressedBytes` of whole
    /// frames once the caller truncates what a failed write left.
    package func discardPending() {
        pending.removeAll()
    }

    /// Compresses what is pending into one frame and writes it.
    package func flushFrame() throws(TraceWriteError) {
        guard !pending.isEmpty else { return }
        let raw = pending.count
        let frame = pending.bytes.withUnsafeBufferPointer { compressor.frame(of: UnsafeRawBufferPointer($0)) }
        do throws(SystemError) {
            try frame.withUnsafeBufferPointer { (bytes) throws(SystemError) in
                try descriptor.writeAll(UnsafeRawBufferPointer(bytes))
            }
        } catch {
            throw .write(error)
        }
        if writesBack {
            do {
                try descriptor.startWriteback(offset: compressedBytes, length: frame.count)
            } catch {
                // Not a file (ESPIPE), or a file system without it: the
                // frame is written; the final fsync does all the work.
                writesBack = false
            }
            if writesBack && dropsPages {
                // The frames before the previous one have had a frame's
                // time to reach the disk: drop their pages. If it fails
                // (a seccomp filter), they stay cached, as they would.
                do { try descriptor.dropCachedPages(offset: 0, length: previousFrameStart) } catch { dropsPages = false }
            }
        }
        frameWritten?(frame)
        previousFrameStart = compressedBytes
        compressedBytes += frame.count
        uncompressedBytes += raw
        frames += 1
        pending.removeAll()
    }

    /// Writes the end-of-file record and the last frame. The caller closes
    /// (and, for files it owns, fsyncs) the descriptor.
    package func finish() throws(TraceWriteError) {
        guard !finished else { return }
        pending.record(Int(TC_REC_FILE_END)) { $0.varint(UInt64(frames + 1)) }
        try flushFrame()
        finished = true
    }
}

/// Why a trace file could not be written.
package enum TraceWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    case write(SystemError)

    package var description: String {
        switch self {
        case .write(let error): "\(error)"
        }
    }
}
