import Testing
import TraceOTLP

/// `SpanNames`: each name numbered once, its kind of span log worked out
/// with it, and a process that makes up names without end held to the limit.
struct SpanNamesTests {
    @Test func aNameIsNumberedOnceWithItsKind() {
        let names = SpanNames()
        let attribute = names.number("span.attribute")
        #expect(names.number("span.attribute") == attribute && names[attribute] == "span.attribute")
        #expect(names.kind(attribute) == .attribute)
        #expect(names.kind(names.number("trace.context")) == .context)
        #expect(names.kind(names.number("db.query")) == .other)
    }

    @Test func namesPastTheLimitShareOneNumber() {
        let names = SpanNames()
        for index in 0..<(SpanNames.limit + 100) { _ = names.number("name \(index)") }
        #expect(names.count == SpanNames.limit)
        let late = names.number("one more")
        #expect(late == SpanNames.overflow && names[late] == "…")
        // Names numbered before the limit keep their numbers.
        #expect(names[names.number("name 5")] == "name 5")
    }

    @Test func theIDsOfAProcessAreNumberedOnceFarOrNearAndForgottenWhenItLeaves() {
        let names = SpanNames()
        var asked: [UInt32] = []
        let text: (UInt32) -> String? = { id in
            asked.append(id)
            return id == 7 ? nil : "name \(id)"
        }
        // Near ids (an array) and far ones (hashed), two processes in turn.
        for id: UInt32 in [1, 5000, 1, 5000, 3, 70_000, 3] {
            #expect(names.number(id, of: 1, text).map { names[$0] } == "name \(id)")
            #expect(names.number(id, of: 2, text).map { names[$0] } == "name \(id)")
        }
        #expect(asked == [1, 1, 5000, 5000, 3, 3, 70_000, 70_000])
        #expect(names.number(7, of: 1, text) == nil)
        // Gone: its ids are asked for again; its names keep their numbers.
        let before = names.number(3, of: 1, text)
        names.forget(process: 1)
        asked = []
        #expect(names.number(3, of: 1, text) == before && asked == [3])
        #expect(names.number(3, of: 2, text) == before && asked == [3])
    }
}
