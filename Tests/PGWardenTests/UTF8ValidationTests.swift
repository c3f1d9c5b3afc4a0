import Testing
import TestSupport
@testable import PGWarden

/// UTF8Validation: the same verdict as the standard library's `String(validating:as:)`, and the
/// offset of the first bad byte.
@Suite("UTF8Validation")
struct UTF8ValidationTests {
    static func firstInvalid(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBufferPointer { UTF8Validation.firstInvalidOffset(in: $0) }
    }

    @Test(arguments: [
        ([], nil),
        (Array("plain ASCII \u{0}\u{7F}".utf8), nil),
        (Array("é データ 🐘 \u{10FFFF} \u{FFFF} \u{D7FF} \u{E000}".utf8), nil),
        ([0x80], 0),  // a continuation byte alone
        ([0x61, 0xBF], 1),
        ([0xC0, 0x80], 0),  // overlong NUL
        ([0xC1, 0xBF], 0),  // overlong
        ([0xC2], 0),  // truncated
        ([0xC2, 0x41], 0),
        ([0xE0, 0x9F, 0xBF], 0),  // overlong three bytes
        ([0xE0, 0xA0, 0x80], nil),  // U+0800
        ([0xED, 0x9F, 0xBF], nil),  // U+D7FF
        ([0xED, 0xA0, 0x80], 0),  // U+D800, a surrogate
        ([0xED, 0xBF, 0xBF], 0),  // U+DFFF
        ([0xEF, 0xBF, 0xBF], nil),  // U+FFFF
        ([0xE2, 0x82], 0),  // truncated
        ([0x61, 0x62, 0xE2, 0x82, 0x61], 2),
        ([0xF0, 0x8F, 0xBF, 0xBF], 0),  // overlong four bytes
        ([0xF0, 0x90, 0x80, 0x80], nil),  // U+10000
        ([0xF4, 0x8F, 0xBF, 0xBF], nil),  // U+10FFFF
        ([0xF4, 0x90, 0x80, 0x80], 0),  // above U+10FFFF
        ([0xF5, 0x80, 0x80, 0x80], 0),
        ([0xFE], 0), ([0xFF], 0),
        ([0xF0, 0x9F, 0x90], 0),  // truncated
        ([0x7B, 0xFF, 0xFE, 0x7D], 1),
    ] as [([UInt8], Int?)])
    func table(bytes: [UInt8], expected: Int?) {
        #expect(Self.firstInvalid(bytes) == expected)
    }

    /// Random byte strings, mostly made of pieces of real UTF-8 (so that both verdicts occur):
    /// valid exactly when the standard library says so, and the bytes before the reported offset
    /// are valid on their own while the sequence at it is not.
    @Test func sameVerdictAsTheStandardLibrary() {
        var generator = SeededGenerator(seed: 0x07F8)
        let pieces: [[UInt8]] = ["a", "é", "€", "🐘", "\u{10FFFF}", "\u{D7FF}", "\u{E000}"].map { Array($0.utf8) }
            + [[0x80], [0xBF], [0xC0], [0xC1], [0xC2], [0xE0], [0xED], [0xEF], [0xF0], [0xF4], [0xF5], [0xFF], [0xA0], [0x90], [0x8F]]
        var valid = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                bytes += pieces.randomElement(using: &generator)!
            }
            let offset = Self.firstInvalid(bytes)
            let standard = String(validating: bytes, as: UTF8.self) != nil
            #expect((offset == nil) == standard, "\(bytes)")
            if let offset {
                #expect(String(validating: bytes[..<offset], as: UTF8.self) != nil, "\(bytes) at \(offset)")
                // No well-formed character starts at the offset.
                #expect((1...4).allSatisfy { String(validating: bytes[offset...].prefix($0), as: UTF8.self) == nil }, "\(bytes) at \(offset)")
            } else {
                valid += 1
            }
        }
        #expect(valid > 2_000 && valid < 18_000, "\(valid) valid")
    }
}
