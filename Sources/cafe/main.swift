// cafe: an example service that makes cappuccinos, annotated with TraceClient.
//
// Each order is a task; steaming milk and extracting coffee run as child
// tasks in parallel, mixing runs after both; a barista thread pool cleans
// up between orders; counters track the queue and the milk temperature.
//
//   cafe [--orders N]            run N orders (default 200) and exit
//   cafe --wait-for-tracing S    first wait (at most S seconds) until a
//                                traced session records this process
//   TRACED_FILE=cafe.trace cafe  trace it into a file, no daemon needed
import Dispatch
import Glibc
import TraceClient

let arguments = CommandLine.arguments
func option(_ name: String) -> Int? { arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } }
let orders = option("--orders") ?? 200

// The first annotation connects to traced; tracing turns on when the
// daemon welcomes the process into a running session, a few milliseconds
// later. A service does not wait (it would just miss those first events);
// the demo does, so that its report covers every order.
if let seconds = option("--wait-for-tracing") {
    Trace.counter("queueDepth", orders)
    var waited = 0
    while !Trace.isEnabled && waited < seconds * 1000 {
        usleep(1000)
        waited += 1
    }
    print(Trace.isEnabled ? "cafe: traced is recording" : "cafe: no traced session after \(seconds) s; running untraced")
}

/// Busy work standing in for real work, in microseconds.
func work(_ microseconds: Int) {
    var x: UInt64 = 1
    for _ in 0..<(microseconds * 150) { x = x &* 6364136223846793005 &+ 1442695040888963407 }
    if x == 0 { print("") }
}

func steamMilk(_ order: Int) async -> Int {
    await Trace.withRegion("steamMilk") {
        var temperature = 20
        while temperature < 65 {
            temperature += 15
            Trace.counter("milkTemperature", temperature)
            work(30)
            await Task.yield()
        }
        return temperature
    }
}

func extractCoffee(_ order: Int) async {
    await Trace.withRegion("extractCoffee") {
        Trace.withRegion("grindBeans") { work(40) }
        work(80)
        await Task.yield()
        if order % 10 == 0 { Trace.log("quality", "order \(order): shot pulled twice") }
    }
}

func makeCappuccino(_ order: Int) async {
    await Trace.withTask("makeCappuccino") { _ in
        Trace.log("orderID", "\(order)")
        async let milk = steamMilk(order)
        async let coffee: Void = extractCoffee(order)
        let temperature = await milk
        await coffee
        Trace.withRegion("mixMilkCoffee") {
            work(20)
            if temperature > 70 { Trace.log("warning", "milk too hot: \(temperature)") }
        }
    }
}

/// Between orders, baristas on plain threads clean machines (no Swift tasks).
func cleanMachines(round: Int) {
    DispatchQueue.concurrentPerform(iterations: 4) { machine in
        Trace.withRegion("cleanMachine") { work(25 + machine * 5) }
    }
    Trace.counter("cleaningRounds", round)
}

await withTaskGroup(of: Void.self) { group in
    for order in 0..<orders {
        Trace.counter("queueDepth", orders - order)
        group.addTask { await makeCappuccino(order) }
        if order % 8 == 7 {
            await group.waitForAll()
            cleanMachines(round: order / 8)
        }
    }
}
Trace.counter("queueDepth", 0)
print("cafe: served \(orders) cappuccinos")
