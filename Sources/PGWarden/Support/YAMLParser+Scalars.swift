/// Plain and quoted scalars, anchors and aliases for `YAMLParser`.
extension YAMLParser {
    /// Where a line of a plain scalar ends.
    enum PlainStop {
        /// At a line break or the end.
        case lineEnd
        /// At a `:` that makes the text a key.
        case colon
        /// At a comment.
        case comment
        /// At `,`, `[`, `]`, `{` or `}` (flow context only).
        case flowIndicator
    }

    /// Refuses what cannot start a plain scalar, naming what to write instead.
    func checkPlainStart(flow: Bool) throws(YAMLError) {
        let next = peek(1)
        let spaceOrIndicator = isWhiteOrEnd(next) || (flow && isFlowIndicator(next))
        switch peek() {
        case UInt8(ascii: "\n"), 0, UInt8(ascii: "#"):
            throw fail("a value is missing here")
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            throw fail("block scalars (| and >) are not supported; write the text on one line, "
                       + "in double quotes with \\n for line breaks if it needs them")
        case UInt8(ascii: "!"):
            throw fail("tags (!name, !!type) are not supported; remove the tag (quote a value to make it text)")
        case UInt8(ascii: "%"):
            throw fail(pos == lineStart ? "directives (%YAML, %TAG) are not supported; remove the line"
                                        : "% cannot start an unquoted value; quote the value")
        case UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw fail("\(Character(Unicode.Scalar(peek()))) cannot start an unquoted value (it is reserved); quote the value")
        case UInt8(ascii: "&"):
            throw fail("a value can have only one anchor; remove one")
        case UInt8(ascii: "?") where spaceOrIndicator:
            throw fail("complex keys (`? key`) are not supported; write `key: value` with a plain key")
        case UInt8(ascii: ":") where spaceOrIndicator:
            throw fail("a key is missing before the colon")
        case UInt8(ascii: "-") where spaceOrIndicator:
            throw fail("a `- ` list item cannot appear here; inside [ ] or { } separate items with commas")
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            throw fail("unexpected \(Character(Unicode.Scalar(peek()))); quote the value if it is text")
        default:
            return
        }
    }

    /// A plain scalar, folding continuation lines indented more than `parentIndent` (in flow
    /// context also not starting with a flow indicator) unless `keyOnly`. `isKey` when the first
    /// line ends at a key's `:` (the position is then at the colon).
    mutating func parsePlain(parentIndent: Int, flow: Bool, keyOnly: Bool) throws(YAMLError) -> (node: YAMLNode, isKey: Bool) {
        let start = mark
        var text: [UInt8] = []
        var stop = scanPlainLine(into: &text, flow: flow)
        if stop == .colon {
            return (try scalarNode(String(decoding: text, as: UTF8.self), at: start), true)
        }
        while !keyOnly, stop == .lineEnd, let breaks = plainContinuation(parentIndent: parentIndent, flow: flow) {
            text.append(contentsOf: breaks == 1 ? [UInt8(ascii: " ")] : Array(repeating: UInt8(ascii: "\n"), count: breaks - 1))
            stop = scanPlainLine(into: &text, flow: flow)
            if stop == .colon {
                throw fail("`: ` inside a value continued from line \(start.line); if the text before it is a key, "
                           + "indent it like the other keys of its mapping; if it is text, quote the whole value")
            }
        }
        return (try scalarNode(String(decoding: text, as: UTF8.self), at: start), false)
    }

    /// Appends one line of a plain scalar (without trailing blanks) to `text`; the position ends at the stop.
    mutating func scanPlainLine(into text: inout [UInt8], flow: Bool) -> PlainStop {
        let first = pos
        var end = pos
        while true {
            let byte = peek()
            if byte == UInt8(ascii: "\n") || byte == 0 { text += bytes[first..<end]; return .lineEnd }
            if byte == UInt8(ascii: ":") && (isWhiteOrEnd(peek(1)) || (flow && isFlowIndicator(peek(1)))) {
                text += bytes[first..<end]
                return .colon
            }
            if byte == UInt8(ascii: "#") && pos > first && isBlank(bytes[pos - 1]) { text += bytes[first..<end]; return .comment }
            if flow && isFlowIndicator(byte) { text += bytes[first..<end]; return .flowIndicator }
            pos += 1
            if !isBlank(byte) { end = pos }
        }
    }

