import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// A plain pthread running one closure: for the writer and drainer threads,
/// which must not run on Swift's cooperative pool (they block in poll).
package final class SystemThread: @unchecked Sendable {
    // Sendable: `thread` is written once by `spawn` before the object is
    // shared and read only by `join`.
    private var thread: pthread_t
    private final class Work {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) { self.name = name; self.body = body }
    }

    private init(thread: pthread_t) { self.thread = thread }

    /// Starts `body` on a new thread named `name` (truncated to 15 bytes).
    package static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> SystemThread {
        let work = Unmanaged.passRetained(Work(name: name, body: body))
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
            _ = tc_set_thread_name(String(decoding: work.name.utf8.prefix(15), as: UTF8.self))
            work.body()
            return nil
        }, work.toOpaque())
        if rc != 0 {
            work.release()
            throw SystemError("pthread_create", subject: name, errno: Errno(rawValue: rc))
        }
        return SystemThread(thread: thread)
    }

    /// Waits for the thread to finish.
    package func join() {
        pthread_join(thread, nil)
    }
}

/// The calling thread's kernel thread id (`gettid(2)`).
package func currentThreadID() -> Int32 { tc_gettid() }

/// The calling thread's name (`pthread_getname_np`), or "" if unavailable.
package func currentThreadName() -> String {
    var buffer = [CChar](repeating: 0, count: 32)
    guard tc_get_thread_name(&buffer, buffer.count) == 0 else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
