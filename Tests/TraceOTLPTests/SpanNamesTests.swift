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
}
