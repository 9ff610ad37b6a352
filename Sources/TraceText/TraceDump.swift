import CTraceABI
import TraceAnalysis
import TraceFormat
package import TraceSystem

/// What `tracectl dump` prints of the files of one trace, line by line.
///
/// Events are streamed: a file is decoded, printed and let go before the
/// next. Names need a first pass: a file promises the string records its
/// events use, not that each comes before its first use, so printing names
/// as they are met would leave some as `#id` that `report` (which holds the
/// whole trace) resolves. The first pass (`collectNames`) reads only the
/// metadata records, skipping batches undecoded; memory grows with the
/// metadata (names, threads, stacks), never with the events.
///
/// The first pass also gathers every file's clock syncs: the session's
/// window (`SessionWindow`), outside which an event is marked and counted
/// (its line ends with `outsideMark`; the summary warns with the count per
/// process, as `report` does).
///
/// Use: `collectNames` on every file, then `dump` on every file in order,
/// then `finish`. Without the first pass, names are those read so far and
/// every time is believed.
package final class TraceDump {
    package enum Content: Sendable {
        /// One line per event.
        case events
        /// One line per batch.
        case batches
        /// Events and bytes per event kind.
        case sizes
        /// Only the summary.
        case summary
    }

    private let content: Content
    private let output: (String) -> Void
    /// First pass: metadata only.
    private let names = TraceReader()
    /// Second pass: everything; its tables and diagnostics make the summary.
    private let reader = TraceReader()
    private var kinds: [TraceEventKind: (count: Int, bytes: Int)] = [:]
    /// Per process, the highest RuntimeNames.overflowCounter seen.
    private var nameOverflows: [UInt32: Int64] = [:]
    /// Symbolized frames per process, made on the first stack met.
    private var frames: [UInt32: [UInt64: StackSymbolizer.Frame]] = [:]
    private var shownStacks: Set<TraceReader.ProcessScoped> = []
    private lazy var symbolizer = StackSymbolizer()
    private var saidUnavailable = false
    /// Events timed outside the window, by process.
    private var outside: [UInt32: Int] = [:]
    /// Made on the first event, after the first pass.
    private lazy var window = SessionWindow(syncs: names.clockSyncs)
    private lazy var clock = ClockConverter(
        syncs: names.clockSyncs, nominalTicksPerSecond: names.processes.values.map(\.nominalTicksPerSecond).max() ?? 0)

    /// The end of the line of an event timed outside the window.
    package static let outsideMark = " (timed outside the session: left out of report and export)"

    package init(content: Content, output: @escaping (String) -> Void) {
        self.content = content
        self.output = output
    }

    /// First pass over one file.
    package func collectNames(path: String) throws(SystemError) {
        try names.readMetadata(path: path)
    }

    /// First pass over one file's bytes.
    package func collectNames(bytes: [UInt8]) {
        names.readMetadata(bytes: bytes)
    }

    /// Second pass over one file: prints its events (or batches), or counts them.
    package func dump(path: String) throws(SystemError) {
        var lastBatch: BatchHeader?
        try reader.read(path: path) { header, event in take(header, event, &lastBatch) }
    }

    /// Second pass over one file's bytes.
    package func dump(bytes: [UInt8]) {
        var lastBatch: BatchHeader?
        reader.read(bytes: bytes) { header, event in take(header, event, &lastBatch) }
    }

    private var printer: EventPrinter { EventPrinter(reader: reader, names: names) }

    private func take(_ header: BatchHeader, _ event: RawEvent, _ lastBatch: inout BatchHeader?) {
        // Without the first pass (summary, sizes), the metadata this pass read
        // so far: a file defines a name before its events use it.
        if case .counterInteger = event.kind,
           (names.string(header.process, event.name) ?? reader.string(header.process, event.name)) == RuntimeNames.overflowCounter {
            nameOverflows[header.process] = max(nameOverflows[header.process] ?? 0, event.integerValue)
        }
        let inside = isInside(header, event)
        switch content {
        case .events:
            output(printer.line(header, event) + (inside ? "" : Self.outsideMark))
            if event.stack != 0 { stackLines(header.process, event.stack) }
        case .batches:
            if header != lastBatch { output(printer.batchLine(header)) }
            lastBatch = header
        case .sizes:
            // Sizes are of bytes in memory: they cannot overflow an Int.
            kinds[event.kind, default: (0, 0)].count += 1
            kinds[event.kind, default: (0, 0)].bytes += Int(event.encodedSize)
        case .summary:
            break
        }
    }

    /// Whether `event` is timed inside the window; counts it if not.
    private func isInside(_ header: BatchHeader, _ event: RawEvent) -> Bool {
        guard let window else { return true }
        // As TraceCatalog.time: a kernel batch counts CLOCK_MONOTONIC ns.
        let process = names.processes[header.process] ?? reader.processes[header.process]
        let kind = header.kernel ? UInt32(TC_CLOCK_MONOTONIC_NS) : process?.clockKind ?? UInt32(TC_CLOCK_MONOTONIC_NS)
        let time = clock.monotonicNanoseconds(ticks: event.ticks, clockKind: kind) ?? Int64(bitPattern: event.ticks)
        if window.contains(time) { return true }
        outside[header.process, default: 0] += 1
        return false
    }

    /// A stack's frames under the first event that uses it (later events
    /// show only `stack=N`); addresses and images when symbols are missing,
    /// which is said once.
    private func stackLines(_ process: UInt32, _ id: UInt32) {
        let key = TraceReader.ProcessScoped(process, UInt64(id))
        guard !shownStacks.contains(key), let addresses = names.stacks[key] ?? reader.stacks[key] else { return }
        shownStacks.insert(key)
        if frames[process] == nil {
            let all = Set(names.stacks.filter { $0.key.process == process }.values.joined())
            frames[process] = symbolizer.symbolize(all, images: names.images[process] ?? reader.images[process] ?? [])
            if let reason = symbolizer.unavailableReason, !saidUnavailable {
                saidUnavailable = true
                output("note: stacks shown as addresses and images: \(reason)")
            }
        }
        let syncDepth = names.stackSyncDepths[key] ?? reader.stackSyncDepths[key] ?? addresses.count
        for (index, address) in addresses.enumerated() {
            var frame = frames[process]?[address] ?? StackSymbolizer.Frame(address: address, image: nil, offset: address, function: nil, location: nil)
            frame.isAsync = index >= syncDepth
            output("      at " + frame.description)
        }
        if names.cutStacks.contains(key) || reader.cutStacks.contains(key) { output("      " + StackSymbolizer.Frame.cut.description) }
    }

    /// Prints the size table (for `.sizes`) and the summary: files,
    /// processes, counts, drops and every diagnostic of the second pass.
    package func finish() {
        if content == .sizes { output(printer.sizes(kinds)) }
        output(printer.summary(nameOverflows: nameOverflows, outside: outside))
    }

    /// Whether a file could not be read at all (not a trace, unsupported version).
    package var sawFatalProblem: Bool { reader.diagnostics.contains(where: \.isFatal) }
}
