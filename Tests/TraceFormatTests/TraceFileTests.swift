import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceFormat
import TraceSystem

/// Files written with TraceFileWriter, damaged in the ways real files are,
/// read back with TraceReader and checked with the lz4 tool.
@Suite struct TraceFileTests {
    /// A file of `frames` frames; frame f holds one batch of `perFrame`
    /// counters "n" with values f * perFrame ..< (f + 1) * perFrame.
    static func writeFile(at path: String, frames: Int, perFrame: Int, finish: Bool = true,
                          header: FileHeader? = nil, extra: ((inout ByteWriter) -> Void)? = nil) throws {
        let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { fd.close() }
        let writer = TraceFileWriter(
            descriptor: fd,
            header: header ?? FileHeader(createdRealtimeNanoseconds: 1, producer: "test", session: "s", fileIndex: 0))
        try writer.append { w in
            ProcessRecord(process: 1, pid: 42, uid: 0, name: "writer", clockKind: UInt32(TC_CLOCK_MONOTONIC_NS),
                          nominalTicksPerSecond: 1_000_000_000).encode(into: &w)
            MetadataRecord.string(StringRecord(id: 1, value: "n")).encode(process: 1, into: &w)
            MetadataRecord.thread(ThreadRecord(index: 1, tid: 4242, name: "main")).encode(process: 1, into: &w)
            extra?(&w)
        }
        for frame in 0..<frames {
            var events = EventEncoding()
            for i in 0..<perFrame { events.counter(dt: 1, name: 1, value: Int64(frame * perFrame + i)) }
            let batch = BatchHeader(process: 1, thread: 1, chunkSequence: UInt32(frame), segmentOffset: 0,
                                    baseTicks: UInt64(frame * 1000), regionSequence: 0, swiftTask: 0, droppedBefore: 0)
            try writer.append { w in events.bytes.withUnsafeBytes { batch.encode(events: $0, into: &w) } }
            try writer.flushFrame()
        }
        if finish { try writer.finish() }
    }

    /// Counter values in file order, and the reader that read them.
    static func read(_ bytes: [UInt8]) -> (values: [Int64], reader: TraceReader) {
        let reader = TraceReader()
        var values: [Int64] = []
        reader.read(bytes: bytes) { _, event in values.append(event.integerValue) }
        return (values, reader)
    }

    static func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Start offsets of the LZ4 frames (their magic numbers).
    static func frameOffsets(_ bytes: [UInt8]) -> [Int] {
        (0..<max(0, bytes.count - 3)).filter { bytes[$0..<$0 + 4] == [0x04, 0x22, 0x4D, 0x18] }
    }

