import CTraceABI
import TraceFormat
import TraceOTLP
import TraceProtocol
import TraceRing
import TraceSystem

/// One tracing session: which processes it records (its members), how
/// (its config), and where it goes (its output).
final class Session {
    let name: String
    let config: SessionConfig
    let owner: UInt32
    let directory: String
    private(set) var state: SessionStatus.State
    let startedRealtime: UInt64
    let startedMonotonic: UInt64
    /// When `session.json` was last written (CLOCK_MONOTONIC ns).
    var savedMonotonic: UInt64 = 0
    private(set) var stoppedRealtime: UInt64 = 0
    /// Nil for a session found on disk at start-up (it only has files).
    private(set) var output: (any SessionOutput)?
    /// Files of a session loaded from disk.
    private var filesOnDisk: [String] = []
    private var storedStatus: SessionStatus?

    private(set) var members: [UInt64: Member] = [:]
    /// Clock syncs taken in the last `syncHistory` (see `writeSyncHistory`),
    /// at least `syncSpacing` apart per clock but for the newest, and each
    /// clock's first (its anchor): at most ~11 per clock, however often
    /// files and frames begin.
    private var recentSyncs: [ClockSync] = []
    /// The monotonic time of each clock's first sync in this session, taken
    /// when the first member with that clock joined, before any of their
    /// events: kept in the history for good, so that every file and frame
    /// holds a sync older than any event it can take. An event can wait in
    /// a buffer longer than `syncHistory`: a quiet thread's partial chunk
    /// until the next scrape (up to `scrape_interval`, 60 s) or until its
    /// process leaves, and any chunk while the drainer is behind (under
    /// ThreadSanitizer a busy flight recorder's window once held events
    /// older than every sync in it).
    private var anchors: [UInt32: UInt64] = [:]
    static let syncHistory: UInt64 = 2_000_000_000
    static let syncSpacing: UInt64 = 250_000_000
    /// Members that left but still hold their client (a flight recorder's
    /// window has their events).
    private var departedHolding: [UInt64] = []
    /// While stopping: clients whose confirmation (control ack) is awaited.
    var pendingAcks: [UInt64: UInt64] = [:]
    var stopDeadline: UInt64 = 0
    /// Control connections waiting for the stop to finish.
    var stopWaiters: [UInt64] = []
    /// The write failure last logged (its time), and whether its end was.
    var reportedFailure: SessionStatus.WriteFailure?
    private struct LiveClockKey: Equatable {
        var syncs: Int
        var newest: UInt64
        var nominal: UInt64
    }
    /// `liveConverter`'s last converter, and the syncs it was made of.
    private var liveClock: (key: LiveClockKey, converter: ClockConverter)?
    /// When a problem sending spans was last logged (CLOCK_MONOTONIC ns; 0: never).
    var otlpReported: UInt64 = 0
    /// Saving `session.json` failed, and that was logged.
    var persistFailing = false
    /// Members with events appended to the output but not yet settled.
    private var unsettled: [Member] = []
    /// Members whose drop counts were appended but not yet settled.
    private var carried: [Member] = []
    /// Execution events, unless the session asked for none.
    let execution: SessionExecution?
    /// Spans to an OpenTelemetry backend, when the session sends them.
    let otlp: SessionOTLP?
    /// Snapshots triggered by slow tasks, for a flight recorder with `--trigger`.
    let snapshots: SessionSnapshots?
    /// The cgroups of its `--unit`s and `--cgroup`s (set at start).
    var cgroupDirectories: [String] = []
    /// Control connections watching it (`tracectl top`, `tail`), and what
    /// hands them each frame written, with the events it holds (set while
    /// there are viewers: docs/design.md, "Watching a session").
    var viewers: [UInt64] = []
    var frameObserver: ((_ frame: ArraySlice<UInt8>, _ events: UInt64) -> Void)?

