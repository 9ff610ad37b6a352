import TestSupport
import Testing
@testable import TracedTracing

/// W3C trace context: what a `traceparent` must look like to be continued.
struct TraceParentTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidHeaderParsesAndPrintsBackTheSame() throws {
        let parent = try #require(TraceParent(Self.valid))
        #expect(parent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parent.spanIDString == "00f067aa0ba902b7")
        #expect(parent.flags == 1)
        #expect(parent.description == Self.valid)
    }

    @Test(arguments: [
        ("version ff", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("version not hex", "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("version of three digits", "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("upper-case hex", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
        ("bad hex in the trace id", "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"),
        ("bad hex in the span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9z2b7-01"),
        ("bad hex in the flags", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"),
        ("all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        ("all-zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"),
        ("too short", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"),
        ("too long for version 00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"),
        ("trace id too long", "00-4bf92f3577b34da6a3ce929d0e0e47360-0f067aa0ba902b7-01"),
        ("a dash missing", "00-4bf92f3577b34da6a3ce929d0e0e4736000f067aa0ba902b7-01"),
        ("empty", ""),
        ("a later version without a dash after the flags", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"),
    ])
    func anInvalidHeaderIsIgnored(_ reason: String, _ header: String) {
        #expect(TraceParent(header) == nil, "\(reason)")
    }

    @Test func aLaterVersionKeepsTheFieldsItKnows() throws {
        let parent = try #require(TraceParent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next"))
        #expect(parent.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
    }

    /// The ids are written a word at a time (`Hex`): every digit value in
    /// every position, and the extremes, read back as the standard library
    /// prints them.
    @Test func idsAreWrittenAsTheirLowerCaseHexDigits() {
        func expected(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        var values: [UInt64] = [0, 1, 9, 10, 15, 16, .max, .max - 1, 0x8000_0000_0000_0000, 0x0123_4567_89ab_cdef]
        for position in 0..<16 {
            for digit in UInt64(0)...15 { values.append(digit << (4 * position)) }
        }
        var generator = SeededGenerator(seed: 0x7d1d63a)  // the same values every run: a failure reproduces
        for _ in 0..<1000 { values.append(generator.next()) }
        for value in values {
            let parent = TraceParent(traceIDHigh: value, traceIDLow: ~value, spanID: value, flags: UInt8(truncatingIfNeeded: value))
            #expect(parent.spanIDString == expected(value))
            #expect(parent.traceID == expected(value) + expected(~value))
            let flags = String(UInt8(truncatingIfNeeded: value), radix: 16)
            #expect(parent.description == "00-\(parent.traceID)-\(expected(value))-\(flags.count == 1 ? "0" : "")\(flags)")
            #expect(TraceParent(parent.description) == (value == 0 ? nil : parent))
        }
    }

    /// A line with too little room left for the ids keeps what fits and
    /// the first byte that did not, like any other text.
    @Test func idsNearTheEndOfALineAreCutLikeText() {
        let parent = TraceParent(traceIDHigh: 0xabc, traceIDLow: 0xdef, spanID: 0x42, flags: 1)
        for room in [0, 1, 16, 54, 55, 56] {
            let (message, count) = LogLine.build { line in
                for _ in 0..<(1024 - room) { line.append(UInt8(ascii: "a")) }
                line.append(ids: parent)
                return (line.withMessage { Array($0) }, line.count)
            }
            let whole = Array(repeating: UInt8(ascii: "a"), count: 1024 - room) + Array(parent.description.utf8)
            #expect(count == min(1024, whole.count), "room \(room)")
            #expect(message == Array(whole.prefix(1025)), "room \(room)")
        }
    }
}
