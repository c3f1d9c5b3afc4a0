/// Positions, lines, comments and node creation for `YAMLParser`.
extension YAMLParser {
    /// The current position.
    var mark: Mark {
        get { Mark(pos: pos, line: line, lineStart: lineStart) }
        set { (pos, line, lineStart) = (newValue.pos, newValue.line, newValue.lineStart) }
    }

    /// The byte `offset` bytes ahead, 0 past the end (the text holds no NUL: `checkCharacters`).
    func peek(_ offset: Int = 0) -> UInt8 {
        pos + offset < bytes.count ? bytes[pos + offset] : 0
    }

    /// Space or tab.
    func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// Space, tab, line break or the end.
    func isWhiteOrEnd(_ byte: UInt8) -> Bool { isBlank(byte) || byte == UInt8(ascii: "\n") || byte == 0 }

    /// `,`, `[`, `]`, `{` or `}`.
    func isFlowIndicator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"): return true
        default: return false
        }
    }

    /// True at a `#` that starts a comment (at a line start or after a blank).
    func atComment() -> Bool {
        peek() == UInt8(ascii: "#") && (pos == lineStart || isBlank(bytes[pos - 1]))
    }

    /// True at a line break, the end, or a comment.
    func atLineEnd() -> Bool {
        peek() == UInt8(ascii: "\n") || peek() == 0 || atComment()
    }

    /// True at a `:` that ends a key in block context (followed by a blank, line break or the end).
    func atKeyColon() -> Bool { peek() == UInt8(ascii: ":") && isWhiteOrEnd(peek(1)) }

    /// True at `---` or `...` starting a line and followed by white space or the end.
    func atMarker(_ marker: StaticString) -> Bool {
        guard pos == lineStart, pos + 3 <= bytes.count, isWhiteOrEnd(peek(3)) else { return false }
        let text = marker.utf8Start
        return bytes[pos] == text[0] && bytes[pos + 1] == text[1] && bytes[pos + 2] == text[2]
    }

    /// Skips spaces and tabs.
    mutating func skipBlanks() {
        while isBlank(peek()) { pos += 1 }
    }

    /// Moves past the line break at the position.
    mutating func consumeBreak() {
        pos += 1
        line += 1
        lineStart = pos
    }

    /// Finishes the current line (only blanks and a comment may remain after `what`), then
    /// moves to the next content line.
    mutating func endLine(after what: String) throws(YAMLError) {
        skipBlanks()
        if peek() == UInt8(ascii: "#") {
            guard atComment() else { throw fail("put a space before # to start a comment (or quote the value)") }
            while peek() != UInt8(ascii: "\n") && peek() != 0 { pos += 1 }
        }
        guard peek() == UInt8(ascii: "\n") || peek() == 0 else {
            throw fail("unexpected text after \(what); only a comment (# ...) may follow on this line")
        }
        try skipToContent()
    }

    /// Skips blank and comment lines; stops at the first character of the next content line and
    /// sets `indent` to its indentation, or to -1 at the end or at a `---`/`...` line.
    mutating func skipToContent() throws(YAMLError) {
        while true {
            if peek() == UInt8(ascii: "\n") { consumeBreak() }
            if peek() == 0 { indent = -1; return }
            while peek() == UInt8(ascii: " ") { pos += 1 }
            let spaces = pos - lineStart
            var tab: Mark?
            while isBlank(peek()) {
                if tab == nil && peek() == UInt8(ascii: "\t") { tab = mark }
                pos += 1
            }
            if peek() == UInt8(ascii: "\n") || peek() == 0 { continue }
            if peek() == UInt8(ascii: "#") {
                while peek() != UInt8(ascii: "\n") && peek() != 0 { pos += 1 }
                continue
            }
            if let tab {
                mark = tab
                throw fail("a tab is used for indentation; indent with spaces only")
            }
            indent = spaces == 0 && (atMarker("---") || atMarker("...")) ? -1 : spaces
            return
        }
    }

    /// "this line is indented more than …": for content deeper than the collection it follows.
    func indentMessage(_ what: String, _ expected: Int) -> String {
        "this line is indented more than the \(what) (column \(expected + 1)) but is not part of a value above it; "
            + "check its indentation"
    }

    /// Why a block collection cannot start at `place`.
    func sameLineMessage(_ what: String, _ place: Place) -> String {
        place == .afterMarker
            ? "\(what) cannot start on the --- line; put it on the lines below"
            : "\(what) cannot start on the same line as its key; put it on the lines below the key, indented"
    }

    /// An error at the current position.
    func fail(_ message: String) -> YAMLError {
        YAMLError(line: line, column: column(of: mark), message: message)
    }

    /// The 1-based column, in characters, of `mark`.
    func column(of mark: Mark) -> Int {
        mark.pos - mark.lineStart + 1 - (continuationsBefore(mark.pos) - continuationsBefore(mark.lineStart))
    }

    /// How many UTF-8 continuation bytes precede byte offset `offset` (binary search).
    func continuationsBefore(_ offset: Int) -> Int {
        var (low, high) = (0, continuationBytes.count)
        while low < high {
            let middle = (low + high) / 2
            if continuationBytes[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Enters a list or mapping, refusing nesting deeper than `maxDepth`.
    mutating func enter() throws(YAMLError) {
        depth += 1
        if depth > Self.maxDepth {
            throw fail("lists and mappings are nested more than \(Self.maxDepth) levels deep; flatten the file")
        }
    }

    /// Counts `count` more values, refusing documents larger than `maxNodes`.
    mutating func count(_ count: Int) throws(YAMLError) {
        nodeCount += count
        if nodeCount > Self.maxNodes {
            throw fail("the document holds more than \(Self.maxNodes) values once aliases are expanded; "
                       + "aliases that repeat each other are refused")
        }
    }

    /// A new node starting at `start`.
    mutating func makeNode(_ content: YAMLNode.Content, at start: Mark) throws(YAMLError) -> YAMLNode {
        try count(1)
        return YAMLNode(content: content, line: start.line, column: column(of: start))
    }

    /// A new scalar node starting at `start` and ending here.
    mutating func scalarNode(_ text: String, style: YAMLScalar.Style = .plain, at start: Mark) throws(YAMLError) -> YAMLNode {
        try makeNode(.scalar(YAMLScalar(text, style: style, spansLines: line > start.line)), at: start)
    }

    /// Refuses control characters other than tab and line breaks (YAML does not allow them raw).
    mutating func checkCharacters() throws(YAMLError) {
        guard let bad = bytes.firstIndex(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A) || $0 == 0x7F }) else { return }
        while pos < bad {
            if peek() == UInt8(ascii: "\n") { consumeBreak() } else { pos += 1 }
        }
        let hex = String(bytes[bad], radix: 16, uppercase: true)
        let code = hex.count < 2 ? "0" + hex : hex
        throw fail("control character U+00\(code) is not allowed; write it as an escape in double quotes (\"\\x\(code)\") "
                   + "or remove it")
    }
}
