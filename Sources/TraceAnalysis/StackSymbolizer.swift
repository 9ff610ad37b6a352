package import TraceFormat
import TraceSystem

/// Turns recorded return addresses into function names and source lines,
/// after the traced process is gone: each address is mapped to its image
/// (path and load bias from the trace's image records), and the image file
/// is read by `llvm-symbolizer` (one run per image for all its addresses);
/// Swift names are demangled by `swift-demangle`. Both come with the Swift
/// toolchain. When a tool or an image file is missing, frames keep their
/// image and offset, and `unavailableReason` says why.
package final class StackSymbolizer {
    package struct Frame: Equatable, Sendable {
        package var address: UInt64
        /// The image path, if the address fell in a recorded image.
        package var image: String?
        /// Offset of the address in the image (link-time address).
        package var offset: UInt64
        package var function: String?
        /// "file:line", when the line is known.
        package var location: String?
        /// An awaiting caller of a Swift async function (read from its async
        /// context), not a return address on the thread's stack.
        package var isAsync: Bool
        /// Not a frame: the mark after the last frame of a stack cut at its
        /// bound (`cut`).
        package private(set) var marksCut = false

        package init(address: UInt64, image: String?, offset: UInt64, function: String?, location: String?, isAsync: Bool = false) {
            self.address = address
            self.image = image
            self.offset = offset
            self.function = function
            self.location = location
            self.isAsync = isAsync
        }

        /// The pseudo-frame that ends a stack cut at its bound: its callers
        /// are missing. Named "[cut]" in profiles (where perf's truncated
        /// callchains have a marker frame too); a note in text.
        package static let cut: Frame = {
            var frame = Frame(address: 0, image: nil, offset: 0, function: "[cut]", location: nil)
            frame.marksCut = true
            return frame
        }()

        /// "function (file:line)", or "image+0xoffset" when unresolved;
        /// "[async] " before an async frame, as the Swift runtime's
        /// backtraces mark them.
        package var description: String {
            if marksCut { return "… (cut: the kernel records at most 127 frames)" }
            let text: String
            if let function {
                text = location.map { "\(function) (\($0))" } ?? function
            } else if let image {
                text = "\(image)+0x\(String(offset, radix: 16))"
            } else {
                text = "0x\(String(address, radix: 16))"
            }
            return isAsync ? "[async] " + text : text
        }
    }

    private let symbolizer: String?
    private let demangler: String?
    package private(set) var unavailableReason: String?

    package init() {
        let toolchain = Subprocess.toolchainDirectory().map { [$0] } ?? []
        symbolizer = Subprocess.find("llvm-symbolizer", in: toolchain)
        demangler = Subprocess.find("swift-demangle", in: toolchain)
        if symbolizer == nil {
            unavailableReason = "llvm-symbolizer not found (it ships with the Swift toolchain; put it on PATH)"
        }
    }

    /// Frames with image and offset only, no tool run. The offset wraps:
    /// `contains` does (bias and text bounds come from the file), so an
    /// address may lie below the bias.
    package static func unresolved(_ addresses: Set<UInt64>, images: [ImageRecord]) -> [UInt64: Frame] {
        var frames: [UInt64: Frame] = [:]
        for address in addresses {
            if let image = images.first(where: { $0.contains(address) }) {
                frames[address] = Frame(address: address, image: image.path, offset: address &- image.bias, function: nil, location: nil)
            } else {
                frames[address] = Frame(address: address, image: nil, offset: address, function: nil, location: nil)
            }
        }
        return frames
    }

    /// Symbolizes `addresses` (return addresses of one process) against `images`.
    package func symbolize(_ addresses: Set<UInt64>, images: [ImageRecord]) -> [UInt64: Frame] {
        var frames = Self.unresolved(addresses, images: images)
        var byImage: [String: [(address: UInt64, offset: UInt64)]] = [:]
        for frame in frames.values {
            if let image = frame.image { byImage[image, default: []].append((frame.address, frame.offset)) }
        }
        guard let symbolizer else { return frames }
        var mangled: Set<String> = []
        // An image of no file (the kernel's vDSO: `linux-vdso.so.1`, as
        // dl_iterate_phdr names it) keeps image+offset; it is no reason to
        // say symbolization failed.
        for (path, entries) in byImage where path.hasPrefix("/") {
            let input = entries.map { "0x\(String($0.offset &- 1, radix: 16))" }.joined(separator: "\n") + "\n"
            guard let output = try? Subprocess.run(symbolizer, ["--obj=\(path)", "--no-inlines", "--functions=linkage"],
                                                   input: Array(input.utf8)),
                  output.status == 0 else {
                unavailableReason = "llvm-symbolizer failed on '\(path)'"
                continue
            }
            // Two lines per address (function, file:line:column), then a blank line.
            let records = String(decoding: output.standardOutput, as: UTF8.self)
                .split(separator: "\n\n", omittingEmptySubsequences: true)
            for (entry, record) in zip(entries, records) {
                let lines = record.split(separator: "\n").map(String.init)
                guard let function = lines.first, function != "??" else { continue }
                frames[entry.address]?.function = function
                if lines.count > 1 { frames[entry.address]?.location = Self.knownLocation(lines[1], function: function) }
                if function.hasPrefix("$s") || function.hasPrefix("_$s") { mangled.insert(function) }
            }
        }
        let names = demangle(Array(mangled))
        for (address, frame) in frames {
            if let function = frame.function, let readable = names[function] { frames[address]?.function = readable }
        }
        return frames
    }

    private func demangle(_ names: [String]) -> [String: String] {
        guard let demangler, !names.isEmpty,
              let output = try? Subprocess.run(demangler, ["--simplified"], input: Array((names.joined(separator: "\n") + "\n").utf8)),
              output.status == 0 else { return [:] }
        let lines = String(decoding: output.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count == names.count else { return [:] }
        return Dictionary(zip(names, lines), uniquingKeysWith: { first, _ in first })
    }

    /// "file:12:5" -> "file:12"; nil where llvm-symbolizer knows no line.
    /// Code without line information (the Swift runtime's libraries, which
    /// ship without debug info) comes back as "??:0:0", or, when the image
    /// has a compile unit of its own that claims nothing there, as that
    /// unit's file at line 0 ("crtstuff.c:0:0", from the C runtime's start
    /// files); neither says where the code is. A line in crtstuff.c is
    /// believed only for crtstuff's own functions.
    package static func knownLocation(_ location: String, function: String) -> String? {
        let parts = location.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let line = Int(parts[parts.count - 2]), Int(parts[parts.count - 1]) != nil else { return nil }
        let file = parts.dropLast(2).joined(separator: ":")
        guard line > 0, !file.isEmpty, file != "??" else { return nil }
        if file.hasSuffix("crtstuff.c"), !crtstuffFunctions.contains(function) { return nil }
        return "\(file):\(line)"
    }

    /// The functions crtstuff.c (crtbegin/crtend) puts in every image.
    private static let crtstuffFunctions: Set<String> = [
        "deregister_tm_clones", "register_tm_clones", "__do_global_dtors_aux", "frame_dummy",
    ]
}
