import Foundation
import Testing
@testable import PGWarden

/// WebhookAuth.accepts and constantTimeEqual.
@Suite("WebhookAuth")
struct WebhookAuthTests {
    static func basic(_ credentials: String) -> String {
        "Basic " + Data(credentials.utf8).base64EncodedString()
    }

    static let bearerOnly = WebhookAuth(bearerToken: "s3cr3t-T0ken")
    static let basicOnly = WebhookAuth(basicUser: "alertmanager", basicPassword: "pa:ss word")
    static let both = WebhookAuth(bearerToken: "s3cr3t-T0ken", basicUser: "alertmanager", basicPassword: "pa:ss word")

    @Test(arguments: [
        ("Bearer s3cr3t-T0ken", true),
        ("bearer s3cr3t-T0ken", true),
        ("BEARER s3cr3t-T0ken", true),
        ("Bearer s3cr3t-T0ken ", true),
        ("Bearer s3cr3t-t0ken", false),
        ("Bearer s3cr3t-T0ke", false),
        ("Bearer s3cr3t-T0kenX", false),
        ("Bearer wrong", false),
        ("Bearer ", false),
        ("Bearer", false),
        ("", false),
        ("s3cr3t-T0ken", false),
        ("Token s3cr3t-T0ken", false),
        ("Bearers3cr3t-T0ken", false),
    ])
    func bearer(header: String, expected: Bool) {
        #expect(Self.bearerOnly.accepts(header) == expected)
    }

    @Test func missingHeaderIsRejected() {
        #expect(!Self.bearerOnly.accepts(nil))
        #expect(!Self.basicOnly.accepts(nil))
        #expect(!Self.both.accepts(nil))
    }

    @Test func basicNotConfiguredIsRejected() {
        #expect(!Self.bearerOnly.accepts(Self.basic("alertmanager:pa:ss word")))
        #expect(!Self.bearerOnly.accepts(Self.basic(":")))
        #expect(!Self.bearerOnly.accepts("Basic czNjcjN0LVQwa2Vu"))  // base64 of the token itself
    }

    @Test(arguments: [
        ("alertmanager:pa:ss word", true),
        ("alertmanager:pa:ss wor", false),
        ("alertmanager:pa:ss wordx", false),
        ("alertmanager:", false),
        ("Alertmanager:pa:ss word", false),
        ("other:pa:ss word", false),
        ("alertmanager", false),
        (":pa:ss word", false),
        ("alertmanager:pa:ss word:", false),
    ])
    func basicCredentials(credentials: String, expected: Bool) {
        #expect(Self.basicOnly.accepts(Self.basic(credentials)) == expected)
        #expect(Self.both.accepts(Self.basic(credentials)) == expected)
    }

    @Test func basicSchemeIsCaseInsensitive() {
        let encoded = Data("alertmanager:pa:ss word".utf8).base64EncodedString()
        #expect(Self.basicOnly.accepts("basic " + encoded))
        #expect(Self.basicOnly.accepts("BASIC " + encoded))
    }

    @Test func basicWithInvalidBase64IsRejected() {
        #expect(!Self.basicOnly.accepts("Basic not*base64!"))
        #expect(!Self.basicOnly.accepts("Basic "))
        #expect(!Self.basicOnly.accepts("Basic alertmanager:pa:ss word"))
    }

    @Test func bearerNotConfiguredIsRejected() {
        #expect(!Self.basicOnly.accepts("Bearer pa:ss word"))
        #expect(!Self.basicOnly.accepts("Bearer alertmanager:pa:ss word"))
    }

    @Test func eitherCredentialWhenBothConfigured() {
        #expect(Self.both.accepts("Bearer s3cr3t-T0ken"))
        #expect(Self.both.accepts(Self.basic("alertmanager:pa:ss word")))
        #expect(!Self.both.accepts("Bearer pa:ss word"))
        #expect(!Self.both.accepts(Self.basic("alertmanager:s3cr3t-T0ken")))
    }

    @Test func openAuthAcceptsAnything() {
        let open = WebhookAuth()
        #expect(open.isOpen)
        #expect(open.accepts(nil))
        #expect(open.accepts(""))
        #expect(open.accepts("Bearer whatever"))
        #expect(open.accepts(Self.basic("a:b")))
    }

    @Test func configuredAuthIsNotOpen() {
        #expect(!Self.bearerOnly.isOpen)
        #expect(!Self.basicOnly.isOpen)
        #expect(!Self.both.isOpen)
    }

    // MARK: - constantTimeEqual

