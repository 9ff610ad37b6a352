import Foundation
public import Hummingbird
public import Logging
public import ServiceLifecycle

/// The server: the routes behind Hummingbird's TracingMiddleware, bound to
/// 127.0.0.1 (or `--host`). It prints "listening on HOST:PORT" on standard output
/// once it accepts connections (scripts and tests wait for that line), and
/// shuts down gracefully on SIGTERM or SIGINT.
/// `services` run beside the server (swift-otel's exporter, in that variant).
public func makeOrdersApplication(_ options: OrdersOptions, logger: Logger, services: [any Service] = []) -> some ApplicationProtocol {
    let router = Router()
    router.middlewares.add(TracingMiddleware())
    addRoutes(to: router, inventory: options.inventory.flatMap(InventoryClient.init(url:)))
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(options.host, port: options.port), serverName: "hummingbird-orders"),
        onServerRunning: { channel in
            // Written unbuffered: whoever waits for this line may be reading a pipe.
            let line = "listening on \(options.host):\(channel.localAddress?.port ?? options.port)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        },
        logger: logger
    )
    app.addServices(services)
    return app
}

/// Parses the command line and environment, or exits with status 2 saying why.
public func ordersOptionsOrExit() -> OrdersOptions {
    do {
        return try OrdersOptions.parse(CommandLine.arguments, environment: ProcessInfo.processInfo.environment)
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        exit(2)
    }
}
