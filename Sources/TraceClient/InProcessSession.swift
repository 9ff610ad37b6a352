import CTraceABI
import Synchronization
import TraceFormat
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Where an in-process trace goes.
enum TraceOutput {
    /// A file created (or truncated) at this path, fsynced and closed by stop.
    case path(String)
    /// A descriptor the caller owns; stop writes to it but leaves it open.
    case descriptor(CInt)
}

/// An in-process trace (`Trace.start`): a writer thread drains this
/// process's buffer into one file, exactly as the daemon would.
///
/// The writer thread drains on the schedule of `DrainSchedule` (woken by
/// producers through the eventfd only when idle or under pressure). Every
/// 100 ms it also copies what is committed in chunks still being written,
/// records a clock sync and the drop counters, and closes an LZ4 frame, so a
/// crash loses at most the last 100 ms.
final class InProcessSession: @unchecked Sendable {
    // Sendable: `consumer`, `writer` and `failure` are used by the writer
    // thread until `finish()` joins it, and only by `finish()` after that.
    private let buffer: ProcessBuffer
    private let consumer: BufferConsumer
    private let writer: TraceFileWriter
    private let descriptor: FileDescriptor
    private let ownsDescriptor: Bool
    private let dropsAtStart: [UInt32: UInt64]
    private let stopRequested = Atomic<Bool>(false)
    private var thread: SystemThread?
    private var failure: TraceWriteError?

    /// Key of this process in the file (a daemon numbers its clients).
    private let process: UInt32 = 1

    init(buffer: ProcessBuffer, consumer: BufferConsumer, output: TraceOutput, options: TraceOptions) throws(TraceError) {
        self.buffer = buffer
        self.consumer = consumer
        switch output {
        case .path(let path):
            do {
                // Private, as perf's files are: a trace holds log messages.
                descriptor = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o600)
            } catch {
                throw .output("\(error)")
            }
            ownsDescriptor = true
        case .descriptor(let raw):
            descriptor = FileDescriptor(rawValue: raw)
            ownsDescriptor = false
        }
        let header = FileHeader(createdRealtimeNanoseconds: tc_realtime_ns(), producer: "TraceClient (in-process)",
                                session: "", fileIndex: 0)
        writer = TraceFileWriter(descriptor: descriptor, header: header)
        dropsAtStart = consumer.dropCounters()
        let clock = buffer.geometry.clockKind
        let environment = ProcessEnvironment.current
        write { w in
            ClockSampler.sample(clockKind: clock).encode(into: &w)
            ProcessRecord(process: process, pid: getpid(), uid: getuid(), name: environment.processName,
                          clockKind: clock, nominalTicksPerSecond: ClockSampler.nominalRate(clockKind: clock)).encode(into: &w)
        }
        _ = consumer.takeMetadata()
        for record in consumer.metadata {
            write { record.encode(process: process, into: &$0) }
        }
        do {
            thread = try SystemThread.spawn(name: "trace-writer") { [self] in run() }
        } catch {
            if ownsDescriptor { descriptor.close() }
            throw .writerThread("\(error)")
        }
    }

    private func run() {
        var schedule = DrainSchedule(now: tc_monotonic_ns())
        while !stopRequested.load(ordering: .acquiring) {
            var now = tc_monotonic_ns()
            let scrape = schedule.scrapeDue(now: now)
            let freed = pass(scrape: scrape)
            if scrape { periodicRecords() }
            if stopRequested.load(ordering: .acquiring) { break }
            now = tc_monotonic_ns()
            let sleep = schedule.sleep(now: now, freed: freed, chunkCount: buffer.geometry.chunkCount)
            if sleep.announce && !consumer.prepareToSleep() { continue }
            do {
                try buffer.notifier.wait(timeoutMilliseconds: sleep.timeoutMilliseconds)
            } catch {
                // poll failing leaves the timeout as the only wake-up: the loop
                // still runs every drain interval.
            }
            if sleep.announce { consumer.awake() }
        }
    }

    /// Takes new metadata and events; `scrape` also takes what is committed
    /// in chunks still being written.
    @discardableResult
    private func pass(scrape: Bool) -> Int {
        for record in consumer.takeMetadata() {
            write { record.encode(process: process, into: &$0) }
        }
        return consumer.drain(process: process, scrape: scrape) { header, events, _ in write(batch: header, events: events) }
    }

    /// Writes a batch after the metadata committed since the last take:
    /// what the batch names was committed before it, so it comes first in
    /// the file (a one-pass reader knows every name when its event comes).
    private func write(batch header: BatchHeader, events: UnsafeRawBufferPointer) {
        for record in consumer.takeMetadata() {
            write { record.encode(process: process, into: &$0) }
        }
        write { header.encode(events: events, into: &$0) }
    }

    private func periodicRecords() {
        write { w in
            ClockSampler.sample(clockKind: buffer.geometry.clockKind).encode(into: &w)
            dropCounts().encode(into: &w)
        }
        guard failure == nil else { return }
        do {
            try writer.flushFrame()
        } catch {
            failure = error
        }
    }

    /// Drops since this trace started.
    private func dropCounts() -> DropCounts {
        var counts = consumer.dropCounters()
        for (reason, before) in dropsAtStart { counts[reason, default: 0] &-= before }
        return DropCounts(process: process, counts: counts)
    }

    /// Appends records unless an earlier write failed (then the trace keeps
    /// draining, so the service never blocks, and stop reports the failure).
    private func write(_ body: (inout ByteWriter) -> Void) {
        guard failure == nil else { return }
        do {
            try writer.append(body)
        } catch {
            failure = error
        }
    }

    /// Stops the writer thread, takes everything committed, and finishes the
    /// file. Called after tracing was turned off and in-flight events ended.
    func finish() throws(TraceError) {
        stopRequested.store(true, ordering: .releasing)
        buffer.notifier.signal()
        thread?.join()
        thread = nil
        // A thread may hold two chunks in one sweep (see ThreadOrder): a
        // second scrape takes the newer; then nothing is left held.
        pass(scrape: true)
        pass(scrape: true)
        consumer.flushHeld { header, events, _ in write(batch: header, events: events) }
        write { w in
            dropCounts().encode(into: &w)
            ClockSampler.sample(clockKind: buffer.geometry.clockKind).encode(into: &w)
            ProcessEnd(process: process, ticks: tc_now(), reason: .tracingStopped).encode(into: &w)
        }
        if failure == nil {
            do {
                try writer.finish()
            } catch {
                failure = error
            }
        }
        if ownsDescriptor {
            do {
                // Only regular files can be synced (a path may name a FIFO
                // or /dev/null, where fsync fails with EINVAL).
                if failure == nil, try descriptor.status().st_mode & S_IFMT == S_IFREG { try descriptor.sync() }
            } catch {
                failure = .write(error)
            }
            descriptor.close()
        }
        if let failure { throw .write("\(failure)") }
    }

    /// In a forked child: the writer thread does not exist here and the file
    /// belongs to the parent. Forget both without touching them.
    func abandonAfterFork() {
        thread = nil
    }
}
