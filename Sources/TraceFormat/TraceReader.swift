import CTraceABI
package import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Decodes trace files into their metadata tables and a stream of events.
///
/// One reader can read several files in turn (the files of a rotated
/// session); tables accumulate. Every problem becomes a `ReaderDiagnostic`
/// and reading goes on with what still decodes: a damaged frame is skipped,
/// a truncated tail ignored, a malformed batch kept up to its last good event.
package final class TraceReader {
    package private(set) var diagnostics: [ReaderDiagnostic] = []
    package private(set) var headers: [FileHeader] = []
    package private(set) var processes: [UInt32: ProcessRecord] = [:]
    package private(set) var threads: [ProcessScoped: ThreadRecord] = [:]
    package private(set) var strings: [ProcessScoped: String] = [:]
    package private(set) var stacks: [ProcessScoped: [UInt64]] = [:]
    /// For stacks with async frames: how many of their frames (the first
    /// ones) are from the thread's stack (StackRecord.syncDepth).
    package private(set) var stackSyncDepths: [ProcessScoped: Int] = [:]
    /// Stacks whose walk stopped at its bound (StackRecord.cut).
    package private(set) var cutStacks: Set<ProcessScoped> = []
    package private(set) var images: [UInt32: [ImageRecord]] = [:]
    package private(set) var clockSyncs: [ClockSync] = []
    /// The latest cumulative drop counts of each process.
    package private(set) var drops: [UInt32: DropCounts] = [:]
    package private(set) var processEnds: [UInt32: ProcessEnd] = [:]
    package private(set) var eventCount = 0
    package private(set) var batchCount = 0
    /// Files read that ended with an end record.
    package private(set) var finishedFiles = 0

    /// Largest frame content accepted: a damaged header must not make the
    /// reader allocate gigabytes. Writers close frames near 1 MiB.
    package static let maximumFrameContent = 64 << 20

    private let decompressor: LZ4FrameDecompressor
    private var unknownRecords: [UInt8: Int] = [:]
    private var unknownEvents: [UInt8: Int] = [:]
    private var reportedNewerMinor = false
    /// The path being read, named in diagnostics.
    private var currentFile = ""

    package init() {
        // Creating a context only fails when liblz4 cannot allocate it.
        guard let decompressor = try? LZ4FrameDecompressor() else {
            fatalError("liblz4 could not allocate a decompression context")
        }
        self.decompressor = decompressor
    }

    /// A string, thread or stack id within one process.
    package struct ProcessScoped: Hashable, Sendable {
        package var process: UInt32
        package var id: UInt64
        package init(_ process: UInt32, _ id: UInt64) {
            self.process = process
            self.id = id
        }
    }

    /// The string `id` of `process`, if the file defined it.
    package func string(_ process: UInt32, _ id: UInt32) -> String? {
        id == 0 ? "" : strings[ProcessScoped(process, UInt64(id))]
    }

    /// Where a batch record lies, for a reader that decodes batches later and
    /// in another order (TraceAnalysis merges them into one timeline).
    package struct BatchLocation: Sendable {
        /// Index of the file among those indexed.
        package var file: Int
        /// The frame holding the batch: its offset in the file and length.
        package var frameOffset: Int
        package var frameLength: Int
        /// The record's body (batch header and events) in the frame's content.
        package var body: Range<Int>
        package var process: UInt32
        package var thread: UInt32
        /// The ticks the batch's first event is a delta from: no event of
        /// the batch is earlier.
        package var baseTicks: UInt64
        /// A kernel batch (record 0x08): `thread` is `KernelThread.key(tid)`,
        /// `baseTicks` CLOCK_MONOTONIC nanoseconds.
        package var kernel = false
    }

    /// Batches found by `index(path:file:)`, in file order.
    package private(set) var batchIndex: [BatchLocation] = []

    /// What `records` does with a batch record.
    private enum BatchMode {
        case decode
        case skip
        case index(file: Int)
    }

    /// Reads the file at `path`.
    package func read(path: String, visit: (BatchHeader, RawEvent) -> Void) throws(SystemError) {
        currentFile = path
        defer { currentFile = "" }
        let mapping = try FileMapping(path: path)
        read(file: mapping.bytes, mode: .decode, release: mapping.release(below:), visit: visit)
        flushAggregates()
    }

    /// Reads one file's bytes, calling `visit` for every event in file order
    /// (context events are folded into the events' `swiftTask` and `task`).
    package func read(bytes: [UInt8], visit: (BatchHeader, RawEvent) -> Void) {
        bytes.withUnsafeBytes { read(file: $0, mode: .decode, visit: visit) }
        flushAggregates()
    }

    /// Reads the file at `path` for its metadata only (strings, threads,
    /// stacks, images, processes, syncs, drops), skipping batch records
    /// undecoded: a first pass for a reader that streams events but must
    /// name them: the format promises a file's metadata, not that each
    /// record comes before the first event that uses it (traced's writers
    /// order them so now; files of older ones may not). Memory grows with
    /// the metadata, not with the events.
    package func readMetadata(path: String) throws(SystemError) {
        currentFile = path
        defer { currentFile = "" }
        let mapping = try FileMapping(path: path)
        read(file: mapping.bytes, mode: .skip, release: mapping.release(below:)) { _, _ in }
        flushAggregates()
    }

    /// `readMetadata(path:)` on one file's bytes.
    package func readMetadata(bytes: [UInt8]) {
        bytes.withUnsafeBytes { read(file: $0, mode: .skip) { _, _ in } }
        flushAggregates()
    }

    /// `readMetadata` that also records where each batch lies
    /// (`batchIndex`), as file number `number`: the first pass of a reader
    /// that merges batches into time order. `name` is the file's name in
    /// diagnostics; `release(offset)` is told when the bytes below `offset`
    /// are no longer needed.
    package func index(_ bytes: UnsafeRawBufferPointer, number: Int, name: String, release: (Int) -> Void) {
        currentFile = name
        defer { currentFile = "" }
        read(file: bytes, mode: .index(file: number), release: release) { _, _ in }
        flushAggregates()
    }

    /// Reads the next whole frames of a trace as it is written (a watched
    /// session's, `tracectl top`): they continue what was read before, so
    /// they need not start with a file header nor end with an end record.
    /// Tables accumulate as for files.
    package func readContinuing(_ frames: UnsafeRawBufferPointer, visit: (BatchHeader, RawEvent) -> Void) {
        read(file: frames, mode: .decode, continuing: true, visit: visit)
    }

    /// `release(offset)` is told when the bytes below `offset` are no longer needed.
    private func read(file: UnsafeRawBufferPointer, mode: BatchMode, continuing: Bool = false, release: (Int) -> Void = { _ in },
                      visit: (BatchHeader, RawEvent) -> Void) {
        var offset = 0
        if !LZ4FrameDecompressor.startsFrame(file, at: 0) {
            guard let next = nextFrame(in: file, after: 0) else {
                report(0, .notATraceFile)
                return
            }
            report(0, .skippedBytes(next))
            offset = next
        }
        var first = !continuing
        var sawEnd = false
        while offset < file.count {
            let rest = UnsafeRawBufferPointer(rebasing: file[offset...])
            switch decompressor.decodeFrame(rest, maximumContent: Self.maximumFrameContent) {
            case .frame(let consumed, let content):
                let outcome = content.withUnsafeBytes {
                    records(in: $0, frame: offset..<offset + consumed, expectHeader: first, mode: mode, visit: visit)
                }
                first = false
                if outcome == .stop { return }
                if outcome == .sawEnd { sawEnd = true }
                offset += consumed
                release(offset)
            case .truncated:
                report(offset, .truncatedFrame(bytes: file.count - offset))
                offset = file.count
            case .corrupt(let reason):
                report(offset, .corruptFrame(reason))
                first = false
                guard let next = resynchronize(file, after: offset) else { offset = file.count; break }
                offset = next
            }
        }
        if sawEnd { finishedFiles += 1 } else if !continuing { report(file.count, .missingFileEnd) }
    }

    /// After a corrupt frame at `offset`: the next offset where a frame
    /// decodes, reporting the bytes skipped to reach it.
    private func resynchronize(_ file: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset
        while let next = nextFrame(in: file, after: candidate) {
            let rest = UnsafeRawBufferPointer(rebasing: file[next...])
            if case .frame = decompressor.decodeFrame(rest, maximumContent: Self.maximumFrameContent) {
                if next - offset > 0 { report(offset, .skippedBytes(next - offset)) }
                return next
            }
            candidate = next
        }
        report(offset, .skippedBytes(file.count - offset))
        return nil
    }

    private func nextFrame(in file: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var i = offset + 1
        while i + 4 <= file.count {
            if LZ4FrameDecompressor.startsFrame(file, at: i) { return i }
            i += 1
        }
        return nil
    }

    private enum FrameOutcome { case ok, sawEnd, stop }

    private func records(
        in content: UnsafeRawBufferPointer, frame: Range<Int>, expectHeader: Bool, mode: BatchMode,
        visit: (BatchHeader, RawEvent) -> Void
    ) -> FrameOutcome {
        let fileOffset = frame.lowerBound
        var r = ByteReader(content)
        var outcome = FrameOutcome.ok
        var isFirst = expectHeader
        while !r.isAtEnd {
            let kind: UInt8
            let payload: UnsafeRawBufferPointer
            do {
                kind = try r.byte("record kind")
                let length = try r.varint("record length")
                guard length <= UInt64(r.remaining) else {
                    throw DecodeError.invalid(field: "record length", value: length)
                }
                payload = try r.bytes(Int(length), "record")
            } catch {
                report(fileOffset, .malformedRecord(kind: 0, reason: "\(error)"))
                return outcome
            }
            if isFirst {
                isFirst = false
                if kind != UInt8(TC_REC_FILE_HEADER) {
                    report(fileOffset, .missingHeader)
                }
            }
            var body = ByteReader(payload)
            do {
                switch Int(kind) {
                case TC_REC_FILE_HEADER:
                    let header = try FileHeader(decoding: &body)
                    guard header.major == FormatVersion.major else {
                        report(fileOffset, .unsupportedVersion(major: header.major))
                        return .stop
                    }
                    if header.minor > FormatVersion.minor && !reportedNewerMinor {
                        reportedNewerMinor = true
                        report(fileOffset, .newerMinorVersion(header.minor))
                    }
                    headers.append(header)
                case TC_REC_PROCESS:
                    let process = try ProcessRecord(decoding: &body)
                    processes[process.process] = process
                case TC_REC_CLOCK_SYNC:
                    clockSyncs.append(try ClockSync(decoding: &body))
                case TC_REC_BATCH, TC_REC_KERNEL_BATCH:
                    let kernel = kind == UInt8(TC_REC_KERNEL_BATCH)
                    switch mode {
                    case .decode:
                        try batch(&body, kernel: kernel, fileOffset: fileOffset, visit: visit)
                    case .skip:
                        break
                    case .index(let file):
                        let header = try Self.batchHeader(&body, kernel: kernel)
                        let start = r.offset - payload.count
                        batchCount += 1
                        batchIndex.append(BatchLocation(
                            file: file, frameOffset: frame.lowerBound, frameLength: frame.count,
                            body: start..<r.offset, process: header.process, thread: header.thread,
                            baseTicks: header.baseTicks, kernel: kernel))
                    }
                case TC_REC_DROPS:
                    let counts = try DropCounts(decoding: &body)
                    drops[counts.process] = counts
                case TC_REC_PROCESS_END:
                    let end = try ProcessEnd(decoding: &body)
                    processEnds[end.process] = end
                case TC_REC_FILE_END:
                    outcome = .sawEnd
                case TC_REC_STRING, TC_REC_THREAD, TC_REC_STACK, TC_REC_IMAGE:
                    let process = try body.varint32("process")
                    metadata(try MetadataRecord(kind: kind, decodingBody: &body), process: process)
                default:
                    unknownRecords[kind, default: 0] += 1
                }
            } catch {
                report(fileOffset, .malformedRecord(kind: kind, reason: "\(error)"))
            }
        }
        return outcome
    }

    private func metadata(_ record: MetadataRecord, process: UInt32) {
        switch record {
        case .string(let string): strings[ProcessScoped(process, UInt64(string.id))] = string.value
        case .thread(let thread): threads[ProcessScoped(process, UInt64(thread.index))] = thread
        case .stack(let stack):
            stacks[ProcessScoped(process, UInt64(stack.id))] = stack.frames
            if stack.syncDepth < stack.frames.count { stackSyncDepths[ProcessScoped(process, UInt64(stack.id))] = stack.syncDepth }
            if stack.cut { cutStacks.insert(ProcessScoped(process, UInt64(stack.id))) }
        case .image(let image):
            if !(images[process]?.contains(image) ?? false) { images[process, default: []].append(image) }
        }
    }

    /// The header of a batch record, or of a kernel batch record as a batch's.
    package static func batchHeader(_ body: inout ByteReader, kernel: Bool) throws(DecodeError) -> BatchHeader {
        kernel ? try KernelBatchHeader(decoding: &body).batch : try BatchHeader(decoding: &body)
    }

    /// The next event of a batch's body, with the decoder of its record.
    @inline(__always)
    package static func nextEvent(_ body: inout ByteReader, _ state: inout EventState, kernel: Bool) throws(DecodeError)
        -> RawEvent {
        kernel ? try KernelEventDecoder.next(&body, &state) : try EventDecoder.next(&body, &state)
    }

    private func batch(_ body: inout ByteReader, kernel: Bool, fileOffset: Int, visit: (BatchHeader, RawEvent) -> Void)
        throws(DecodeError) {
        let header = try Self.batchHeader(&body, kernel: kernel)
        batchCount += 1
        var state = header.initialState
        var kept = 0
        var eventStart = body.offset
        while !body.isAtEnd {
            var event: RawEvent
            let start = body.offset
            do {
                event = try Self.nextEvent(&body, &state, kernel: kernel)
            } catch {
                report(fileOffset, .malformedEvents(reason: "\(error)", keptEvents: kept, lostBytes: body.base.count - start))
                return
            }
            event.encodedSize = UInt32(clamping: body.offset - eventStart)
            switch event.kind {
            case .context:
                continue
            case .extension(let tag):
                unknownEvents[tag, default: 0] += 1
                eventStart = body.offset
            default:
                kept += 1
                eventCount += 1
                visit(header, event)
            }
            eventStart = body.offset
        }
    }

    private func report(_ offset: Int, _ problem: ReaderDiagnostic.Problem) {
        diagnostics.append(ReaderDiagnostic(file: currentFile, fileOffset: offset, problem: problem))
    }

    private func flushAggregates() {
        for (kind, count) in unknownRecords.sorted(by: { $0.key < $1.key }) {
            report(0, .unknownRecord(kind: kind, count: count))
        }
        for (kind, count) in unknownEvents.sorted(by: { $0.key < $1.key }) {
            report(0, .unknownEvent(kind: kind, count: count))
        }
        unknownRecords = [:]
        unknownEvents = [:]
    }
}
