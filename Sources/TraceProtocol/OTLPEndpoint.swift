/// An OTLP/HTTP endpoint as people write it (`--otlp`, `otlp_endpoint`):
/// `http://host:port` or `https://host:port`, with an optional path. The
/// traces go to `<path>/v1/traces`, as OpenTelemetry's
/// `OTEL_EXPORTER_OTLP_ENDPOINT` says, unless the path already ends so
/// (trailing slashes dropped).
/// Checked by tracectl and again by traced (one parser): what it refuses
/// never reaches the sender.
package enum OTLPEndpoint {
    package static let lengthLimit = 2048

    /// The URL traces are POSTed to, or why `text` is not an endpoint.
    package static func tracesURL(_ text: String) -> Result<String, Refusal> {
        let form = "an OTLP/HTTP endpoint is http://HOST:PORT or https://HOST:PORT with an optional path, like http://127.0.0.1:4318"
        func refuse(_ why: String) -> Result<String, Refusal> { .failure(Refusal(description: "'\(text)' \(why): \(form)")) }
        guard text.utf8.count <= lengthLimit else { return refuse("is longer than \(lengthLimit) bytes") }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return refuse("holds spaces or characters outside ASCII") }
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") { scheme = "http" } else if lowered.hasPrefix("https://") { scheme = "https" } else {
            return refuse("is not an http or https URL")
        }
        let rest = text.dropFirst(scheme.count + 3)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        guard !authority.contains("@") else { return refuse("holds credentials, which status would show") }
        guard !path.contains("?"), !path.contains("#") else { return refuse("has a query or fragment") }
        // host, host:port, [v6], [v6]:port
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return refuse("has an unclosed [ in its host") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return refuse("has text after its IPv6 address") }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".-_[]:".contains($0) }) else {
            return refuse("has no host name or address")
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { return refuse("has a port that is not 1 to 65535") }
        }
        // `…/`, `…/v1/traces` and `…/v1/traces/` alike: one path, never doubled.
        while path.hasSuffix("/") { path.removeLast() }
        if !path.hasSuffix("/v1/traces") { path += "/v1/traces" }
        return .success("\(scheme)://\(authority)\(path)")
    }

    package struct Refusal: Error, CustomStringConvertible {
        package var description: String
    }
}