    /// `sending`: traced.conf's limits for an OTLP sender (its URL is the session's).
    init(name: String, config: SessionConfig, owner: UInt32, directory: String, trash: Trash,
         sending: OTLPSender.Settings = OTLPSender.Settings(url: ""), otlpSettle: UInt64 = 2_000_000_000) throws(ProtocolError) {
        self.name = name
        self.config = config
        self.owner = owner
        self.directory = directory
        self.state = .running
        self.startedRealtime = tc_realtime_ns()
        self.startedMonotonic = tc_monotonic_ns()
        execution = config.execution?.enabled == true ? SessionExecution(sessionStart: startedMonotonic, sampleHertz: config.execution?.cpuSampleHertz ?? 0) : nil
        if let settings = config.otlp, !settings.endpoint.isEmpty {
            guard case .success(let url) = OTLPEndpoint.tracesURL(settings.endpoint) else {
                throw .invalidRequest("--otlp '\(settings.endpoint)' is not an OTLP/HTTP endpoint")
            }
            do {
                var sending = sending
                sending.url = url
                otlp = try SessionOTLP(settings: settings, sending: sending, settle: otlpSettle, startedRealtime: startedRealtime,
                                       startedMonotonic: startedMonotonic)
            } catch {
                throw .failed("cannot start sending to \(url): \(error)")
            }
        } else {
            otlp = nil
        }
        // Every flight recorder can take snapshots by hand; triggers make it
        // take them by itself.
        let snapshots = config.mode == .flightRecorder
            ? SessionSnapshots(settings: config.snapshots ?? SessionConfig.Snapshots(), directory: directory, settle: otlpSettle) : nil
        self.snapshots = snapshots
        let framing = Framing(
            preamble: { [unowned self] w in self.writePreamble(into: &w) },
            ending: { [unowned self] w in self.writeEnding(into: &w) },
            clockSyncs: { [unowned self] w in self.writeSyncHistory(into: &w) },
            settled: { [unowned self] written in self.settle(written: written) },
            closed: { [unowned self] frame in self.frameClosed(frame) })
        switch config.mode {
        case .streaming:
            // `config` passed SessionConfig.validated(): maxFiles <= 100,000.
            output = RotatingFiles(directory: directory, session: name, maxFileSize: config.maxFileSize,
                                   maxFiles: Int(clamping: config.maxFiles), maxAgeSeconds: config.maxFileAgeSeconds,
                                   trash: trash, framing: framing)
        case .flightRecorder:
            let recorder = FlightRecorder(directory: directory, session: name, windowBytes: config.windowBytes,
                                    // A snapshot is taken `after` the slow task's end, once
                                    // its events settled (and the next tick came): the window
                                    // holds that much more, so it still has `windowSeconds`
                                    // before the end.
                                    windowSeconds: config.windowSeconds,
                                    holdLonger: config.snapshots.map { $0.afterNanoseconds.saturatingAdd(otlpSettle.saturatingMultiply(2)) } ?? 0,
                                    framing: framing)
            // A watched task is held whole; asked only when age would drop a frame.
            if let snapshots, snapshots.watches { recorder.holdSince = { snapshots.oldestWatchedBegin() } }
            output = recorder
        }
    }

    /// A session found on disk: stopped (or interrupted), with its files.
    init(stored status: SessionStatus, config: SessionConfig, directory: String, files: [String]) {
        self.name = status.name
        self.config = config
        self.owner = status.owner
        self.directory = directory
        self.state = status.state
        self.startedRealtime = status.startedRealtimeNanoseconds
        self.startedMonotonic = 0
        self.stoppedRealtime = status.stoppedRealtimeNanoseconds
        self.filesOnDisk = files
        self.storedStatus = status
        self.execution = nil
        self.otlp = nil
        self.snapshots = nil
    }

    var isRunning: Bool { state == .running }

    /// The clock sync, every member's process record and metadata: what a
    /// new file needs before any batch. A new streaming file only holds
    /// batches of members still connected; a flight recorder's window may
    /// hold batches of members gone since, so it names them all.
    /// Members whose records a file may still need, in client order.
    private var holding: [Member] { members.values.filter { $0.client != nil }.sorted { $0.id < $1.id } }

