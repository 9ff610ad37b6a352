import Testing
import TraceFormat
import TraceOTLP

/// `SpanAssembler` fed by hand: which spans a task, its regions and its
/// logs make, and what a process that never ends anything costs.
struct SpanAssemblerTests {
    final class Sink {
        var spans: [OTLPSpan] = []
    }

    static func assembler(_ options: SpanAssembler.Options = SpanAssembler.Options()) -> (SpanAssembler, Sink) {
        let sink = Sink()
        let assembler = SpanAssembler(options: options, unixTime: { UInt64($0) }) { _, spans in sink.spans += spans }
        return (assembler, sink)
    }

    static func log(_ assembler: SpanAssembler, task: UInt64, _ category: String, _ message: String, time: Int64,
                    thread: UInt32 = 1) {
        var text = message
        text.withUTF8 { bytes in
            assembler.log(process: 1, thread: thread, swiftTask: 0, task: task, category: category,
                          message: UnsafeRawBufferPointer(bytes), time: time)
        }
    }

    @Test func aSpanInsideAShortRegionTakesTheRegionsParent() {
        let (assembler, sink) = Self.assembler()
        assembler.taskBegan(process: 1, id: 7, parent: 0, type: "request", time: 0)
        // "outer" lasts 0.5 ms (summed); "inner" is a span of TracedTracer, sent.
        assembler.regionBegan(process: 1, thread: 1, sequence: 0, swiftTask: 0, task: 7, type: "outer", time: 100)
        assembler.regionBegan(process: 1, thread: 1, sequence: 1, swiftTask: 0, task: 7, type: "inner", time: 200)
        Self.log(assembler, task: 7, "trace.context", "[inner] 00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", time: 200)
        Self.log(assembler, task: 7, "span.attribute", "[inner] rows=3", time: 300)
        assembler.regionEnded(process: 1, thread: 1, sequence: 1, time: 400)
        assembler.regionEnded(process: 1, thread: 1, sequence: 0, time: 500_100)
        Self.log(assembler, task: 7, "span.status", "error: no stock", time: 500_200)
        assembler.taskEnded(process: 1, id: 7, time: 600_000)
        #expect(sink.spans.map(\.name) == ["request", "inner"])
        let (task, inner) = (sink.spans[0], sink.spans[1])
        #expect(inner.parentSpanID == task.spanID && inner.spanID == 0x00f0_67aa_0ba9_02b7)
        #expect(inner.attributes == [OTLPAttribute("rows", .int(3))])
        #expect(task.status == OTLPSpan.Status(code: 2, message: "no stock"))
        #expect(task.attributes.contains(OTLPAttribute("traced.region.outer.count", .int(1))))
        #expect(task.attributes.contains(OTLPAttribute("traced.region.outer.ns", .int(500_000))))
        #expect(assembler.counts.tasks == 1 && assembler.counts.regionSpans == 1 && assembler.counts.regionsSummed == 1)
    }

    @Test func aRegionThatOutlivesItsTaskIsSentAloneAndWhatStaysOpenIsMarked() {
        let (assembler, sink) = Self.assembler()
        assembler.taskBegan(process: 1, id: 1, parent: 0, type: "job", time: 0)
        assembler.regionBegan(process: 1, thread: 2, sequence: 0, swiftTask: 0, task: 1, type: "late", time: 10)
        assembler.taskEnded(process: 1, id: 1, time: 100)
        assembler.regionEnded(process: 1, thread: 2, sequence: 0, time: 5_000_000)
        #expect(sink.spans.map(\.name) == ["job", "late"])
        #expect(sink.spans[1].parentSpanID == sink.spans[0].spanID && sink.spans[1].traceID == sink.spans[0].traceID)
        assembler.taskBegan(process: 1, id: 2, parent: 0, type: "hung", time: 200)
        assembler.finish(at: 900)
        #expect(sink.spans.last?.name == "hung" && sink.spans.last?.end == 900)
        #expect(sink.spans.last?.attributes.contains(OTLPAttribute("traced.unended", .bool(true))) == true)
    }

    @Test func aProcessThatNeverEndsItsTasksIsHeldToTheOpenLimit() {
        let (assembler, sink) = Self.assembler()
        let begun = SpanAssembler.openLimit + 100
        for id in 1...begun {
            assembler.taskBegan(process: 1, id: UInt64(id), parent: 0, type: "leak", time: Int64(id))
            assembler.regionBegan(process: 1, thread: 1, sequence: UInt64(id), swiftTask: 0, task: UInt64(id), type: "r",
                                  time: Int64(id))
        }
        #expect(assembler.counts.overOpenLimit == 100)
        #expect(sink.spans.isEmpty)
        // The process leaves: what it left open goes out, and nothing stays.
        assembler.finish(at: Int64(begun) + 2_000_000, process: 1)
        #expect(sink.spans.filter { $0.name == "leak" }.count == SpanAssembler.openLimit)
        #expect(assembler.counts.unended == UInt64(SpanAssembler.openLimit) * 2)
        assembler.taskBegan(process: 1, id: 1, parent: 0, type: "again", time: 0)
        #expect(assembler.counts.overOpenLimit == 100)
    }

