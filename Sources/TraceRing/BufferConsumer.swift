import CTraceABI
package import TraceFormat
package import TraceSystem

/// The consumer side of one client buffer: takes committed events and
/// metadata out of shared memory, validating everything, and hands them on
/// as batch records.
///
/// Used by the daemon (one per registered client) and by a client's own
/// in-process writer. Not thread-safe: one thread drains a buffer.
///
/// Trust: the mapping may change under us at any time. Each chunk header
/// field is read once; offsets are clamped to the geometry validated at
/// start; bytes are copied out before they are decoded; a chunk whose
/// events stop decoding is "poisoned" (its valid prefix kept, the rest
/// skipped and counted) until the producer hands it back.
package final class BufferConsumer {
    package let mapping: MemoryMapping
    package let geometry: BufferGeometry

    /// What this consumer has read of each chunk in its current cycle.
    private struct Track {
        var thread: UInt32 = 0
        var sequence: UInt32 = 0
        var active = false
        var taken = 0
        var eventsTaken = 0
        var poisoned = false
        var state = EventState(thread: 0, ticks: 0, regionSequence: 0)
    }

    private var tracks: [Track]
    /// Complete chunks taken whole are copied without being scanned (the
    /// reader checks every event anyway); every `spotCheckInterval`th is
    /// scanned, and once a client has written one malformed chunk, all are.
    package static let spotCheckInterval = 64
    private var completeChunksSeen = 0
    package private(set) var verifyingEverything = false
    private var metadataTaken = 0
    private var metadataPoisoned = false
    /// Every metadata record taken so far: a new file repeats them all.
    package private(set) var metadata: [MetadataRecord] = []

    /// One pass's segments, ordered before they are handed on.
    private var passBytes: [UInt8] = []
    private var passSegments: [(header: BatchHeader, start: Int, count: Int, events: Int, finishesChunk: Bool)] = []
    private var order = ThreadOrder()

    package private(set) var statistics = Statistics()

    /// Why this buffer's counts cannot be believed, once it showed one
    /// that cannot be true (nil until then): a chunk claiming more events
    /// than its bytes can hold, a drop counter going backwards or rising
    /// faster than any process drops. From then on every chunk is scanned,
    /// and drop counters stay at their last plausible reading.
    package private(set) var implausible: String?
    private var lastDrops: (counts: [UInt32: UInt64], at: UInt64)?
    /// Every counted event takes at least a kind byte and a time delta.
    package static let minimumEventBytes = 2
    /// More than any process can drop: 16 events per nanosecond, plus
    /// slack for two readings taken close together.
    package static let maximumDropsPerNanosecond: UInt64 = 16
    package static let dropSlack: UInt64 = 1 << 20
    /// A first reading above this (2^53, ~104 days of 1 drop per ns) is a lie.
    package static let maximumFirstDrops: UInt64 = 1 << 53

    package struct Statistics: Equatable, Sendable {
        /// Events taken (validated) from the buffer.
        package var events = 0
        /// Bytes of events taken.
        package var eventBytes = 0
        package var batches = 0
        package var chunksFreed = 0
        /// Chunks whose events stopped decoding, and the bytes skipped.
        package var malformedChunks = 0
        package var malformedBytes = 0
        /// Chunk headers with a state that is not in the ABI.
        package var invalidChunkStates = 0
        /// The metadata area held a record that did not decode.
        package var malformedMetadata = 0
        /// Event bytes found in the buffer when the consumer attached, not taken.
        package var skippedAtAttach = 0
        /// Times a thread's batches went out of order because too much was
        /// held waiting for an earlier chunk (see `ThreadOrder`).
        package var reorderOverflows = 0
    }

    /// Validates the buffer in `mapping` (see `BufferGeometry`).
    ///
    /// With `attachingInUse`, the consumer starts from what the buffer holds
    /// now, taking none of it: events committed so far belonged to an earlier
    /// consumer (an in-process trace, or a daemon that died). Complete chunks
    /// are freed unread (`statistics.skippedAtAttach`); chunks being written
    /// are taken from their current end on.
    package init(mapping: MemoryMapping, attachingInUse: Bool = false) throws(BufferError) {
        self.mapping = mapping
        self.geometry = try BufferGeometry(validating: mapping.base, mappedSize: mapping.size)
        self.tracks = Array(repeating: Track(), count: geometry.chunkCount)
        if attachingInUse { skipWhatIsCommitted() }
    }

    private func skipWhatIsCommitted() {
        for index in 0..<geometry.chunkCount {
            let chunk = geometry.chunk(index, in: mapping.base)
            switch Int(tc_chunk_state_load_acquire(chunk)) {
            case TC_CHUNK_COMPLETE:
                order.expect(thread: chunk.pointee.thread_index, sequence: chunk.pointee.sequence &+ 1)
                statistics.skippedAtAttach += Int(tc_chunk_committed_load_acquire(chunk))
                tc_chunk_committed_reset_relaxed(chunk)
                tc_chunk_state_store_release(chunk, UInt32(TC_CHUNK_FREE))
            case TC_CHUNK_WRITING:
                let committed = min(Int(tc_chunk_committed_load_acquire(chunk)), geometry.payloadSize)
                guard committed > 0 else { continue }
                let thread = chunk.pointee.thread_index, sequence = chunk.pointee.sequence
                var state = EventState(thread: thread, ticks: chunk.pointee.base_ticks,
                                       regionSequence: chunk.pointee.region_seq_base)
                // The decoder state at the current end is needed for what follows.
                let prefix = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(chunk) + Int(TC_CHUNK_HEADER_SIZE),
                                                          count: committed))
                let scan = prefix.withUnsafeBytes { EventScanner.scan($0, &state) }
                tracks[index] = Track(thread: thread, sequence: sequence, active: true, taken: scan.validBytes,
                                      eventsTaken: scan.events, poisoned: scan.malformed, state: state)
                order.expect(thread: thread, sequence: sequence)
                statistics.skippedAtAttach += committed
            default:
                continue
            }
        }
        tc_free_generation_increment_release(header)
    }

    private var header: UnsafeMutablePointer<tc_buffer_header> { geometry.header(in: mapping.base) }

    /// Chunks not free now (being written, or complete and not drained yet):
    /// how full the buffer is. A relaxed load per chunk, for a status.
    package func chunksInUse() -> Int {
        var used = 0
        for index in 0..<geometry.chunkCount where Int(tc_chunk_state_load_relaxed(geometry.chunk(index, in: mapping.base))) != TC_CHUNK_FREE {
            used += 1
        }
        return used
    }

    // MARK: Metadata

    /// Takes metadata records committed since the last call, in order.
    package func takeMetadata() -> [MetadataRecord] {
        guard !metadataPoisoned else { return [] }
        let committed = min(Int(tc_metadata_committed_load_acquire(header)), geometry.metadataSize)
        guard committed > metadataTaken else { return [] }
        let copy = Array(UnsafeRawBufferPointer(
            start: mapping.base + geometry.metadataOffset + metadataTaken, count: committed - metadataTaken))
        var taken: [MetadataRecord] = []
        copy.withUnsafeBytes { bytes in
            var r = ByteReader(bytes)
            while !r.isAtEnd {
                do {
                    let kind = try r.byte("metadata kind")
                    let length = try r.varint("metadata length")
                    guard length <= UInt64(r.remaining), MetadataRecord.isMetadata(kind: kind) else {
                        throw DecodeError.invalid(field: "metadata record", value: UInt64(kind))
                    }
                    var body = ByteReader(try r.bytes(Int(length), "metadata record"))
                    taken.append(try MetadataRecord(kind: kind, decodingBody: &body))
                } catch {
                    // The producer commits whole records only: this one is
                    // garbage, and so is whatever follows it.
                    metadataPoisoned = true
                    statistics.malformedMetadata += 1
                    return
                }
            }
        }
        metadataTaken = committed
        metadata.append(contentsOf: taken)
        return taken
    }

    // MARK: Events

    /// Takes committed events: whole COMPLETE chunks (which are freed for
    /// reuse) and, when `scrape` is set, the committed prefix of chunks still
    /// being written. Hands each run of events to `sink` as a batch, ordered
    /// by thread and chunk sequence within this pass.
    ///
    /// Without `scrape` only chunks flagged in the completion bitmap are
    /// visited; with it, every chunk (a bounded timer makes that rare).
    @discardableResult
    package func drain(process: UInt32, scrape: Bool, sink: BatchSink) -> Int {
        passBytes.removeAll(keepingCapacity: true)
        passSegments.removeAll(keepingCapacity: true)
        var freed = 0
        if scrape {
            scrapeAll(process: process, freed: &freed)
        } else {
            forEachFlaggedChunk { visit($0, process: process, scrape: false, freed: &freed) }
        }
        if freed > 0 {
            statistics.chunksFreed += freed
            tc_free_generation_increment_release(header)
        }
        passSegments.sort {
            ($0.header.thread, $0.header.chunkSequence, $0.header.segmentOffset)
                < ($1.header.thread, $1.header.chunkSequence, $1.header.segmentOffset)
        }
        passBytes.withUnsafeBytes { bytes in
            for segment in passSegments {
                let events = UnsafeRawBufferPointer(rebasing: bytes[segment.start..<(segment.start + segment.count)])
                order.offer(segment.header, events, count: segment.events, finishesChunk: segment.finishesChunk, sink: sink)
            }
        }
        order.endPass(sink: sink)
        statistics.reorderOverflows = order.overflows
        return freed
    }

    /// Calls `body` with the index of every chunk whose completion bit was
    /// set since the last call, clearing the bits (exchange, acquire). A
    /// hostile client can set any bit: indices are bounds-checked and the
    /// caller checks the chunk's state.
    private func forEachFlaggedChunk(_ body: (Int) -> Void) {
        let bitmap = geometry.bitmap(in: mapping.base)
        let words = (geometry.chunkCount + 63) / 64
        let summaryWords = (words + 63) / 64
        for s in 0..<summaryWords {
            var flagged = tc_exchange_acquire_u64(tc_summary_word(header, UInt32(s)), 0)
            while flagged != 0 {
                let word = s * 64 + flagged.trailingZeroBitCount
                flagged &= flagged - 1
                guard word < words else { continue }
                var bits = tc_exchange_acquire_u64(bitmap + word, 0)
                while bits != 0 {
                    let index = word * 64 + bits.trailingZeroBitCount
                    bits &= bits - 1
                    if index < geometry.chunkCount { body(index) }
                }
            }
        }
    }

    /// Takes every COMPLETE chunk, and the committed prefix of the *oldest*
    /// chunk each thread is writing. A thread can hold two WRITING chunks in
    /// our snapshot (it completed one and took the next while we swept);
    /// taking the newer one's prefix now would put its events before the
    /// older one's tail, which a later pass takes. So each thread's batches
    /// reach the sink in (chunk sequence, offset) order.
    private func scrapeAll(process: UInt32, freed: inout Int) {
        var oldest: [UInt32: (sequence: UInt32, index: Int)] = [:]
        for index in 0..<geometry.chunkCount {
            let chunk = geometry.chunk(index, in: mapping.base)
            switch Int(tc_chunk_state_load_acquire(chunk)) {
            case TC_CHUNK_COMPLETE:
                visit(index, process: process, scrape: true, freed: &freed)
            case TC_CHUNK_WRITING:
                // Header fields are meaningful only once something is committed.
                guard tc_chunk_committed_load_acquire(chunk) > 0 else { continue }
                let thread = chunk.pointee.thread_index, sequence = chunk.pointee.sequence
                if let known = oldest[thread], Int32(bitPattern: sequence &- known.sequence) >= 0 { continue }
                oldest[thread] = (sequence, index)
            case TC_CHUNK_FREE:
                continue
            default:
                statistics.invalidChunkStates += 1
            }
        }
        for candidate in oldest.values {
            visit(candidate.index, process: process, scrape: true, freed: &freed)
        }
    }

    private func visit(_ index: Int, process: UInt32, scrape: Bool, freed: inout Int) {
        let chunk = geometry.chunk(index, in: mapping.base)
        switch Int(tc_chunk_state_load_acquire(chunk)) {
        case TC_CHUNK_FREE:
            return
        case TC_CHUNK_WRITING:
            if scrape { take(chunk: chunk, index: index, process: process, finishing: false) }
        case TC_CHUNK_COMPLETE:
            take(chunk: chunk, index: index, process: process, finishing: true)
            tracks[index] = Track()
            tc_chunk_committed_reset_relaxed(chunk)
            tc_chunk_state_store_release(chunk, UInt32(TC_CHUNK_FREE))
            freed += 1
        default:
            statistics.invalidChunkStates += 1
        }
    }

    /// Copies the new committed bytes of one chunk into this pass.
    private func take(chunk: UnsafeMutablePointer<tc_chunk_header>, index: Int, process: UInt32, finishing: Bool) {
        let committed = min(Int(tc_chunk_committed_load_acquire(chunk)), geometry.payloadSize)
        // The header fields below were written before the first commit, or,
        // for a chunk completed empty, before COMPLETE; read each once.
        guard committed > 0 || finishing else { return }
        let thread = chunk.pointee.thread_index
        let sequence = chunk.pointee.sequence
        var track = tracks[index]
        if !track.active || track.thread != thread || track.sequence != sequence {
            track = Track(thread: thread, sequence: sequence, active: true, taken: 0, eventsTaken: 0, poisoned: false,
                          state: EventState(thread: thread, ticks: chunk.pointee.base_ticks,
                                            regionSequence: chunk.pointee.region_seq_base))
        }
        defer { tracks[index] = track }
        guard !track.poisoned, committed > track.taken else {
            // Nothing new, but a finished chunk still lets the thread's next one go.
            if finishing { passSegments.append((emptyBatch(process, thread, sequence, track), passBytes.count, 0, 0, true)) }
            return
        }
        let payload = UnsafeRawPointer(chunk) + Int(TC_CHUNK_HEADER_SIZE)
        let start = passBytes.count
        passBytes.append(contentsOf: UnsafeRawBufferPointer(start: payload + track.taken, count: committed - track.taken))
        let batch = BatchHeader(
            process: process, thread: thread, chunkSequence: sequence, segmentOffset: UInt32(track.taken),
            baseTicks: track.state.ticks, regionSequence: track.state.regionSequence, swiftTask: track.state.swiftTask,
            task: track.state.task, lastTask: track.state.lastTask,
            droppedBefore: track.taken == 0 ? chunk.pointee.dropped_before : 0)
        let scan: EventScanner.Scan
        let bytes = committed - track.taken
        // The header's count is the producer's claim, written before it
        // stored COMPLETE (so read only once that was seen): taken on trust
        // only when the bytes could hold that many events.
        let claimed = finishing ? max(0, Int(chunk.pointee.event_count) - track.eventsTaken) : 0
        if claimed > bytes / Self.minimumEventBytes {
            distrust("a chunk claimed \(claimed) events in \(bytes) bytes")
        }
        if finishing && !mustScan() {
            // The rest of a complete chunk: its state at the end is never
            // needed, and its event count is in the header.
            scan = EventScanner.Scan(validBytes: bytes, events: claimed, malformed: false)
        } else {
            scan = passBytes.withUnsafeBytes { bytes in
                EventScanner.scan(UnsafeRawBufferPointer(rebasing: bytes[start...]), &track.state)
            }
        }
        track.eventsTaken += scan.events
        if scan.malformed {
            track.poisoned = true
            verifyingEverything = true
            statistics.malformedChunks += 1
            statistics.malformedBytes += (committed - track.taken) - scan.validBytes
        }
        track.taken += scan.validBytes
        passBytes.removeLast(passBytes.count - start - scan.validBytes)
        if scan.validBytes > 0 || finishing {
            passSegments.append((batch, start, scan.validBytes, scan.events, finishing))
            statistics.events += scan.events
            statistics.eventBytes += scan.validBytes
            statistics.batches += 1
        }
    }

    private func distrust(_ reason: String) {
        if implausible == nil { implausible = reason }
        verifyingEverything = true
    }

    /// Whether the complete chunk being taken must be scanned.
    private func mustScan() -> Bool {
        completeChunksSeen += 1
        return verifyingEverything || completeChunksSeen % Self.spotCheckInterval == 1
    }

    private func emptyBatch(_ process: UInt32, _ thread: UInt32, _ sequence: UInt32, _ track: Track) -> BatchHeader {
        BatchHeader(process: process, thread: thread, chunkSequence: sequence, segmentOffset: UInt32(track.taken),
                    baseTicks: track.state.ticks, regionSequence: track.state.regionSequence,
                    swiftTask: track.state.swiftTask, task: track.state.task, lastTask: track.state.lastTask,
                    droppedBefore: 0)
    }

    /// Hands on batches held back for ordering (see `ThreadOrder`): call once
    /// the producer is gone or tracing has stopped and a last scrape is done.
    package func flushHeld(sink: BatchSink) {
        order.flush(sink: sink)
    }

    // MARK: Drops and waking

    /// The buffer's cumulative drop counters, summed over stripes, by
    /// reason; the last plausible reading once they were caught lying
    /// (see `implausible`).
    package func dropCounters() -> [UInt32: UInt64] {
        if implausible != nil { return lastDrops?.counts ?? [:] }
        var totals: [UInt32: UInt64] = [:]
        for stripe in 0..<TC_DROP_STRIPES {
            for reason in 0..<TC_DROP_REASONS {
                let value = tc_load_relaxed_u64(tc_drop_counter(header, stripe, reason))
                if value > 0 { totals[reason] = totals[reason, default: 0].saturatingAdd(value) }
            }
        }
        let now = tc_monotonic_ns()
        if let reason = Self.implausibility(of: totals, after: lastDrops, now: now) {
            distrust(reason)
            return lastDrops?.counts ?? [:]
        }
        lastDrops = (totals, now)
        return totals
    }

    /// Why `counts` cannot follow `last`, or nil if they can.
    private static func implausibility(of counts: [UInt32: UInt64], after last: (counts: [UInt32: UInt64], at: UInt64)?,
                                       now: UInt64) -> String? {
        guard let last else {
            guard let (reason, count) = counts.sorted(by: { $0.key < $1.key }).first(where: { $0.value > maximumFirstDrops })
            else { return nil }
            return "its drop counter for '\(DropReason.name(reason))' started at \(count)"
        }
        let allowed = (now &- last.at).saturatingMultiply(maximumDropsPerNanosecond).saturatingAdd(dropSlack)
        for (reason, before) in last.counts.sorted(by: { $0.key < $1.key }) where counts[reason, default: 0] < before {
            return "its drop counter for '\(DropReason.name(reason))' went back from \(before) to \(counts[reason, default: 0])"
        }
        for (reason, count) in counts.sorted(by: { $0.key < $1.key }) where count - last.counts[reason, default: 0] > allowed {
            return "its drop counter for '\(DropReason.name(reason))' rose from \(last.counts[reason, default: 0]) to \(count) in \((now &- last.at) / 1_000_000) ms"
        }
        return nil
    }

    /// Announces that the consumer is about to sleep, then looks once more
    /// for completed chunks. Returns false (and withdraws the announcement)
    /// if there is work, so a producer's completion is never missed: it
    /// either sees `consumer_waiting` and signals, or we see its chunk.
    package func prepareToSleep() -> Bool {
        tc_waiting_announce_seq_cst(header)
        let summaryWords = ((geometry.chunkCount + 63) / 64 + 63) / 64
        let pending = (0..<summaryWords).contains { tc_load_relaxed_u64(tc_summary_word(header, UInt32($0))) != 0 }
        if pending {
            tc_waiting_withdraw_relaxed(header)
            return false
        }
        return true
    }

    /// Withdraws the announcement of `prepareToSleep` after waking (on a
    /// timeout no producer cleared it).
    package func awake() {
        tc_waiting_withdraw_relaxed(header)
    }

    /// Chunks currently COMPLETE (waiting for this consumer).
    package func completedChunks() -> Int {
        var count = 0
        for index in 0..<geometry.chunkCount {
            let chunk = geometry.chunk(index, in: mapping.base)
            if tc_chunk_state_load_acquire(chunk) == UInt32(TC_CHUNK_COMPLETE) { count += 1 }
        }
        return count
    }
}