    @Test func aFileReadsBackWithItsMetadataAndPassesLz4Test() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("whole.trace")
        try Self.writeFile(at: path, frames: 3, perFrame: 100)
        let (values, reader) = Self.read(try Self.bytes(path))
        #expect(values == Array(0..<300))
        #expect(reader.diagnostics.isEmpty)
        #expect(reader.finishedFiles == 1)
        #expect(reader.headers.map(\.producer) == ["test"])
        #expect(reader.processes[1]?.pid == 42)
        #expect(reader.string(1, 1) == "n")
        #expect(reader.threads[.init(1, 1)]?.tid == 4242)
        let lz4 = try Processes.lz4Test(path)
        #expect(lz4.status == 0, "lz4 -t: \(lz4.standardError)")
        // lz4 -d restores the record stream, which starts with the magic.
        let decompressed = try Processes.run("/usr/bin/lz4", ["-d", "-c", path])
        #expect(decompressed.status == 0)
        #expect(decompressed.standardOutput.utf8.dropFirst(2).starts(with: "TRCD".utf8))
    }

    @Test func aStacksSyncDepthReadsBackAndOnePastItsDepthIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("stacks.trace")
        try Self.writeFile(at: path, frames: 1, perFrame: 1) { w in
            // Two frames from the thread's stack, then two awaiting callers.
            MetadataRecord.stack(StackRecord(id: 1, frames: [0x5000, 0x4000, 0x7001, 0x6001], syncDepth: 2))
                .encode(process: 1, into: &w)
            // No async frames: written as in format 1.1, without the field.
            MetadataRecord.stack(StackRecord(id: 2, frames: [0x5000, 0x4000])).encode(process: 1, into: &w)
            // A sync depth equal to the depth: none async (a writer with a
            // field after it writes it always).
            w.record(Int(TC_REC_STACK)) { body in
                body.varint(UInt64(1)); body.varint(UInt64(3)); body.varint(UInt64(1))
                body.zigzag(0x5000); body.varint(UInt64(1))
            }
            // Past the depth: invalid.
            w.record(Int(TC_REC_STACK)) { body in
                body.varint(UInt64(1)); body.varint(UInt64(4)); body.varint(UInt64(1))
                body.zigzag(0x5000); body.varint(UInt64(2))
            }
        }
        let (_, reader) = Self.read(try Self.bytes(path))
        #expect(reader.stacks[.init(1, 1)] == [0x5000, 0x4000, 0x7001, 0x6001])
        #expect(reader.stackSyncDepths[.init(1, 1)] == 2)
        #expect(reader.stacks[.init(1, 2)] == [0x5000, 0x4000])
        #expect(reader.stackSyncDepths[.init(1, 2)] == nil)
        #expect(reader.stacks[.init(1, 3)] == [0x5000])
        #expect(reader.stackSyncDepths[.init(1, 3)] == nil)
        #expect(reader.stacks[.init(1, 4)] == nil)
        #expect(reader.diagnostics.map(\.problem) == [.malformedRecord(kind: UInt8(TC_REC_STACK), reason: "\(DecodeError.invalid(field: "stack sync depth", value: 2))")])

        var plain = ByteWriter()
        StackRecord(id: 2, frames: [0x5000, 0x4000]).encodeBody(into: &plain)
        var async = ByteWriter()
        StackRecord(id: 2, frames: [0x5000, 0x4000], syncDepth: 1).encodeBody(into: &async)
        #expect(async.bytes.count == plain.bytes.count + 1, "one byte more, only when some frames are async")
    }

    @Test func aCutStackIsMarkedAndReaderIgnoresFlagsItDoesNotKnow() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("cut-stacks.trace")
        try Self.writeFile(at: path, frames: 1, perFrame: 1) { w in
            MetadataRecord.stack(StackRecord(id: 1, frames: [0x5000, 0x4000], cut: true)).encode(process: 1, into: &w)
            // Cut, with async frames.
            MetadataRecord.stack(StackRecord(id: 2, frames: [0x5000, 0x7001], syncDepth: 1, cut: true)).encode(process: 1, into: &w)
            // Flags of a later minor version: ignored, the stack read.
            w.record(Int(TC_REC_STACK)) { body in
                body.varint(UInt64(1)); body.varint(UInt64(3)); body.varint(UInt64(1))
                body.zigzag(0x5000); body.varint(UInt64(1)); body.varint(UInt64(6))
            }
        }
        let (_, reader) = Self.read(try Self.bytes(path))
        #expect(reader.diagnostics.isEmpty, "\(reader.diagnostics)")
        #expect(reader.stacks[.init(1, 1)] == [0x5000, 0x4000] && reader.stackSyncDepths[.init(1, 1)] == nil)
        #expect(reader.stacks[.init(1, 2)] == [0x5000, 0x7001] && reader.stackSyncDepths[.init(1, 2)] == 1)
        #expect(reader.stacks[.init(1, 3)] == [0x5000])
        #expect(reader.cutStacks == [.init(1, 1), .init(1, 2)])

        var plain = ByteWriter()
        StackRecord(id: 2, frames: [0x5000, 0x4000]).encodeBody(into: &plain)
        var cut = ByteWriter()
        StackRecord(id: 2, frames: [0x5000, 0x4000], cut: true).encodeBody(into: &cut)
        #expect(cut.bytes.count == plain.bytes.count + 2, "the sync depth and the flags, only on a cut stack")
    }

    @Test func aTruncatedFileDecodesUpToItsLastCompleteFrame() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("cut.trace")
        try Self.writeFile(at: path, frames: 4, perFrame: 50)
        let whole = try Self.bytes(path)
        let frames = Self.frameOffsets(whole)
        // One frame per batch (the first also holds the header), then the end.
        #expect(frames.count == 5)
        // Cut in the middle of the frame holding values 150..<200.
        let cut = Array(whole[0..<(frames[3] + 10)])
        let (values, reader) = Self.read(cut)
        #expect(values == Array(0..<150))
        #expect(reader.diagnostics.map(\.problem) == [.truncatedFrame(bytes: 10), .missingFileEnd])
    }

    @Test func aCorruptedFrameIsSkippedWithAReason() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("bad.trace")
        try Self.writeFile(at: path, frames: 3, perFrame: 200)
        var bytes = try Self.bytes(path)
        let frames = Self.frameOffsets(bytes)
        // Flip a byte inside the compressed data of the second batch's frame.
        let target = frames[1] + (frames[2] - frames[1]) / 2
        bytes[target] ^= 0x5A
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let (values, reader) = Self.read(bytes)
        #expect(values == Array(0..<200) + Array(400..<600))
        let problems = reader.diagnostics.map(\.problem)
        guard case .corruptFrame(let reason) = problems.first else {
            Issue.record("expected a corrupt frame first, got \(problems)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(reader.diagnostics.first?.fileOffset == frames[1])
        #expect(reader.finishedFiles == 1)
        // The lz4 tool refuses the damaged file too: the damage is real.
        #expect(try Processes.lz4Test(path).status != 0)
    }

    @Test(arguments: [0, 1, 3, 4, 100, 65536])
    func randomBytesAreReportedNeverACrash(_ length: Int) {
        var generator = SeededGenerator(seed: UInt64(length) + 1)
        for _ in 0..<20 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let (values, reader) = Self.read(bytes)
            #expect(values.isEmpty)
            #expect(!reader.diagnostics.isEmpty)
        }
    }

    @Test func randomContentInsideValidFramesIsReportedNeverACrash() throws {
        var generator = SeededGenerator(seed: 99)
        let compressor = LZ4FrameCompressor()
        for length in [1, 2, 10, 100, 1000, 100_000] {
            for _ in 0..<20 {
                var content = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if length > 10 { content[0] = UInt8(TC_REC_BATCH) }
                let frame = content.withUnsafeBytes { Array(compressor.frame(of: $0)) }
                let (_, reader) = Self.read(frame)
                #expect(!reader.diagnostics.isEmpty)
            }
        }
    }

    @Test func recordsOfUnknownKindsAreSkippedAndCounted() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("future.trace")
        try Self.writeFile(at: path, frames: 1, perFrame: 10) { w in
            w.record(0x2A, body: [1, 2, 3])
            w.record(0x2A, body: [])
        }
        let (values, reader) = Self.read(try Self.bytes(path))
        #expect(values == Array(0..<10))
        #expect(reader.diagnostics.map(\.problem) == [.unknownRecord(kind: 0x2A, count: 2)])
    }

    @Test func aNewerMinorVersionIsReadWithANote() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("minor.trace")
        var header = FileHeader(createdRealtimeNanoseconds: 1, producer: "future", session: "", fileIndex: 0)
        header.minor = FormatVersion.minor + 3
        try Self.writeFile(at: path, frames: 1, perFrame: 5, header: header)
        let (values, reader) = Self.read(try Self.bytes(path))
        #expect(values == Array(0..<5))
        #expect(reader.diagnostics.map(\.problem) == [.newerMinorVersion(FormatVersion.minor + 3)])
    }

    @Test func anotherMajorVersionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("major.trace")
        var header = FileHeader(createdRealtimeNanoseconds: 1, producer: "future", session: "", fileIndex: 0)
        header.major = FormatVersion.major + 1
        try Self.writeFile(at: path, frames: 2, perFrame: 5, header: header)
        let (values, reader) = Self.read(try Self.bytes(path))
        #expect(values.isEmpty)
        #expect(reader.diagnostics.map(\.problem) == [.unsupportedVersion(major: FormatVersion.major + 1)])
        #expect(reader.diagnostics.contains { $0.isFatal })
    }

    @Test func aBatchWithGarbageKeepsItsEventsBeforeTheGarbage() throws {
        var writer = ByteWriter()
        FileHeader(createdRealtimeNanoseconds: 1, producer: "t", session: "", fileIndex: 0).encode(into: &writer)
        var events = EventEncoding()
        for i in 0..<5 { events.counter(dt: 1, name: 1, value: Int64(i)) }
        let bytes = events.bytes + [0x3F, 0xFF, 0xFF]
        bytes.withUnsafeBytes {
            BatchHeader(process: 1, thread: 1, chunkSequence: 0, segmentOffset: 0, baseTicks: 0, regionSequence: 0,
                        swiftTask: 0, droppedBefore: 0).encode(events: $0, into: &writer)
        }
        writer.record(Int(TC_REC_FILE_END)) { $0.varint(1) }
        let frame = writer.bytes.withUnsafeBytes { Array(LZ4FrameCompressor().frame(of: $0)) }
        let (values, reader) = Self.read(frame)
        #expect(values == Array(0..<5))
        #expect(reader.diagnostics.map(\.problem) == [
            .malformedEvents(reason: "event kind has invalid value 63", keptEvents: 5, lostBytes: 3),
        ])
    }

    @Test func aFileWithoutItsEndRecordIsFlagged() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("open.trace")
        try Self.writeFile(at: path, frames: 2, perFrame: 3, finish: false)
        let (values, reader) = Self.read(try Self.bytes(path))
        #expect(values == Array(0..<6))
        #expect(reader.diagnostics.map(\.problem) == [.missingFileEnd])
        #expect(try Processes.lz4Test(path).status == 0)
    }
}
