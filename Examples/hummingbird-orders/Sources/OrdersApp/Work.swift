// The work the handlers do, each a stand-in for something a real service
// does: a CPU-bound step, a call that awaits, a fan-out.

/// FNV-1a over `bytes`, `rounds` times: a CPU-bound step of known cost
/// (about 1 ns a byte a round in release builds), standing for signing or
/// checksumming an order.
func fingerprint(_ bytes: [UInt8], rounds: Int) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for _ in 0..<rounds {
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }
    return hash
}

/// A downstream call (a database, another service): it awaits, using no CPU.
func downstreamCall(milliseconds: Int) async throws {
    try await Task.sleep(for: .milliseconds(milliseconds))
}

/// The menu, in a fixed pseudo-random order; sorting it is the menu route's CPU-bound step.
let menuItems: [MenuItem] = {
    var state: UInt64 = 0x9e37_79b9_7f4a_7c15
    return (0..<400).map { index in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return MenuItem(name: "item-\(index)", priceCents: Int(truncatingIfNeeded: (state >> 33) % 2000) + 100)
    }
}()
