// Whether ThreadSanitizer sees Synchronization.Mutex order its holders, and
// whether it still sees a race: built with -sanitize=thread by
// `scripts/sanitize thread`, run with and without
// tsan-mutex-annotations.c (docs/sanitizers.md).
//
//   mutex-check locked    two threads add 1 to one counter 200,000 times
//                         each, every addition inside Mutex.withLock: a
//                         correct program (the total comes out exact).
//   mutex-check unlocked  the same counter also written outside the lock:
//                         a real race, which TSan must report.
//
// Two threads on two cores contend for the lock now and then (tens of
// times per run here), and each contended hand-off goes through the
// uninstrumented slow path.
import Glibc
import Synchronization

let rounds = 200_000
let counter = Mutex<Int>(0)

final class Unguarded: @unchecked Sendable {
    // Sendable: it is not; that is the race this mode shows.
    var value = 0
}
let unguarded = Unguarded()

nonisolated func locked(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    for _ in 0..<rounds { counter.withLock { $0 += 1 } }
    return nil
}

nonisolated func unlocked(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    for _ in 0..<rounds {
        counter.withLock { $0 += 1 }
        unguarded.value += 1
    }
    return nil
}

func onTwoThreads(_ body: @escaping @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?) {
    var threads: [pthread_t] = []
    for _ in 0..<2 {
        var thread = pthread_t()
        guard pthread_create(&thread, nil, body, nil) == 0 else { fatalError("pthread_create failed") }
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

switch CommandLine.arguments.dropFirst().first {
case "locked":
    onTwoThreads(locked)
case "unlocked":
    onTwoThreads(unlocked)
default:
    print("usage: mutex-check locked|unlocked")
    exit(2)
}
print("counter: \(counter.withLock { $0 }) of \(2 * rounds)")
