import CYAML

/// Builds the `YAMLNode` tree from libyaml's events, with the checks `YAMLReader` promises.
struct TreeBuilder {
    /// A list or mapping whose items are still arriving.
    private struct Open {
        var isMapping: Bool
        var line: Int
        var column: Int
        var anchor: String?
        /// Values counted before this collection started (its size, for aliases to it).
        var countAtStart: Int
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        /// The key read, waiting for its value.
        var key: YAMLNode?
        /// Keys seen, with the position of their first occurrence.
        var keysSeen: [String: (line: Int, column: Int)] = [:]
    }

    /// The document's value, once read.
    private(set) var root: YAMLNode?
    private var open: [Open] = []
    private var documents = 0
    private var nodeCount = 0
    /// Finished anchored values by name, with their size in values.
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Takes one event; true when the document is complete and nothing more is read.
    mutating func add(_ event: yaml_event_t) throws(YAMLError) -> Bool {
        let (line, column) = (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw YAMLError(line: line, column: column,
                                message: "a second document starts here (---); a file holds one document: remove the line, "
                                    + "or move what follows to a file of its own")
            }
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            try refuseTag(scalar.tag, line, column)
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let style: YAMLScalar.Style
            switch scalar.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            let spans = event.end_mark.line > event.start_mark.line
            let node = YAMLNode(content: .scalar(YAMLScalar(text, style: style, spansLines: spans)), line: line, column: column)
            try count(1, line, column)
            if let anchor = scalar.anchor { anchors[name(anchor)] = (node, 1) }
            try place(node)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let (anchor, tag) = isMapping
                ? (event.data.mapping_start.anchor, event.data.mapping_start.tag)
                : (event.data.sequence_start.anchor, event.data.sequence_start.tag)
            try refuseTag(tag, line, column)
            guard open.count < YAMLReader.maxDepth else {
                throw YAMLError(line: line, column: column,
                                message: "lists and mappings are nested more than \(YAMLReader.maxDepth) deep")
            }
            try count(1, line, column)
            open.append(Open(isMapping: isMapping, line: line, column: column, anchor: anchor.map(name),
                             countAtStart: nodeCount - 1))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            let done = open.removeLast()
            let node = YAMLNode(content: done.isMapping ? .mapping(done.pairs) : .sequence(done.items),
                                line: done.line, column: done.column)
            if let anchor = done.anchor { anchors[anchor] = (node, nodeCount - done.countAtStart) }
            try place(node)
        case YAML_ALIAS_EVENT:
            let alias = name(event.data.alias.anchor)
            guard let (anchored, size) = anchors[alias] else {
                let why = open.contains { $0.anchor == alias }
                    ? "refers to a value it is part of" : "refers to no anchor written before it"
                throw YAMLError(line: line, column: column, message: "the alias *\(alias) \(why)")
            }
            try count(size, line, column)
            var copy = anchored
            (copy.line, copy.column) = (line, column)
            try place(copy)
        case YAML_DOCUMENT_END_EVENT:
            return false
        default:
            break
        }
        return false
    }

    /// Puts a finished value where it belongs: the root, a list item, a key or a key's value.
    private mutating func place(_ node: YAMLNode) throws(YAMLError) {
        guard var parent = open.popLast() else {
            root = node
            return
        }
        defer { open.append(parent) }
        guard parent.isMapping else {
            parent.items.append(node)
            return
        }
        guard let key = parent.key else {
            guard let scalar = node.scalar else {
                throw YAMLError(line: node.line, column: node.column,
                                message: "a list or mapping cannot be used as a key; keys are plain names")
            }
            if let first = parent.keysSeen[scalar.text] {
                throw YAMLError(line: first.line, column: first.column,
                                message: "the key \(scalar.text) appears more than once in this mapping (again on line \(node.line))",
                                duplicateKey: scalar.text)
            }
            parent.keysSeen[scalar.text] = (node.line, node.column)
            parent.key = node
            return
        }
        parent.pairs.append(YAMLPair(key: key, value: node))
        parent.key = nil
    }

    /// Counts `size` more values, refusing documents that expand past `maxNodes`.
    private mutating func count(_ size: Int, _ line: Int, _ column: Int) throws(YAMLError) {
        nodeCount += size
        guard nodeCount <= YAMLReader.maxNodes else {
            throw YAMLError(line: line, column: column,
                            message: "the document expands to more than \(YAMLReader.maxNodes) values (through aliases?)")
        }
    }

    /// Tags change how a value is read in ways reviewers rarely expect; the type comes from how it is written.
    private func refuseTag(_ tag: UnsafeMutablePointer<yaml_char_t>?, _ line: Int, _ column: Int) throws(YAMLError) {
        guard let tag else { return }
        throw YAMLError(line: line, column: column,
                        message: "tags such as \(name(tag)) are not accepted; remove the tag (quote a value to make it text)")
    }

    /// A NUL-terminated libyaml string.
    private func name(_ pointer: UnsafeMutablePointer<yaml_char_t>) -> String {
        String(cString: UnsafePointer<CChar>(OpaquePointer(pointer)))
    }
}
