// A traced process for tests: runs one scripted workload (Scenarios) and
// prints what it emitted as `key=value` lines, so tests can compare exactly.
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
guard let scenario = arguments.first else { Fixture.fail("usage: TraceFixture SCENARIO [--option value]...") }
let options = Fixture.Options(arguments.dropFirst())

switch scenario {
case "burst": Scenarios.burst(options)
case "autostart": Scenarios.autostart(options)
case "clock": Scenarios.clock(options)
case "cappuccino": Scenarios.cappuccino(options)
case "async": await Scenarios.asyncTasks(options)
case "misuse": await Scenarios.misuse(options)
case "shortLivedTasks": await Scenarios.shortLivedTasks(options)
case "stacks": Scenarios.stacks(options)
case "asyncStacks": await Scenarios.asyncStacks(options)
case "logs": Scenarios.logs(options)
case "lifecycle": Scenarios.lifecycle(options)
case "fork": Scenarios.fork(options)
case "producer": Scenarios.producer(options)
case "load": Scenarios.load(options)
case "latencies": Scenarios.latencies(options)
case "dynamicNames": await NameScenarios.dynamicNames(options)
case "manyNames": NameScenarios.manyNames(options)
case "serviceContext": await NameScenarios.serviceContext(options)
case "spans": await SpanScenario.run(options)
case "requests": RequestScenario.run(options)
case "pingpong": PingPongScenario.run(options)
case "spinner": SpinnerScenario.run(options)
case "execution": ExecutionScenario.run(options)
case "suspension": await SuspensionScenario.run(options)
case "exit": ExitScenario.run(options)
default: Fixture.fail("unknown scenario '\(scenario)'")
}
