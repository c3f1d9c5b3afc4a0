import Foundation
import Testing
import TestSupport
@testable import PGWarden

/// Base64.decode: RFC 4648 base64, padded, as Foundation's `Data(base64Encoded:)` reads it by
/// default, except that `=` is only accepted as the padding that ends the text (Foundation also
/// takes `====`, `YW=j`, `YQ===` and `RQR==`).
@Suite("Base64")
struct Base64Tests {
    @Test(arguments: [
        ("", []),
        ("YQ==", [0x61]),
        ("YWI=", [0x61, 0x62]),
        ("YWJj", [0x61, 0x62, 0x63]),
        ("YWJjZA==", [0x61, 0x62, 0x63, 0x64]),
        ("YWxlcnRtYW5hZ2VyOnBhOnNzIHdvcmQ=", Array("alertmanager:pa:ss word".utf8)),
        ("+/8=", [0xFB, 0xFF]),
        ("AAAA", [0, 0, 0]),
        ("////", [0xFF, 0xFF, 0xFF]),
        // Bits left over before the padding are ignored, as Foundation does.
        ("YR==", [0x61]),
        ("YWJ=", [0x61, 0x62]),
    ] as [(String, [UInt8])])
    func decodes(text: String, expected: [UInt8]) {
        #expect(Base64.decode(text) == expected)
    }

    @Test(arguments: [
        "Y", "YQ", "YQ=", "YWJjZ", "YQ===", "=", "==", "===",
        "====", "YW=j", "YQ=a", "A===", "YQ==YQ==", "=YQ=", "RQR==", "YWJjZA===",  // misplaced `=` (Foundation accepts some)
        "Y Q==", " YQ==", "YQ==\n", "YQ==\r\n", "-_8=", "YQ*=", "YWé=", "YQ\u{0}=",
    ])
    func refuses(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    /// What Foundation encodes reads back.
    @Test func roundTripsFoundationsEncoding() {
        var generator = SeededGenerator(seed: 0xBA5E_64)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.decode(Data(bytes).base64EncodedString()) == bytes, "\(bytes)")
        }
    }

    /// Padded base64 with `=` only at the end (an independent statement of the format).
    static func paddedBase64() throws -> Regex<AnyRegexOutput> {
        try Regex("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
    }

    /// Against `Data(base64Encoded:)` over random strings and mutated encodings: the same bytes
    /// for every well-formed input, nil for every other, and Foundation differing only by
    /// accepting some inputs with a misplaced or extra `=`.
    @Test func sameAsFoundation() throws {
        let paddedBase64 = try Self.paddedBase64()
        var generator = SeededGenerator(seed: 0xBA5E_64_D1FF)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let extra: [Character] = ["=", "=", "=", " ", "-", "_", "\n", "*", "é", "."]
        var agreed = 0, foundationLenient = 0, wellFormed = 0
        for i in 0..<20_000 {
            var text: String
            if i % 2 == 0 {
                let bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                var characters = Array(Data(bytes).base64EncodedString())
                if !characters.isEmpty && Bool.random(using: &generator) {
                    let at = Int.random(in: 0..<characters.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: characters.remove(at: at)
                    case 1: characters.insert((alphabet + extra).randomElement(using: &generator)!, at: at)
                    default: characters[at] = (alphabet + extra).randomElement(using: &generator)!
                    }
                }
                text = String(characters)
            } else {
                let length = Int.random(in: 0...4, using: &generator) * 4 + Int.random(in: -1...1, using: &generator)
                text = String((0..<max(0, length)).map { _ in
                    Int.random(in: 0..<10, using: &generator) == 0 ? extra.randomElement(using: &generator)! : alphabet.randomElement(using: &generator)!
                })
            }
            let ours = Base64.decode(text)
            let theirs = Data(base64Encoded: text).map { Array($0) }
            if (try? paddedBase64.wholeMatch(in: text)) != nil {
                wellFormed += 1
                #expect(theirs != nil, "Foundation refused well-formed \(text.debugDescription)")
                #expect(ours == theirs, "\(text.debugDescription)")
            } else {
                #expect(ours == nil, "\(text.debugDescription)")
                if theirs != nil {
                    foundationLenient += 1
                    #expect(text.contains("="), "Foundation accepted \(text.debugDescription) for another reason than a misplaced '='")
                }
            }
            if ours == theirs { agreed += 1 }
        }
        #expect(wellFormed > 5_000 && agreed > 10_000 && foundationLenient > 0, "\(wellFormed) \(agreed) \(foundationLenient)")
    }
}
