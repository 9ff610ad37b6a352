/// What the server's command line and environment choose.
public struct OrdersOptions: Sendable {
    /// The TCP port to bind on 127.0.0.1; 0 lets the kernel choose (the
    /// chosen port is printed in the "listening on" line).
    public var port: Int = 8080

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
            case "--help", "-h":
                throw OptionsError(usage)
            default:
                throw OptionsError("unknown argument '\(argument)'\n" + usage)
            }
        }
        return options
    }

    public static let usage = "usage: \(CommandLine.arguments.first ?? "hummingbird-orders") [--port N]  (or ORDERS_PORT=N; default 8080, 0 for any)"

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
