/// One value of a JSON text as `JSONReader` reads it.
enum JSONValue: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as its literal text (already checked against the JSON number grammar); see
    /// `exactInteger(_:)` for its value as an `Int`.
    case number(String)
    /// A string, with its escapes decoded.
    case string(String)
    /// The items of an array, in order.
    case array([JSONValue])
    /// The members of an object, in the order they were written (keys are unique).
    case object([JSONMember])

    /// The integer a JSON number literal denotes, when that value is a whole number that fits in
    /// an `Int`: `4`, `4.0`, `4e0`, `400e-2` and `-0` are integers; `4.5`, `1e-400` and
    /// `9223372036854775808` are not. Exact: the decimal value is checked, never rounded through
    /// a `Double` first. Nil too for anything that is not a JSON number literal (`01`, `1.`).
    static func exactInteger(_ literal: String) -> Int? {
        var literal = literal
        return literal.withUTF8 { exactInteger(bytes: $0) }
    }

    /// `exactInteger(_:)` over the literal's UTF-8 bytes.
    private static func exactInteger(bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0
        /// Moves past `0-9`; the number of digits.
        func skipDigits() -> Int {
            let start = i
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
            return i - start
        }
        // The grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
        let negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        let integerPart = i..<i + skipDigits()
        guard !integerPart.isEmpty, integerPart.count == 1 || bytes[integerPart.lowerBound] != UInt8(ascii: "0") else { return nil }
        var fractionPart = i..<i
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            i += 1
            fractionPart = i..<i + skipDigits()
            guard !fractionPart.isEmpty else { return nil }
        }
        // The exponent, saturated far beyond any number of digits a text can hold.
        var exponent = 0
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            let negativeExponent = i < bytes.count && bytes[i] == UInt8(ascii: "-")
            if i < bytes.count && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) { i += 1 }
            let exponentDigits = i..<i + skipDigits()
            guard !exponentDigits.isEmpty else { return nil }
            for index in exponentDigits {
                exponent = min(exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0")), 1 << 50)
            }
            if negativeExponent { exponent = -exponent }
        }
        guard i == bytes.count else { return nil }
        // The significant digits (integer and fraction parts together) without leading zeros:
        // the value is digits × 10^scale.
        var digits: [UInt8] = []
        for part in [integerPart, fractionPart] {
            for index in part where !digits.isEmpty || bytes[index] != UInt8(ascii: "0") {
                digits.append(bytes[index] &- UInt8(ascii: "0"))
            }
        }
        if digits.isEmpty { return 0 }
        let scale = exponent - fractionPart.count
        if scale < 0 {
            // The digits a negative scale cuts off must all be zeros.
            guard -scale < digits.count, digits.suffix(-scale).allSatisfy({ $0 == 0 }) else { return nil }
            digits.removeLast(-scale)
        } else {
            guard digits.count + scale <= 19 else { return nil }  // Int.max has 19 digits
            digits.append(contentsOf: repeatElement(0, count: scale))
        }
        guard digits.count <= 19 else { return nil }
        var magnitude: UInt64 = 0
        for digit in digits {
            magnitude = magnitude * 10 + UInt64(digit)  // at most 19 digits: no overflow
        }
        if negative {
            guard magnitude <= UInt64(Int.max) + 1 else { return nil }
            return magnitude == UInt64(Int.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int.max) else { return nil }
        return Int(magnitude)
    }

    /// `0-9`.
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}

/// One member of a JSON object: a key and its value.
struct JSONMember: Equatable, Sendable {
    /// The key, with its escapes decoded.
    var key: String
    /// The value.
    var value: JSONValue
}
