import Foundation
import Testing
@testable import PGWarden

@Suite("JSONText.quote")
struct JSONTextTests {
    @Test(arguments: [
        ("", "\"\""),
        ("plain", "\"plain\""),
        ("say \"hi\"", "\"say \\\"hi\\\"\""),
        ("C:\\temp", "\"C:\\\\temp\""),
        ("a\nb\rc\td", "\"a\\nb\\rc\\td\""),
        ("\u{0}", "\"\\u0000\""),
        ("\u{1}", "\"\\u0001\""),
        ("\u{8}", "\"\\u0008\""),
        ("\u{b}", "\"\\u000b\""),
        ("\u{1b}[0m", "\"\\u001b[0m\""),
        ("\u{1f}", "\"\\u001f\""),
        (" ", "\" \""),
        ("ró データ 🐘", "\"ró データ 🐘\""),
        ("/", "\"/\""),
    ])
    func quoting(raw: String, quoted: String) {
        #expect(JSONText.quote(raw) == quoted)
    }

    @Test func everyControlCharacterIsEscaped() {
        for code in 0..<0x20 {
            let quoted = JSONText.quote(String(UnicodeScalar(UInt8(code))))
            #expect(quoted.unicodeScalars.allSatisfy { $0.value >= 0x20 }, "U+\(String(code, radix: 16)) left raw")
            #expect(quoted.hasPrefix("\"\\"), "U+\(String(code, radix: 16)) → \(quoted)")
        }
    }

    /// What a JSON parser reads back must be the original string.
    @Test(arguments: [
        "", "plain", "quote\"back\\slash", "\u{0}\u{1}\u{7f}\u{1f}", "tab\tcr\rlf\n", "ró データ 🐘 e\u{301}",
        "\u{2028}\u{2029}", "</script>",
    ])
    func roundTripsThroughJSONDecoder(raw: String) throws {
        let data = Data(("[" + JSONText.quote(raw) + "]").utf8)
        let decoded = try JSONDecoder().decode([String].self, from: data)
        #expect(decoded == [raw])
    }
}
