/// Two visitors in one walk: every event goes to `first`, then to `second`.
package struct VisitorPair<First: TraceVisitor, Second: TraceVisitor>: TraceVisitor {
    package var first: First
    package var second: Second

    package init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    package mutating func visit(_ event: TraceEvent) {
        first.visit(event)
        second.visit(event)
    }

    package mutating func finish(last: Int64?) {
        first.finish(last: last)
        second.finish(last: last)
    }
}
