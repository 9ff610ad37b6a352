/// `tracectl report --html`: one self-contained page that draws the report.
///
/// The page is the JSON of `tracectl report --json` (with `taskSamples`),
/// the Perfetto export in base64, and a script that draws them (HTMLPage).
/// It fetches nothing: its Content-Security-Policy (`default-src 'none'`)
/// forbids every load, so a page opened offline, from a mail or from an
/// archive shows all it has. Its only way out is the "Open in Perfetto UI"
/// button, which opens ui.perfetto.dev in a new window and hands it the
/// embedded export by postMessage (HTMLScriptBasics).
package enum HTMLReport {
    /// The largest Perfetto export a page embeds. Past it the page would
    /// pass 43 MiB (base64 adds a third) and the browser would hold the
    /// export three times (the text, the bytes, the copy posted to the
    /// Perfetto window); the page says instead how to export and open it.
    package static let embeddedExportLimit = 32 << 20

    /// The page for `reportJSON`, embedding `perfettoExport` if it is at
    /// most `limit` bytes, else saying how big it was.
    package static func page(reportJSON: [UInt8], perfettoExport: [UInt8]?, limit: Int = embeddedExportLimit) -> [UInt8] {
        guard let export = perfettoExport else { return render(reportJSON: reportJSON, perfetto: nil, omittedBytes: nil) }
        return export.count <= limit
            ? render(reportJSON: reportJSON, perfetto: export, omittedBytes: nil)
            : render(reportJSON: reportJSON, perfetto: nil, omittedBytes: export.count)
    }

    /// The page for `reportJSON` with `perfetto` (the export's bytes)
    /// embedded, or, if nil, a placeholder saying `omittedBytes` were left
    /// out (no placeholder without either: the page then says it has no
    /// export).
    package static func render(reportJSON: [UInt8], perfetto: [UInt8]?, omittedBytes: Int?) -> [UInt8] {
        var page: [UInt8] = []
        page.reserveCapacity(HTMLPage.head.utf8.count + reportJSON.count + Base64.encodedCount(perfetto?.count ?? 0)
                             + HTMLPage.script.utf8.count + 512)
        page += HTMLPage.head.utf8
        page += #"<script type="application/json" id="report">"#.utf8
        appendScriptSafe(json: reportJSON, to: &page)
        page += "</script>\n".utf8
        if let perfetto {
            page += #"<script type="application/octet-stream" id="perfetto">"#.utf8
            Base64.append(perfetto, to: &page)
            page += "</script>\n".utf8
        } else if let omittedBytes {
            page += #"<script type="application/octet-stream" id="perfetto-omitted" data-omitted-bytes="\#(omittedBytes)"></script>"#.utf8
            page += "\n".utf8
        }
        page += "<script>\n".utf8
        page += HTMLPage.script.utf8
        page += "</script>\n</body>\n</html>\n".utf8
        return page
    }

    /// Copies JSON into a script element's text with every `<` written
    /// `\u003c`: then no `</script>` or `<!--` in a log message can end the
    /// element or change how the HTML parser reads it. In valid JSON a `<`
    /// can only be inside a string, where `\u003c` means the same.
    static func appendScriptSafe(json: [UInt8], to page: inout [UInt8]) {
        let escaped = Array(#"\u003c"#.utf8)
        var start = json.startIndex
        while let angle = json[start...].firstIndex(of: UInt8(ascii: "<")) {
            page += json[start..<angle]
            page += escaped
            start = angle + 1
        }
        page += json[start...]
    }
}
