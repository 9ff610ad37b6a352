import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's text symbols (`/proc/kallsyms`, types `t` and `T`, the
/// modules' included), read once: which function a kernel return address
/// lies in.
///
///     let symbols = try KernelSymbols.load()
///     symbols.name(containing: 0xffff_ffff_8144_bee5)   // "__x64_sys_futex"
///
/// Without CAP_SYSLOG (and with `kernel.kptr_restrict` 1, or 2 for anyone)
/// the kernel prints every address as 0: then the table is empty, every
/// lookup nil, and `WaitClassifier` falls back on the thread's state alone.
/// kallsyms gives no sizes: an address belongs to the symbol at or below
/// it, so one past the last function of a region (the end of the kernel's
/// text, a gap between modules) is named after that function.
package final class KernelSymbols: Sendable {
    package static let path = "/proc/kallsyms"
    /// The most of kallsyms read (5.4 MB on Linux 6.18 here, 121,000 text
    /// symbols); what lies beyond it is left out.
    package static let fileLimit = 64 << 20

    /// Start addresses, ascending; the same address once (the first name
    /// kallsyms gave it).
    private let addresses: [UInt64]
    /// The name of `addresses[i]` is `names[starts[i]..<starts[i + 1]]`.
    private let names: [UInt8]
    private let starts: [Int]

    package var count: Int { addresses.count }
    package var isEmpty: Bool { addresses.isEmpty }

    /// Reads `path` (kallsyms' format: `ffffffff8144bec0 T __x64_sys_futex`,
    /// a module's lines ending in `\t[module]`).
    package static func load(from path: String = path) throws(KernelError) -> KernelSymbols {
        let bytes: [UInt8]
        do {
            let descriptor = try FileDescriptor.open(path, O_RDONLY)
            defer { descriptor.close() }
            bytes = try descriptor.readToEnd(limit: fileLimit)
        } catch {
            throw .kernelSymbols(error)
        }
        return KernelSymbols(parsing: bytes)
    }

    /// The text symbols of kallsyms-formatted `text`; lines that do not
    /// parse are skipped, and if every address is 0 there are none.
    package init(parsing text: [UInt8]) {
        var symbols: [(address: UInt64, name: Range<Int>)] = []
        var anyAddress = false
        var line = 0
        while line < text.count {
            let end = text[line...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count
            defer { line = end + 1 }
            // "<hex> <type> <name>[\t[module]]"
            guard let space = text[line..<end].firstIndex(of: UInt8(ascii: " ")),
                  space + 3 < end, text[space + 2] == UInt8(ascii: " "),
                  let address = Self.hex(text[line..<space])
            else { continue }
            let type = text[space + 1]
            guard type == UInt8(ascii: "t") || type == UInt8(ascii: "T") else { continue }
            let nameStart = space + 3
            let nameEnd = text[nameStart..<end].firstIndex(of: UInt8(ascii: "\t")) ?? end
            guard nameStart < nameEnd else { continue }
            anyAddress = anyAddress || address != 0
            symbols.append((address, nameStart..<nameEnd))
        }
        guard anyAddress else {
            addresses = []
            names = []
            starts = [0]
            return
        }
        // Stable, so that of names sharing an address the first is kept.
        let order = symbols.indices.sorted { (symbols[$0].address, $0) < (symbols[$1].address, $1) }
        var addresses: [UInt64] = [], names: [UInt8] = [], starts: [Int] = [0]
        addresses.reserveCapacity(symbols.count)
        starts.reserveCapacity(symbols.count + 1)
        for index in order where addresses.last != symbols[index].address {
            addresses.append(symbols[index].address)
            names.append(contentsOf: text[symbols[index].name])
            starts.append(names.count)
        }
        self.addresses = addresses
        self.names = names
        self.starts = starts
    }

    /// The index of the symbol `address` lies in: the last at or below
    /// it; nil below the first (a user address) or with no symbols.
    package func index(containing address: UInt64) -> Int? {
        addresses.withUnsafeBufferPointer { addresses in
            var low = 0, high = addresses.count
            // Invariant: addresses[..<low] <= address < addresses[high...].
            while low < high {
                let middle = low + (high - low) / 2
                if addresses[middle] <= address { low = middle + 1 } else { high = middle }
            }
            return low == 0 ? nil : low - 1
        }
    }

    /// The name of symbol `index` (from `index(containing:)`).
    package func name(at index: Int) -> String {
        names.withUnsafeBufferPointer { names in
            String(decoding: UnsafeBufferPointer(rebasing: names[starts[index]..<starts[index + 1]]), as: UTF8.self)
        }
    }

    package func name(containing address: UInt64) -> String? {
        index(containing: address).map(name(at:))
    }

    /// The start address of symbol `index`.
    package func address(at index: Int) -> UInt64 { addresses[index] }

    /// A kallsyms address: 1 to 16 hex digits.
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}