    /// When the plain scalar ending at this line break continues on a following line: moves to
    /// that line's first character and returns the number of line breaks crossed; else nil
    /// (position unchanged).
    mutating func plainContinuation(parentIndent: Int, flow: Bool) -> Int? {
        let saved = mark
        var breaks = 0
        while peek() == UInt8(ascii: "\n") {
            consumeBreak()
            breaks += 1
            let marker = atMarker("---") || atMarker("...")
            while peek() == UInt8(ascii: " ") { pos += 1 }
            let spaces = pos - lineStart
            skipBlanks()
            let byte = peek()
            if byte == UInt8(ascii: "\n") { continue }
            let ends = marker || byte == 0 || byte == UInt8(ascii: "#") || spaces <= parentIndent
                || (flow && (isFlowIndicator(byte) || (byte == UInt8(ascii: ":") && (isWhiteOrEnd(peek(1)) || isFlowIndicator(peek(1))))))
            if ends { break }
            return breaks
        }
        mark = saved
        return nil
    }

    /// A single- or double-quoted scalar (which may span lines, each following line indented more
    /// than `parentIndent`, the block collection around it); the position ends after the closing quote.
    mutating func parseQuoted(parentIndent: Int) throws(YAMLError) -> YAMLNode {
        let start = mark
        let quote = peek()
        let name = quote == UInt8(ascii: "'") ? "single" : "double"
        pos += 1
        var text: [UInt8] = []
        var blanks: [UInt8] = []
        while true {
            let byte = peek()
            switch byte {
            case 0:
                throw fail("the \(name)-quoted value started on line \(start.line) is never closed; add the closing \(Character(Unicode.Scalar(quote)))")
            case quote where quote == UInt8(ascii: "'") && peek(1) == quote:
                text += blanks + [quote]
                blanks = []
                pos += 2
            case quote:
                pos += 1
                text += blanks
                let style: YAMLScalar.Style = quote == UInt8(ascii: "'") ? .singleQuoted : .doubleQuoted
                return try scalarNode(String(decoding: text, as: UTF8.self), style: style, at: start)
            case UInt8(ascii: "\\") where quote == UInt8(ascii: "\""):
                text += blanks
                blanks = []
                try readEscape(into: &text, quoteStart: start, parentIndent: parentIndent)
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                blanks.append(byte)
                pos += 1
            case UInt8(ascii: "\n"):
                blanks = []
                var breaks = 0
                while peek() == UInt8(ascii: "\n") {
                    consumeBreak()
                    breaks += 1
                    try startQuotedLine(parentIndent: parentIndent, quoteStart: start, quote: quote)
                }
                text += breaks == 1 ? [UInt8(ascii: " ")] : Array(repeating: UInt8(ascii: "\n"), count: breaks - 1)
            default:
                text += blanks + [byte]
                blanks = []
                pos += 1
            }
        }
    }

