#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread: its chunk of the trace buffer is handed back when
/// it exits (a Dispatch worker would keep it until the daemon scrapes).
struct WorkerThread {
    private let thread: pthread_t

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// `pthread_create(3)`; a process that cannot make threads cannot load
    /// anything, so failure ends it with a message.
    static func spawn(_ run: @escaping @Sendable () -> Void) -> WorkerThread {
        let context = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let error = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        if error != 0 {
            let message = Array("traced-load: pthread_create failed: \(String(cString: strerror(error)))\n".utf8)
            _ = write(STDERR_FILENO, message, message.count)
            exit(1)
        }
        return WorkerThread(thread: thread)
    }

    /// `pthread_join(3)`.
    func join() {
        _ = pthread_join(thread, nil)
    }
}
