// The least a span that records anything costs under
// swift-distributed-tracing's API, with nothing recorded: docs/performance.md
// ("The span's floor") measures it beside NoOpTracer and TracedTracer to
// say what of TracedTracer's span is the API's and what is traced's.
//
// What the API asks of any tracer whose spans keep what the body sets:
// a `Span` is shared with the body and may be used from other threads, so
// its mutable parts (name, attributes, ended) sit behind a lock in a class
// instance, one allocation a span; `withSpan` makes the span's context
// current, so the span is written into a `ServiceContext` (the floor
// benchmark's one write). BareTracer does exactly that and nothing else:
// no ids, no clock, no event.
import Synchronization
import Tracing

struct BareTracer: Tracer {
    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> BareSpan {
        let state = BareSpanState(name: operationName)
        var context = context()
        context[BareSpanKey.self] = state
        return BareSpan(context: context, state: state)
    }

    func forceFlush() {}

    func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Carrier == Inject.Carrier {}

    func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract: Extractor, Carrier == Extract.Carrier {}
}

final class BareSpanState: Sendable {
    struct Mutable {
        var name: String
        var attributes: SpanAttributes = [:]
        var ended = false
    }

    let mutable: Mutex<Mutable>

    init(name: String) { mutable = Mutex(Mutable(name: name)) }
}

enum BareSpanKey: ServiceContextKey {
    typealias Value = BareSpanState
}

struct BareSpan: Tracing.Span {
    let context: ServiceContext
    let state: BareSpanState

    var isRecording: Bool { true }

    var operationName: String {
        get { state.mutable.withLock { $0.name } }
        nonmutating set { state.mutable.withLock { $0.name = newValue } }
    }

    var attributes: SpanAttributes {
        get { state.mutable.withLock { $0.attributes } }
        nonmutating set { state.mutable.withLock { $0.attributes = newValue } }
    }

    func setStatus(_ status: SpanStatus) {}
    func addEvent(_ event: SpanEvent) {}
    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}
    func addLink(_ link: SpanLink) {}

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        state.mutable.withLock { $0.ended = true }
    }
}
