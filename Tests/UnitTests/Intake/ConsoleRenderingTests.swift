import Testing

@testable import Intake

/// What reaches the console's HTML without mustache's escaping (the server-drawn SVG), what its
/// forms decode to, and how its tokens compare.
@Suite struct ConsoleRenderingTests {
    @Test func chartTextFromDataIsEscaped() {
        let svg = SVGChart.stackedBars(
            title: "<b>t</b>", series: [.init(name: "a\"b", color: "#000")],
            bars: [.init(label: "<script>x</script>&", values: [3])])
        #expect(svg.contains("&lt;script&gt;x&lt;/script&gt;&amp;"))
        #expect(svg.contains("a&quot;b"))
        #expect(svg.contains("&lt;b&gt;t&lt;/b&gt;"))
        #expect(!svg.contains("<script>"))
        #expect(!svg.contains("<b>"))
    }

    @Test func anEmptyChartSaysSo() {
        #expect(SVGChart.stackedBars(title: "t", series: [], bars: []).contains("no data yet"))
    }

    @Test func formFieldsAreDecoded() {
        let form = ConsoleForm("email=a%2Bb%40example.com&password=p+w%26d&empty=&csrf=1&csrf=2&flag")
        #expect(form["email"] == "a+b@example.com")
        #expect(form["password"] == "p w&d")
        #expect(form["empty"] == "")
        #expect(form.text("empty") == nil)
        #expect(form["csrf"] == "1", "the first of a repeated field")
        #expect(form["flag"] == "")
        #expect(form["missing"] == nil)
    }

    @Test func tokensCompareWholly() {
        let token = ConsoleSessions.randomToken()
        #expect(ConsoleSessions.isWellFormed(token))
        #expect(token != ConsoleSessions.randomToken())
        #expect(ConsoleSessions.sameToken(token, token))
        #expect(!ConsoleSessions.sameToken(token, String(token.dropLast()) + (token.last == "0" ? "1" : "0")))
        #expect(!ConsoleSessions.sameToken(token, String(token.dropLast())))
        #expect(!ConsoleSessions.isWellFormed(String(repeating: "A", count: 64)))
        #expect(!ConsoleSessions.isWellFormed(""))
    }
}
