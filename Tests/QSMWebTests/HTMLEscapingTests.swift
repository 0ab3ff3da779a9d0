import Mustache
import Testing

@testable import QSMWeb

/// qsm's own escaper: the same output as swift-mustache's HTML content type, and every page uses it.
@Suite struct HTMLEscapingTests {
    @Test(arguments: [
        ("plain text 2026-12-07 19:40:00", "plain text 2026-12-07 19:40:00"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;"),
        ("é<ü>漢字&😀", "é&lt;ü&gt;漢字&amp;😀"),
        ("", ""),
    ])
    func escapesTheFiveCharactersAndKeepsEverythingElse(text: String, expected: String) {
        #expect(HTMLEscaping().escapeText(text) == expected)
    }

    @Test func everyPageRendersValuesThroughIt() throws {
        let library = try Templates.library()
        for (name, text) in Templates.all where text.hasPrefix("{{> head}}") {
            let html = try #require(library.render(["title": "<b>\u{2019}", "error": "x'y"], withTemplate: name))
            #expect(html.contains("&lt;b&gt;\u{2019}"), "\(name)")
            #expect(html.contains("x&#39;y"), "\(name)")
            #expect(!html.contains("<b>"), "\(name)")
        }
    }
}
