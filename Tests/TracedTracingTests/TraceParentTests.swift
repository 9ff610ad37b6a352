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
}
