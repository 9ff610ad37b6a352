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
    private var numbered: [UInt32: Numbered] = [:]
    /// The last process asked about, and its table: a process's events
    /// come batch by batch, so most lookups skip the dictionary.
    private var lastProcess: UInt32 = 0
    private var last: Numbered?

    /// A process's string ids and their numbers: ids below `denseLimit` (a
    /// client numbers its strings from 1) in an array, the rest hashed.
    private final class Numbered {
        static let denseLimit: UInt32 = 4096
        /// `UInt32.max`: not numbered yet.
        var dense: [UInt32] = []
        var sparse: [UInt32: UInt32] = [:]

        subscript(id: UInt32) -> UInt32? {
            if id < Self.denseLimit {
                let index = Int(id)
                return index < dense.count && dense[index] != .max ? dense[index] : nil
            }
            return sparse[id]
        }

        func set(_ id: UInt32, _ number: UInt32) {
            guard id < Self.denseLimit else {
                sparse[id] = number
                return
            }
            let index = Int(id)
            if index >= dense.count { dense.append(contentsOf: repeatElement(.max, count: index + 1 - dense.count)) }
            dense[index] = number
        }
    }

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
        let table: Numbered
        if let last, lastProcess == process {
            table = last
        } else {
            if let known = numbered[process] {
                table = known
            } else {
                table = Numbered()
                numbered[process] = table
            }
            lastProcess = process
            last = table
        }
        if let known = table[id] { return known }
        guard let text = name(id) else { return nil }
        let number = number(text)
        table.set(id, number)
        return number
    }

    /// The process left: its ids go (its names stay numbered).
    package func forget(process: UInt32) {
        numbered[process] = nil
        if lastProcess == process { last = nil }
    }

    package subscript(number: UInt32) -> String { strings[Int(number)] }

    /// What a log under the category `number` is to a span.
    package func kind(_ number: UInt32) -> SpanLogKind { kinds[Int(number)] }
}
