/// A strict JSON reader (RFC 8259) for request bodies, producing a `JSONValue` tree.
///
/// Accepted: exactly one value of any type with whitespace (space, tab, LF, CR) around it;
/// objects, arrays, strings, numbers, `true`, `false`, `null`; every string escape (`\" \\ \/
/// \b \f \n \r \t \uXXXX`), a `\uXXXX` high surrogate only when a low surrogate escape follows
/// it; a UTF-8 byte order mark before the value (RFC 8259 §8.1 allows ignoring it).
///
/// Refused, with the byte offset (from 0) and what was expected there: anything after the value,
/// trailing commas (`[1,]`, `{"a":1,}`), unescaped control characters (below U+0020) in strings,
/// unknown escapes, unpaired surrogate escapes, invalid UTF-8, numbers outside the
/// grammar (`01`, `1.`, `.5`, `+1`, `-`, `1e`, `NaN`), nesting deeper than `maxDepth` arrays and
/// objects, and a key written twice in one object (`duplicateKey`; keys are compared as Swift
/// strings, so canonically equivalent spellings such as `é` and `e\u0301` are the same key).
///
/// Numbers keep their literal text; `JSONValue.exactInteger(_:)` interprets them.
struct JSONReader {
    /// Deepest nesting of arrays and objects accepted. A webhook notification nests four deep
    /// (body, alerts, alert, labels); 64 leaves room for any unknown field while keeping the
    /// recursion far from the stack's end.
    static let maxDepth = 64

    /// Objects with more members than this check for duplicate keys with a set instead of
    /// comparing each new key with the ones before it.
    private static let linearKeyCheckLimit = 16

    /// The text.
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Current byte offset.
    private var pos: Int
    /// Arrays and objects open around the current position.
    private var depth = 0