    /// Samples the clocks of `kinds` now, keeping the samples of the last
    /// `syncHistory` for the start of the next file or frame.
    private func takeSyncs(_ kinds: some Sequence<UInt32>) -> [ClockSync] {
        let syncs = Set(kinds).sorted().map { ClockSampler.sample(clockKind: $0) }
        guard let newest = syncs.first?.monotonicNanoseconds else { return [] }
        recentSyncs.removeAll {
            newest &- $0.monotonicNanoseconds > Self.syncHistory && anchors[$0.clockKind] != $0.monotonicNanoseconds
        }
        for sync in syncs {
            if anchors[sync.clockKind] == nil { anchors[sync.clockKind] = sync.monotonicNanoseconds }
            // The newest of this clock is replaced if it is too close to the
            // one kept before it. (Each frame of a busy flight recorder
            // starts with this history: unthinned, it filled half a window.)
            let kept = recentSyncs.indices.filter { recentSyncs[$0].clockKind == sync.clockKind }
            if kept.count >= 2, let last = kept.last,
               recentSyncs[last].monotonicNanoseconds &- recentSyncs[kept[kept.count - 2]].monotonicNanoseconds < Self.syncSpacing {
                recentSyncs.remove(at: last)
            }
            recentSyncs.append(sync)
        }
        return syncs
    }

    /// Clock syncs of the clocks in use, sampled now.
    private func writeClockSyncs(into w: inout ByteWriter) {
        for sync in takeSyncs(holding.map(\.clockKind)) { sync.encode(into: &w) }
    }

    /// The recent clock syncs, then fresh ones: what a new file or frame
    /// starts with. The events it will take were written before it began
    /// (most up to a scrape or two before), so a sync taken at its start
    /// alone would come after them; the recent ones, and each clock's
    /// anchor, come before.
    private func writeSyncHistory(into w: inout ByteWriter) {
        _ = takeSyncs(holding.map(\.clockKind))
        for sync in recentSyncs { sync.encode(into: &w) }
    }

    private func writePreamble(into w: inout ByteWriter) {
        let holding = self.holding
        writeSyncHistory(into: &w)
        // Streaming files need only the connected; a flight recorder's
        // window may hold events of members that left since.
        let departedToo = config.mode == .flightRecorder
        var named: Set<UInt64> = []
        for member in holding where member.connected || departedToo {
            guard let client = member.client else { continue }
            client.processRecord.encode(into: &w)
            named.insert(member.id)
            for record in client.metadata {
                record.encode(process: UInt32(truncatingIfNeeded: member.id), into: &w)
            }
        }
        // A client that left may still have kernel batches to come
        // (`SessionExecution.end`): they need its process record.
        for member in members.values.sorted(by: { $0.id < $1.id })
        where !named.contains(member.id) && execution?.mayWrite(process: UInt32(truncatingIfNeeded: member.id)) == true {
            member.processRecord.encode(into: &w)
            named.insert(member.id)
        }
        execution?.preamble(into: &w)
        execution?.writeDrops(into: &w)
        // What writing lost of the counts (`Member.owed`): of members that
        // left while it failed (named here: a streaming file names only the
        // connected), and of those whose "write failed" grew since.
        for member in members.values.sorted(by: { $0.id < $1.id }) where member.owed {
            if !named.contains(member.id) { member.processRecord.encode(into: &w) }
            writeDrops(of: member, into: &w)
        }
    }

    private func writeEnding(into w: inout ByteWriter) {
        writeClockSyncs(into: &w)
        let departedToo = config.mode == .flightRecorder
        for member in holding where member.connected || departedToo { writeDrops(of: member, into: &w) }
        execution?.writeDrops(into: &w)
    }

    /// `member`'s cumulative drop counts, and its end once it left: whether
    /// they reached a file is known when the output settles.
    private func writeDrops(of member: Member, into w: inout ByteWriter) {
        DropCounts(process: UInt32(truncatingIfNeeded: member.id), counts: member.drops()).encode(into: &w)
        if let end = member.end {
            ProcessEnd(process: UInt32(truncatingIfNeeded: member.id), ticks: end.ticks, reason: end.reason).encode(into: &w)
        }
        carried.append(member)
    }

    // MARK: Members

