import TraceFormat

/// The user stacks at which a thread waits outside any Swift job: a worker
/// of the concurrency runtime's pool idle, so that a Swift task whose span
/// was open on the thread is suspended (docs/analysis.md, "Where the time
/// went: execution"). Decided once per (process, stack id) before the walk,
/// from the symbolized frames, so that the walk tests one set per waiting
/// switch-out.
///
/// A stack is idle if no frame of it runs a job (`swift_job_run`,
/// `swift::runJobInEstablishedExecutorContext`) and either it reaches the
/// thread's root (`start_thread`, `clone`, `clone3`: complete, so no job
/// lies below), or every frame of it is in the C library: the
/// frame-pointer walk ends inside glibc's futex wait, where libdispatch's
/// idle workers wait, without reaching their callers. The second is a
/// guess the trace cannot check: a job that blocks on a semaphore or a
/// condition variable waits at the same frames, and its wait reads as
/// suspended. Stacks whose frames have no function names (not symbolized)
/// are never idle.
package struct IdleStacks: Sendable {
    private let idle: Set<TraceReader.ProcessScoped>

    /// None: no span leaves its thread (traces without stacks, tests).
    package init() { idle = [] }

    /// Ids of stacks, per process, taken as idle as they are.
    package init(_ idle: [(process: UInt32, stack: UInt32)]) {
        self.idle = Set(idle.map { TraceReader.ProcessScoped($0.process, UInt64($0.stack)) })
    }

    /// The idle stacks of `catalog`, by the frames `stacks` gives.
    package init(catalog: TraceCatalog, stacks: StackResolver) {
        var idle = Set<TraceReader.ProcessScoped>()
        for key in catalog.stacks.keys.sorted(by: { ($0.process, $0.id) < ($1.process, $1.id) }) {
            guard key.id <= UInt64(UInt32.max) else { continue }
            let frames = stacks.frames(key.process, UInt32(key.id)).filter { !$0.isAsync }
            if Self.isIdle(frames) { idle.insert(key) }
        }
        self.idle = idle
    }

    func contains(_ process: UInt32, _ stack: UInt32) -> Bool {
        stack != 0 && !idle.isEmpty && idle.contains(TraceReader.ProcessScoped(process, UInt64(stack)))
    }

    package var count: Int { idle.count }

    package static func isIdle(_ frames: [StackSymbolizer.Frame]) -> Bool {
        guard !frames.isEmpty, frames.allSatisfy({ $0.function != nil }) else { return false }
        if frames.contains(where: { isJob($0.function ?? "") }) { return false }
        return frames.contains(where: isRoot) || frames.allSatisfy { isCLibrary($0.image ?? "") }
    }

    private static func isJob(_ function: String) -> Bool {
        function == "swift_job_run" || function.hasPrefix("swift::runJobInEstablishedExecutorContext")
    }

    private static func isRoot(_ frame: StackSymbolizer.Frame) -> Bool {
        guard let function = frame.function else { return false }
        return function == "start_thread" || function == "clone" || function == "clone3"
    }

    private static func isCLibrary(_ image: String) -> Bool {
        let name = image.split(separator: "/").last ?? ""
        return name.hasPrefix("libc.so") || name.hasPrefix("libc-")
    }
}
