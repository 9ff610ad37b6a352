/// Which symbol each recently seen kernel return address lies in: a
/// direct-mapped table in front of `KernelSymbols`' binary search, one per
/// ring. A few hundred call sites (the syscall entry, the scheduler, each
/// syscall's wait) make nearly every switch-out's kernel frames, and a
/// binary search over kallsyms' 121,000 symbols took 40-100 ns here where
/// a hit takes a multiply, a load and a compare (~6 ns).
///
/// Not thread-safe: the thread that drains the ring owns it.
final class SymbolCache {
    let symbols: KernelSymbols
    /// Slot `s` holds `addresses[s]`'s symbol index plus one (0: none);
    /// address 0 marks an empty slot, since 0 is never a kernel address.
    /// Raw memory, allocated once: an array in a class pays an exclusivity
    /// check on every access, which cost as much as the search it saves.
    private let addresses: UnsafeMutablePointer<UInt64>
    private let indices: UnsafeMutablePointer<Int32>

    /// 4096 slots: 48 KiB per ring.
    static let slotBits = 12
    static let slots = 1 << slotBits

    init(symbols: KernelSymbols) {
        self.symbols = symbols
        addresses = .allocate(capacity: Self.slots)
        addresses.initialize(repeating: 0, count: Self.slots)
        indices = .allocate(capacity: Self.slots)
        indices.initialize(repeating: 0, count: Self.slots)
    }

    deinit {
        addresses.deallocate()
        indices.deallocate()
    }

    /// `symbols.index(containing: address)`, from the table when it was
    /// asked lately.
    func index(containing address: UInt64) -> Int? {
        // Fibonacci hashing: the top bits of the product mix every bit of
        // the address, so call sites 16 bytes apart do not collide.
        // The top slotBits bits: below `slots`, so every access is in bounds.
        let slot = Int(truncatingIfNeeded: (address &* 0x9E37_79B9_7F4A_7C15) >> (64 - Self.slotBits))
        if addresses[slot] == address, address != 0 {
            let stored = indices[slot]
            return stored == 0 ? nil : Int(stored) - 1
        }
        let index = symbols.index(containing: address)
        addresses[slot] = address
        // Below 2^31 symbols: KernelSymbols holds fewer than the 64 MiB it reads has lines.
        indices[slot] = index.map { Int32(truncatingIfNeeded: $0 + 1) } ?? 0
        return index
    }
}