    func join(_ client: Client) {
        guard members[client.id] == nil, client.isRegistered else { return }
        members[client.id] = Member(client: client, dropsAtJoin: client.dropCounters())
        if let execution {
            // The ptrace rule: root may record any process's, a user only
            // their own (design.md, "Who may record what").
            // A process recorded before it registered (`--pid`, a unit's)
            // is taken over: its kernel events go under the client's key
            // from now on, to merge with its annotations.
            if owner == 0 || owner == client.credentials.uid {
                execution.add(pid: client.credentials.pid, key: UInt32(truncatingIfNeeded: client.id), record: nil,
                              now: tc_monotonic_ns())
            } else {
                execution.leaveOut(client.credentials.pid, "pid \(client.credentials.pid) (\(client.name)): uid \(client.credentials.uid) is not the session owner's; its annotations are recorded, its execution events are not")
            }
        }
        otlp?.join(process: UInt32(truncatingIfNeeded: client.id), pid: client.credentials.pid,
                   name: client.serviceName.isEmpty ? client.name : client.serviceName)
        snapshots?.join(process: UInt32(truncatingIfNeeded: client.id), pid: client.credentials.pid)
        output?.append { w in
            for sync in takeSyncs([client.clockKind]) { sync.encode(into: &w) }
            client.processRecord.encode(into: &w)
            for record in client.metadata { record.encode(process: UInt32(truncatingIfNeeded: client.id), into: &w) }
        }
    }

    func includes(_ client: Client) -> Bool { members[client.id]?.connected ?? false }

    /// A client leaves (it exited, disconnected, or the session stops).
    func leave(_ client: Client, reason: ProcessEnd.Reason) {
        guard let member = members[client.id], member.connected else { return }
        member.dropsAtEnd = member.bufferDrops()
        // A process that exited or disconnected has its last switches still
        // to come (the kernel closed its socket before its threads' last
        // schedule): recorded until its threads are gone, `exitGrace` at
        // most. One that stopped tracing lives on: recorded up to now.
        let now = tc_monotonic_ns()
        execution?.end(pid: client.credentials.pid, key: UInt32(truncatingIfNeeded: client.id),
                       at: reason == .tracingStopped ? now : now.saturatingAdd(SessionExecution.exitGrace))
        member.connected = false
        otlp?.leave(process: UInt32(truncatingIfNeeded: client.id))
        snapshots?.leave(process: UInt32(truncatingIfNeeded: client.id))
        member.end = (ticks: ClockSampler.sample(clockKind: client.clockKind).ticks, reason: reason)
        // Owed until a frame carrying them is written: no tick writes a
        // departed member's counts again.
        member.owed = true
        output?.append { writeDrops(of: member, into: &$0) }
        member.left = tc_monotonic_ns()
        if output?.heldSince == .max { member.release() } else { departedHolding.append(member.id) }
    }

    /// Releases the members that left before everything the output still
    /// holds began.
    private func releaseDeparted() {
        guard !departedHolding.isEmpty, let since = output?.heldSince else { return }
        departedHolding.removeAll { id in
            guard let member = members[id] else { return true }
            guard member.left < since else { return false }
            member.release()
            return true
        }
    }

    // MARK: Records

    func write(metadata: [MetadataRecord], from client: Client) {
        guard includes(client), !metadata.isEmpty else { return }
        output?.append { w in
            for record in metadata { record.encode(process: UInt32(truncatingIfNeeded: client.id), into: &w) }
        }
    }

    /// Appends a batch of `client`'s; with a category filter, its logs whose
    /// category (`category(id)`, the client's string) is not kept are left out.
    func write(batch header: BatchHeader, events: UnsafeRawBufferPointer, count: Int, from client: Client,
               category: (UInt32) -> String?) {
        guard let member = members[client.id], member.connected, let output else { return }
        // Spans and triggers see every log: the category filter is about the files.
        watch(header, events: events, of: member, name: category)
        if config.categories.isEmpty {
            expect(UInt64(count), bytes: UInt64(events.count), from: member)
            output.append { header.encode(events: events, into: &$0) }
            return
        }
        let allowed = Set(config.categories)
        let filtered = BatchFilter.logs(in: events, from: header.initialState) { id in
            category(id).map(allowed.contains) ?? false
        }
        guard !filtered.bytes.isEmpty else { return }
        expect(UInt64(filtered.events), bytes: UInt64(filtered.bytes.count), from: member)
        filtered.bytes.withUnsafeBytes { bytes in output.append { header.encode(events: bytes, into: &$0) } }
    }

