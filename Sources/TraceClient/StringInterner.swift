import CTraceABI
import Synchronization
import TraceFormat

/// Process-wide interning of names (region and task types, log categories,
/// counter names) into ids, each defined once in the buffer's metadata area.
///
/// The hot path never comes here on a hit: each thread caches
/// StaticString address -> id (trace_thread.h). This is the miss path.
final class StringInterner: Sendable {
    private struct Table {
        var ids: [String: UInt32] = [:]
        var next: UInt32 = 1
    }
    private let table = Mutex(Table())

    /// The id of `text`, defining it in `buffer` on first use; 0 if the
    /// metadata area is full (the event is then recorded with id 0).
    func id(for text: String, in buffer: ProcessBuffer) -> UInt32 {
        table.withLock { table in
            if let id = table.ids[text] { return id }
            let id = table.next
            guard buffer.appendMetadata(.string(StringRecord(id: id, value: text))) else { return 0 }
            table.next += 1
            table.ids[text] = id
            return id
        }
    }
}
