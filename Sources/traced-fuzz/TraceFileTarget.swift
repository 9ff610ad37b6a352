import TraceAnalysis
import TraceFormat
import TraceText

/// Trace files as `tracectl report` and `tracectl dump` read them:
/// TraceReader, then TraceModel, TraceReport and its printer, and TraceDump
/// in each of its modes (events with names collected first, batches, sizes,
/// summary), on one or two files.
///
/// Frames carry checksums a mutation almost never keeps right, so by
/// default the input is the *content* of frames (the record stream) and the
/// target compresses it into frames itself, cut where the input says; the
/// first byte can instead hand the bytes over as a file unchanged, to
/// reach the framing, resynchronization and skipping paths.
enum TraceFileTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let flags = input.byte()
        var files: [[UInt8]] = []
        if flags & 1 != 0 {
            files = [Array(input.rest())]
        } else {
            // Content cut into frames at the sizes that follow; with flag 2,
            // the second half of the frames goes into a second file.
            let frameSizes = (0..<Int(input.byte() % 4) + 1).map { _ in Int(input.integer(UInt16.self)) }
            let content = input.rest()
            var frames: [[UInt8]] = []
            var start = 0
            var sizes = frameSizes.makeIterator()
            let compressor = LZ4FrameCompressor()
            while start < content.count {
                let size = max(1, sizes.next() ?? content.count)
                let end = min(content.count, start + size)
                frames.append(Array(compressor.frame(of: UnsafeRawBufferPointer(rebasing: content[start..<end]))))
                start = end
            }
            if flags & 2 != 0 && frames.count > 1 {
                let half = frames.count / 2
                files = [frames[..<half].flatMap { $0 }, frames[half...].flatMap { $0 }]
            } else {
                files = [frames.flatMap { $0 }]
            }
        }
        // tracectl report.
        let model = TraceModel.load(files: files)
        _ = ReportPrinter.render(TraceReport(model), diagnostics: model.diagnostics)
        // tracectl dump, in the mode the input picks.
        let contents: [TraceDump.Content] = [.events, .batches, .sizes, .summary]
        let dump = TraceDump(content: contents[Int(flags >> 2) % contents.count]) { _ in }
        if dump.needsNames { for file in files { dump.collectNames(bytes: file) } }
        for file in files { dump.dump(bytes: file) }
        dump.finish()
    }
}
