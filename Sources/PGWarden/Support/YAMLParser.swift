/// A small YAML reader for configuration files: the subset of YAML 1.2 that such files use,
/// producing a `YAMLNode` tree; everything outside the subset is an error naming the line and
/// what to write instead, never a silent misreading.
///
/// Supported:
/// - One document: an optional `---` start (a value may follow it on the same line) and an
///   optional `...` end; a second document is an error. A UTF-8 byte order mark at the start.
///   CRLF and CR line breaks read as LF.
/// - Comments: `#` at the start of a line or after a space or tab; blank lines anywhere.
/// - Block mappings (`key: value`) and block sequences (`- item`) by indentation (spaces only),
///   including compact forms (`- key: value` continuing on the next lines, `- - item`), a list at
///   the same indentation as its key (`rules:\n- name: a`), and empty values (null).
/// - Flow sequences `[a, "b", 'c']` and flow mappings `{k: v, k2: [x]}`, nested, over several
///   lines, with a trailing comma allowed; `{a, b: c}` gives `a` a null value.
/// - Plain scalars (a `:` not followed by a space and a `#` not preceded by one are text),
///   single-quoted (`''` is a quote) and double-quoted scalars with the escapes `\\ \" \/ \0 \a
///   \b \t \n \v \f \r \e \  \N \_ \L \P \xHH \uHHHH \UHHHHHHHH` and escaped line breaks. All
///   three may span lines; line breaks fold as YAML says (one break is a space, n breaks are
///   n-1 newlines).
/// - Plain scalars resolve by the YAML 1.2 core schema (null, bool, int, float, else string);
///   quoted scalars are strings.
/// - Anchors `&name` and aliases `*name`; an alias is a copy of the anchored value (with the
///   alias's own position). Unknown aliases, an alias inside its own anchored value, and
///   documents that expand to more than `maxNodes` values are errors.
/// - Keys are scalars, compared by their text (`1` and `"1"` are the same key); `<<` is an
///   ordinary key (no merging). Every node carries its 1-based line and column (in characters).
///
/// Refused, with an error saying what to write instead: tags (`!x`, `!!str`), block scalars
/// (`|`, `>`), complex keys (`? `), collections or aliases as keys, `key: value` directly inside
/// `[ ]` (write `[{key: value}]`), directives (`%YAML`), tabs in indentation, keys spanning
/// lines, a key written twice in one mapping (`duplicateKey`), nesting deeper than `maxDepth`
/// lists and mappings, control characters. Lines inside a flow collection may be indented
/// freely (as libyaml allows), but a plain or quoted scalar there only continues on lines
/// indented more than the block around the collection. Outside flow collections too, a quoted
/// scalar continues only on lines indented more than its mapping or list, as YAML requires
/// (libyaml does not check it; an unclosed quote would otherwise swallow the keys below it).
struct YAMLParser {
    /// Deepest nesting of lists and mappings accepted (keeps recursion far from the stack's end).
    static let maxDepth = 64
    /// Most values a document may hold once aliases are expanded (stops alias "bombs").
    static let maxNodes = 100_000

    /// A position in the text.
    struct Mark {
        /// Byte offset.
        var pos: Int
        /// 1-based line.
        var line: Int
        /// Byte offset where the line starts.
        var lineStart: Int
    }

    /// What precedes a node on its line, which decides whether a block collection may start there.
    enum Place {
        /// Nothing: the node starts its line (or is on the lines after its key or `- `).
        case lineStart
        /// `- `: a compact mapping or list may start here.
        case afterDash
        /// `key: `: only a single-line value (scalar, flow collection, alias) may start here.
        case afterColon
        /// `--- `: like `afterColon`.
        case afterMarker
    }

    /// The text as UTF-8 with line breaks normalized to LF (and no byte order mark).
    let bytes: [UInt8]
    /// Offsets of UTF-8 continuation bytes, ascending (to count columns in characters quickly).
    let continuationBytes: [Int]
    /// Current byte offset.
    var pos = 0
    /// Current 1-based line.
    var line = 1
    /// Byte offset where the current line starts.
    var lineStart = 0
    /// Indentation of the next content line, -1 at the end of the document or at `---`/`...`.
    var indent = -1
    /// Lists and mappings open around the current position.
    var depth = 0
    /// Values created so far, counting each alias as a copy of its value.
    var nodeCount = 0
    /// Finished anchored values by name, with their size in values.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Anchors whose value is still being read (an alias to one of them would be a cycle).
    var openAnchors: [String] = []
    /// Indentation of the block collection around the outermost open flow collection.
    var flowParentIndent = -1

