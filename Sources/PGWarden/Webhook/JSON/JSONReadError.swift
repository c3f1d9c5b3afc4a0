/// Why `JSONReader` refused a text: what is wrong and at which byte.
struct JSONReadError: Error, Equatable, CustomStringConvertible {
    /// What is wrong and where, e.g. `unexpected '}' at byte 57; expected a value` (for a
    /// duplicate key the description is built from `duplicateKey` and `path` instead).
    var message: String
    /// Byte offset of the problem, counted from 0 (the first byte of the text).
    var offset: Int
    /// For a key written twice in one object: the key; `offset` is its second occurrence.
    var duplicateKey: String?
    /// For a duplicate key: where the object repeating it sits, from the top-level value down.
    var path: [JSONPathComponent] = []

    /// A syntax error.
    init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// A key written twice in one object.
    init(duplicateKey key: String, offset: Int) {
        self.message = ""
        self.offset = offset
        self.duplicateKey = key
    }

    /// The error as seen from one level up: for a duplicate key, `component` is prepended to
    /// its path (syntax errors need no path; their offset says where).
    func inside(_ component: JSONPathComponent) -> JSONReadError {
        guard duplicateKey != nil else { return self }
        var error = self
        error.path.insert(component, at: 0)
        return error
    }

    /// `path` as `alerts[0].labels`, or `root` for the top-level value.
    func pathText(root: String) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text.isEmpty ? root : text
    }

    var description: String {
        guard let duplicateKey else { return message }
        return "\(pathText(root: "the top-level object")) has the key \(JSONText.quote(duplicateKey)) twice (again at byte \(offset))"
    }
}

/// One step into a JSON value: an object member's key or an array index.
enum JSONPathComponent: Equatable, Sendable {
    /// The member with this key.
    case key(String)
    /// The array item at this index (from 0).
    case index(Int)
}
