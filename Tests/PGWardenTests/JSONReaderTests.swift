import Foundation
import Testing
import TestSupport
@testable import PGWarden

/// JSONReader: strict RFC 8259, with the byte offset of every problem.
@Suite("JSONReader")
struct JSONReaderTests {
    static func read(_ text: String) throws(JSONReadError) -> JSONValue {
        try JSONReader.read(Array(text.utf8))
    }

    /// The error for `bytes`; nil when they read.
    static func error(_ bytes: [UInt8]) -> JSONReadError? {
        do {
            _ = try JSONReader.read(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func message(_ text: String) -> String? { error(Array(text.utf8))?.description }

    static func object(_ members: (String, JSONValue)...) -> JSONValue {
        .object(members.map { JSONMember(key: $0.0, value: $0.1) })
    }

    // MARK: - Valid texts

    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .number("0")),
        ("-12.5e+3", .number("-12.5e+3")),
        (#""""#, .string("")),
        (#""text""#, .string("text")),
        ("[]", .array([])),
        ("{}", .object([])),
        (" \t\r\n[ 1 , \"a\" , null ]\n", .array([.number("1"), .string("a"), .null])),
        (#"[[],[[]],{}]"#, .array([.array([]), .array([.array([])]), .object([])])),
    ])
    func validTexts(text: String, expected: JSONValue) throws {
        #expect(try Self.read(text) == expected)
    }

    @Test func objectsKeepTheirOrderAndNestedValues() throws {
        let value = try Self.read(#"{"b":1,"a":{"x":[true,false,null]},"c":"d"}"#)
        #expect(value == Self.object(
            ("b", .number("1")),
            ("a", Self.object(("x", .array([.bool(true), .bool(false), .null])))),
            ("c", .string("d"))))
    }

    @Test func byteOrderMarkBeforeTheValueIsIgnored() throws {
        #expect(try JSONReader.read([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([.number("1")]))
        #expect(Self.error([0x20, 0xEF, 0xBB, 0xBF] + Array("[1]".utf8))?.description
            == "unexpected '\u{FEFF}' at byte 1; expected a value")
        #expect(Self.error(Array("[1,".utf8) + [0xEF, 0xBB, 0xBF] + Array("2]".utf8))?.offset == 3)
    }

    @Test func readsAnUnsafeBufferPointer() throws {
        let bytes = Array(#"xx{"k":"v"}yy"#.utf8)
        let value = try bytes.withUnsafeBufferPointer { buffer throws(JSONReadError) in
            try JSONReader.read(UnsafeBufferPointer(rebasing: buffer[2..<11]))
        }
        #expect(value == Self.object(("k", .string("v"))))
    }

    // MARK: - Strings and escapes

    @Test(arguments: [
        (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
        (#""\u0041\u00e9\u00E9\u20ac""#, "Aéé€"),
        (#""\u0000""#, "\u{0}"),
        (#""\u001f\u007f\u0080""#, "\u{1F}\u{7F}\u{80}"),
        (#""\ud83d\ude00""#, "😀"),
        (#""\uD83D\uDE00\uDBFF\uDFFF""#, "😀\u{10FFFF}"),
        (#""\ud800\udc00""#, "\u{10000}"),
        (#""a\u0301""#, "a\u{301}"),
        (#""raw é データ 🐘 and \u00e9""#, "raw é データ 🐘 and é"),
        ("\"\u{7F}\"", "\u{7F}"),
        (#""\uFFFF\uFFFE""#, "\u{FFFF}\u{FFFE}"),
        (#""ends with an escape\\""#, "ends with an escape\\"),
    ])
    func escapes(text: String, expected: String) throws {
        let value = try Self.read(text)
        guard case .string(let decoded) = value else {
            Issue.record("not a string: \(value)")
            return
        }
        #expect(Array(decoded.unicodeScalars) == Array(expected.unicodeScalars))
    }

    @Test(arguments: [
        (#""\ud800""#, #"unpaired surrogate \uD800 at byte 1 (a high surrogate must be followed by a \u escape of a low one)"#),
        (#""\ud800x""#, #"unpaired surrogate \uD800 at byte 1 (a high surrogate must be followed by a \u escape of a low one)"#),
        (#""ab\udbff\n""#, #"unpaired surrogate \uDBFF at byte 3 (a high surrogate must be followed by a \u escape of a low one)"#),
        (#""\ud800\u0041""#, #"unpaired surrogate \uD800 at byte 1 (followed by \u0041 at byte 7, not a low surrogate)"#),
        (#""\ud800\ud800""#, #"unpaired surrogate \uD800 at byte 1 (followed by \uD800 at byte 7, not a low surrogate)"#),
        (#""\udc00""#, #"unpaired surrogate \uDC00 at byte 1 (a low surrogate without a high one before it)"#),
        (#""\ude00\ud83d""#, #"unpaired surrogate \uDE00 at byte 1 (a low surrogate without a high one before it)"#),
        (#"["\ud83d\ude00", "x\udfff"]"#, #"unpaired surrogate \uDFFF at byte 19 (a low surrogate without a high one before it)"#),
    ])
    func unpairedSurrogatesAreRefused(text: String, expected: String) {
        #expect(Self.message(text) == expected)
    }

    @Test(arguments: [
        (#""\x""#, #"invalid escape at byte 1: '\' followed by 'x' (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        (#""\U0041""#, #"invalid escape at byte 1: '\' followed by 'U' (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        (#""ab\'""#, #"invalid escape at byte 3: '\' followed by ''' (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        ("\"\\ \"", #"invalid escape at byte 1: '\' followed by space (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        ("\"\\é\"", #"invalid escape at byte 1: '\' followed by 'é' (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        (#""\u00G1""#, "unexpected 'G' at byte 5; expected a hex digit of a \\u escape"),
        (#""\u12""#, "unexpected '\"' at byte 5; expected a hex digit of a \\u escape"),
        (#""\u"#, "unexpected end at byte 3; expected a hex digit of a \\u escape"),
        (#""\"#, "unexpected end at byte 2; expected an escape after '\\'"),
        (#""abc"#, "the string that starts at byte 0 does not end (no closing '\"')"),
        (#"{"a":"b}"#, "the string that starts at byte 5 does not end (no closing '\"')"),
    ])
    func invalidEscapesAndUnclosedStrings(text: String, expected: String) {
        #expect(Self.message(text) == expected)
    }

    @Test func everyRawControlCharacterInAStringIsRefused() {
        for code in UInt8(0)..<0x20 {
            let bytes = Array(#"["ok","a"#.utf8) + [code] + Array(#"b"]"#.utf8)
            let error = Self.error(bytes)
            #expect(error?.offset == 8, "U+\(String(code, radix: 16))")
            #expect(error?.description.hasPrefix("unescaped ") == true, "\(error?.description ?? "read")")
            #expect(error?.description.hasSuffix("in a string at byte 8 (write it as \\u00\(String(format: "%02X", code)))") == true,
                    "\(error?.description ?? "read")")
        }
        #expect(Self.message("\"a\tb\"") == "unescaped tab in a string at byte 2 (write it as \\u0009)")
        #expect(Self.message("\"a\nb\"") == "unescaped line feed in a string at byte 2 (write it as \\u000A)")
        #expect(Self.message("\"\u{1B}[0m\"") == "unescaped control character U+001B in a string at byte 1 (write it as \\u001B)")
    }

    @Test func invalidUTF8IsRefused() {
        let error = Self.error(Array(#"["ab"#.utf8) + [0xC3, 0x28] + Array(#""]"#.utf8))
        #expect(error?.description == "invalid UTF-8 at byte 4")
        #expect(Self.error([0x22, 0xED, 0xA0, 0x80, 0x22])?.description == "invalid UTF-8 at byte 1")  // a surrogate
        #expect(Self.error([0x22, 0xC0, 0xAF, 0x22])?.description == "invalid UTF-8 at byte 1")  // overlong
        #expect(Self.error([0x22, 0x61, 0x5C, 0x6E, 0xFF, 0x22])?.description == "invalid UTF-8 at byte 4")
        #expect(Self.error([0x22, 0xE2, 0x82, 0x22])?.description == "invalid UTF-8 at byte 1")  // truncated
        #expect(Self.error([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22])?.description == "invalid UTF-8 at byte 1")  // above U+10FFFF
        #expect(Self.error([0x5B, 0xFF, 0x5D])?.description == "unexpected byte 0xFF at byte 1; expected a value")
        #expect(Self.error([0x5B, 0xC3, 0xA9, 0x5D])?.description == "unexpected 'é' at byte 1; expected a value")
    }

    // MARK: - Numbers

    @Test(arguments: ["0", "-0", "1", "-1", "10", "1234567890", "0.5", "-0.0", "1.25", "1e5", "1E5", "1e+5", "1e-5",
                      "1.5e10", "-0e0", "0E-0", "123.456e-789", "99999999999999999999999999"])
    func validNumbers(literal: String) throws {
        #expect(try Self.read(literal) == .number(literal))
        #expect(try Self.read("[\(literal)]") == .array([.number(literal)]))
        #expect(try Self.read(#"{"n":\#(literal)}"#) == Self.object(("n", .number(literal))))
    }

    @Test(arguments: [
        ("01", "a number with a leading zero at byte 1"),
        ("-01", "a number with a leading zero at byte 1"),
        ("00", "a number with a leading zero at byte 1"),
        ("1.", "unexpected ']' at byte 3; expected a digit after '.'"),
        ("1.e5", "unexpected 'e' at byte 3; expected a digit after '.'"),
        (".5", "unexpected '.' at byte 1; expected a value"),
        ("+1", "unexpected '+' at byte 1; expected a value"),
        ("-", "unexpected ']' at byte 2; expected a digit after '-'"),
        ("- 1", "unexpected space at byte 2; expected a digit after '-'"),
        ("-a", "unexpected 'a' at byte 2; expected a digit after '-'"),
        ("1e", "unexpected ']' at byte 3; expected a digit in the exponent"),
        ("1e+", "unexpected ']' at byte 4; expected a digit in the exponent"),
        ("1E-x", "unexpected 'x' at byte 4; expected a digit in the exponent"),
        ("0x1F", "unexpected 'x' at byte 2; expected ',' or ']'"),
        ("1.5.2", "unexpected '.' at byte 4; expected ',' or ']'"),
        ("NaN", "unexpected 'N' at byte 1; expected a value"),
        ("Infinity", "unexpected 'I' at byte 1; expected a value"),
        ("-Infinity", "unexpected 'I' at byte 2; expected a digit after '-'"),
        ("1 2", "unexpected '2' at byte 3; expected ',' or ']'"),
    ])
    func invalidNumbers(literal: String, expected: String) {
        #expect(Self.message("[\(literal)]") == expected)
    }

    @Test func numberAtTheEndOfTheText() {
        #expect(Self.message("-") == "unexpected end at byte 1; expected a digit after '-'")
        #expect(Self.message("1.") == "unexpected end at byte 2; expected a digit after '.'")
        #expect(Self.message("2e") == "unexpected end at byte 2; expected a digit in the exponent")
        #expect(throws: Never.self) { try Self.read("12") }
    }

    @Test(arguments: [
        ("0", 0), ("-0", 0), ("-0.0", 0), ("7", 7), ("-3", -3), ("1.0", 1), ("1.000", 1), ("1e2", 100), ("1E+2", 100),
        ("100e-2", 1), ("0.1e1", 1), ("12.5e1", 125), ("0e5", 0), ("0e-400", 0), ("0.000e99999999999999999999", 0),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ("9.223372036854775807e18", Int.max), ("-922337203685477580.8e1", Int.min),
        ("00000", nil), ("1.5", nil), ("0.5", nil), ("1e-1", nil), ("1e-400", nil), ("1.0000000000000000001", nil),
        ("9223372036854775808", nil), ("-9223372036854775809", nil), ("1e19", nil), ("1e400", nil),
        ("12345678901234567890e-10", nil), ("99999999999999999999999999", nil), ("", nil), ("-", nil), ("1e", nil),
        ("abc", nil), ("1x", nil), ("01", nil), ("-01", nil), ("1.", nil), (".5", nil), ("+1", nil), ("1e+", nil), (" 1", nil),
    ] as [(String, Int?)])
    func exactInteger(literal: String, expected: Int?) {
        #expect(JSONValue.exactInteger(literal) == expected)
    }

    // MARK: - Structure

    @Test(arguments: [
        ("", "unexpected end at byte 0; expected a value"),
        ("   ", "unexpected end at byte 3; expected a value"),
        ("{", "unexpected end at byte 1; expected a string key"),
        (#"{"a""#, "unexpected end at byte 4; expected ':' after the key"),
        (#"{"a":"#, "unexpected end at byte 5; expected a value"),
        (#"{"a":1"#, "unexpected end at byte 6; expected ',' or '}'"),
        (#"{"a":1,"#, "unexpected end at byte 7; expected a string key"),
        ("[", "unexpected end at byte 1; expected a value"),
        ("[1", "unexpected end at byte 2; expected ',' or ']'"),
        ("{}}", "unexpected '}' at byte 2; expected nothing more after the value"),
        ("{} x", "unexpected 'x' at byte 3; expected nothing more after the value"),
        ("{}{}", "unexpected '{' at byte 2; expected nothing more after the value"),
        ("1 2", "unexpected '2' at byte 2; expected nothing more after the value"),
        ("[1]\u{0B}", "unexpected control character U+000B at byte 3; expected nothing more after the value"),
        ("[1]\u{0C}", "unexpected control character U+000C at byte 3; expected nothing more after the value"),
        ("\u{A0}[1]", "unexpected '\u{A0}' at byte 0; expected a value"),
        (#"{"a" 1}"#, "unexpected '1' at byte 5; expected ':' after the key"),
        (#"{"a"=1}"#, "unexpected '=' at byte 4; expected ':' after the key"),
        (#"{"a":1 "b":2}"#, "unexpected '\"' at byte 7; expected ',' or '}'"),
        (#"{"a":1]"#, "unexpected ']' at byte 6; expected ',' or '}'"),
        (#"[1}"#, "unexpected '}' at byte 2; expected ',' or ']'"),
        (#"{a:1}"#, "unexpected 'a' at byte 1; expected a string key"),
        (#"{'a':1}"#, "unexpected ''' at byte 1; expected a string key"),
        (#"{1:1}"#, "unexpected '1' at byte 1; expected a string key"),
        (#"{,}"#, "unexpected ',' at byte 1; expected a string key"),
        (#"[,1]"#, "unexpected ',' at byte 1; expected a value"),
        (#"[1,,2]"#, "unexpected ',' at byte 3; expected a value"),
        (#"{"a":1,}"#, "a comma before '}' at byte 7 (JSON allows no trailing comma)"),
        (#"{"a":{"b":2 , } }"#, "a comma before '}' at byte 14 (JSON allows no trailing comma)"),
        (#"[1,]"#, "a comma before ']' at byte 3 (JSON allows no trailing comma)"),
        ("[[1,\n]]", "a comma before ']' at byte 5 (JSON allows no trailing comma)"),
        ("tru", "unexpected end at byte 3; expected 'true'"),
        (#"{"x": tru}"#, "unexpected '}' at byte 9; expected 'true'"),
        ("[True]", "unexpected 'T' at byte 1; expected a value"),
        ("[nul]", "unexpected ']' at byte 4; expected 'null'"),
        ("[fals e]", "unexpected space at byte 5; expected 'false'"),
        ("[truex]", "unexpected 'x' at byte 5; expected ',' or ']'"),
        ("// comment\n{}", "unexpected '/' at byte 0; expected a value"),
        ("{\"a\":1}\n\0", "unexpected control character U+0000 at byte 8; expected nothing more after the value"),
    ])
    func syntaxErrorsSayWhatAndWhere(text: String, expected: String) {
        #expect(Self.message(text) == expected)
    }

    /// The offset names the byte the description shows, counted from 0, also after multi-byte
    /// characters.
    @Test func offsetsCountBytes() {
        let text = #"{"é":"データ","x":}"#
        let error = Self.error(Array(text.utf8))
        #expect(error?.offset == 22)
        #expect(Array(text.utf8).last == UInt8(ascii: "}") && text.utf8.count == 23)
        #expect(error?.description == "unexpected '}' at byte 22; expected a value")
        #expect(Self.message(#"["🐘"é]"#) == "unexpected 'é' at byte 7; expected ',' or ']'")
    }

    // MARK: - Depth

    static func nested(_ depth: Int, open: String = "[", close: String = "]") -> String {
        String(repeating: open, count: depth) + String(repeating: close, count: depth)
    }

    @Test func nestingUpToTheLimitReads() throws {
        #expect(JSONReader.maxDepth == 64)
        _ = try Self.read(Self.nested(64))
        _ = try Self.read(String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 64))
        _ = try Self.read(String(repeating: #"[{"a":"#, count: 32) + "1" + String(repeating: "}]", count: 32))
    }

    @Test(arguments: [65, 66, 513, 100_000])
    func nestingBeyondTheLimitIsRefused(depth: Int) {
        #expect(Self.message(Self.nested(depth)) == "more than 64 nested arrays and objects at byte 64")
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(Self.message(objects) == "more than 64 nested arrays and objects at byte 320")
    }

    @Test func depthCountsOnlyOpenContainers() throws {
        // 64 deep, closed, many times over: never more than 64 open at once.
        let text = "[" + Array(repeating: Self.nested(63), count: 100).joined(separator: ",") + "]"
        _ = try Self.read(text)
    }

    // MARK: - Duplicate keys

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "a", 7, "the top-level object"),
        (#"{"a":1,"b":2,"a":1}"#, "a", 13, "the top-level object"),
        (#"{"x":{"k":"1","k":"1"}}"#, "k", 14, "x"),
        (#"{"alerts":[{},{"labels":{"alertname":"A","pid":"1","alertname":"B"}}]}"#, "alertname", 51, "alerts[1].labels"),
        (#"[{"a":[0,{"b":{"c":1,"c":2}}]}]"#, "c", 21, "[0].a[1].b"),
        (#"{"é":1,"e\u0301":2}"#, "e\u{301}", 8, "the top-level object"),
        (#"{"\u0041":1,"A":2}"#, "A", 12, "the top-level object"),
        (#"{"":1,"":2}"#, "", 6, "the top-level object"),
    ] as [(String, String, Int, String)])
    func duplicateKeysAreRefused(text: String, key: String, offset: Int, path: String) throws {
        let error = try #require(Self.error(Array(text.utf8)))
        #expect(error.duplicateKey.map { Array($0.unicodeScalars) } == Array(key.unicodeScalars))
        #expect(error.offset == offset)
        #expect(error.pathText(root: "the top-level object") == path)
        #expect(error.description == "\(path) has the key \(JSONText.quote(key)) twice (again at byte \(offset))")
    }

    /// Large objects check with a set: a duplicate is found wherever it is.
    @Test(arguments: [15, 16, 17, 40, 1000])
    func duplicateKeyInALargeObject(size: Int) throws {
        let members = (0..<size).map { #""k\#($0)":\#($0)"# }
        let unique = "{" + members.joined(separator: ",") + "}"
        guard case .object(let read) = try Self.read(unique) else {
            Issue.record("not an object")
            return
        }
        #expect(read.map(\.key) == (0..<size).map { "k\($0)" })
        for duplicate in [0, size / 2, size - 1] {
            let text = "{" + members.joined(separator: ",") + #","k\#(duplicate)":0}"#
            let error = Self.error(Array(text.utf8))
            #expect(error?.duplicateKey == "k\(duplicate)", "size \(size), duplicate k\(duplicate)")
            #expect(error?.offset == unique.utf8.count)
        }
    }

    @Test func sameKeyInDifferentObjectsIsFine() throws {
        let value = try Self.read(#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["a", "b"])
    }

    // MARK: - Round trips

    /// Strings written by pgwarden's own JSON writer and by Foundation's JSONEncoder (which
    /// escapes differently, `\/` for one) read back as the original.
    @Test func stringsRoundTrip() throws {
        var generator = SeededGenerator(seed: 0x5EED_0001)
        let alphabet: [String] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{0}", "\u{1F}", "\u{7F}", "é", "e\u{301}",
                                  "データ", "🐘", "\u{2028}", "\u{FFFF}", "\u{10FFFF}", "{", "}", "[", ":", ","]
        for _ in 0..<500 {
            let length = Int.random(in: 0...12, using: &generator)
            let text = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }.joined()
            let ours = try Self.read(JSONText.quote(text))
            #expect(ours == .string(text))
            let theirs = try Self.read(String(decoding: try JSONEncoder().encode([text]), as: UTF8.self))
            #expect(theirs == .array([.string(text)]))
            if case .string(let read) = ours {
                #expect(Array(read.unicodeScalars) == Array(text.unicodeScalars))
            }
        }
    }
}
