import TestSupport
import Testing
import TraceAnalysis
import TraceFormat
#if canImport(Glibc)
import Glibc
#endif

/// Runtime (`String`) names and tasks carried in ServiceContext, emitted by
/// a real process and read back exactly.
@Suite(.tags(.concurrency)) struct NameTests {
    /// NameTable.capacity in TraceClient (docs/design.md, "Names").
    static let bound = 4096

    @Test func runtimeNamesAreRecordedExactlyAndShareIdsWithEqualStaticNames() throws {
        let directory = try TemporaryDirectory()
        let (result, model, path) = try traceScenario("dynamicNames", in: directory)
        let order = try #require(result.values["order"]), grind = try #require(result.values["grind"])
        let brew = try #require(result.values["brew"])
        #expect(model.events.map(describe) == [
            "task makeCappuccino id=\(order) parent=0",
            "log orderID=42 task=\(order)",
            "begin steamMilk task=\(order)",
            "counter milkTemperature=65",
            "end",
            "begin steamMilk task=\(order)",
            "counter milkTemperature=66",
            "end",
            "begin café ☕ task=\(order)",
            "counter pressure=9.5",
            "end",
            "begin extractCoffee task=\(order)",
            "end",
            "task grindBeans id=\(grind) parent=\(order)",
            "task-end id=\(grind)",
            "task brew id=\(brew) parent=\(order)",
            "log orderID=43 task=\(brew)",
            "task-end id=\(brew)",
            "task-end id=\(order)",
        ])
        #expect(model.regions.allSatisfy { $0.misuse.isEmpty && $0.end != nil })
        // One string record per name: "steamMilk" given as a String and as a
        // literal is one id, so one region type.
        let reader = TraceReader()
        try reader.readMetadata(path: path)
        let values = reader.strings.values.sorted()
        #expect(values == Array(Set(values)).sorted())
        #expect(Set(values) == ["makeCappuccino", "orderID", "steamMilk", "milkTemperature", "café ☕", "pressure",
                                "extractCoffee", "grindBeans", "brew"])
    }

    @Test(.tags(.slow)) func unboundedNamesStopAtTheBoundAndCountTheOverflowExactly() throws {
        let directory = try TemporaryDirectory()
        let names = 200_000
        let (result, model, path) = try traceScenario("manyNames", options: ["names": "\(names)"], in: directory)
        #expect(result.values["emitted"] == "\(names)")
        #expect(model.droppedEvents == 0)
        var recorded: [(name: String, value: Int64)] = []
        var overflowCounts: [Int64] = []
        for event in model.events {
            guard case .counter(let name, .integer(let value)) = event.kind else { continue }
            if name == "traced.names.overflowed" { overflowCounts.append(value) } else { recorded.append((name, value)) }
        }
        let overflow = names - Self.bound
        #expect(recorded.count == names + 1)  // and the literal integer counter
        // With the table full, literals still have their own names: they
        // take the StaticString overloads.
        #expect(recorded.last?.name == "literalCounter")
        #expect(model.events.contains { $0.kind == .counter(name: "literalCounter", value: .double(1.5)) })
        #expect(model.regions.map(\.type) == ["literalRegion", "literalStart"])
        #expect(model.tasks.map(\.type) == ["literalTask", "literalWithTask"])
        #expect(model.events.contains { if case .log(_, "literalLog", _, _, _) = $0.kind { true } else { false } })
        recorded.removeLast()
        // One thread, names in order: the first `bound` are themselves.
        #expect(recorded.prefix(Self.bound).allSatisfy { $0.name == "n\($0.value)" })
        #expect(recorded.dropFirst(Self.bound).allSatisfy { $0.name == "(other)" })
        // After each event recorded as "(other)", the count so far.
        #expect(overflowCounts == (1...Int64(overflow)).map { $0 })
        let reader = TraceReader()
        try reader.readMetadata(path: path)
        // n0..n4095, "(other)", the overflow counter and the 6 literals.
        #expect(reader.strings.count == Self.bound + 2 + 6)
        // The table stops growing: anonymous resident memory after 100,000
        // and after 200,000 names differs by far less than 100,000 more
        // names would take if interned (over 10 MB: a table entry, a string
        // record, an interner entry each). The in-process writer's buffers
        // make up to ~1 MiB of noise (what is in flight when measured).
        let early = try #require(result.values["heapEarly"].flatMap(Int.init))
        let late = try #require(result.values["heapLate"].flatMap(Int.init))
        // Not under a sanitizer: its shadow memory and quarantine grow with
        // every allocation, freed or not (scripts/sanitize sets these).
        if getenv("TSAN_OPTIONS") == nil && getenv("ASAN_OPTIONS") == nil {
            #expect(early > 0 && late - early < 2 << 20, "heap grew from \(early) to \(late) bytes")
        }

        // tracectl shows the count next to the drops.
        let pid = try #require(model.catalog.processes[1]?.pid)
        let summary = try Processes.run(Processes.executable("tracectl"), ["dump", "--summary", path])
        #expect(summary.standardOutput.contains(
            "dropped 0, \(overflow) named (other) (over \(Self.bound) runtime names)"), "\(summary.standardOutput)")
        let report = try Processes.run(Processes.executable("tracectl"), ["report", path])
        #expect(report.standardOutput.contains(
            "names over the bound: \(overflow) event(s) of pid \(pid) TraceFixture recorded as (other) (4096 runtime names per process)"),
            "\(report.standardOutput.prefix(600))")
    }

    @Test func namesFromManyThreadsAtOnceFillTheTableOnce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("manyNames.trace")
        let (threads, names) = (4, 5_000)
        let result = try Processes.fixture("manyNames", ["out": path, "threads": "\(threads)", "names": "\(names)"])
        #expect(result.status == 0, "\(result.standardError)")
        let model = try TraceModel.load(paths: [path])
        #expect(model.diagnostics.isEmpty && model.droppedEvents == 0)
        var recorded = 0, others = 0, overflowMax: Int64 = 0
        var named: Set<String> = []
        var wrong: [String] = []
        for event in model.events {
            guard case .counter(let name, .integer(let value)) = event.kind else { continue }
            if name == "traced.names.overflowed" {
                overflowMax = max(overflowMax, value)
                continue
            }
            recorded += 1
            if name == "(other)" {
                others += 1
            } else {
                named.insert(name)
                if name != "n\(value)" { wrong.append("\(name)=\(value)") }
            }
        }
        #expect(recorded == threads * names)
        #expect(wrong.isEmpty, "\(wrong.prefix(10))")
        // 5,000 names offered, 4,096 taken: each of the others is "(other)"
        // on every thread.
        #expect(named.count == Self.bound)
        #expect(others == threads * (names - Self.bound))
        #expect(overflowMax == Int64(others))
        let reader = TraceReader()
        try reader.readMetadata(path: path)
        #expect(reader.strings.count == Self.bound + 2)
    }

    @Test func aTaskInServiceContextIsCurrentOnceFollowedAcrossAwaitsAndChildTasks() throws {
        let directory = try TemporaryDirectory()
        let (result, model, _) = try traceScenario("serviceContext", in: directory)
        let span = try #require(result.values["span"].flatMap(UInt64.init))
        let sub = try #require(result.values["sub"].flatMap(UInt64.init))
        let own = try #require(result.values["own"].flatMap(UInt64.init))
        let tasks = Dictionary(model.regions.map { ($0.type, $0.task) }, uniquingKeysWith: { a, _ in a })
        #expect(tasks == [
            "beforeFollowing": 0, "x": span, "afterAwait": span, "child": span, "inOwn": own, "outside": 0,
        ])
        let logs = model.events.compactMap { event -> UInt64? in
            if case .log(let task, "note", _, _, _) = event.kind { return task }
            return nil
        }
        #expect(logs == [span])
        #expect(model.tasks.first { $0.id == sub }?.parent == span)
        #expect(model.tasks.first { $0.id == own }?.parent == span)
    }
}
