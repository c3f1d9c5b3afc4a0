/// Flow collections (`[a, b]`, `{key: value}`) for `YAMLParser`.
extension YAMLParser {
    /// The flow sequence or mapping at the position (at `[` or `{`); the position ends after its closing bracket.
    mutating func parseFlowCollection() throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let start = mark
        let isList = peek() == UInt8(ascii: "[")
        let close = isList ? UInt8(ascii: "]") : UInt8(ascii: "}")
        let opened = isList ? "the list opened with [ on line \(start.line)" : "the mapping opened with { on line \(start.line)"
        pos += 1
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var keys: [String: YAMLNode] = [:]
        while true {
            try skipFlowSpace(opened, close)
            if peek() == close { pos += 1; break }
            if peek() == UInt8(ascii: ",") { throw fail("an empty entry in \(opened); remove the extra comma") }
            if isList {
                let item = try parseFlowNode(opened, close)
                try skipFlowSpace(opened, close)
                if atFlowColon(after: item) {
                    throw fail("a `key: value` pair directly inside [ ]; write it as a mapping in the list: [{key: value}]")
                }
                items.append(item)
            } else {
                let pair = try parseFlowPair(opened, close)
                let text = pair.key.scalar?.text ?? ""
                if let first = keys[text] {
                    throw YAMLError(line: first.line, column: first.column,
                                    message: "key \"\(text)\" appears more than once in the same mapping (first here, again on line \(pair.key.line))",
                                    duplicateKey: text)
                }
                keys[text] = pair.key
                pairs.append(pair)
            }
            try skipFlowSpace(opened, close)
            if peek() == UInt8(ascii: ",") {
                pos += 1
            } else if peek() != close {
                let closing = Character(Unicode.Scalar(close))
                let startsLine = bytes[lineStart..<pos].allSatisfy(isBlank)
                if startsLine && pos - lineStart <= flowParentIndent {
                    throw fail("\(opened) is not closed before this line; add \(closing)")
                }
                throw fail("expected , or \(closing) here, in \(opened)")
            }
        }
        return try makeNode(isList ? .sequence(items) : .mapping(pairs), at: start)
    }

    /// One `key: value` (or bare `key`, whose value is null) of a flow mapping.
    mutating func parseFlowPair(_ opened: String, _ close: UInt8) throws(YAMLError) -> YAMLPair {
        let keyStart = mark
        if peek() == UInt8(ascii: "?") && (isWhiteOrEnd(peek(1)) || isFlowIndicator(peek(1))) {
            throw fail("complex keys (`? key`) are not supported; write `key: value` with a plain key")
        }
        if peek() == UInt8(ascii: "*") { throw fail("an alias cannot be used as a key; write the key itself") }
        let key = try parseFlowNode(opened, close)
        guard key.scalar != nil else {
            mark = keyStart
            throw fail("a list or mapping cannot be used as a key; keys are plain names")
        }
        try skipFlowSpace(opened, close)
        guard atFlowColon(after: key) else { return YAMLPair(key: key, value: try scalarNode("", at: keyStart)) }
        let colon = mark
        pos += 1
        try skipFlowSpace(opened, close)
        if peek() == UInt8(ascii: ",") || peek() == close {
            return YAMLPair(key: key, value: try scalarNode("", at: colon))
        }
        return YAMLPair(key: key, value: try parseFlowNode(opened, close))
    }

    /// True at the `:` after a key in flow context: followed by white space or a flow indicator,
    /// or right after a quoted key (`{"a":1}`, as in JSON).
    func atFlowColon(after key: YAMLNode) -> Bool {
        guard peek() == UInt8(ascii: ":") else { return false }
        let quoted = key.scalar.map { $0.style != .plain } ?? false
        return quoted || isWhiteOrEnd(peek(1)) || isFlowIndicator(peek(1))
    }

    /// A value inside a flow collection (with an optional anchor).
    mutating func parseFlowNode(_ opened: String, _ close: UInt8) throws(YAMLError) -> YAMLNode {
        let start = mark
        var anchor: String?
        if peek() == UInt8(ascii: "&") {
            anchor = try readAnchorName()
            try skipFlowSpace(opened, close)
        }
        let byte = peek()
        let node: YAMLNode
        switch byte {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let before = nodeCount
            if let anchor { openAnchors.append(anchor) }
            node = try parseFlowCollection()
            if let anchor { openAnchors.removeLast(); anchors[anchor] = (node, nodeCount - before) }
            return node
        case UInt8(ascii: "*"):
            if anchor != nil { throw fail("an alias cannot have an anchor; remove the &name before it") }
            return try readAlias()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            node = try parseQuoted(parentIndent: flowParentIndent)
        case _ where anchor != nil && (byte == UInt8(ascii: ",") || byte == close):
            node = try scalarNode("", at: start)
        default:
            try checkPlainStart(flow: true)
            node = try parsePlain(parentIndent: flowParentIndent, flow: true, keyOnly: false).node
        }
        if let anchor { anchors[anchor] = (node, 1) }
        return node
    }

    /// Skips blanks, line breaks and comments inside a flow collection; the end of the text or
    /// a document marker there means the collection was never closed.
    mutating func skipFlowSpace(_ opened: String, _ close: UInt8) throws(YAMLError) {
        let closing = Character(Unicode.Scalar(close))
        while true {
            switch peek() {
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                pos += 1
            case UInt8(ascii: "\n"):
                consumeBreak()
                if atMarker("---") || atMarker("...") { throw fail("\(opened) is never closed; add \(closing) before this line") }
            case UInt8(ascii: "#"):
                guard atComment() else { throw fail("put a space before # to start a comment (or quote the value)") }
                while peek() != UInt8(ascii: "\n") && peek() != 0 { pos += 1 }
            case 0:
                throw fail("\(opened) is never closed; add \(closing)")
            default:
                return
            }
        }
    }
}
