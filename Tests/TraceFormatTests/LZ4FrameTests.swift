import Foundation
import TestSupport
import Testing
import TraceFormat

/// The frames LZ4FrameCompressor assembles around liblz4's block compressor
/// are standard LZ4 frames: liblz4's frame decoder (which checks the header,
/// block and content checksums) and the lz4 tool accept them.
@Suite struct LZ4FrameTests {
    @Test func xxHash32MatchesTheReferenceVectors() {
        func hash(_ text: String, seed: UInt32 = 0) -> UInt32 {
            Array(text.utf8).withUnsafeBytes { XXHash32.hash($0, seed: seed) }
        }
        // From the xxHash reference implementation's own checks.
        #expect(hash("") == 0x02CC_5D05)
        #expect(hash("a") == 0x550D_7456)
        #expect(hash("abc") == 0x32D1_53FF)
        #expect(hash("Nobody inspects the spammish repetition") == 0xE229_3B2F)
    }

    /// Empty, tiny, compressible and incompressible contents, on both sides
    /// of the 256 KiB block size.
    static func contents() -> [[UInt8]] {
        var generator = SeededGenerator(seed: 7)
        var result: [[UInt8]] = []
        for length in [0, 1, 15, 16, 17, 1000, 256 << 10, (256 << 10) + 1, 1 << 20, (1 << 20) + 12345] {
            result.append((0..<length).map { UInt8(truncatingIfNeeded: $0 / 7) })
            result.append((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        return result
    }

    @Test func liblz4DecodesEveryFrameToItsContent() throws {
        let compressor = LZ4FrameCompressor()
        let decompressor = try LZ4FrameDecompressor()
        for content in Self.contents() {
            let frame = content.withUnsafeBytes { Array(compressor.frame(of: $0)) }
            let outcome = frame.withUnsafeBytes { decompressor.decodeFrame($0, maximumContent: 4 << 20) }
            #expect(outcome == .frame(consumed: frame.count, content: content), "\(content.count) bytes")
        }
    }

    @Test func aFlippedBitFailsAChecksum() throws {
        let content = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var frame = content.withUnsafeBytes { Array(LZ4FrameCompressor().frame(of: $0)) }
        frame[frame.count / 2] ^= 0x10
        let outcome = frame.withUnsafeBytes { try? LZ4FrameDecompressor().decodeFrame($0, maximumContent: 4 << 20) }
        guard case .corrupt = outcome else {
            Issue.record("a damaged frame decoded: \(String(describing: outcome))")
            return
        }
    }

    @Test func theLZ4ToolAcceptsAndUnpacksTheFrames() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("frames.lz4")
        let compressor = LZ4FrameCompressor()
        var file: [UInt8] = []
        var expected: [UInt8] = []
        for content in Self.contents() {
            file += content.withUnsafeBytes { compressor.frame(of: $0) }
            expected += content
        }
        try Data(file).write(to: URL(fileURLWithPath: path))
        #expect(try Processes.lz4Test(path).status == 0)
        let unpacked = directory.file("frames")
        #expect(try Processes.run("/usr/bin/lz4", ["-d", "-f", "-q", path, unpacked]).status == 0)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: unpacked))) == expected)
    }
}
