import CTraceABI
import Foundation
import TestSupport
import Testing
import TraceFormat

/// Execution events by `--unit` from the packaged traced, under the real
/// systemd, of DynamicUser services (docs/design.md, "Who may record
/// what"): root's session records the service's threads with its
/// annotations; a member of `tracing`, whose uid the service does not run
/// as, gets its annotations and not one kernel event of it.
extension PackagedServiceTests {
    @Test func aUnitsExecutionEventsReachRootButNotAMemberOfTracingWhoDoesNotOwnIt() throws {
        let box = try Self.bootedWithThePackage()
        try box.run("systemctl", "start", "traced").requireSuccess("systemctl start traced")
        let aliceUID = try #require(Int(try box.run("id", "-u", Self.alice).lines.first ?? ""))

        // root records cafe3: the kernel's events of its threads, merged
        // with its annotations.
        let cafe3 = try startCafe(box, unit: "cafe3")
        try box.run("tracectl", "start", "u1", "--unit", "cafe3.service").requireSuccess("tracectl start u1")
        // Some 100 orders: cafe's threads park and are woken again every 8.
        #expect(eventually(20) {
            let status = try? sessionStatus(box, "u1")
            return status?["events"] as? Int ?? 0 >= 2000 && (status?["execution"] as? [String: Any])?["events"] as? Int ?? 0 > 0
        })
        let running = try #require(try sessionStatus(box, "u1")["execution"] as? [String: Any])
        #expect(running["problem"] as? String == "", "\(running)")
        #expect(running["processes"] as? [Int] == [Int(cafe3.pid)], "\(running)")
        let u1 = try stopped(box, "u1", as: nil)
        #expect(u1["events"] as? Int ?? 0 > 0, "\(u1)")
        #expect(u1["leftOut"] as? [String] == [], "\(u1)")
        #expect(u1["lost"] as? Int == 0, "\(u1)")
        try box.run("tracectl", "fetch", "u1", "-o", "/share/u1.trace").requireSuccess("tracectl fetch u1")
        try box.run("systemctl", "stop", "cafe3").requireSuccess("systemctl stop cafe3")
        let rootShares = try ProcessShares(path: box.share.file("u1.trace"))
        #expect(rootShares.diagnostics.isEmpty, "\(rootShares.diagnostics)")
        #expect(rootShares.annotations[cafe3.pid] ?? 0 > 0, "\(rootShares)")
        #expect(rootShares.kernel[cafe3.pid] ?? 0 > 0, "\(rootShares)")
        // traced, in the container's pid namespace, knows the threads the
        // kernel's switches name by their ids there (PidNamespaceTranslation).
        #expect(rootShares.switchOuts[cafe3.pid] ?? 0 > 0, "\(rootShares)")
        #expect(Set(rootShares.kernel.keys) == [cafe3.pid], "\(rootShares)")
        // The report splits each order's wall time by what its threads
        // did, in parts that add up to it.
        let orders = try cappuccinoRow(box, "/share/u1.trace")
        let activity = try #require(orders["activity"] as? [String: Int], "\(orders)")
        #expect(activity.values.reduce(0, +) == (orders["latency"] as? [String: Any])?["total"] as? Int, "\(orders)")
        #expect(activity["running"] ?? 0 > 0, "\(activity)")

        // alice, in tracing, records cafe4, which runs as a uid of its own:
        // its annotations (a process that links TraceClient offers them),
        // none of what the kernel saw of it.
        let cafe4 = try startCafe(box, unit: "cafe4")
        #expect(cafe4.uid != aliceUID)
        try box.run(as: Self.alice, "tracectl", "start", "u2", "--unit", "cafe4.service").requireSuccess("tracectl start u2")
        #expect(eventually(20) { (try? sessionStatus(box, "u2"))?["events"] as? Int ?? 0 > 0 })
        let u2 = try stopped(box, "u2", as: Self.alice)
        #expect(u2["problem"] as? String == "", "\(u2)")
        #expect(u2["events"] as? Int == 0, "\(u2)")
        #expect(u2["processes"] as? [Int] == [], "\(u2)")
        #expect(u2["leftOut"] as? [String] == [
            "pid \(cafe4.pid) (cafe): uid \(cafe4.uid) is not the session owner's; its annotations are recorded, its execution events are not",
        ], "\(u2)")
        let said = try box.run(as: Self.alice, "tracectl", "status", "u2").standardOutput
        #expect(said.contains("\n    left out: pid \(cafe4.pid) (cafe): uid \(cafe4.uid) is not the session owner's"), "\(said)")
        try box.run(as: Self.alice, "tracectl", "fetch", "u2", "-o", "/home/alice/u2.trace").requireSuccess("tracectl fetch u2")
        try box.run("systemctl", "stop", "cafe4").requireSuccess("systemctl stop cafe4")
        try box.run("install", "-m", "644", "/home/alice/u2.trace", "/share/u2.trace").requireSuccess("copying u2.trace out")
        let aliceShares = try ProcessShares(path: box.share.file("u2.trace"))
        #expect(aliceShares.diagnostics.isEmpty, "\(aliceShares.diagnostics)")
        #expect(aliceShares.annotations[cafe4.pid] ?? 0 > 0, "\(aliceShares)")
        // Not one switch, wakeup, sample or counter, nor a thread name,
        // call or stack where it blocked.
        #expect(aliceShares.kernel.isEmpty, "\(aliceShares)")
        #expect(aliceShares.kernelDefinitions.isEmpty, "\(aliceShares)")
        #expect(try cappuccinoRow(box, "/share/u2.trace")["activity"] == nil)
    }

    /// Starts a DynamicUser service running cafe until stopped, and waits
    /// until it registered with traced (then `--unit` finds it as a client,
    /// not as a process that does not link TraceClient).
    private func startCafe(_ box: SystemdBox, unit: String) throws -> (pid: Int32, uid: Int) {
        try box.run("systemd-run", "--quiet", "--unit", unit, "-p", "DynamicUser=yes",
                    "/usr/local/bin/cafe", "--orders", "100000000").requireSuccess("the \(unit) service")
        let pid = try #require(Int32(try box.run("systemctl", "show", "-p", "MainPID", "--value", unit).lines.first ?? ""))
        try #require(pid > 0, "\(unit) has no main process")
        try #require(eventually(20) { ((try? daemonStatus(box))?["clients"] as? Int ?? 0) == 1 }, "\(unit) did not register")
        let uid = try #require(Int(try box.run("stat", "-c", "%u", "/proc/\(pid)").lines.first ?? ""))
        return (pid, uid)
    }

    /// `tracectl stop NAME --json` run by `user` (root: nil): the final
    /// status's `execution`.
    private func stopped(_ box: SystemdBox, _ name: String, as user: String?) throws -> [String: Any] {
        let command = ["tracectl", "stop", name, "--json"]
        let result = try user.map { try box.run(["setpriv", "--reuid", $0, "--regid", $0, "--init-groups", "--reset-env"] + command) }
            ?? box.run(command)
        try result.requireSuccess("tracectl stop \(name)")
        let status = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        return try #require(status["execution"] as? [String: Any], "\(status)")
    }

    /// The makeCappuccino row of `tracectl report --json` (with `activity`
    /// where the trace has kernel events).
    private func cappuccinoRow(_ box: SystemdBox, _ trace: String) throws -> [String: Any] {
        let report = try box.run("tracectl", "report", trace, "--json")
        try report.requireSuccess("tracectl report \(trace)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        return try #require(tasks.first { $0["type"] as? String == "makeCappuccino" }, "no makeCappuccino tasks in \(trace)")
    }
}

