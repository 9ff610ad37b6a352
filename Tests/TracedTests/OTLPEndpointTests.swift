import Testing
import TraceProtocol

/// The one parser of OTLP/HTTP endpoints (`--otlp`, `otlp_endpoint`): the
/// URL traces go to, whatever way people write the path.
struct OTLPEndpointTests {
    static func url(_ text: String) -> String? {
        guard case .success(let url) = OTLPEndpoint.tracesURL(text) else { return nil }
        return url
    }

    @Test func thePathGetsV1TracesOnceHoweverItIsWritten() {
        #expect(Self.url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/traces")
        #expect(Self.url("http://127.0.0.1:4318/") == "http://127.0.0.1:4318/v1/traces")
        #expect(Self.url("http://127.0.0.1:4318/v1/traces") == "http://127.0.0.1:4318/v1/traces")
        #expect(Self.url("http://127.0.0.1:4318/v1/traces/") == "http://127.0.0.1:4318/v1/traces")
        #expect(Self.url("https://collector:4318/otlp//") == "https://collector:4318/otlp/v1/traces")
        #expect(Self.url("http://[::1]:4318/otlp/v1/traces") == "http://[::1]:4318/otlp/v1/traces")
    }

    @Test func whatIsNotAnHTTPEndpointIsRefusedWithTheAcceptedForm() {
        for text in ["ftp://127.0.0.1:4318", "127.0.0.1:4318", "http://", "http://user:secret@127.0.0.1:4318",
                     "http://127.0.0.1:99999", "http://127.0.0.1:4318/v1/traces?x=1", "http://[::1:4318"] {
            guard case .failure(let refusal) = OTLPEndpoint.tracesURL(text) else {
                Issue.record("'\(text)' was accepted")
                continue
            }
            #expect(refusal.description.contains("an OTLP/HTTP endpoint is http://HOST:PORT"), "\(refusal)")
        }
    }
}