    /// Hands a batch's events to the OTLP path and the snapshot triggers,
    /// decoded once for both (the files take the batch's bytes as they
    /// are): each with its CLOCK_MONOTONIC ns, if its ticks convert; `name`
    /// the client's string of an id. Bytes that do not decode end the batch
    /// here (the reader of the files reports them).
    private func watch(_ header: BatchHeader, events: UnsafeRawBufferPointer, of member: Member,
                       name: (UInt32) -> String?) {
        let triggers = snapshots.flatMap { $0.watches ? $0 : nil }
        guard otlp != nil || triggers != nil else { return }
        let nanoseconds = nanoseconds(of: member)
        let now = tc_monotonic_ns()
        let process = header.process
        var reader = ByteReader(events)
        var state = header.initialState
        while !reader.isAtEnd {
            guard let event = try? EventDecoder.next(&reader, &state) else { return }
            // A context event only moved the decoder's state.
            if case .context = event.kind { continue }
            let time = nanoseconds(event.ticks)
            otlp?.take(event, at: time, thread: state.thread, batchThread: header.thread, process: process, name: name)
            triggers?.take(event, at: time, process: process, now: now, name: name)
        }
    }

    /// Each member's events and drops, for the OTLP metrics.
    private func otlpTallies() -> [SessionOTLP.Tally] {
        members.values.sorted { $0.id < $1.id }.map { member in
            SessionOTLP.Tally(process: UInt32(truncatingIfNeeded: member.id), events: member.events.saturatingAdd(member.pendingEvents),
                              dropped: DropReason.named(member.drops()))
        }
    }

    /// CLOCK_MONOTONIC ns of `member`'s ticks: the same for the default
    /// clock, else through the clock syncs the session holds.
    private func nanoseconds(of member: Member) -> (UInt64) -> Int64? {
        guard member.clockKind != UInt32(TC_CLOCK_MONOTONIC_NS) else { return { Int64(clamping: $0) } }
        let converter = liveConverter(nominal: member.processRecord.nominalTicksPerSecond)
        let kind = member.clockKind
        // A batch's timestamps fall in one piece of the conversion, mostly.
        var piece: ClockConverter.Segment?
        return { converter.monotonicNanoseconds(ticks: $0, clockKind: kind, piece: &piece) }
    }

    /// The converter of the syncs held now, made again only when they
    /// changed (a sync is taken per scrape, a batch comes per drain).
    private func liveConverter(nominal: UInt64) -> ClockConverter {
        let key = LiveClockKey(syncs: recentSyncs.count, newest: recentSyncs.last?.monotonicNanoseconds ?? 0, nominal: nominal)
        if let cached = liveClock, cached.key == key { return cached.converter }
        let converter = ClockConverter(syncs: recentSyncs, nominalTicksPerSecond: nominal)
        liveClock = (key, converter)
        return converter
    }

    /// Notes events about to be appended: they count as recorded once a
    /// frame holding them is written, as dropped if writing fails. (Counts
    /// come from the consumer, which bounds them by the bytes it took.)
    private func expect(_ events: UInt64, bytes: UInt64, from member: Member) {
        if member.pendingEvents == 0 && member.pendingBytes == 0 { unsettled.append(member) }
        member.pendingEvents = member.pendingEvents.saturatingAdd(events)
        member.pendingBytes = member.pendingBytes.saturatingAdd(bytes)
    }

    /// A frame of the output was written: to the viewers, with the events
    /// it holds (those appended since the last frame, not settled yet).
    private func frameClosed(_ frame: ArraySlice<UInt8>) {
        guard let frameObserver else { return }
        frameObserver(frame, unsettled.reduce(0) { $0.saturatingAdd($1.pendingEvents) })
    }

    /// The start of a viewer's trace: a file header and everything a new
    /// file begins with (clock syncs, process and metadata records), as one
    /// frame; the frames written after it follow.
    func liveStart() -> [UInt8] {
        Framing.firstFrame(session: name, preamble: { self.writePreamble(into: &$0) }, compressor: LZ4FrameCompressor())
    }

    /// The output wrote (or lost) everything appended so far.
    private func settle(written: Bool) {
        // Counts carried first: a loss below makes them stale again.
        for member in carried { member.owed = !written }
        carried.removeAll(keepingCapacity: true)
        for member in unsettled {
            if written {
                member.events = member.events.saturatingAdd(member.pendingEvents)
                member.bytes = member.bytes.saturatingAdd(member.pendingBytes)
            } else {
                member.writeFailed = member.writeFailed.saturatingAdd(member.pendingEvents)
                if member.pendingEvents > 0 { member.owed = true }
            }
            member.pendingEvents = 0
            member.pendingBytes = 0
        }
        unsettled.removeAll(keepingCapacity: true)
    }