    /// Reads `bytes` as one JSON value.
    static func read(_ bytes: [UInt8]) throws(JSONReadError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONReadError) in try read(buffer) }
    }

    /// Reads `buffer` as one JSON value.
    static func read(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONReadError) -> JSONValue {
        let byteOrderMark = buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF
        var reader = JSONReader(bytes: buffer, pos: byteOrderMark ? 3 : 0)
        reader.skipWhitespace()
        let value = try reader.readValue()
        reader.skipWhitespace()
        guard reader.pos == buffer.count else { throw reader.unexpected(expected: "nothing more after the value") }
        return value
    }

    /// A reader of `bytes` starting at `pos`.
    private init(bytes: UnsafeBufferPointer<UInt8>, pos: Int) {
        self.bytes = bytes
        self.pos = pos
    }

    // MARK: - Values

    /// The value starting at `pos`, which must not be whitespace.
    private mutating func readValue() throws(JSONReadError) -> JSONValue {
        guard pos < bytes.count else { throw unexpected(expected: "a value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try readObject()
        case UInt8(ascii: "["): return try readArray()
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try readLiteral(Self.trueLiteral); return .bool(true)
        case UInt8(ascii: "f"): try readLiteral(Self.falseLiteral); return .bool(false)
        case UInt8(ascii: "n"): try readLiteral(Self.nullLiteral); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw unexpected(expected: "a value")
        }
    }

    /// An object; `pos` is at its `{`.
    private mutating func readObject() throws(JSONReadError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object([])
        }
        var members: [JSONMember] = []
        var keys: Set<String> = []
        while true {
            guard pos < bytes.count && bytes[pos] == UInt8(ascii: "\"") else {
                if !members.isEmpty && pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
                    throw JSONReadError("a comma before '}' at byte \(pos) (JSON allows no trailing comma)", offset: pos)
                }
                throw unexpected(expected: "a string key")
            }
            let keyOffset = pos
            let key = try readString()
            try checkUnique(key, at: keyOffset, among: members, keys: &keys)
            skipWhitespace()
            guard pos < bytes.count && bytes[pos] == UInt8(ascii: ":") else { throw unexpected(expected: "':' after the key") }
            pos += 1
            skipWhitespace()
            let value: JSONValue
            do {
                value = try readValue()
            } catch {
                throw error.inside(.key(key))
            }
            members.append(JSONMember(key: key, value: value))
            skipWhitespace()
            guard pos < bytes.count else { throw unexpected(expected: "',' or '}'") }
            switch bytes[pos] {
            case UInt8(ascii: ","):
                pos += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                pos += 1
                return .object(members)
            default:
                throw unexpected(expected: "',' or '}'")
            }
        }
    }

    /// Throws when `key` is already among `members`: by comparison while the object is small,
    /// then with `keys`, filled with every key once the object outgrows the linear check.
    private func checkUnique(_ key: String, at offset: Int, among members: [JSONMember], keys: inout Set<String>) throws(JSONReadError) {
        if members.count < Self.linearKeyCheckLimit {
            for member in members where member.key == key {
                throw JSONReadError(duplicateKey: key, offset: offset)
            }
            return
        }
        if keys.isEmpty { keys = Set(members.lazy.map(\.key)) }
        guard keys.insert(key).inserted else { throw JSONReadError(duplicateKey: key, offset: offset) }
    }

    /// An array; `pos` is at its `[`.
    private mutating func readArray() throws(JSONReadError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array([])
        }
        var items: [JSONValue] = []
        while true {
            if !items.isEmpty && pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
                throw JSONReadError("a comma before ']' at byte \(pos) (JSON allows no trailing comma)", offset: pos)
            }
            do {
                items.append(try readValue())
            } catch {
                throw error.inside(.index(items.count))
            }
            skipWhitespace()
            guard pos < bytes.count else { throw unexpected(expected: "',' or ']'") }
            switch bytes[pos] {
            case UInt8(ascii: ","):
                pos += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                pos += 1
                return .array(items)
            default:
                throw unexpected(expected: "',' or ']'")
            }
        }
    }

    /// Enters an array or object at `pos`, refusing nesting deeper than `maxDepth`.
    private mutating func enter() throws(JSONReadError) {
        depth += 1
        if depth > Self.maxDepth {
            throw JSONReadError("more than \(Self.maxDepth) nested arrays and objects at byte \(pos)", offset: pos)
        }
    }

    /// The literal names' bytes.
    private static let trueLiteral = Array("true".utf8)
    private static let falseLiteral = Array("false".utf8)
    private static let nullLiteral = Array("null".utf8)

    /// `true`, `false` or `null`, whose first byte is at `pos`.
    private mutating func readLiteral(_ literal: [UInt8]) throws(JSONReadError) {
        for byte in literal {
            guard pos < bytes.count && bytes[pos] == byte else {
                throw unexpected(expected: "'\(String(decoding: literal, as: UTF8.self))'")
            }
            pos += 1
        }
    }

    /// A number's literal text: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
    private mutating func readNumber() throws(JSONReadError) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count && JSONValue.isDigit(bytes[pos]) else { throw unexpected(expected: "a digit after '-'") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count && JSONValue.isDigit(bytes[pos]) {
                throw JSONReadError("a number with a leading zero at byte \(start)", offset: start)
            }
        } else {
            skipDigits()
        }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count && JSONValue.isDigit(bytes[pos]) else { throw unexpected(expected: "a digit after '.'") }
            skipDigits()
        }
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+")) { pos += 1 }
            guard pos < bytes.count && JSONValue.isDigit(bytes[pos]) else { throw unexpected(expected: "a digit in the exponent") }
            skipDigits()
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    /// Moves past `0-9`.
    private mutating func skipDigits() {
        while pos < bytes.count && JSONValue.isDigit(bytes[pos]) { pos += 1 }
    }

    /// Moves past JSON whitespace: space, tab, LF, CR.
    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    // MARK: - Strings

    /// A string with its escapes decoded; `pos` is at its opening quote. Runs without escapes
    /// are taken whole; only a string with escapes is assembled byte by byte. Bytes above ASCII
    /// are checked to be UTF-8 on the way.
    private mutating func readString() throws(JSONReadError) -> String {
        let start = pos
        pos += 1
        var runStart = pos
        var unescaped: [UInt8] = []
        var hasEscapes = false
        while pos < bytes.count {
            let byte = bytes[pos]
            if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                pos += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<pos])
                pos += 1
                guard hasEscapes else { return String(decoding: run, as: UTF8.self) }
                unescaped.append(contentsOf: run)
                return String(decoding: unescaped, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                if !hasEscapes {
                    hasEscapes = true
                    unescaped.reserveCapacity(pos - start + 16)
                }
                unescaped.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<pos]))
                try readEscape(into: &unescaped)
                runStart = pos
                continue
            }
            if byte < 0x20 {
                throw JSONReadError("unescaped \(Self.describe(byte)) in a string at byte \(pos) (write it as \\u00\(Self.hex(byte, digits: 2)))", offset: pos)
            }
            guard let length = UTF8Validation.sequenceLength(at: pos, in: bytes) else {
                throw JSONReadError("invalid UTF-8 at byte \(pos)", offset: pos)
            }
            pos += length
        }
        throw JSONReadError("the string that starts at byte \(start) does not end (no closing '\"')", offset: bytes.count)
    }

    /// One escape, whose backslash is at `pos`, appended to `out` as UTF-8.
    private mutating func readEscape(into out: inout [UInt8]) throws(JSONReadError) {
        let escapeStart = pos
        pos += 1
        guard pos < bytes.count else { throw unexpected(expected: "an escape after '\\'") }
        let decoded: UInt8
        switch bytes[pos] {
        case UInt8(ascii: "\""): decoded = 0x22
        case UInt8(ascii: "\\"): decoded = 0x5C
        case UInt8(ascii: "/"): decoded = 0x2F
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = 0x0A
        case UInt8(ascii: "r"): decoded = 0x0D
        case UInt8(ascii: "t"): decoded = 0x09
        case UInt8(ascii: "u"):
            pos += 1
            try readUnicodeEscape(startingAt: escapeStart, into: &out)
            return
        default:
            throw JSONReadError("invalid escape at byte \(escapeStart): '\\' followed by \(shown(at: pos)) (JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", offset: escapeStart)
        }
        out.append(decoded)
        pos += 1
    }

    /// The rest of a `\uXXXX` escape (and of the low surrogate escape after a high one); `pos`
    /// is at the first hex digit, `escapeStart` at the backslash.
    private mutating func readUnicodeEscape(startingAt escapeStart: Int, into out: inout [UInt8]) throws(JSONReadError) {
        let unit = try readHexQuad()
        let scalar: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                throw JSONReadError("unpaired surrogate \\u\(Self.hex(unit, digits: 4)) at byte \(escapeStart) (a high surrogate must be followed by a \\u escape of a low one)", offset: escapeStart)
            }
            let lowStart = pos
            pos += 2
            let low = try readHexQuad()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONReadError("unpaired surrogate \\u\(Self.hex(unit, digits: 4)) at byte \(escapeStart) (followed by \\u\(Self.hex(low, digits: 4)) at byte \(lowStart), not a low surrogate)", offset: escapeStart)
            }
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        case 0xDC00...0xDFFF:
            throw JSONReadError("unpaired surrogate \\u\(Self.hex(unit, digits: 4)) at byte \(escapeStart) (a low surrogate without a high one before it)", offset: escapeStart)
        default:
            scalar = unit
        }
        Self.appendUTF8(scalar, to: &out)
    }

    /// Four hex digits at `pos`.
    private mutating func readHexQuad() throws(JSONReadError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count, let digit = Self.hexValue(bytes[pos]) else {
                throw unexpected(expected: "a hex digit of a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            pos += 1
        }
        return value
    }

    /// The value of a hex digit (`0-9`, `a-f`, `A-F`).
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Appends the UTF-8 encoding of `scalar` (a Unicode scalar value, not a surrogate).
    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: - Errors

    /// The byte at `pos` (or the end of the text) is not what may come next.
    private func unexpected(expected: String) -> JSONReadError {
        guard pos < bytes.count else {
            return JSONReadError("unexpected end at byte \(pos); expected \(expected)", offset: pos)
        }
        return JSONReadError("unexpected \(shown(at: pos)) at byte \(pos); expected \(expected)", offset: pos)
    }

    /// The character starting at `index` for a message: `'x'` when printable, else in words
    /// (`space`, `control character U+001B`, `byte 0xFF`).
    private func shown(at index: Int) -> String {
        let byte = bytes[index]
        if byte < 0x21 || byte == 0x7F { return Self.describe(byte) }
        return Self.printable(at: index, in: bytes).map { "'\($0)'" } ?? "byte 0x\(Self.hex(byte, digits: 2))"
    }
}
