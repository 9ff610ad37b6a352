import Dispatch
import Tracing
#if canImport(Glibc)
import Glibc
#endif

/// The inventory service this one calls (`--inventory http://HOST:PORT`):
/// another instance of this server, asked for the same order with the
/// request's `traceparent`, so that both requests are one trace. One
/// HTTP/1.1 GET per call on a connection of its own, made on a Dispatch
/// thread (the calls block; Swift's cooperative threads must not).
struct InventoryClient: Sendable {
    let host: String
    let port: Int

    /// `http://HOST:PORT`, nil for anything else.
    init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let authority = url.dropFirst("http://".count).prefix { $0 != "/" }
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
              (1...65535).contains(port), colon > authority.startIndex else { return nil }
        host = String(authority[..<colon])
        self.port = port
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// GETs `path` with the W3C headers of the current span; the status.
    func get(_ path: String) async throws -> Int {
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &headers, using: HeaderInjector())
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
            + headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\r\n" }.joined() + "\r\n"
        let (host, port) = (host, port)
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.exchange(host: host, port: port, request: request) })
            }
        }
    }

    /// Connects, sends, reads to the end; the status of the status line.
    private static func exchange(host: String, port: Int, request: String) throws -> Int {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(found) }
        let socket = Glibc.socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard socket >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(socket) }
        guard connect(socket, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port): errno \(errno)")
        }
        var bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(socket, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            response += chunk[0..<n]
        }
        bytes = Array(response.prefix { $0 != UInt8(ascii: "\r") })
        // "HTTP/1.1 200 OK"
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard fields.count >= 2, let status = Int(fields[1]) else { throw Failure(description: "no HTTP answer from \(host):\(port)") }
        return status
    }
}

struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
