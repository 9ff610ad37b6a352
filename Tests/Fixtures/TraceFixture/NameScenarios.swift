import ServiceContextModule
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Workloads with runtime (`String`) names and with tasks carried in
/// ServiceContext.
enum NameScenarios {
    /// A name built at run time, so the `String` overloads are chosen.
    static func runtime(_ parts: String...) -> String { parts.joined() }

    /// Every annotation with a runtime name, some equal to static names
    /// used next to them.
    static func dynamicNames(_ options: Fixture.Options) async {
        var ids: (order: UInt64, grind: UInt64, brew: UInt64) = (0, 0, 0)
        await Fixture.traced(options) {
            let order = TraceTask(runtime("make", "Cappuccino"))
            await order.withCurrent {
                Trace.log(runtime("order", "ID"), "42")
                Trace.withRegion(runtime("steam", "Milk")) { Trace.counter(runtime("milk", "Temperature"), 65) }
                Trace.withRegion("steamMilk") { Trace.counter("milkTemperature", 66) }
                let region = Trace.startRegion(runtime("café ", "☕"))
                Trace.counter(runtime("pres", "sure"), 9.5)
                region.end()
                await Trace.withRegion(runtime("extract", "Coffee")) { await Task.yield() }
                Trace.withTask(runtime("grind", "Beans")) { task in ids.grind = task.id }
                await Trace.withTask(runtime("brew")) { task in
                    ids.brew = task.id
                    await Task.yield()
                    Trace.log("orderID", "43")
                }
            }
            order.end()
            ids.order = order.id
        }
        print("order=\(ids.order)")
        print("grind=\(ids.grind)")
        print("brew=\(ids.brew)")
    }

    /// --threads threads each emit counters named "n<i>" with value i for
    /// i in 0..<--names (the same names on every thread): more distinct
    /// names than the table holds overflow into "(other)". Prints the
    /// resident and anonymous memory after half of the names and at the end.
    static func manyNames(_ options: Fixture.Options) {
        let threads = options.number("threads", default: 1)
        let names = options.number("names", default: 100_000)
        var sizes: (early: Int, late: Int) = (0, 0)
        var heap: (early: Int, late: Int) = (0, 0)
        Fixture.traced(options) {
            if threads == 1 {
                for i in 0..<names {
                    Trace.counter("n\(i)", i)
                    if i == names / 2 { (sizes.early, heap.early) = (residentBytes(), heapBytes()) }
                }
                (sizes.late, heap.late) = (residentBytes(), heapBytes())
                // The table is full: a literal that took a String overload
                // would be recorded as "(other)".
                literals()
            } else {
                let workers = (0..<threads).map { _ in
                    try! SystemThread.spawn(name: "names") {
                        for i in 0..<names { Trace.counter("n\(i)", i) }
                    }
                }
                for worker in workers { worker.join() }
            }
        }
        print("emitted=\(threads * names)")
        print("rssEarly=\(sizes.early)")
        print("rssLate=\(sizes.late)")
        print("heapEarly=\(heap.early)")
        print("heapLate=\(heap.late)")
    }

    /// Anonymous resident memory (RssAnon in /proc/self/status): the heap
    /// and stacks, without the trace buffer (shared memory, RssShmem),
    /// whose pages are touched as events fill it.
    static func heapBytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("RssAnon:") else { continue }
            let kilobytes = text.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    /// Every annotation with literal names.
    static func literals() {
        Trace.counter("literalCounter", 1)
        Trace.counter("literalCounter", 1.5)
        Trace.log("literalLog", "message")
        Trace.withRegion("literalRegion") {}
        Trace.startRegion("literalStart").end()
        TraceTask("literalTask").end()
        Trace.withTask("literalWithTask") { _ in }
    }

    /// The resident set size of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0, resident = 0
        guard withUnsafeMutablePointer(to: &size, { s in
            withUnsafeMutablePointer(to: &resident) { r in readStatm(file, s, r) }
        }) else { return 0 }
        return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func readStatm(_ file: UnsafeMutablePointer<FILE>, _ size: UnsafeMutablePointer<Int>,
                                  _ resident: UnsafeMutablePointer<Int>) -> Bool {
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, 256, file) != nil else { return false }
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: " ").compactMap { Int($0) }
        guard fields.count >= 2 else { return false }
        size.pointee = fields[0]
        resident.pointee = fields[1]
        return true
    }

    /// A TraceTask in ServiceContext.current: ignored before
    /// followsServiceContext(), then current for regions, logs and new
    /// tasks, across an await and in a child Task; TraceClient's own
    /// current task wins over it.
    static func serviceContext(_ options: Fixture.Options) async {
        var ids: (span: UInt64, sub: UInt64, own: UInt64) = (0, 0, 0)
        await Fixture.traced(options) {
            let span = TraceTask("span")
            ids.span = span.id
            var context = ServiceContext.topLevel
            context.traceTask = span
            ServiceContext.withValue(context) { Trace.withRegion("beforeFollowing") {} }
            TraceTask.followsServiceContext()
            await ServiceContext.withValue(context) {
                Trace.withRegion("x") {}
                try? await Task.sleep(nanoseconds: 1_000_000)
                Trace.withRegion("afterAwait") {}
                Trace.log("note", "in span")
                ids.sub = await Task {
                    Trace.withRegion("child") {}
                    let sub = TraceTask("sub")
                    sub.end()
                    return sub.id
                }.value
                let own = TraceTask("own")
                ids.own = own.id
                own.withCurrent { Trace.withRegion("inOwn") {} }
                own.end()
            }
            Trace.withRegion("outside") {}
            span.end()
        }
        print("span=\(ids.span)")
        print("sub=\(ids.sub)")
        print("own=\(ids.own)")
    }
}
