/// One YAML mapping of the policy under validation: its entries by key, where it starts and
/// its key path (`rules[0].match`), so every error can name the line and the key.
struct PolicyFields {
    /// File name (or `<input>`) for error messages.
    let source: String
    /// Key path of this mapping; empty for the document root.
    let path: String
    /// Line where the mapping starts (1-based), when known.
    let line: Int?
    /// The mapping's values by key.
    private var entries: [String: YAMLNode] = [:]

    /// Reads `node` as a mapping whose keys must all be in `allowed`; any other key is an error
    /// naming it and listing the allowed ones, so typos never pass silently.
    init(_ node: YAMLNode, path: String, source: String, allowed: [String]) throws(PolicyError) {
        self.source = source
        self.path = path
        self.line = node.line
        guard case let .mapping(mapping) = node.content else {
            throw PolicyError(source: source, line: line, key: path.isEmpty ? nil : path,
                              message: "must be a mapping of keys (\(allowed.joined(separator: ", "))), got \(Self.describe(node))")
        }
        for pair in mapping {
            let (keyNode, value) = (pair.key, pair.value)
            guard let scalar = keyNode.scalar, scalar.kind != .null else {
                throw PolicyError(source: source, line: keyNode.line, key: path.isEmpty ? nil : path,
                                  message: "keys must be plain names, got \(Self.describe(keyNode))")
            }
            let key = scalar.text
            guard allowed.contains(key) else {
                let hint = Self.suggestion(for: key, among: allowed).map { "did you mean \($0)? " } ?? ""
                throw PolicyError(source: source, line: keyNode.line, key: self.path(key),
                                  message: "unknown key; \(hint)allowed keys: \(allowed.joined(separator: ", "))")
            }
            entries[key] = value
        }
    }

    /// The key path of `key` inside this mapping.
    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, nil when absent.
    func node(_ key: String) -> YAMLNode? { entries[key] }

    /// An error about the value of `key` (at the value's line, or the mapping's when absent).
    func error(_ key: String, _ node: YAMLNode?, _ message: String) -> PolicyError {
        PolicyError(source: source, line: node?.line ?? line, key: path(key), message: message)
    }

    /// The value of a required key, or an error at this mapping's line saying what to add.
    func required(_ key: String, _ what: String) throws(PolicyError) -> YAMLNode {
        guard let node = entries[key] else { throw error(key, nil, "required key is missing: add \(what)") }
        return node
    }

    /// An optional non-empty string.
    func string(_ key: String) throws(PolicyError) -> String? {
        guard let node = entries[key] else { return nil }
        return try scalarString(node, path: path(key))
    }

    /// A required non-empty string.
    func requiredString(_ key: String, _ what: String) throws(PolicyError) -> String {
        try scalarString(required(key, what), path: path(key))
    }

    /// An optional boolean written `true` or `false` (YAML 1.1's yes/no/on/off are refused by name).
    func bool(_ key: String) throws(PolicyError) -> Bool? {
        guard let node = entries[key] else { return nil }
        if let scalar = node.scalar, scalar.kind == .bool { return scalar.text.lowercased() == "true" }
        if let scalar = node.scalar, scalar.style == .plain, Self.oldBooleans.contains(scalar.text) {
            throw error(key, node, "must be true or false (yes/no/on/off are not accepted), got \(Self.describe(node))")
        }
        throw error(key, node, "must be true or false, got \(Self.describe(node))\(Self.quotedHint(node))")
    }

    /// An optional whole number of at least `minimum`.
    func int(_ key: String, minimum: Int) throws(PolicyError) -> Int? {
        guard let node = entries[key] else { return nil }
        guard let scalar = node.scalar, scalar.kind == .int, let value = Int(scalar.text), value >= minimum else {
            throw error(key, node, "must be a whole number >= \(minimum), got \(Self.describe(node))\(Self.quotedHint(node))")
        }
        return value
    }

    /// An optional duration such as `10m` (see `parseDuration`).
    func duration(_ key: String) throws(PolicyError) -> Duration? {
        guard let node = entries[key] else { return nil }
        guard let scalar = node.scalar, let value = parseDuration(scalar.text) else {
            throw error(key, node, "must be a duration: write it like 500ms, 30s, 10m or 1h30m, got \(Self.describe(node))")
        }
        return value
    }

    /// An optional age selector (`min_state_age`, …): a duration of at most 87600h (`parseAge`).
    func age(_ key: String) throws(PolicyError) -> Duration? {
        guard let node = entries[key] else { return nil }
        guard let scalar = node.scalar else {
            throw error(key, node, "must be a duration: write it like 500ms, 30s, 10m or 1h30m, got \(Self.describe(node))")
        }
        switch parseAge(scalar.text) {
        case .success(let age): return age
        case .failure(let problem): throw error(key, node, "\(problem), got \(Self.describe(node))")
        }
    }

    /// An optional list whose items are converted by `convert` (given the item's text, node and key path).
    /// An include list (`includes`) may not be empty: `[]` would silently mean "any".
    func list<T>(_ key: String, includes: Bool = false,
                 _ convert: (String, YAMLNode, String) throws(PolicyError) -> T) throws(PolicyError) -> [T]? {
        guard let node = entries[key] else { return nil }
        guard case let .sequence(sequence) = node.content else {
            throw error(key, node, "must be a list, like [a, b], got \(Self.describe(node))")
        }
        if includes && sequence.isEmpty {
            throw error(key, node, "is empty, which would mean any; list at least one, or remove the key to mean any")
        }
        var result: [T] = []
        for (index, item) in sequence.enumerated() {
            let itemPath = "\(path(key))[\(index)]"
            result.append(try convert(try scalarString(item, path: itemPath), item, itemPath))
        }
        return result
    }

