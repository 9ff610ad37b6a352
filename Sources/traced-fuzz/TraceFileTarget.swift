import TraceAnalysis
import TraceFormat
import TraceExport
import TraceSystem
import TraceText
#if canImport(Glibc)
import Glibc
#endif

/// Trace files as `tracectl report`, `tasks` and `dump` read them: the
/// streaming walk (index, merge, matching) into TraceSummary, the report
/// document and its printer, and a task drilldown; and TraceDump in each of
/// its modes (events with names collected first, batches, sizes, summary),
/// and the Perfetto or Chrome JSON export, on one or two files.
///
/// Frames carry checksums a mutation almost never keeps right, so by
/// default the input is the *content* of frames (the record stream) and the
/// target compresses it into frames itself, cut where the input says; the
/// first byte can instead hand the bytes over as a file unchanged, to
/// reach the framing, resynchronization and skipping paths.
enum TraceFileTarget {
    /// Where exports go: written for real, kept nowhere.
    static let null: FileDescriptor = {
        guard let null = try? FileDescriptor.open("/dev/null", O_WRONLY) else { fatalError("cannot open /dev/null") }
        return null
    }()

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
        // tracectl report, then tasks on the slowest tasks of each type.
        let walk = TraceWalk(sources: files.map { TraceSource(bytes: $0) })
        var summary = TraceSummary(catalog: walk.catalog)
        walk.run(&summary)
        let stacks = StackResolver(catalog: walk.catalog, symbolize: false)
        let document = ReportDocument(summary: summary, catalog: walk.catalog, stacks: stacks, filters: .init())
        _ = ReportPrinter.render(document)
        let roots = Set(summary.tasks.values.flatMap(\.slowest).map { TaskKey(process: $0.process, id: $0.id) })
        var drilldown = TaskDrilldown(roots: roots, catalog: walk.catalog, stacks: stacks)
        walk.run(&drilldown)
        for tree in drilldown.trees() { _ = TaskTreePrinter.render(tree, traceStart: walk.startTime ?? 0) }
        // tracectl export, in the format the input picks, to /dev/null.
        let format: TraceExporter.Format = flags & 0x40 != 0 ? .chromeJSON : .perfetto
        _ = try? TraceExporter.export(walk, format: format, to: Self.null, symbolize: false)
        // tracectl dump, in the mode the input picks.
        let contents: [TraceDump.Content] = [.events, .batches, .sizes, .summary]
        let dump = TraceDump(content: contents[Int(flags >> 2) % contents.count]) { _ in }
        for file in files { dump.collectNames(bytes: file) }
        for file in files { dump.dump(bytes: file) }
        dump.finish()
    }
}
