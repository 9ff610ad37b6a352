import Synchronization
import TraceSystem

/// A task executor backed by one dedicated thread, so a test can make a
/// Swift task run on a thread of its choosing (and hop between two).
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Sendable: `jobs` is a Mutex; `wake` is an immutable descriptor.
    private let jobs = Mutex<[UnownedJob]>([])
    private let wake: EventNotifier

    init(name: String) {
        do {
            wake = try EventNotifier.create()
        } catch {
            Fixture.fail("\(error)")
        }
        do {
            _ = try SystemThread.spawn(name: name) { [self] in run() }
        } catch {
            Fixture.fail("\(error)")
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    private func run() {
        while true {
            let batch = jobs.withLock { jobs in
                defer { jobs.removeAll() }
                return jobs
            }
            if batch.isEmpty {
                try? wake.wait(timeoutMilliseconds: 1000)
                continue
            }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
