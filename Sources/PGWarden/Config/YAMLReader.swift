import CYAML

/// Reads one YAML document with libyaml (the parser PyYAML, Ruby and most editors' tools share),
/// so a file means to pgwarden what it means to the tools operators review it with. libyaml
/// turns the text into events; this builds the `YAMLNode` tree from them, keeping each node's
/// line and column, and adds what configuration files need on top:
/// - one document per file; keys that are scalars and appear once per mapping (`duplicateKey`);
/// - no tags (`!x`, `!!str`): the type of a value comes from how it is written;
/// - aliases expand to a copy of their anchored value, counted against `maxNodes` (alias bombs);
/// - nesting at most `maxDepth` deep, text at most `maxBytes` long.
/// Plain scalars resolve by the YAML 1.2 core schema (`YAMLScalar.resolve`), not libyaml's 1.1
/// habits: `yes`, `on` and `0777` are text here, and the policy loader names them.
enum YAMLReader {
    /// Deepest nesting of lists and mappings accepted.
    static let maxDepth = 64
    /// Most values a document may hold once aliases are expanded.
    static let maxNodes = 100_000
    /// Longest text accepted (a configuration file is a few kilobytes).
    static let maxBytes = maxConfigFileBytes

    /// Parses `text`; nil when it holds no document (empty, or only comments).
    static func parse(_ text: String) throws(YAMLError) -> YAMLNode? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            throw YAMLError(line: 1, column: 1, message: "the text is \(bytes.count) bytes long; at most \(maxBytes) are read")
        }
        let events = EventStream(bytes)
        var builder = TreeBuilder()
        while let event = try events.next() {
            defer { event.release() }
            if try builder.add(event.pointer.pointee) { break }
        }
        return builder.root
    }
}

/// The libyaml parser over one text: owns the parser and a copy of the bytes it reads.
private final class EventStream {
    /// The parser; libyaml keeps a pointer to it, so it lives at a fixed address.
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    /// The input, alive as long as the parser reads it.
    private let input: UnsafeMutableBufferPointer<UInt8>
    /// The text, to turn a byte offset into a line for reader errors.
    private let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = .allocate(capacity: 1)
        // yaml_parser_initialize fails only when it cannot allocate its buffers.
        precondition(yaml_parser_initialize(parser) == 1, "libyaml could not allocate a parser")
        // The encoding is left to libyaml's detection, which also skips a byte order mark (a
        // Swift string's UTF-8 never starts with the bytes of a UTF-16 mark).
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    /// The next event (the caller releases it), nil after the end of the stream.
    func next() throws(YAMLError) -> Event? {
        let event = Event()
        guard yaml_parser_parse(parser, event.pointer) == 1 else {
            event.pointer.deallocate()
            throw error()
        }
        if event.pointer.pointee.type == YAML_STREAM_END_EVENT || event.pointer.pointee.type == YAML_NO_EVENT {
            event.release()
            return nil
        }
        return event
    }

    /// libyaml's error with its position, in the words it gives.
    private func error() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "cannot be read"
        if p.error == YAML_READER_ERROR {
            let offset = min(p.problem_offset, bytes.count)
            let before = bytes[..<offset]
            let line = before.count { $0 == UInt8(ascii: "\n") } + 1
            let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let column = bytes[lineStart..<offset].count { $0 & 0xC0 != 0x80 } + 1
            return YAMLError(line: line, column: column, message: problem)
        }
        var message = problem
        if let context = p.context.map({ String(cString: $0) }) {
            message += " (\(context) on line \(p.context_mark.line + 1))"
        }
        return YAMLError(line: p.problem_mark.line + 1, column: p.problem_mark.column + 1, message: message)
    }
}

/// One libyaml event, freed with `release()`.
private struct Event {
    let pointer = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)

    /// Frees what libyaml allocated for the event, and the event.
    func release() {
        yaml_event_delete(pointer)
        pointer.deallocate()
    }
}