    /// An optional list whose items `parse` reads (empty when the key is absent); an item it
    /// refuses is an error at that item, in the words of `message` (given the text and the problem).
    func parsedList<T, Problem: Error>(_ key: String, includes: Bool = false, _ parse: (String) -> Result<T, Problem>,
                                       message: (String, Problem) -> String) throws(PolicyError) -> [T] {
        try list(key, includes: includes) { (text, node, path) throws(PolicyError) in
            switch parse(text) {
            case .success(let value): return value
            case .failure(let problem): throw PolicyError(source: source, line: node.line, key: path, message: message(text, problem))
            }
        } ?? []
    }

    /// The name filter of the include list `key` (not empty when given) and its `exclude_` list.
    func nameFilter(_ key: String) throws(PolicyError) -> NameFilter {
        NameFilter(include: try strings(key, includes: true) ?? [], exclude: try strings("exclude_" + key) ?? [])
    }

    /// An optional list of names (roles, databases, application names): non-empty strings, each
    /// on one line, without surrounding blanks or control characters (non-empty itself when
    /// `includes`). A name folded from several lines is almost always a missing comma or `- `,
    /// and a name that matches nothing would silently narrow an exclude or protected list.
    func strings(_ key: String, includes: Bool = false) throws(PolicyError) -> [String]? {
        try list(key, includes: includes) { (text, node, path) throws(PolicyError) in
            if text.first?.isWhitespace == true || text.last?.isWhitespace == true {
                throw PolicyError(source: source, line: node.line, key: path,
                                  message: "\"\(text)\" starts or ends with a blank, so it would match no name; remove the blanks")
            }
            if let bad = text.unicodeScalars.first(where: Self.isInvisible) {
                let hex = String(bad.value, radix: 16, uppercase: true)
                let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                throw PolicyError(source: source, line: node.line, key: path,
                                  message: "contains \(code), a control, format or separator character (such as a tab, NUL, "
                                      + "a zero-width space or a line separator); names cannot hold them, and a reviewer would not see it")
            }
            return text
        }
    }

    /// An optional mapping of names to string values (alert label matchers).
    func stringMap(_ key: String) throws(PolicyError) -> [String: String]? {
        guard let node = entries[key] else { return nil }
        guard case let .mapping(mapping) = node.content else {
            throw error(key, node, "must be a mapping of label names to values, like {severity: warning}, got \(Self.describe(node))")
        }
        var result: [String: String] = [:]
        for pair in mapping {
            let (keyNode, value) = (pair.key, pair.value)
            let name = try scalarString(keyNode, path: path(key))
            result[name] = try scalarString(value, path: "\(path(key)).\(name)")
        }
        return result
    }

    /// The text of a scalar that must be a non-empty string (numbers are fine: `123` is "123").
    private func scalarString(_ node: YAMLNode, path: String) throws(PolicyError) -> String {
        guard let scalar = node.scalar else {
            throw PolicyError(source: source, line: node.line, key: path,
                              message: "must be a single value, got \(Self.describe(node))")
        }
        guard scalar.kind != .null, !scalar.text.isEmpty else {
            let hint = scalar.text.isEmpty ? "" : " (quote it if you mean the text \"\(scalar.text)\")"
            throw PolicyError(source: source, line: node.line, key: path, message: "must not be empty\(hint)")
        }
        if scalar.spansLines {
            throw PolicyError(source: source, line: node.line, key: path,
                              message: "is written over several lines; a quote may be left open, or a comma or `- ` "
                                  + "missing between two values: write each value on one line")
        }
        return scalar.text
    }
}

extension PolicyFields {
    /// A short description of a node for error messages: `"ten"`, `a list`, `a mapping`, `nothing`.
    static func describe(_ node: YAMLNode) -> String {
        switch node.content {
        case let .scalar(scalar): return scalar.kind == .null ? "nothing" : "\"\(scalar.text)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// Characters a name may not hold: control characters (C0, DEL, C1 such as U+0085), format
    /// characters (U+200B, U+FEFF, bidirectional marks) and line or paragraph separators (U+2028,
    /// U+2029). Editors show them as nothing or as a line break, so a name holding one is not the
    /// name the reviewer read.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate: return true
        default: return false
        }
    }

    /// YAML 1.1's other spellings of booleans, which YAML 1.2 (and this loader) read as text.
    static let oldBooleans: Set<String> = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"]

    /// ` (quoted, so text: remove the quotes)` for a quoted scalar, else nothing.
    static func quotedHint(_ node: YAMLNode) -> String {
        guard let scalar = node.scalar, scalar.style == .singleQuoted || scalar.style == .doubleQuoted else { return "" }
        return " (quoted, so text: remove the quotes)"
    }

    /// The allowed key closest to a mistyped one (edit distance <= 2), if any.
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        let scored = allowed.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored else { return nil }
        return distance <= 2 ? best : nil
    }
}