    /// Every drain tick's scrape: clock syncs and drop counters, a frame
    /// closed, limits applied.
    func tick(now: UInt64) {
        guard let output else { return }
        if let execution { output.append { execution.flush(into: &$0) } }
        output.append { w in
            for sync in takeSyncs(members.values.filter(\.connected).map(\.clockKind)) { sync.encode(into: &w) }
            for member in members.values where member.connected { writeDrops(of: member, into: &w) }
            execution?.writeDrops(into: &w)
        }
        output.flush(now: now)
        otlp?.tick(now: now, tallies: otlpTallies)
        releaseDeparted()
    }

    /// A snapshot of the window now (`tracectl snapshot`).
    func takeSnapshotByHand() -> SessionSnapshots.Taken? {
        guard let snapshots, let recorder = output as? FlightRecorder else { return nil }
        return snapshots.takeByHand(window: recorder.window())
    }

    /// Takes the snapshots that are due (all of them when `stopping`).
    func takeSnapshots(now: UInt64, stopping: Bool = false) -> [SessionSnapshots.Taken] {
        guard let snapshots, let recorder = output as? FlightRecorder else { return [] }
        return stopping ? snapshots.finish(window: recorder.window) : snapshots.tick(now: now, window: recorder.window)
    }

    // MARK: Stopping

    func beginStopping(deadline: UInt64) {
        guard state == .running else { return }
        state = .stopping
        stopDeadline = deadline
    }

    /// Everything is taken: members leave, the output is finished.
    func finish() {
        if let execution { output?.append { execution.flush(into: &$0) } }
        for member in members.values where member.connected {
            if let client = member.client { leave(client, reason: .tracingStopped) }
        }
        output?.append { w in
            for sync in takeSyncs(members.values.map(\.clockKind)) { sync.encode(into: &w) }
        }
        output?.finish()
        otlp?.finish(tallies: otlpTallies())
        // Written: nothing needs the clients any more.
        for member in members.values { member.release() }
        departedHolding = []
        state = .stopped
        stoppedRealtime = tc_realtime_ns()
    }

    /// Marks a session found running in a dead daemon's state.
    func markInterrupted() { state = .interrupted }

    // MARK: Reading

    func snapshot() -> TraceSnapshot {
        if let output { return output.snapshot() }
        return .files(filesOnDisk)
    }

    func status() -> SessionStatus {
        if let storedStatus, output == nil {
            var status = storedStatus
            status.state = state
            return status
        }
        let stats = output?.statistics ?? OutputStatistics()
        // Drop counters come from clients' buffers: sums saturate (an
        // untrusted client's are frozen at their last plausible reading).
        let clients = members.values.sorted(by: { $0.id < $1.id }).map { member in
            let buffer = member.connected ? member.client?.consumer : nil
            return SessionStatus.Client(pid: member.pid, name: member.name, connected: member.connected, events: member.events,
                                        dropped: DropReason.named(member.drops()), bytes: member.bytes, malformed: member.malformed,
                                        untrusted: member.untrusted, chunksInUse: UInt64(buffer?.chunksInUse() ?? 0),
                                        chunks: UInt64(buffer?.geometry.chunkCount ?? 0))
        }
        return SessionStatus(name: name, state: state, mode: config.mode, owner: owner,
                             startedRealtimeNanoseconds: startedRealtime, stoppedRealtimeNanoseconds: stoppedRealtime,
                             events: clients.map(\.events).saturatingSum(),
                             dropped: SessionStatus.droppedByReason(of: clients), bytesRaw: stats.bytesRaw, bytesCompressed: stats.bytesCompressed,
                             files: stats.files, filesDeleted: stats.filesDeleted,
                             diskBytes: stats.diskBytes.saturatingAdd(snapshots?.bytesOnDisk ?? 0),
                             writeFailure: output?.failure, clients: clients,
                             execution: execution?.status(recording: isRunning && execution?.problem.isEmpty == true),
                             otlp: otlp?.status)
    }

    var failure: SessionStatus.WriteFailure? { output?.failure }

    /// Where the frames counted in `status()` end.
    var writtenPosition: WrittenPosition? { output?.position }

    /// Frees disk for the quota: drops this session's oldest complete file.
    func evictOldestFile() -> UInt64 {
        (output as? RotatingFiles)?.evictOldest() ?? 0
    }
}
