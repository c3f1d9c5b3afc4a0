/// The one server this pgwarden acts on, as the alerts name it (`--target.name`), and the label
/// that names it (`--webhook.target-label`, default `instance`). Alertmanager may route alerts
/// about several servers to one receiver; with a target identity, an alert about another server
/// (or about none) acts on nothing.
public struct TargetIdentity: Sendable, Equatable {
    /// The label value that means this server.
    public let name: String
    /// The alert label holding the server's name.
    public let label: String

    public static let defaultLabel = "instance"

    /// Checks both values: `name` non-empty, without control, format, unassigned or private-use
    /// characters, blanks or line and paragraph separators; `label` a Prometheus label name.
    public init(name: String, label: String = TargetIdentity.defaultLabel) throws(ConfigError) {
        guard !name.isEmpty else { throw ConfigError("--target.name is empty; give the name this server's alerts carry in their \(label) label") }
        if let bad = name.unicodeScalars.first(where: { !Self.isPrintable($0) }) {
            throw ConfigError("--target.name \(JSONText.quote(name)) contains \(Self.codePoint(bad)), a blank, separator or control character; "
                + "give the name exactly as the alerts' \(label) label carries it")
        }
        guard Self.isLabelName(label) else {
            throw ConfigError("--webhook.target-label \(JSONText.quote(label)) is not a label name "
                + "(a letter or _, then letters, digits or _), like instance")
        }
        self.name = name
        self.label = label
    }

    /// Whether an alert with these labels is about this server: its label is this name, byte
    /// for byte (a missing or empty label is about no server).
    public func isAbout(_ labels: [String: String]) -> Bool {
        guard let value = labels[label], !value.isEmpty else { return false }
        return value.isExactly(name)
    }

    /// The reason given when an alert is about another server (or none).
    public func reason(_ labels: [String: String]) -> String {
        let about = labels[label].map { $0.isEmpty ? "its \(label) label is empty" : "its \(label) label is \(JSONText.quote($0))" }
            ?? "it has no \(label) label"
        return "\(about); this pgwarden acts only on alerts about \(JSONText.quote(name)) (--target.name)"
    }

    /// Letters, digits, marks, punctuation and symbols: no Unicode control (Cc), format (Cf),
    /// surrogate, private-use or unassigned code points, and no space, line or paragraph separator.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            false
        default:
            true
        }
    }

    /// `U+2028`: a code point as the Unicode standard writes it.
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    static func isLabelName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func letter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b == UInt8(ascii: "_") }
        guard let first = bytes.first, letter(first) else { return false }
        return bytes.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
