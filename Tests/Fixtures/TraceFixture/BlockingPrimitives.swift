import CTraceABI
import Synchronization
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// Threads and what they block on, each the plain kernel object a scheduler
// trace should show (a pipe read, a futex), for ExecutionScenario. Any
// failure ends the fixture with the error: a workload that did not block as
// scripted would make its printed truths false.

/// A pthread running `body`, whose value `join()` returns.
struct Worker<Value: Sendable> {
    private let thread: SystemThread
    private let outcome: Outcome

    /// Written once by the thread before it ends, read after `join`.
    private final class Outcome: Sendable {
        let value = Mutex<Value?>(nil)
    }

    init(_ name: String, _ body: @escaping @Sendable () -> Value) {
        let outcome = Outcome()
        self.outcome = outcome
        do {
            thread = try SystemThread.spawn(name: name) {
                let value = body()
                outcome.value.withLock { $0 = value }
            }
        } catch {
            Fixture.fail("\(error)")
        }
    }

    func join() -> Value {
        thread.join()
        guard let value = outcome.value.withLock({ $0 }) else { Fixture.fail("a worker thread returned nothing") }
        return value
    }
}

/// A pipe carrying one-byte messages: `receive()` blocks in read(2) until
/// a `send()`, so one thread learns that another passed a point, without
/// polling.
final class BytePipe: Sendable {
    private let reader: FileDescriptor
    private let writer: FileDescriptor

    init() {
        var fds: [CInt] = [-1, -1]
        do {
            try Syscall.call("pipe2") { tc_pipe_cloexec(&fds) }
        } catch {
            Fixture.fail("\(error)")
        }
        reader = FileDescriptor(rawValue: fds[0])
        writer = FileDescriptor(rawValue: fds[1])
    }

    deinit {
        reader.close()
        writer.close()
    }

    func send(_ value: UInt8 = 1) {
        do {
            try writer.writeAll([value])
        } catch {
            Fixture.fail("\(error)")
        }
    }

    func receive() { _ = receiveValue() }

    /// The byte `send` sent.
    func receiveValue() -> UInt8 {
        var byte: UInt8 = 0
        let count: Int
        do {
            count = try withUnsafeMutableBytes(of: &byte) { (buffer) throws(SystemError) in try reader.read(into: buffer) }
        } catch {
            Fixture.fail("\(error)")
        }
        guard count == 1 else { Fixture.fail("read(2) of a pipe: end of file before its byte") }
        return byte
    }
}

/// A pthread mutex of the default type, which blocks a contender in
/// futex(2) without spinning first.
final class PthreadMutex: @unchecked Sendable {
    // Sendable: the mutex is its own synchronization; `mutex` is set once,
    // in init, and freed only in deinit, when no thread can hold it.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        succeed("pthread_mutex_init", pthread_mutex_init(mutex, nil))
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { succeed("pthread_mutex_lock", pthread_mutex_lock(mutex)) }
    func unlock() { succeed("pthread_mutex_unlock", pthread_mutex_unlock(mutex)) }
}

/// A pthread barrier for `count` threads: `wait()` returns in all of them
/// once the last has arrived.
final class PthreadBarrier: @unchecked Sendable {
    // Sendable: the barrier is its own synchronization; `barrier` is set
    // once, in init, and freed only in deinit, when no thread waits on it.
    private let barrier: UnsafeMutablePointer<pthread_barrier_t>

    init(count: Int) {
        barrier = .allocate(capacity: 1)
        barrier.initialize(to: pthread_barrier_t())
        succeed("pthread_barrier_init", pthread_barrier_init(barrier, nil, UInt32(count)))
    }

    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }

    func wait() {
        let rc = pthread_barrier_wait(barrier)
        if rc != PTHREAD_BARRIER_SERIAL_THREAD { succeed("pthread_barrier_wait", rc) }
    }
}

/// A pthread call returns its error number rather than setting errno.
private func succeed(_ call: String, _ rc: CInt) {
    if rc != 0 { Fixture.fail("\(SystemError(call, errno: Errno(rawValue: rc)))") }
}