/// What a fetched trace holds of each process, by pid: annotation events,
/// kernel events (execution), and the strings and stacks traced defined for
/// it from what the kernel said (ids from TC_KERNEL_STRING_BASE: thread
/// names, calls and stacks where a thread blocked). Kernel events of a
/// process without a process record count under pid -1.
struct ProcessShares: CustomStringConvertible {
    var annotations: [Int32: Int] = [:]
    var kernel: [Int32: Int] = [:]
    /// Of `kernel`: switch-outs, which thread states need.
    var switchOuts: [Int32: Int] = [:]
    var kernelDefinitions: [Int32: Int] = [:]
    var diagnostics: [ReaderDiagnostic] = []

    init(path: String) throws {
        let reader = TraceReader()
        var annotations: [UInt32: Int] = [:], kernel: [UInt32: Int] = [:], switchOuts: [UInt32: Int] = [:]
        var definitions: [UInt32: Int] = [:]
        try reader.read(path: path) { header, event in
            guard header.kernel else {
                annotations[header.process, default: 0] += 1
                return
            }
            kernel[header.process, default: 0] += 1
            if event.kind == .switchOut { switchOuts[header.process, default: 0] += 1 }
        }
        let base = UInt64(TC_KERNEL_STRING_BASE)
        for key in Array(reader.strings.keys) + Array(reader.stacks.keys) where key.id >= base {
            definitions[key.process, default: 0] += 1
        }
        func byPID(_ counts: [UInt32: Int]) -> [Int32: Int] {
            var result: [Int32: Int] = [:]
            for (process, count) in counts { result[reader.processes[process]?.pid ?? -1, default: 0] += count }
            return result
        }
        self.annotations = byPID(annotations)
        self.kernel = byPID(kernel)
        self.switchOuts = byPID(switchOuts)
        kernelDefinitions = byPID(definitions)
        diagnostics = reader.diagnostics
    }

    var description: String {
        "annotations \(annotations), kernel events \(kernel) (switch-outs \(switchOuts)), kernel strings and stacks \(kernelDefinitions)"
    }
}
