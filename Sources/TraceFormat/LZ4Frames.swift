import CLZ4

// The only file that calls liblz4. Every file traced writes is a sequence of
// LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md):
// independent blocks, block and content checksums, and the content size in
// the header, so `lz4 -t` checks each frame and a reader can skip one.

/// A liblz4 failure, with liblz4's own name for it.
package struct LZ4Error: Error, Equatable, Sendable, CustomStringConvertible {
    package let name: String
    package var description: String { "LZ4: \(name)" }

    static func check(_ code: Int) -> LZ4Error? {
        guard LZ4F_isError(code) != 0 else { return nil }
        return LZ4Error(name: String(cString: LZ4F_getErrorName(code)))
    }
}

/// Compresses whole buffers into complete LZ4 frames, reusing one context.
package final class LZ4FrameCompressor {
    private var context: OpaquePointer?
    private var output: [UInt8] = []

    package init() throws(LZ4Error) {
        var context: OpaquePointer?
        if let error = LZ4Error.check(LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))) {
            throw error
        }
        self.context = context
    }

    deinit {
        LZ4F_freeCompressionContext(context)
    }

    private static func preferences(contentSize: Int) -> LZ4F_preferences_t {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max256KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        preferences.frameInfo.contentSize = UInt64(contentSize)
        preferences.compressionLevel = 0
        preferences.autoFlush = 1
        return preferences
    }

    /// Compresses `input` into one complete frame. The slice shares this
    /// compressor's buffer: use it before the next call.
    package func frame(of input: UnsafeRawBufferPointer) throws(LZ4Error) -> ArraySlice<UInt8> {
        var preferences = Self.preferences(contentSize: input.count)
        let bound = LZ4F_compressBound(input.count, &preferences) + Int(LZ4F_HEADER_SIZE_MAX) + 16
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let context = self.context
        let written = output.withUnsafeMutableBytes { out -> Int in
            var total = LZ4F_compressBegin(context, out.baseAddress, out.count, &preferences)
            if LZ4F_isError(total) != 0 { return total }
            var n = LZ4F_compressUpdate(context, out.baseAddress! + total, out.count - total, input.baseAddress, input.count, nil)
            if LZ4F_isError(n) != 0 { return n }
            total += n
            n = LZ4F_compressEnd(context, out.baseAddress! + total, out.count - total, nil)
            if LZ4F_isError(n) != 0 { return n }
            return total + n
        }
        if let error = LZ4Error.check(written) { throw error }
        return output[0..<written]
    }
}

/// Decodes LZ4 frames one at a time.
package final class LZ4FrameDecompressor {
    private var context: OpaquePointer?

    package init() throws(LZ4Error) {
        var context: OpaquePointer?
        if let error = LZ4Error.check(LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))) {
            throw error
        }
        self.context = context
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
    }

    /// The outcome of decoding the frame at the start of some input.
    package enum Outcome: Equatable {
        /// A whole frame: `consumed` input bytes, decompressed `content`
        /// (empty for a skippable frame).
        case frame(consumed: Int, content: [UInt8])
        /// The input ends inside the frame.
        case truncated
        /// The frame is damaged (bad header, checksum, block).
        case corrupt(String)
    }

    /// Decodes the frame starting at `input`, refusing content larger than
    /// `maximumContent` (a damaged header must not make us allocate 4 GiB).
    package func decodeFrame(_ input: UnsafeRawBufferPointer, maximumContent: Int) -> Outcome {
        LZ4F_resetDecompressionContext(context)
        guard input.count >= 4 else { return .truncated }
        var capacity = 1 << 16
        var produced = 0
        var consumed = 0
        var buffer = [UInt8](repeating: 0, count: capacity)
        while true {
            if produced == capacity {
                guard capacity < maximumContent else { return .corrupt("frame content exceeds \(maximumContent) bytes") }
                capacity = min(capacity * 2, maximumContent)
                buffer.append(contentsOf: repeatElement(0, count: capacity - buffer.count))
            }
            var sourceSize = input.count - consumed
            var destinationSize = capacity - produced
            let hint = buffer.withUnsafeMutableBytes { out in
                LZ4F_decompress(context, out.baseAddress! + produced, &destinationSize,
                                input.baseAddress! + consumed, &sourceSize, nil)
            }
            if let error = LZ4Error.check(hint) { return .corrupt(error.name) }
            consumed += sourceSize
            produced += destinationSize
            if hint == 0 {
                return .frame(consumed: consumed, content: Array(buffer[0..<produced]))
            }
            if consumed == input.count { return .truncated }
            if sourceSize == 0 && destinationSize == 0 && produced < capacity {
                return .corrupt("decoder made no progress")
            }
        }
    }

    /// The LZ4 frame magic number, little-endian, as it starts a frame.
    package static let frameMagic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]

    /// Whether the four bytes at `offset` start an LZ4 frame or a skippable frame.
    package static func startsFrame(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + 4 <= bytes.count else { return false }
        if bytes[offset] == 0x04 && bytes[offset + 1] == 0x22 && bytes[offset + 2] == 0x4D && bytes[offset + 3] == 0x18 {
            return true
        }
        return bytes[offset] & 0xF0 == 0x50 && bytes[offset + 1] == 0x2A && bytes[offset + 2] == 0x4D && bytes[offset + 3] == 0x18
    }
}
