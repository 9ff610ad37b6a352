/// What the server's command line and environment choose.
public struct OrdersOptions: Sendable {
    /// The TCP port to bind on 127.0.0.1; 0 lets the kernel choose (the
    /// chosen port is printed in the "listening on" line).
    public var port: Int = 8080
    /// The address to bind (`--host`): 127.0.0.1 unless told otherwise.
    public var host = "127.0.0.1"
    /// Another instance that `/orders/{id}` asks for the same order
    /// (`--inventory http://HOST:PORT`), passing on the request's trace.
    public var inventory: String?

    public init() {}

    /// `--port N` (or `ORDERS_PORT=N` in the environment); the flag wins.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(OptionsError) -> OrdersOptions {
        var options = OrdersOptions()
        if let value = environment["ORDERS_PORT"] {
            options.port = try port(value, from: "ORDERS_PORT")
        }
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--port":
                guard let value = rest.popFirst() else { throw OptionsError("--port needs a value (0 to 65535)") }
                options.port = try port(value, from: "--port")
            case "--host":
                guard let value = rest.popFirst(), !value.isEmpty else { throw OptionsError("--host needs an address, like 0.0.0.0") }
                options.host = value
            case "--inventory":
                guard let value = rest.popFirst(), InventoryClient(url: value) != nil else {
                    throw OptionsError("--inventory needs http://HOST:PORT")
                }
                options.inventory = value
            case "--help", "-h":
                throw OptionsError(usage)
            default:
                throw OptionsError("unknown argument '\(argument)'\n" + usage)
            }
        }
        return options
    }

    public static let usage = "usage: \(CommandLine.arguments.first ?? "hummingbird-orders") [--port N] [--host ADDRESS] [--inventory http://HOST:PORT]  (or ORDERS_PORT=N; default 8080, 0 for any; host 127.0.0.1)"

    private static func port(_ text: String, from source: String) throws(OptionsError) -> Int {
        guard let port = Int(text), (0...65535).contains(port) else {
            throw OptionsError("\(source) '\(text)' is not a port: give 0 to 65535")
        }
        return port
    }
}

public struct OptionsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
