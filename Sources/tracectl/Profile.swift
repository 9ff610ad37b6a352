import ArgumentParser
import TraceAnalysis
import TraceExport
import TraceFormat
import TraceSystem

extension ProfileCollector.Kind: ExpressibleByArgument {}

/// `tracectl profile`: pprof profiles from the kernel's events, as `go tool
/// trace -pprof` writes them from Go's execution trace.
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a pprof profile (for `go tool pprof`) of the CPU samples or the waits in trace files.",
        discussion: """
        cpu: CPU-clock samples at their stacks. sched: time woken or preempted threads waited for a CPU. \
        block: time waiting for a lock, I/O or a timer. syscall: time waiting in other system calls. \
        Waits are at the user stack where the thread left its CPU (docs/analysis.md, "Profiles"). \
        The trace needs execution events (traced records them unless --no-exec).
        """)

    @Argument(help: "Trace files (the files of one session, in order).")
    var files: [String]

    @Option(help: "cpu, sched, block or syscall.")
    var kind: ProfileCollector.Kind = .cpu

    @Option(help: "Only what happened inside tasks of this type, on the thread they began on.")
    var taskType: String?

    @Option(help: "Only what happened inside regions of this type.")
    var region: String?

    @Option(name: .shortAndLong, help: "Output file (gzip-compressed protobuf, like OUT.pb.gz).")
    var output: String

    func run() throws {
        let walk: TraceWalk
        do {
            walk = try TraceWalk(paths: files)
        } catch {
            Failure("cannot read trace: \(error)").exit()
        }
        TraceInput.requireSomethingDecodes(walk, files: files)
        guard walk.catalog.kernelBatches > 0 else {
            Failure("\(files.joined(separator: ", ")) holds no execution events: record with traced where perf events are permitted, without --no-exec (see `tracectl status`)").exit()
        }
        var collector = ProfileCollector(kind: kind, catalog: walk.catalog, taskType: taskType, region: region)
        if collector.unmatchedFilter {
            Failure("no task or region type \(taskType.map { "'\($0)'" } ?? "")\(region.map { " '\($0)'" } ?? "") in this trace").exit()
        }
        walk.run(&collector)
        let resolver = StackResolver(catalog: walk.catalog)
        let start = walk.startTime ?? 0
        let offset = ClockConverter.realtimeOffset(from: walk.catalog.clockSyncs) ?? 0
        let bytes = PrivateOutput.write(output, what: "writing the profile") { destination in
            let profile = try PprofProfile.encode(collector, resolver: resolver, catalog: walk.catalog,
                                                  startNanoseconds: start.saturatingAdd(offset),
                                                  durationNanoseconds: (collector.last ?? start).saturatingSubtract(start))
            try destination.writeAll(profile)
            return profile.count
        }
        let total = collector.weights.values.reduce(into: (count: Int64(0), nanoseconds: Int64(0))) {
            $0.count += $1.count
            $0.nanoseconds = $0.nanoseconds.saturatingAdd($1.nanoseconds)
        }
        let what = kind == .cpu ? "\(total.count) samples" : "\(total.count) waits, \(Double(total.nanoseconds) / 1e6) ms"
        print("wrote a \(kind.rawValue) profile of \(what) at \(collector.weights.count) stacks to \(output) (\(bytes) bytes)")
        if let reason = resolver.unavailableReason { print("note: frames are not symbolized: \(reason)") }
    }
}
