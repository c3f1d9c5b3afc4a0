/// An error at the PostgreSQL boundary. Its description never contains a DSN or password.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed, as a category an operator can act on.
    public enum Kind: String, Sendable {
        case connectionFailed = "connection failed"
        case timeout = "timed out"
        case queryFailed = "query failed"
        case connectionLost = "connection lost"
    }

    public var kind: Kind
    /// SQLSTATE from `PG_DIAG_SQLSTATE`, when the server sent one (e.g. `28P01` bad password).
    public var sqlState: String?
    /// The server's or libpq's primary message, trimmed.
    public var message: String
    /// Set by `Database.withConnection` when opening the connection failed: the caller's
    /// statement was never sent.
    public var whileConnecting = false

    public init(_ kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message.trimmingWhitespace()
    }

    /// True when the error means the connection itself is unusable, not just one statement.
    public var isConnectionLevel: Bool { kind != .queryFailed }

    public var description: String {
        var text = "PostgreSQL \(kind.rawValue): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
