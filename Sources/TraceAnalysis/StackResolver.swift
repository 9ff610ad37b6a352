/// Readable frames for the stacks of a trace: each process's stacks are
/// symbolized together on first use (one `llvm-symbolizer` run per image,
/// `StackSymbolizer`). Without symbols, frames fall back to image+offset,
/// and `unavailableReason` says why, once.
package final class StackResolver {
    private let catalog: TraceCatalog
    private let symbolizer: StackSymbolizer?
    private var frames: [UInt32: [UInt64: StackSymbolizer.Frame]] = [:]

    /// `symbolize` false: addresses and images only, no tools run (fuzzing).
    package init(catalog: TraceCatalog, symbolize: Bool = true) {
        self.catalog = catalog
        symbolizer = symbolize ? StackSymbolizer() : nil
    }

    /// Why frames lack function names, if they do.
    package var unavailableReason: String? { symbolizer == nil ? "not symbolized" : symbolizer?.unavailableReason }

    /// The frames of stack `id` of `process`, innermost first (empty for 0
    /// or an id no stack record defines); the awaiting callers of a Swift
    /// async function marked `isAsync`; a stack cut at its bound ends with
    /// `Frame.cut`.
    package func frames(_ process: UInt32, _ id: UInt32) -> [StackSymbolizer.Frame] {
        guard let addresses = catalog.stack(process, id) else { return [] }
        if frames[process] == nil {
            var all = Set<UInt64>()
            for (key, stack) in catalog.stacks where key.process == process { all.formUnion(stack) }
            frames[process] = symbolizer?.symbolize(all, images: catalog.images[process] ?? [])
                ?? StackSymbolizer.unresolved(all, images: catalog.images[process] ?? [])
        }
        let table = frames[process] ?? [:]
        let syncDepth = catalog.syncDepth(process, id) ?? addresses.count
        let frames = addresses.enumerated().map { index, address in
            var frame = table[address] ?? StackSymbolizer.Frame(address: address, image: nil, offset: address, function: nil, location: nil)
            frame.isAsync = index >= syncDepth
            return frame
        }
        return catalog.isCut(process, id) ? frames + [.cut] : frames
    }

    /// `frames` as lines ("function (file:line)" or "image+0xoffset", async
    /// ones after "[async] ", a cut stack's last line saying so).
    package func lines(_ process: UInt32, _ id: UInt32) -> [String] {
        frames(process, id).map(\.description)
    }
}