    /// Parses `text`; nil when it holds no document (empty, or only comments).
    static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        var parser = YAMLParser(text)
        return try parser.parseDocument()
    }

    /// Prepares `text` for parsing.
    init(_ text: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var afterCR = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") && afterCR { afterCR = false; continue }
            afterCR = byte == UInt8(ascii: "\r")
            bytes.append(afterCR ? UInt8(ascii: "\n") : byte)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        self.bytes = bytes
        continuationBytes = bytes.indices.filter { bytes[$0] & 0xC0 == 0x80 }
    }

    // MARK: - Document and block structure

    /// The whole document: optional `---`, one value, optional `...`, nothing else.
    mutating func parseDocument() throws(YAMLError) -> YAMLNode? {
        try checkCharacters()
        try skipToContent()
        var root: YAMLNode?
        if atMarker("---") {
            let start = mark
            pos += 3
            skipBlanks()
            if atLineEnd() {
                try endLine(after: "---")
                root = try indent >= 0 ? parseNode(parentIndent: -1, place: .lineStart) : scalarNode("", at: start)
            } else {
                root = try parseNode(parentIndent: -1, place: .afterMarker)
            }
        } else if indent >= 0 {
            root = try parseNode(parentIndent: -1, place: .lineStart)
        }
        if indent >= 0, let root {
            let what = root.pairs != nil ? "mapping" : root.items != nil ? "list" : "value"
            throw fail("this line is not part of the \(what) started on line \(root.line) (check its indentation); "
                       + "a file holds one top-level value")
        }
        while atMarker("...") {
            pos += 3
            try endLine(after: "the document end marker ...")
            if indent >= 0 { throw fail("text after the document end marker (...); remove it or the marker") }
        }
        if atMarker("---") {
            throw fail("a second document starts here (---); only one document per file is supported: remove the line, "
                       + "or move what follows to its own file")
        }
        return root
    }

    /// The node starting at the current position, in block context. `parentIndent` is the
    /// indentation of the enclosing block collection (-1 at the top); `anchored` when an anchor
    /// on an earlier line already applies.
    mutating func parseNode(parentIndent: Int, place: Place, anchored: Bool = false) throws(YAMLError) -> YAMLNode {
        let start = mark
        var anchor: String?
        if peek() == UInt8(ascii: "&") {
            if anchored { throw fail("a value can have only one anchor; remove one") }
            anchor = try readAnchorName()
            skipBlanks()
            if atLineEnd() {
                // The anchored value is on the following lines.
                let (name, before) = (anchor!, nodeCount)
                openAnchors.append(name)
                try endLine(after: "the anchor")
                let node = try parseIndentedValue(parentIndent: parentIndent, sameIndentList: place == .afterColon,
                                                  emptyAt: start, anchored: true)
                openAnchors.removeLast()
                anchors[name] = (node, nodeCount - before)
                return node
            }
        }
        let byte = peek()
        switch byte {
        case UInt8(ascii: "-") where isWhiteOrEnd(peek(1)):
            guard place == .lineStart || place == .afterDash else { throw fail(sameLineMessage("a list", place)) }
            if anchor != nil { throw fail("an anchor cannot precede `- ` on its line; put the list on the lines below the anchor") }
            indent = pos - lineStart  // a compact list (`- - a`) starts mid-line, at its dash
            return try parseBlockSequence(indent: indent)
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let before = nodeCount
            if let anchor { openAnchors.append(anchor) }
            flowParentIndent = parentIndent
            let node = try parseFlowCollection()
            if let anchor { openAnchors.removeLast(); anchors[anchor] = (node, nodeCount - before) }
            skipBlanks()
            if atKeyColon() { throw fail("a list or mapping cannot be used as a key; keys are plain names") }
            try endLine(after: byte == UInt8(ascii: "[") ? "the closing ]" : "the closing }")
            return node
        case UInt8(ascii: "*"):
            if anchor != nil { throw fail("an alias cannot have an anchor; remove the &name before it") }
            let node = try readAlias()
            skipBlanks()
            if atKeyColon() { throw fail("an alias cannot be used as a key; write the key itself") }
            try endLine(after: "the alias")
            return node
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let node = try parseQuoted(parentIndent: parentIndent)
            skipBlanks()
            if atKeyColon() {
                guard node.line == line else { throw fail("a key must be written on one line") }
                return try startMapping(key: node, at: start, anchor: anchor, place: place)
            }
            if let anchor { anchors[anchor] = (node, 1) }
            try endLine(after: "the closing quote (quote the whole value)")
            return node
        default:
            try checkPlainStart(flow: false)
            let (node, isKey) = try parsePlain(parentIndent: parentIndent, flow: false, keyOnly: false)
            if isKey { return try startMapping(key: node, at: start, anchor: anchor, place: place) }
            if let anchor { anchors[anchor] = (node, 1) }
            try endLine(after: "the value")
            return node
        }
    }

    /// The value of a key or `- ` whose line ends after it: the more indented lines below, a
    /// list at the key's own indentation (when `sameIndentList`), or else null at `emptyAt`.
    mutating func parseIndentedValue(parentIndent: Int, sameIndentList: Bool, emptyAt: Mark,
                                     anchored: Bool = false) throws(YAMLError) -> YAMLNode {
        if indent > parentIndent {
            return try parseNode(parentIndent: parentIndent, place: .lineStart, anchored: anchored)
        }
        if sameIndentList, indent == parentIndent, peek() == UInt8(ascii: "-"), isWhiteOrEnd(peek(1)) {
            return try parseBlockSequence(indent: indent)
        }
        return try scalarNode("", at: emptyAt)
    }

    /// A block mapping whose first key (starting at `start`) has just been read; the position is at its `:`.
    mutating func startMapping(key: YAMLNode, at start: Mark, anchor: String?, place: Place) throws(YAMLError) -> YAMLNode {
        guard place == .lineStart || place == .afterDash else {
            throw fail(sameLineMessage("a mapping (`key: value`)", place) + ", or quote the value if its text contains \": \"")
        }
        if let anchor { anchors[anchor] = (key, 1) }
        return try parseBlockMapping(indent: start.pos - start.lineStart, firstKey: key, start: start)
    }

    /// The entries of a block mapping at `indent`, starting with `firstKey` (the position is at its `:`).
    mutating func parseBlockMapping(indent mappingIndent: Int, firstKey: YAMLNode, start: Mark) throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        var pairs: [YAMLPair] = []
        var keys: [String: YAMLNode] = [:]
        var key = firstKey
        while true {
            let colon = mark
            pos += 1
            let text = key.scalar?.text ?? ""
            if let first = keys[text] {
                throw YAMLError(line: first.line, column: first.column,
                                message: "key \"\(text)\" appears more than once in the same mapping (first here, again on line \(key.line))",
                                duplicateKey: text)
            }
            keys[text] = key
            skipBlanks()
            let value: YAMLNode
            if atLineEnd() {
                try endLine(after: "the key")
                value = try parseIndentedValue(parentIndent: mappingIndent, sameIndentList: true, emptyAt: colon)
            } else {
                value = try parseNode(parentIndent: mappingIndent, place: .afterColon)
            }
            pairs.append(YAMLPair(key: key, value: value))
            guard indent == mappingIndent else { break }
            key = try parseBlockKey(mappingStart: start)
        }
        if indent > mappingIndent {
            throw fail(indentMessage("keys of the mapping started on line \(start.line)", mappingIndent))
        }
        return try makeNode(.mapping(pairs), at: start)
    }

    /// A key of a block mapping after its first, at the start of its line; the position ends at its `:`.
    mutating func parseBlockKey(mappingStart: Mark) throws(YAMLError) -> YAMLNode {
        var anchor: String?
        if peek() == UInt8(ascii: "&") {
            anchor = try readAnchorName()
            skipBlanks()
        }
        let key: YAMLNode
        switch peek() {
        case UInt8(ascii: "-") where isWhiteOrEnd(peek(1)):
            throw fail("a list item (`- `) where a key of the mapping started on line \(mappingStart.line) was expected; "
                       + "a mapping's keys and a list's items cannot share one indentation")
        case UInt8(ascii: "*"):
            throw fail("an alias cannot be used as a key; write the key itself")
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            throw fail("a list or mapping cannot be used as a key; keys are plain names")
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let keyLine = line
            key = try parseQuoted(parentIndent: indent)
            skipBlanks()
            guard keyLine == line else { throw fail("a key must be written on one line") }
        default:
            try checkPlainStart(flow: false)
            key = try parsePlain(parentIndent: indent, flow: false, keyOnly: true).node
        }
        guard atKeyColon() else {
            let text = key.scalar?.text ?? ""
            let hint = text.contains(":") ? " (a space is needed after the colon)" : key.scalar?.style == .plain
                ? " (a value continued on another line must be indented more than its key)" : ""
            throw YAMLError(line: key.line, column: key.column,
                            message: "expected `key: value` in the mapping started on line \(mappingStart.line), found \"\(text)\"\(hint)")
        }
        if let anchor { anchors[anchor] = (key, 1) }
        return key
    }

    /// The items of a block sequence whose `- ` are at `indent`.
    mutating func parseBlockSequence(indent listIndent: Int) throws(YAMLError) -> YAMLNode {
        try enter()
        defer { depth -= 1 }
        let start = mark
        var items: [YAMLNode] = []
        while indent == listIndent, peek() == UInt8(ascii: "-"), isWhiteOrEnd(peek(1)) {
            let dash = mark
            pos += 1
            skipBlanks()
            if atLineEnd() {
                try endLine(after: "-")
                items.append(try parseIndentedValue(parentIndent: listIndent, sameIndentList: false, emptyAt: dash))
            } else {
                items.append(try parseNode(parentIndent: listIndent, place: .afterDash))
            }
        }
        if indent > listIndent {
            throw fail(indentMessage("items (`- `) of the list started on line \(start.line)", listIndent))
        }
        return try makeNode(.sequence(items), at: start)
    }
}
