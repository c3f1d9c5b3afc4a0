/// One JSON object of a webhook notification under decoding, with its path in the notification
/// (`alerts[0]`; empty for the body itself), so every error names the field as the sender wrote
/// it: "alerts[0].labels is missing", "version has the wrong type; expected a string".
///
/// Fields follow the rules the notification's Swift types imply: a required field must be
/// present and not null; an optional one may be missing or null (nil); a value of another JSON
/// type is an error either way. Members not asked for are ignored.
struct PayloadFields {
    /// The object's members, in the order written (keys are unique; `JSONReader` checks).
    let members: [JSONMember]
    /// Where the object is; empty for the body.
    let path: String

    /// The fields of `value`, which must be an object.
    init(_ value: JSONValue, path: String) throws(PayloadError) {
        guard case .object(let members) = value else {
            throw Self.mismatch(value, at: path.isEmpty ? "the body" : path, expected: "an object")
        }
        self.members = members
        self.path = path
    }

    /// The path of the member `key`.
    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, nil when absent.
    func value(_ key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The value of a required `key`: present and not null.
    func required(_ key: String, expected: String) throws(PayloadError) -> JSONValue {
        guard let value = value(key) else { throw PayloadError("\(path(key)) is missing") }
        if case .null = value { throw PayloadError("\(path(key)) is null; expected \(expected)") }
        return value
    }

    /// The value of an optional `key`; nil when absent or null.
    func optional(_ key: String) -> JSONValue? {
        guard let value = value(key) else { return nil }
        if case .null = value { return nil }
        return value
    }

    /// A required string.
    func string(_ key: String) throws(PayloadError) -> String {
        try Self.string(required(key, expected: "a string"), at: path(key))
    }

    /// An optional string.
    func optionalString(_ key: String) throws(PayloadError) -> String? {
        guard let value = optional(key) else { return nil }
        return try Self.string(value, at: path(key))
    }

    /// An optional whole number (see `JSONValue.exactInteger(_:)`: `3`, `3.0` and `3e0` are 3).
    func optionalInteger(_ key: String) throws(PayloadError) -> Int? {
        guard let value = optional(key) else { return nil }
        guard case .number(let literal) = value else { throw Self.mismatch(value, at: path(key), expected: "a number") }
        guard let integer = JSONValue.exactInteger(literal) else {
            let shown = literal.utf8.count <= 40 ? literal : String(literal.prefix(40)) + "…"
            throw PayloadError("\(path(key)) is \(shown); expected a whole number (a 64-bit integer)")
        }
        return integer
    }

    /// A required object whose values are all strings (labels, annotations).
    func strings(_ key: String) throws(PayloadError) -> [String: String] {
        try Self.strings(required(key, expected: "an object of strings"), at: path(key))
    }

    /// An optional object whose values are all strings.
    func optionalStrings(_ key: String) throws(PayloadError) -> [String: String]? {
        guard let value = optional(key) else { return nil }
        return try Self.strings(value, at: path(key))
    }

    /// A required array.
    func array(_ key: String) throws(PayloadError) -> [JSONValue] {
        let value = try required(key, expected: "an array")
        guard case .array(let items) = value else { throw Self.mismatch(value, at: path(key), expected: "an array") }
        return items
    }

    /// `value` as a string (`path` is only put together for an error).
    static func string(_ value: JSONValue, at path: @autoclosure () -> String) throws(PayloadError) -> String {
        guard case .string(let text) = value else { throw mismatch(value, at: path(), expected: "a string") }
        return text
    }

    /// `value` as an object of strings; a null or non-string member names the member.
    static func strings(_ value: JSONValue, at path: @autoclosure () -> String) throws(PayloadError) -> [String: String] {
        guard case .object(let members) = value else { throw mismatch(value, at: path(), expected: "an object of strings") }
        var strings: [String: String] = [:]
        strings.reserveCapacity(members.count)
        for member in members {
            strings[member.key] = try string(member.value, at: "\(path()).\(member.key)")
        }
        return strings
    }

    /// The error for a value that is not of the `expected` JSON type (null says so).
    static func mismatch(_ value: JSONValue, at path: @autoclosure () -> String, expected: String) -> PayloadError {
        if case .null = value { return PayloadError("\(path()) is null; expected \(expected)") }
        return PayloadError("\(path()) has the wrong type; expected \(expected)")
    }
}
