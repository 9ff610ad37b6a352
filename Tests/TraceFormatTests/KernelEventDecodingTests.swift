import CTraceABI
import Testing
import TestSupport
import TraceFormat

/// Kernel events decode as docs/format.md ("Kernel events") writes them,
/// and hostile ones are refused, never trapped on.
@Suite(.tags(.hostileInput)) struct KernelEventDecodingTests {
    static func decodeAll(_ bytes: [UInt8], base: UInt64 = 1000) throws -> [RawEvent] {
        var state = EventState(thread: KernelThread.key(42), ticks: base, regionSequence: 0)
        return try decode(bytes) { reader in
            var events: [RawEvent] = []
            while !reader.isAtEnd { events.append(try KernelEventDecoder.next(&reader, &state)) }
            return events
        }
    }

    @Test func everyKindDecodesToItsFields() throws {
        var e = KernelEventEncoding()
        e.name(dt: 0, name: 0x8000_0001)
        e.switchIn(dt: 5, cpu: 1)
        e.switchOut(dt: 100, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0002, stack: 7)
        e.wakeup(dt: 3000, wakerProcess: 2, wakerTid: 77, cpu: 0)
        e.switchIn(dt: 40, cpu: 0)
        e.sample(dt: 10, cpu: 0, stack: 8)
        e.switchOut(dt: 50, state: TC_STATE_RUNNABLE, cpu: 0)
        e.stat(dt: 1, what: TC_STAT_RSS_BYTES, value: 1 << 40)
        e.exit(dt: 9)
        let events = try Self.decodeAll(e.bytes)
        #expect(events.map(\.kind) == [.threadName, .switchIn, .switchOut, .wakeup, .switchIn, .cpuSample, .switchOut,
                                       .processStat, .threadExit])
        #expect(events.map(\.ticks) == [1000, 1005, 1105, 4105, 4145, 4155, 4205, 4206, 4215])
        #expect(events[0].name == 0x8000_0001)
        #expect(events[1].kernel.cpu == 1)
        #expect(events[2].kernel.state == UInt8(TC_STATE_SLEEPING) && events[2].kernel.wait == UInt8(TC_WAIT_LOCK)
                && events[2].name == 0x8000_0002 && events[2].stack == 7 && events[2].kernel.cpu == 1)
        #expect(events[3].kernel.wakerProcess == 2 && events[3].kernel.wakerTid == 77 && events[3].kernel.cpu == 0)
        #expect(events[5].stack == 8 && events[5].kernel.cpu == 0)
        #expect(events[6].kernel.state == UInt8(TC_STATE_RUNNABLE) && events[6].stack == 0 && events[6].name == 0)
        #expect(events[7].kernel.what == UInt32(TC_STAT_RSS_BYTES) && events[7].integerValue == 1 << 40)
        #expect(events.allSatisfy { $0.swiftTask == 0 })
    }

    @Test func anExtensionKindIsSkippedByItsLength() throws {
        var e = KernelEventEncoding()
        e.raw([0x45, 7, 3, 1, 2, 3])
        e.switchIn(dt: 1, cpu: 1)
        let events = try Self.decodeAll(e.bytes, base: 0)
        #expect(events.map(\.kind) == [.extension(0x45), .switchIn])
        #expect(events.map(\.ticks) == [7, 8])
    }

    @Test(arguments: [
        ("an unknown kind", [0x0F, 1]),
        ("an annotation kind", [UInt8(TC_EV_REGION_BEGIN), 1, 1]),
        ("a sample without a stack", [UInt8(TC_KEV_SAMPLE), 1, 0]),
        ("a stack on a wakeup", [UInt8(TC_KEV_WAKEUP) | 0x80, 1, 0, 0, 0, 5]),
        ("a state past a byte", [UInt8(TC_KEV_SWITCH_OUT), 1, 0x80, 0x02, 0, 0, 0]),
        ("a cpu past 32 bits", [UInt8(TC_KEV_SWITCH_IN), 1, 0x80, 0x80, 0x80, 0x80, 0x10]),
        ("a truncated switch out", [UInt8(TC_KEV_SWITCH_OUT), 1, 1]),
        ("an extension longer than the batch", [0x45, 1, 9, 1]),
    ] as [(String, [UInt8])])
    func aBadEventIsRefused(_ what: String, _ bytes: [UInt8]) {
        #expect(throws: DecodeError.self, "\(what)") { _ = try Self.decodeAll(bytes) }
    }

    @Test func aKernelBatchHeaderRoundTripsAndRefusesATidPastTheKeySpace() throws {
        let header = KernelBatchHeader(process: 3, tid: 4_194_303, baseTime: 123_456_789)
        var w = ByteWriter()
        header.encode(events: UnsafeRawBufferPointer(start: nil, count: 0), into: &w)
        // kind, length, then the body.
        #expect(w.bytes.first == UInt8(TC_REC_KERNEL_BATCH))
        let decoded = try decode(Array(w.bytes.dropFirst(2))) { try KernelBatchHeader(decoding: &$0) }
        #expect(decoded == header)
        #expect(decoded.batch.kernel && decoded.batch.thread == KernelThread.key(4_194_303))
        #expect(KernelThread.tid(ofKey: decoded.batch.thread) == 4_194_303 && KernelThread.tid(ofKey: 5) == nil)
        var hostile = ByteWriter()
        hostile.varint(UInt32(3))
        hostile.varint(UInt32(0x8000_0000))
        hostile.varint(UInt64(1))
        #expect(throws: DecodeError.invalid(field: "tid", value: 0x8000_0000)) {
            _ = try decode(hostile.bytes) { try KernelBatchHeader(decoding: &$0) }
        }
    }

    @Test func randomBytesNeverTrapTheKernelDecoder() {
        var generator = SeededGenerator(seed: 11)
        for length in [1, 2, 3, 17, 64, 1000] {
            for _ in 0..<200 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var state = EventState(thread: KernelThread.key(1), ticks: 0, regionSequence: 0)
                bytes.withUnsafeBytes { raw in
                    var reader = ByteReader(raw)
                    while !reader.isAtEnd, (try? KernelEventDecoder.next(&reader, &state)) != nil {}
                }
            }
        }
    }
}

/// `RawEvent` stays under the size at which copying it calls memcpy (the
/// comment on its fields says what it cost).
@Suite struct RawEventLayoutTests {
    @Test func aRawEventTakesNoMoreThan112Bytes() {
        #expect(MemoryLayout<RawEvent>.stride <= 112, "\(MemoryLayout<RawEvent>.stride) bytes")
    }
}
