/// One value of a parsed YAML document (see `YAMLReader`): a scalar, a mapping or a sequence,
/// with the position where it starts.
struct YAMLNode: Equatable, Sendable {
    /// What the node holds.
    enum Content: Equatable, Sendable {
        /// A single value.
        case scalar(YAMLScalar)
        /// Key/value pairs in the order they were written (keys are unique).
        case mapping([YAMLPair])
        /// Items in order.
        case sequence([YAMLNode])
    }

    /// What the node holds.
    var content: Content
    /// 1-based line where the node starts (for an alias: where the alias is written).
    var line: Int
    /// 1-based column (in characters) where the node starts.
    var column: Int

    /// The scalar, if this node is one.
    var scalar: YAMLScalar? {
        if case let .scalar(scalar) = content { return scalar }
        return nil
    }

    /// The pairs, if this node is a mapping.
    var pairs: [YAMLPair]? {
        if case let .mapping(pairs) = content { return pairs }
        return nil
    }

    /// The items, if this node is a sequence.
    var items: [YAMLNode]? {
        if case let .sequence(items) = content { return items }
        return nil
    }

    /// True for a null scalar (`~`, `null`, or nothing written).
    var isNull: Bool { scalar?.kind == .null }

    /// The value of the first key whose text is `key`, if this node is a mapping holding it.
    subscript(key: String) -> YAMLNode? {
        pairs?.first { $0.key.scalar?.text == key }?.value
    }
}

/// One entry of a mapping.
struct YAMLPair: Equatable, Sendable {
    /// The key (always a scalar).
    var key: YAMLNode
    /// The value.
    var value: YAMLNode
}

/// A scalar: its text, how it was written, and what the YAML 1.2 core schema makes of it.
struct YAMLScalar: Equatable, Sendable {
    /// How the scalar was written.
    enum Style: Equatable, Sendable {
        /// Unquoted.
        case plain
        /// In single quotes.
        case singleQuoted
        /// In double quotes.
        case doubleQuoted
        /// A literal block (`|`).
        case literal
        /// A folded block (`>`).
        case folded
    }

    /// The type the core schema resolves a scalar to; quoted and block scalars are always `.string`.
    enum Kind: Equatable, Sendable {
        /// `~`, `null`, `Null`, `NULL`, or nothing.
        case null
        /// `true`/`false` (also `True`, `TRUE`, `False`, `FALSE`).
        case bool
        /// `12`, `-3`, `+4`, `0o17`, `0x1F`.
        case int
        /// `1.5`, `-.5`, `1e3`, `.inf`, `-.Inf`, `.nan`.
        case float
        /// Anything else.
        case string
    }

    /// The value after unquoting, unescaping and line folding.
    var text: String
    /// How it was written.
    var style: Style
    /// Its resolved type.
    var kind: Kind
    /// True when it was written over several lines (folded into one value).
    var spansLines: Bool

    /// A scalar whose kind is resolved from `text` and `style`.
    init(_ text: String, style: Style = .plain, spansLines: Bool = false) {
        self.text = text
        self.style = style
        self.kind = style == .plain ? Self.resolve(text) : .string
        self.spansLines = spansLines
    }

    /// The core-schema type of a plain scalar's text.
    static func resolve(_ text: String) -> Kind {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .bool
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            return .float
        default: break
        }
        let bytes = Array(text.utf8)
        if isInt(bytes) { return .int }
        if isFloat(bytes) { return .float }
        return .string
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
    private static func isInt(_ bytes: [UInt8]) -> Bool {
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let digits = bytes[2...]
            switch bytes[1] {
            case UInt8(ascii: "o"): return digits.allSatisfy { (0x30...0x37).contains($0) }
            case UInt8(ascii: "x"): return digits.allSatisfy { isHexDigit($0) }
            default: break
            }
        }
        let digits = bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") ? bytes.dropFirst() : bytes[...]
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        let whole = rest.prefix(while: isDigit)
        rest = rest.dropFirst(whole.count)
        var fraction = 0
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            fraction = rest.prefix(while: isDigit).count
            rest = rest.dropFirst(fraction)
        }
        guard whole.count + fraction > 0 else { return false }
        if rest.first == UInt8(ascii: "e") || rest.first == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
            let exponent = rest.prefix(while: isDigit).count
            guard exponent > 0 else { return false }
            rest = rest.dropFirst(exponent)
        }
        return rest.isEmpty
    }

    /// `0-9`.
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    /// `0-9`, `a-f`, `A-F`.
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
}

/// YAML that cannot be read: where, and what is wrong in plain words.
struct YAMLError: Error, Equatable, CustomStringConvertible {
    /// 1-based line of the problem.
    var line: Int
    /// 1-based column (in characters) of the problem.
    var column: Int
    /// What is wrong and what to write instead.
    var message: String
    /// For a key written twice in one mapping: the key (then `line` is its first occurrence).
    var duplicateKey: String?

    /// `line 3, column 5: message`.
    var description: String { "line \(line), column \(column): \(message)" }
}
