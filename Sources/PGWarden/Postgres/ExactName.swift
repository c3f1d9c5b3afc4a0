/// Names from the server (roles, databases, application names) compared as PostgreSQL compares
/// them: byte for byte. Swift's `String ==` and hashing treat canonically equivalent texts as one
/// (café written with é, and with e plus a combining accent), so a role could hide its sessions
/// behind another's name, or slip past a filter written with the other form.
extension String {
    /// True when both names are the same bytes.
    public func isExactly(_ other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}

extension Sequence<String> {
    /// True when one of the names is `name`, byte for byte.
    public func containsExactly(_ name: String) -> Bool { contains { $0.isExactly(name) } }
}

/// A name as a dictionary key or sort key: equal, hashed and ordered by its bytes.
public struct ExactName: Hashable, Comparable, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (a: Self, b: Self) -> Bool { a.text.isExactly(b.text) }
    public func hash(into hasher: inout Hasher) { text.utf8.forEach { hasher.combine($0) } }
    public static func < (a: Self, b: Self) -> Bool { a.text.utf8.lexicographicallyPrecedes(b.text.utf8) }
}
