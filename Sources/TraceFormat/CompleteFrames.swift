/// The part of a trace file a reader can use whole: the leading run of
/// LZ4 frames that decode. A writer killed mid-write leaves a partial
/// frame at the end; cutting the file there keeps every complete frame and
/// makes `lz4 -t` accept the file again.
package enum CompleteFrames {
    /// Bytes from the start of `file` that are complete, decodable frames.
    package static func length(of file: UnsafeRawBufferPointer) throws(LZ4Error) -> Int {
        let decompressor = try LZ4FrameDecompressor()
        var offset = 0
        while offset < file.count {
            let rest = UnsafeRawBufferPointer(rebasing: file[offset...])
            guard case .frame(let consumed, _) = decompressor.decodeFrame(rest, maximumContent: TraceReader.maximumFrameContent)
            else { break }
            offset += consumed
        }
        return offset
    }
}
