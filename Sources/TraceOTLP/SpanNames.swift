/// The names a live session's `SpanEvent`s refer to (task and region types,
/// log categories), each kept once and numbered, with what kind of span log
/// a category is worked out once per name rather than per event.
///
/// Bounded: past `limit` names, any new one is numbered as `overflow`
/// ("…"): a process that makes up names without end costs spans their
/// names, never memory.
package final class SpanNames {
    package static let limit = 65536
    /// The number every name past `limit` gets.
    package static let overflow: UInt32 = 0

    private var strings: [String] = ["…"]
    private var kinds: [SpanLogKind] = [.other]
    private var numbers: [String: UInt32] = ["…": 0]
    /// Each process's string ids numbered so far.
    private var numbered: [UInt32: [UInt32: UInt32]] = [:]

    package init() {}

    package var count: Int { strings.count }

    /// The number of `name`, numbering it if it is new.
    package func number(_ name: String) -> UInt32 {
        if let known = numbers[name] { return known }
        guard strings.count < Self.limit else { return Self.overflow }
        let number = UInt32(strings.count)
        strings.append(name)
        kinds.append(SpanLogKind(name))
        numbers[name] = number
        return number
    }

    /// The number of a process's string `id` (`name` gives its text, once
    /// per id), nil if the process has no such string.
    package func number(_ id: UInt32, of process: UInt32, _ name: (UInt32) -> String?) -> UInt32? {
        if let known = numbered[process]?[id] { return known }
        guard let text = name(id) else { return nil }
        let number = number(text)
        numbered[process, default: [:]][id] = number
        return number
    }

    /// The process left: its ids go (its names stay numbered).
    package func forget(process: UInt32) { numbered[process] = nil }

    package subscript(number: UInt32) -> String { strings[Int(number)] }

    /// What a log under the category `number` is to a span.
    package func kind(_ number: UInt32) -> SpanLogKind { kinds[Int(number)] }
}