    /// The one-character escapes of double-quoted scalars and the code points they stand for.
    static let simpleEscapes: [UInt8: UInt32] = [
        UInt8(ascii: "0"): 0, UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "t"): 9, 9: 9,
        UInt8(ascii: "n"): 10, UInt8(ascii: "v"): 11, UInt8(ascii: "f"): 12, UInt8(ascii: "r"): 13,
        UInt8(ascii: "e"): 0x1B, UInt8(ascii: " "): 0x20, UInt8(ascii: "\""): 0x22, UInt8(ascii: "/"): 0x2F,
        UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "N"): 0x85, UInt8(ascii: "_"): 0xA0, UInt8(ascii: "L"): 0x2028,
        UInt8(ascii: "P"): 0x2029,
    ]

    /// After a line break inside a quoted scalar: refuses a document marker, skips the line's
    /// indentation and blanks, and refuses a line with text that is not indented more than
    /// `parentIndent` (YAML requires it; it is nearly always a missing closing quote that would
    /// otherwise swallow the keys below it).
    mutating func startQuotedLine(parentIndent: Int, quoteStart: Mark, quote: UInt8) throws(YAMLError) {
        let name = quote == UInt8(ascii: "'") ? "single" : "double"
        let closing = Character(Unicode.Scalar(quote))
        if atMarker("---") || atMarker("...") {
            throw fail("the \(name)-quoted value started on line \(quoteStart.line) is never closed; add the closing \(closing)")
        }
        while peek() == UInt8(ascii: " ") { pos += 1 }
        let spaces = pos - lineStart
        skipBlanks()
        if spaces <= parentIndent && peek() != UInt8(ascii: "\n") && peek() != 0 {
            throw fail("this line continues the \(name)-quoted value started on line \(quoteStart.line) but is not indented "
                       + "more than the mapping or list around it; add the missing closing \(closing) on line "
                       + "\(quoteStart.line), or indent this line")
        }
    }

    /// Appends the character of the escape sequence at the position (at its backslash).
    mutating func readEscape(into text: inout [UInt8], quoteStart: Mark, parentIndent: Int) throws(YAMLError) {
        let backslash = mark
        pos += 1
        let byte = peek()
        let value: UInt32
        if let code = Self.simpleEscapes[byte] {
            value = code
            pos += 1
        } else if byte == UInt8(ascii: "\n") {
            // An escaped line break: the lines join without a space; each following empty line is a newline.
            consumeBreak()
            try startQuotedLine(parentIndent: parentIndent, quoteStart: quoteStart, quote: UInt8(ascii: "\""))
            while peek() == UInt8(ascii: "\n") {
                consumeBreak()
                try startQuotedLine(parentIndent: parentIndent, quoteStart: quoteStart, quote: UInt8(ascii: "\""))
                text.append(UInt8(ascii: "\n"))
            }
            return
        } else if let digits = [UInt8(ascii: "x"): 2, UInt8(ascii: "u"): 4, UInt8(ascii: "U"): 8][byte] {
            pos += 1
            let hex = bytes[pos..<min(pos + digits, bytes.count)]
            guard hex.count == digits, hex.allSatisfy(YAMLScalar.isHexDigit),
                  let code = UInt32(String(decoding: hex, as: UTF8.self), radix: 16) else {
                mark = backslash
                throw fail("\\\(Character(Unicode.Scalar(byte))) must be followed by \(digits) hexadecimal digits")
            }
            value = code
            pos += digits
        } else if byte == 0 {
            throw fail("the double-quoted value started on line \(quoteStart.line) is never closed; add the closing \"")
        } else {
            mark = backslash
            let shown = byte < 0x80 && byte >= 0x20 ? "\\\(Character(Unicode.Scalar(byte)))" : "a backslash followed by this character"
            throw fail("\(shown) is not an escape sequence in double quotes; write \\\\ for a backslash "
                       + "(or use single quotes, where \\ is an ordinary character)")
        }
        guard let scalar = Unicode.Scalar(value) else {
            let escape = String(decoding: bytes[backslash.pos..<pos], as: UTF8.self)
            mark = backslash
            throw fail("\(escape) is not a Unicode character (surrogate halves and values above 10FFFF are not)")
        }
        text += Array(String(Character(scalar)).utf8)
    }

    /// The name after `&` or `*` (up to white space or a flow indicator); the position ends after it.
    mutating func readName(_ sigil: String) throws(YAMLError) -> String {
        pos += 1
        let first = pos
        while !isWhiteOrEnd(peek()) && !isFlowIndicator(peek()) { pos += 1 }
        guard pos > first else { throw fail("\(sigil) must be followed by a name, like \(sigil)defaults") }
        return String(decoding: bytes[first..<pos], as: UTF8.self)
    }

    /// The name of the anchor at the position.
    mutating func readAnchorName() throws(YAMLError) -> String { try readName("&") }

    /// The value the alias at the position refers to, positioned at the alias.
    mutating func readAlias() throws(YAMLError) -> YAMLNode {
        let start = mark
        let name = try readName("*")
        if openAnchors.contains(name) {
            mark = start
            throw fail("the alias *\(name) is inside the value anchored as &\(name); a value cannot contain itself")
        }
        guard let (node, size) = anchors[name] else {
            mark = start
            throw fail("unknown alias *\(name): no &\(name) before it (an alias can only refer to an anchor written earlier)")
        }
        try count(size)
        var copy = node
        copy.line = start.line
        copy.column = column(of: start)
        return copy
    }
}
