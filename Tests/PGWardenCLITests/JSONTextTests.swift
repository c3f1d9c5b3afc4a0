import Foundation
import Testing
@testable import PGWardenCLI
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

    /// The escaping as first written (per Unicode scalar), kept as the reference for the
    /// byte-level one: both must agree on every string.
    static func reference(_ text: String, escapingDelete: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || (escapingDelete && scalar.value == 0x7F) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    @Test func agreesWithTheReferenceOnRandomStrings() {
        let pieces: [String] = ["a", "Z", " ", "=", "\"", "\\", "\n", "\r\n", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "データ", "🐘",
                                "e\u{301}", "\u{2028}", "/", "{", "}"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(JSONText.quote(text) == "\"" + Self.reference(text, escapingDelete: false) + "\"", "\(Array(text.utf8))")
            let logfmt = LineLogHandler.logfmtValue(text)
            if logfmt.hasPrefix("\"") {
                #expect(logfmt == "\"" + Self.reference(text, escapingDelete: true) + "\"", "\(Array(text.utf8))")
            } else {
                #expect(logfmt == text)
                #expect(!text.isEmpty && !text.utf8.contains { $0 <= 0x20 || $0 == 0x3D || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F })
            }
        }
    }
}
