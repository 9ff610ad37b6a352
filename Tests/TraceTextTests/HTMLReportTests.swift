import Foundation
import Testing
@testable import TraceText

/// The page of `tracectl report --html`: its data cannot break out of its
/// script elements, the export is embedded up to the limit, and the page
/// names no site but the Perfetto UI.
@Suite struct HTMLReportTests {
    static let traces = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Traces").path

    /// A hand-made report of the cafe example in the shape of `tracectl
    /// report --json` with `taskSamples`: three task types, nested and
    /// concurrent regions, child tasks, logs, counters, drops, misuse and
    /// diagnostics.
    static let sample = traces + "/report-sample.json"

    static func text(_ page: [UInt8]) -> String { String(decoding: page, as: UTF8.self) }

    /// The text of the element that opens with `opening`, up to the next `</script>`.
    static func element(_ opening: String, in page: String) -> Substring? {
        guard let start = page.range(of: opening)?.upperBound,
              let end = page.range(of: "</script>", range: start..<page.endIndex)?.lowerBound else { return nil }
        return page[start..<end]
    }

    @Test func base64MatchesFoundationForEveryLengthRemainder() {
        var generator = SystemRandomNumberGenerator()
        for count in 0...67 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.encode(bytes) == Data(bytes).base64EncodedString(), "\(count) bytes")
        }
        #expect(Base64.encodedCount(0) == 0 && Base64.encodedCount(1) == 4 && Base64.encodedCount(3) == 4 && Base64.encodedCount(4) == 8)
    }

    @Test func aLogMessageCannotEndTheReportScriptElement() throws {
        let message = "</script><script>alert(1)</script><!-- <b>"
        let json = try JSONSerialization.data(withJSONObject: ["logs": [["category": "x", "examples": [["message": message]]]]])
        let page = Self.text(HTMLReport.render(reportJSON: Array(json), perfetto: nil, omittedBytes: nil))
        let embedded = try #require(Self.element(#"<script type="application/json" id="report">"#, in: page))
        #expect(!embedded.contains("<"))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(embedded.utf8)) as? [String: Any])
        let logs = try #require(decoded["logs"] as? [[String: Any]])
        let examples = try #require(logs.first?["examples"] as? [[String: Any]])
        #expect(examples.first?["message"] as? String == message)
        // Two script elements (the report and the page's script; no export), each closed once.
        #expect(page.components(separatedBy: "</script>").count - 1 == 2)
    }

    @Test func anExportIsEmbeddedUpToTheLimitAndNamedByItsSizePastIt() throws {
        let json = Array(#"{"format":"traced-report","version":1}"#.utf8)
        let export: [UInt8] = [0, 1, 2, 250, 251, 252, 253, 254]
        let within = Self.text(HTMLReport.page(reportJSON: json, perfettoExport: export, limit: 8))
        #expect(Self.element(#"<script type="application/octet-stream" id="perfetto">"#, in: within) == "AAEC+vv8/f4=")
        #expect(!within.contains("data-omitted-bytes"))
        let past = Self.text(HTMLReport.page(reportJSON: json, perfettoExport: export + [255], limit: 8))
        #expect(!past.contains(#"id="perfetto">"#))
        #expect(past.contains(#"<script type="application/octet-stream" id="perfetto-omitted" data-omitted-bytes="9"></script>"#))
        let none = Self.text(HTMLReport.page(reportJSON: json, perfettoExport: nil))
        #expect(!none.contains(#"id="perfetto""#) && !none.contains("data-omitted-bytes"))
    }

    @Test func thePageLoadsNothingAndNamesNoSiteButThePerfettoUI() throws {
        let json = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.sample)))
        let page = Self.text(HTMLReport.render(reportJSON: json, perfetto: [1, 2, 3], omittedBytes: nil))
        #expect(page.contains(#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; "#))
        // The one http URL is the SVG namespace, a name that is never fetched.
        let allowed = ["https://": "ui.perfetto.dev", "http://": "www.w3.org/2000/svg'"]
        for use in ["https://", "http://", "@import", "url(", " src=", "<link rel=\"stylesheet"] {
            let after = page.components(separatedBy: use).dropFirst()
            #expect(after.allSatisfy { rest in allowed[use].map { rest.hasPrefix($0) } ?? false }, "\(use) in the page")
        }
        #expect(!HTMLPage.script.contains("</") && !HTMLPage.script.contains("<!--"))
        #expect(page.hasSuffix("</script>\n</body>\n</html>\n"))
    }
}
