/// Removes logs of unwanted categories from a run of events, re-encoding
/// what follows so the stream stays valid: the time delta of a removed log
/// is added to the next event's. Other event kinds are always kept (the
/// decoder state of the batch does not change).
package enum BatchFilter {
    package struct Result {
        package var bytes: [UInt8]
        package var events: Int
    }

    /// `keep` decides by category string id. Bytes that do not decode are
    /// kept as they are (the reader reports them).
    package static func logs(in events: UnsafeRawBufferPointer, from initial: EventState, keep: (UInt32) -> Bool) -> Result {
        var out: [UInt8] = []
        out.reserveCapacity(events.count)
        var reader = ByteReader(events)
        var state = initial
        var carried: UInt64 = 0
        var kept = 0
        while !reader.isAtEnd {
            let start = reader.offset
            let before = state.ticks
            guard let event = try? EventDecoder.next(&reader, &state) else {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: events[start...]))
                return Result(bytes: out, events: kept)
            }
            let whole = UnsafeRawBufferPointer(rebasing: events[start..<reader.offset])
            if case .context = event.kind {
                out.append(contentsOf: whole)
                continue
            }
            let dt = event.ticks &- before
            if case .log = event.kind, !keep(event.name) {
                carried &+= dt
                continue
            }
            kept += 1
            if carried == 0 {
                out.append(contentsOf: whole)
                continue
            }
            // Tag, then the delta grown by what removed events carried, then
            // the rest of the event as it was.
            out.append(whole[0])
            var delta = ByteWriter(capacity: 10)
            delta.varint(dt &+ carried)
            out.append(contentsOf: delta.bytes)
            var skip = 1
            while whole[skip] & 0x80 != 0 { skip += 1 }
            out.append(contentsOf: whole[(skip + 1)...])
            carried = 0
        }
        return Result(bytes: out, events: kept)
    }
}
