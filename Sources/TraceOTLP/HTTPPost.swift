import CCurl

/// HTTP POSTs to one endpoint with libcurl, on one handle (its connection
/// is kept alive between requests). Blocking: only the OTLP sender's own
/// thread uses it. http and https (libcurl's TLS), proxies as libcurl
/// takes them from the environment (`https_proxy`, `no_proxy`).
final class HTTPPost {
    enum Outcome: Equatable {
        /// The server answered: its status, the seconds of a `Retry-After`
        /// header (nil: none), and the start of its body.
        case answered(status: Int, retryAfter: Int?, body: String)
        /// No answer: why, in libcurl's words.
        case failed(String)
    }

    /// libcurl's global state, set up once before any handle (thread-safe
    /// since libcurl 7.84; Debian 12 has 7.88).
    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private let handle: UnsafeMutableRawPointer?
    private let url: String

    init(url: String) {
        self.url = url
        handle = Self.initialized ? curl_easy_init() : nil
    }

    deinit { if let handle { curl_easy_cleanup(handle) } }

    /// What the callbacks collect of an answer.
    private final class Answer {
        var body: [UInt8] = []
        var retryAfter: Int?
        static let bodyLimit = 4096
    }

    /// POSTs `body` with these headers; waits at most `timeoutMilliseconds`
    /// in all (connecting at most a fifth of it).
    func post(_ body: [UInt8], headers: [String], timeoutMilliseconds: Int) -> Outcome {
        guard let handle else { return .failed("libcurl could not start") }
        curl_easy_reset(handle)
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        let answer = Answer()
        let context = Unmanaged.passUnretained(answer).toOpaque()
        let code: CURLcode = url.withCString { url in
            body.withUnsafeBytes { bytes in
                _ = tc_curl_set_pointer(handle, CURLOPT_URL, url)
                _ = tc_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
                _ = tc_curl_set_long(handle, CURLOPT_POST, 1)
                _ = tc_curl_set_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress)
                _ = tc_curl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                _ = tc_curl_set_pointer(handle, CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
                _ = tc_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
                _ = tc_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(1, timeoutMilliseconds / 5))
                // Only http and https, also after a redirect (which is not followed).
                _ = tc_curl_set_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
                _ = tc_curl_set_write(handle, { data, size, count, context in
                    let answer = Unmanaged<Answer>.fromOpaque(context!).takeUnretainedValue()
                    let length = size * count
                    let room = max(0, Answer.bodyLimit - answer.body.count)
                    if let data, room > 0 {
                        answer.body += UnsafeRawBufferPointer(start: data, count: min(room, length))
                    }
                    return length
                }, context)
                _ = tc_curl_set_header(handle, { data, size, count, context in
                    let answer = Unmanaged<Answer>.fromOpaque(context!).takeUnretainedValue()
                    let length = size * count
                    if let data {
                        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                        if line.lowercased().hasPrefix("retry-after:") {
                            let value = line.dropFirst("retry-after:".count).filter { !" \t\r\n".contains($0) }
                            answer.retryAfter = Int(value)
                        }
                    }
                    return length
                }, context)
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else { return .failed(String(cString: curl_easy_strerror(code))) }
        return .answered(status: tc_curl_response_code(handle), retryAfter: answer.retryAfter,
                         body: String(decoding: answer.body, as: UTF8.self))
    }
}
