import CTraceABI
import Testing
import TestSupport
import TraceFormat

@Suite struct EventDecodingTests {
    /// One of each kind, in the byte layout of docs/format.md.
    static func everyKind() -> EventEncoding {
        var e = EventEncoding()
        e.context(swiftDelta: 77, taskDelta: 0)
        e.taskBegin(dt: 5, idDelta: 300, type: 1, stack: 9)
        e.context(swiftDelta: 0, taskDelta: 300)
        e.regionBegin(dt: 10, type: 2)
        e.regionBegin(dt: 1, type: 3, stack: 4)
        e.log(dt: 200, category: 5, message: "café", truncated: true)
        e.regionEnd(dt: 3, back: 0)
        e.counter(dt: 0, name: 6, value: -12345)
        e.doubleCounter(dt: 1, name: 7, value: 0.25)
        e.context(swiftDelta: -77, taskDelta: 0)
        // back counts begins, not open regions: #40 is one before the latest.
        e.regionEnd(dt: 2, back: 1)
        e.regionEndForeign(dt: 4, thread: 9, sequence: 41)
        e.taskEnd(dt: 1000, idDelta: 0)
        return e
    }

    @Test func everyKindDecodesToItsFields() throws {
        let bytes = Self.everyKind().bytes
        var events: [RawEvent] = []
        var messages: [String] = []
        var state = EventState(thread: 3, ticks: 1000, regionSequence: 40, swiftTask: 0)
        try decode(bytes) { reader in
            while !reader.isAtEnd {
                var event = try EventDecoder.next(&reader, &state)
                if event.kind != .context {
                    messages.append(String(decoding: event.message, as: UTF8.self))
                    event.message = UnsafeRawBufferPointer(start: nil, count: 0)
                    events.append(event)
                }
            }
        }
        #expect(events.map(\.kind.tag) == [4, 1, 1, 6, 2, 7, 8, 2, 3, 5])
        #expect(events.map(\.ticks) == [1005, 1015, 1016, 1216, 1219, 1219, 1220, 1222, 1226, 2226])
        #expect(events.map(\.swiftTask) == [77, 77, 77, 77, 77, 77, 77, 0, 0, 0])
        #expect(events[0].task == 300 && events[0].parentTask == 0 && events[0].name == 1 && events[0].stack == 9)
        #expect(events[1].regionSequence == 40 && events[1].task == 300 && events[1].stack == 0)
        #expect(events[3].task == 300)
        #expect(events[2].regionSequence == 41 && events[2].stack == 4)
        #expect(events[3].name == 5 && messages[3] == "café" && events[3].truncated)
        // back 0 names the latest region begun: #41; then #40.
        #expect(events[4].regionThread == 3 && events[4].regionSequence == 41)
        #expect(events[5].integerValue == -12345 && events[6].doubleValue == 0.25)
        #expect(events[7].regionSequence == 40)
        #expect(events[8].regionThread == 9 && events[8].regionSequence == 41)
        #expect(events[9].task == 300)
        #expect(state.regionSequence == 42)
    }

    @Test func theScannerAgreesWithTheDecoder() {
        let bytes = Self.everyKind().bytes
        var state = EventState(thread: 3, ticks: 1000, regionSequence: 40, swiftTask: 0)
        let scan = bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
        #expect(scan == EventScanner.Scan(validBytes: bytes.count, events: 10, malformed: false))
        #expect(state == EventState(thread: 3, ticks: 2226, regionSequence: 42, swiftTask: 0, task: 300, lastTask: 300))
    }

    @Test func theScannerKeepsTheWholeEventsBeforeGarbage() {
        var e = EventEncoding()
        e.counter(dt: 1, name: 1, value: 1)
        e.regionBegin(dt: 2, type: 1)
        let good = e.bytes.count
        let bytes = e.bytes + [0x3F, 0x01, 0x02]
        var state = EventState(thread: 1, ticks: 0, regionSequence: 0, swiftTask: 0)
        let scan = bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
        #expect(scan == EventScanner.Scan(validBytes: good, events: 2, malformed: true))
        #expect(state.ticks == 3 && state.regionSequence == 1)
    }

    @Test func aCutOffEventIsNotCounted() {
        var e = EventEncoding()
        e.log(dt: 1, category: 1, message: "hello")
        let bytes = Array(e.bytes.dropLast(2))
        var state = EventState(thread: 1, ticks: 0, regionSequence: 0, swiftTask: 0)
        let scan = bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
        #expect(scan.validBytes == 0 && scan.events == 0 && scan.malformed)
    }

    @Test(arguments: [
        [UInt8(0x3F), 0, 0],                                  // unknown kind
        [TraceEventKind.counterInteger.tag | 0x80, 0, 1, 2, 3],        // stack bit on a kind without stacks
        [TraceEventKind.context.tag | 0x80, 1, 1],
        [TraceEventKind.log.tag, 0, 1, 0xFF, 0x7F],                 // log longer than the maximum
    ])
    func malformedEventsAreErrorsNotTraps(_ bytes: [UInt8]) {
        var state = EventState(thread: 1, ticks: 0, regionSequence: 5, swiftTask: 0)
        #expect(throws: DecodeError.self) { try decode(bytes) { _ = try EventDecoder.next(&$0, &state) } }
        let scan = bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
        #expect(scan.malformed && scan.validBytes == 0)
    }

    @Test func anEndBeforeAnyBeginIsRejectedByTheDecoder() {
        var e = EventEncoding()
        e.regionEnd(dt: 1, back: 0)
        var state = EventState(thread: 1, ticks: 0, regionSequence: 0, swiftTask: 0)
        #expect(throws: DecodeError.invalid(field: "region back-reference", value: 0)) {
            try decode(e.bytes) { _ = try EventDecoder.next(&$0, &state) }
        }
    }

    @Test func extensionEventsAreSkippableByLength() throws {
        var e = EventEncoding()
        e.extensionEvent(kind: 0x41, dt: 7, payload: [1, 2, 3, 4])
        e.counter(dt: 1, name: 2, value: 3)
        var state = EventState(thread: 1, ticks: 0, regionSequence: 0, swiftTask: 0)
        let scan = e.bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
        #expect(scan == EventScanner.Scan(validBytes: e.bytes.count, events: 2, malformed: false))
        var decoderState = EventState(thread: 1, ticks: 0, regionSequence: 0, swiftTask: 0)
        let (unknown, counter) = try decode(e.bytes) { reader in
            let unknown = try EventDecoder.next(&reader, &decoderState)
            let payload = unknown.message.count
            let counter = try EventDecoder.next(&reader, &decoderState)
            return ((unknown.kind.tag, payload, unknown.ticks), (counter.kind.tag, counter.ticks, counter.integerValue))
        }
        #expect(unknown == (0x41, 4, 7))
        #expect(counter == (TraceEventKind.counterInteger.tag, 8, 3))
    }

    @Test func randomBytesNeverTrapTheDecoders() {
        var generator = SeededGenerator(seed: 7)
        for length in [1, 2, 3, 17, 64, 1000, 8192] {
            for _ in 0..<200 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var state = EventState(thread: 1, ticks: 0, regionSequence: 3, swiftTask: 0)
                let scan = bytes.withUnsafeBytes { EventScanner.scan($0, &state) }
                #expect(scan.validBytes <= length)
                var decoderState = EventState(thread: 1, ticks: 0, regionSequence: 3, swiftTask: 0)
                bytes.withUnsafeBytes { raw in
                    var reader = ByteReader(raw)
                    while !reader.isAtEnd, (try? EventDecoder.next(&reader, &decoderState)) != nil {}
                }
            }
        }
    }
}

