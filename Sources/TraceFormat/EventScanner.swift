import CTraceABI

/// Walks a run of events as fast as possible, checking that each is whole
/// and tracking the decoder state, without decoding field values the state
/// does not need. Consumers use it on what a client wrote: it never reads
/// out of bounds, and stops at the first event that is not well-formed.
///
/// It is deliberately less strict than `EventDecoder` (it does not check
/// that ids fit their ranges, say): whatever it lets through, the reader
/// still validates, and damage stays inside the batch of the client that
/// wrote it.
package enum EventScanner {
    package struct Scan: Equatable {
        /// Bytes from the start that hold whole events.
        package var validBytes: Int
        /// Events among them (context events not counted).
        package var events: Int
        /// Whether scanning stopped before the end at a malformed event.
        package var malformed: Bool

        package init(validBytes: Int, events: Int, malformed: Bool) {
            self.validBytes = validBytes
            self.events = events
            self.malformed = malformed
        }
    }

    /// Scans `bytes` from `state`; `state` ends after the last whole event.
    package static func scan(_ bytes: UnsafeRawBufferPointer, _ state: inout EventState) -> Scan {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return Scan(validBytes: 0, events: 0, malformed: false)
        }
        let end = bytes.count
        var i = 0
        var events = 0
        var ticks = state.ticks
        var regions = state.regionSequence
        var swiftTask = state.swiftTask
        var task = state.task
        var lastTask = state.lastTask

        // A varint at `i`: its value, advancing `i`; nil if cut off or > 10 bytes.
        @inline(__always) func varint(_ i: inout Int) -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while i < end {
                let b = base[i]
                i += 1
                value |= UInt64(b & 0x7f) &<< shift
                if b < 0x80 { return value }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }
        @inline(__always) func skip(_ count: Int, _ i: inout Int) -> Bool {
            for _ in 0..<count where varint(&i) == nil { return false }
            return true
        }

        while i < end {
            let start = i
            let tag = base[i]
            i += 1
            let kind = Int(tag & 0x7f)
            let hasStack = tag & UInt8(TC_EV_HAS_STACK) != 0
            var ok = true
            var begins: UInt64 = 0
            var begun: UInt64?
            if kind == TC_EV_CONTEXT {
                if !hasStack, let swiftDelta = varint(&i), let taskDelta = varint(&i) {
                    swiftTask &+= Self.unzigzag(swiftDelta)
                    task &+= Self.unzigzag(taskDelta)
                    continue
                }
                ok = false
            } else if let dt = varint(&i) {
                switch kind {
                case TC_EV_REGION_BEGIN:
                    ok = skip(hasStack ? 2 : 1, &i)
                    begins = 1
                case TC_EV_REGION_END, TC_EV_TASK_END:
                    ok = !hasStack && skip(1, &i)
                case TC_EV_REGION_END_FOREIGN, TC_EV_COUNTER_INT:
                    ok = !hasStack && skip(2, &i)
                case TC_EV_TASK_BEGIN:
                    if let delta = varint(&i) {
                        begun = lastTask &+ Self.unzigzag(delta)
                        ok = skip(hasStack ? 2 : 1, &i)
                    } else {
                        ok = false
                    }
                case TC_EV_COUNTER_DOUBLE:
                    ok = !hasStack && skip(1, &i) && i + 8 <= end
                    i += 8
                case TC_EV_LOG:
                    if skip(1, &i), let lengthAndFlag = varint(&i), lengthAndFlag >> 1 <= UInt64(TC_MAX_LOG_MESSAGE),
                       i + Int(lengthAndFlag >> 1) <= end {
                        i += Int(lengthAndFlag >> 1)
                        ok = !hasStack || skip(1, &i)
                    } else {
                        ok = false
                    }
                case TC_EV_FIRST_EXTENSION...TC_EV_LAST_EXTENSION:
                    if !hasStack, let length = varint(&i), length <= UInt64(end - i) {
                        i += Int(length)
                    } else {
                        ok = false
                    }
                default:
                    ok = false
                }
                if ok {
                    ticks &+= dt
                    regions &+= begins
                    if let begun { lastTask = begun }
                }
            } else {
                ok = false
            }
            guard ok, i <= end else {
                state = EventState(thread: state.thread, ticks: ticks, regionSequence: regions, swiftTask: swiftTask, task: task,
                               lastTask: lastTask)
                return Scan(validBytes: start, events: events, malformed: true)
            }
            events += 1
        }
        state = EventState(thread: state.thread, ticks: ticks, regionSequence: regions, swiftTask: swiftTask, task: task,
                               lastTask: lastTask)
        return Scan(validBytes: i, events: events, malformed: false)
    }

    @inline(__always)
    private static func unzigzag(_ raw: UInt64) -> UInt64 {
        (raw >> 1) ^ (0 &- (raw & 1))
    }
}
