import Testing
@testable import PGWarden

/// GlobPattern: the gid patterns of rollback_prepared rules. What is accepted, what is refused
/// (with the reason), how it matches, and its LIKE form.
@Suite("GlobPattern")
struct GlobPatternTests {
    static func glob(_ text: String) -> GlobPattern {
        guard let pattern = GlobPattern(text) else { fatalError("bad pattern in test: \(text)") }
        return pattern
    }

    @Test(arguments: [
        ("*", "anything", true), ("*", "", true), ("app-*", "app-42", true), ("app-*", "app-", true),
        ("app-*", "xapp-1", false), ("app-*", "App-1", false), ("?", "é", true), ("?", "ab", false), ("?", "", false),
        ("a?c", "abc", true), ("a?c", "ac", false), ("*-?", "x-1", true), ("*-?", "x-12", false),
        ("a*b*c", "aXbYc", true), ("a*b*c", "abcabc", true), ("a*b*c", "acb", false), ("**", "x", true),
        ("xa*", "xaaab", true), ("*ab", "aab", true), ("*aab", "aaab", true), ("*a*a*a*b", "aaaaaaaaaa", false),
        ("exact", "exact", true), ("exact", "exactly", false), ("exact", "inexact", false),
        ("\\*", "*", true), ("\\*", "x", false), ("\\?", "?", true), ("\\?", "x", false), ("a\\\\b", "a\\b", true),
        ("\\[x\\]", "[x]", true), ("x\\ ", "x ", true), ("\\ x", " x", true), ("a b", "a b", true),
        ("o'brien-*", "o'brien-1", true), ("50%", "50%", true), ("50%", "500", false), ("a_b", "a_b", true), ("a_b", "axb", false),
        // Byte for byte: é (U+00E9) and e + U+0301 are different gids.
        ("caf\u{E9}", "caf\u{E9}", true), ("caf\u{E9}", "cafe\u{301}", false), ("caf?", "cafe\u{301}", false),
        ("caf??", "cafe\u{301}", true), ("\u{1F600}*", "\u{1F600}x", true),
    ])
    func matching(pattern: String, gid: String, expected: Bool) {
        #expect(Self.glob(pattern).matches(gid) == expected, "\(pattern) against \(gid)")
    }

    @Test(arguments: [
        ("", "is empty"),
        ("[abc]", "has [ without a \\ before it: there are no character classes"),
        ("abc]", "has ] without"),
        ("abc\\", "ends with a lone \\"),
        ("a\\bc", "has \\b: \\ may only precede"),
        (" app", "starts or ends with a blank"),
        ("app ", "starts or ends with a blank"),
        ("app\t*", "contains U+0009, a control"),
        ("app\u{200B}", "contains U+200B"),
        ("a\u{202E}b", "contains U+202E"),
        ("a\u{2028}b", "contains U+2028"),
        ("x\u{0}", "contains U+0000"),
        (String(repeating: "a", count: 200), "needs at least 200 bytes"),
        (String(repeating: "?", count: 200), "needs at least 200 bytes"),
        (String(repeating: "\u{E9}", count: 100), "needs at least 200 bytes"),
    ])
    func refused(pattern: String, reason: String) {
        let problem = GlobPattern.problem(pattern)
        #expect(problem?.contains(reason) == true, "\(pattern): \(problem ?? "accepted")")
        #expect(GlobPattern(pattern) == nil)
    }

    @Test func longestPatternsThatCanMatch() {
        #expect(GlobPattern(String(repeating: "a", count: 199)) != nil)
        #expect(GlobPattern(String(repeating: "a", count: 199) + "*") != nil, "* may match nothing")
        let long = String(repeating: "x", count: 199)
        #expect(Self.glob(String(repeating: "?", count: 199)).matches(long))
    }

    @Test(arguments: [
        ("*", "%"), ("?", "_"), ("app-*", "app-%"), ("50%_\\\\x", "50\\%\\_\\\\x"), ("\\*\\?", "*?"), ("a**b", "a%b"),
        ("o'brien", "o'brien"),
    ])
    func likeForm(pattern: String, like: String) {
        #expect(Self.glob(pattern).likePattern == like)
    }

    /// A pathological pattern against a long gid still answers (greedy backtracking, no blow-up).
    @Test func noExponentialBacktracking() {
        let pattern = Self.glob(String(repeating: "*a", count: 40) + "b")
        #expect(!pattern.matches(String(repeating: "a", count: 199)))
    }

    @Test func patternsCompareAsWritten() {
        #expect(Self.glob("caf\u{E9}") != Self.glob("cafe\u{301}"))
        #expect(Self.glob("a*") == Self.glob("a*"))
        #expect(Self.glob("a**").description == "a**")
    }
}