    @Test func samplingKeepsWholeTracesByTraceID() {
        let (assembler, sink) = Self.assembler(SpanAssembler.Options(sampleEvery: 2))
        for (id, low) in [(1, "0000000000000002"), (2, "0000000000000003")] {
            assembler.taskBegan(process: 1, id: UInt64(id), parent: 0, type: "t", time: 0)
            Self.log(assembler, task: UInt64(id), "trace.context", "00-0af7651916cd43dd\(low)-00f067aa0ba902b\(id)-01", time: 0)
            assembler.taskBegan(process: 1, id: UInt64(id + 10), parent: UInt64(id), type: "child", time: 1)
            assembler.taskEnded(process: 1, id: UInt64(id + 10), time: 2)
            assembler.taskEnded(process: 1, id: UInt64(id), time: 3)
        }
        #expect(sink.spans.map(\.name) == ["child", "t"])
        #expect(sink.spans.allSatisfy { $0.traceID.low == 2 })
        #expect(assembler.counts.sampledOut == 2)
    }

    @Test func aRegionBegunAgainUnderItsKeyEndsTheFirstAndLeavesNothingOpen() {
        // A corrupt or hostile buffer begins region (thread 1, #0) over and
        // over: each begin ends the one before, marked unended.
        let (assembler, sink) = Self.assembler(SpanAssembler.Options(minRegion: 0))
        assembler.taskBegan(process: 1, id: 1, parent: 0, type: "job", time: 0)
        for time in Int64(1)...10_000 {
            assembler.regionBegan(process: 1, thread: 1, sequence: 0, swiftTask: 0, task: 1, type: "again", time: time)
        }
        #expect(assembler.openRegions == (1, 1))
        #expect(assembler.counts.unended == 9_999)
        assembler.regionEnded(process: 1, thread: 1, sequence: 0, time: 20_000)
        #expect(assembler.openRegions == (0, 0))
        assembler.taskEnded(process: 1, id: 1, time: 30_000)
        // The task span and the first 1000 regions (its limit); the rest summed.
        #expect(sink.spans.count == 1 + SpanAssembler.regionSpanLimit)
        #expect(sink.spans[1].attributes == [OTLPAttribute("traced.unended", .bool(true))])
        #expect(assembler.counts.regionSpans == UInt64(SpanAssembler.regionSpanLimit))
        #expect(assembler.counts.overLimit == UInt64(10_000 - SpanAssembler.regionSpanLimit))
    }

    @Test func aRenamedRegionSpanIsFoundByItsNewNameUnderANestedOne() {
        let (assembler, sink) = Self.assembler()
        assembler.taskBegan(process: 1, id: 1, parent: 0, type: "order", time: 0)
        assembler.regionBegan(process: 1, thread: 1, sequence: 0, swiftTask: 0, task: 1, type: "grind", time: 10)
        Self.log(assembler, task: 1, "trace.context", "[grind] 00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", time: 10)
        Self.log(assembler, task: 1, "span.name", "[grind] grindFine", time: 20)
        assembler.regionBegan(process: 1, thread: 1, sequence: 1, swiftTask: 0, task: 1, type: "tamp", time: 30)
        Self.log(assembler, task: 1, "trace.context", "[tamp] 00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b8-01", time: 30)
        // Written while "tamp" is the innermost open region.
        Self.log(assembler, task: 1, "span.attribute", "[grindFine] grams=18", time: 40)
        assembler.regionEnded(process: 1, thread: 1, sequence: 1, time: 50)
        assembler.regionEnded(process: 1, thread: 1, sequence: 0, time: 60)
        assembler.taskEnded(process: 1, id: 1, time: 70)
        // Region spans go out in the order they ended.
        #expect(sink.spans.map(\.name) == ["order", "tamp", "grindFine"])
        #expect(sink.spans[2].attributes == [OTLPAttribute("grams", .int(18))])
        #expect(sink.spans[1].attributes.isEmpty && sink.spans[1].parentSpanID == sink.spans[2].spanID)
    }

    @Test func attributeValuesAreTypedBackFromTheirText() {
        var text = "a=1 b=-42 c=true d=false e=9223372036854775807 f=9223372036854775808 g=-9223372036854775808 "
            + "h=-9223372036854775809 i=12ab j=two words k=- l=-0 m=TRUE"
        let pairs = text.withUTF8 { SpanLogText.pairs(UnsafeRawBufferPointer($0)) }
        #expect(pairs == [
            OTLPAttribute("a", .int(1)), OTLPAttribute("b", .int(-42)), OTLPAttribute("c", .bool(true)),
            OTLPAttribute("d", .bool(false)), OTLPAttribute("e", .int(.max)), OTLPAttribute("f", .string("9223372036854775808")),
            OTLPAttribute("g", .int(.min)), OTLPAttribute("h", .string("-9223372036854775809")), OTLPAttribute("i", .string("12ab")),
            OTLPAttribute("j", .string("two words")), OTLPAttribute("k", .string("-")), OTLPAttribute("l", .int(0)),
            OTLPAttribute("m", .string("TRUE")),
        ])
    }
}