    @Test(arguments: [
        ([], [], true),
        ([1, 2, 3], [1, 2, 3], true),
        (Array("token".utf8), Array("token".utf8), true),
        ([1, 2, 3], [1, 2, 4], false),
        ([0x80], [0x00], false),
        ([1, 2, 3], [1, 2], false),
        ([1, 2], [1, 2, 3], false),
        ([], [0], false),
        ([0], [], false),
        ([1, 2, 0], [1, 2], false),
        ([], [1], false),
    ] as [([UInt8], [UInt8], Bool)])
    func constantTimeEquality(a: [UInt8], b: [UInt8], expected: Bool) {
        #expect(constantTimeEqual(a, b) == expected)
        #expect(constantTimeEqual(b, a) == expected)
    }

    /// Lengths that differ by a multiple of 256 must still compare unequal, even when the longer
    /// input continues with NUL bytes (the length difference must not be truncated to 8 bits).
    @Test(arguments: [256, 512, 65536])
    func lengthDifferenceOfMultipleOf256(extra: Int) {
        let short = Array("secret".utf8)
        let long = short + [UInt8](repeating: 0, count: extra)
        let shortVsLong = constantTimeEqual(short, long)
        let emptyVsZeros = constantTimeEqual([], [UInt8](repeating: 0, count: extra))
        #expect(!shortVsLong)
        #expect(!emptyVsZeros)
    }

    /// The same bug through basic auth: the password followed by 256 NUL bytes is accepted.
    @Test func basicPasswordWithTrailingNULsIsRejected() {
        let decoded = Array("alertmanager:pa:ss word".utf8) + [UInt8](repeating: 0, count: 256)
        let accepted = Self.basicOnly.accepts("Basic " + Data(decoded).base64EncodedString())
        #expect(!accepted)
    }

    // MARK: - bytes

    /// The header is compared as the bytes the client sent. Decoded to text, every invalid UTF-8
    /// sequence becomes U+FFFD, so a token with U+FFFD in it would be matched by any invalid byte.
    @Test(arguments: [[0xFF], [0xFE], [0xC3], [0x80], [0xEF, 0xBF], [0xF0, 0x9F, 0x98]] as [[UInt8]])
    func invalidUTF8NeverMatchesAReplacementCharacter(invalid: [UInt8]) {
        let auth = WebhookAuth(bearerToken: "tok\u{FFFD}")
        #expect(String(decoding: Array("Bearer tok".utf8) + invalid, as: UTF8.self) == "Bearer tok\u{FFFD}",
                "the lossy decoding this guards against")
        #expect(!auth.accepts(bytes: Array("Bearer tok".utf8) + invalid))
        #expect(auth.accepts(bytes: Array("Bearer tok\u{FFFD}".utf8)))
    }

    /// Two different invalid tokens do not compare equal, for bearer and for basic auth.
    @Test func differentInvalidTokensDiffer() {
        var auth = WebhookAuth()
        auth.bearerToken = Array("tok".utf8) + [0xFF]
        #expect(auth.accepts(bytes: Array("Bearer tok".utf8) + [0xFF]))
        #expect(!auth.accepts(bytes: Array("Bearer tok".utf8) + [0xFE]))
        #expect(!auth.accepts(bytes: Array("Bearer tok\u{FFFD}".utf8)))
        var basic = WebhookAuth()
        basic.basicUser = Array("am".utf8)
        basic.basicPassword = [0xFF]
        #expect(basic.accepts(bytes: Array(("Basic " + Data([0x61, 0x6D, 0x3A, 0xFF]).base64EncodedString()).utf8)))
        #expect(!basic.accepts(bytes: Array(("Basic " + Data([0x61, 0x6D, 0x3A, 0xFE]).base64EncodedString()).utf8)))
    }

    /// Only spaces and tabs around the credentials are ignored, not Unicode blanks.
    @Test(arguments: ["Bearer s3cr3t-T0ken\u{A0}", "Bearer \u{2028}s3cr3t-T0ken", "Bearer s3cr3t-T0ken\u{3000}",
                      "Bearer\ts3cr3t-T0ken", "Bearer\u{A0}s3cr3t-T0ken"])
    func unicodeBlanksAreNotTrimmed(header: String) {
        #expect(!Self.bearerOnly.accepts(bytes: Array(header.utf8)))
    }

    @Test func requestHeaderBytesDefaultToTheTextsUTF8() {
        let request = HTTPRequest(method: "POST", path: "/webhook", headers: ["authorization": "Bearer ró"])
        #expect(request.headerValueBytes("Authorization") == Array("Bearer ró".utf8))
        let raw = HTTPRequest(method: "POST", path: "/webhook", headers: ["authorization": "Bearer \u{FFFD}"],
                              headerBytes: ["authorization": Array("Bearer ".utf8) + [0xFF]])
        #expect(raw.headerValueBytes("AUTHORIZATION") == Array("Bearer ".utf8) + [0xFF])
    }
}
