/// The prepared transactions a `rollback_prepared` rule (or `pgwarden rollback-prepared`) may
/// roll back. Prepared transactions belong to no session: PostgreSQL's own timeouts never end
/// them, and they hold their locks and vacuum's horizon until someone commits or rolls them back.
public struct PreparedCriteria: Sendable, Equatable {
    /// Only transactions prepared at least this long ago (required in a policy rule; the
    /// command line may leave it out).
    public var minPreparedAge: Duration?
    /// The transaction's database (`pg_prepared_xacts.database`).
    public var databases: NameFilter
    /// The role that prepared it (`pg_prepared_xacts.owner`).
    public var owners: NameFilter
    /// The gid must match one of these (any gid when empty).
    public var gidPatterns: [GlobPattern]
    /// The gid must match none of these.
    public var excludeGidPatterns: [GlobPattern]
    /// Transactions prepared by a superuser may be rolled back (needs a superuser connection).
    public var allowSuperuser: Bool

    public init(minPreparedAge: Duration? = nil, databases: NameFilter = .init(), owners: NameFilter = .init(),
                gidPatterns: [GlobPattern] = [], excludeGidPatterns: [GlobPattern] = [], allowSuperuser: Bool = false) {
        self.minPreparedAge = minPreparedAge
        self.databases = databases
        self.owners = owners
        self.gidPatterns = gidPatterns
        self.excludeGidPatterns = excludeGidPatterns
        self.allowSuperuser = allowSuperuser
    }

    /// Whether a gid passes the include and exclude patterns.
    public func allowsGID(_ gid: String) -> Bool {
        (gidPatterns.isEmpty || gidPatterns.contains { $0.matches(gid) }) && !excludeGidPatterns.contains { $0.matches(gid) }
    }
}

/// The longest age a selector accepts (`min_state_age`, `min_transaction_age`,
/// `min_backend_age`, `min_prepared_age` and their flags): 10 years, 87600h. Anything longer is
/// a typo, and beyond PostgreSQL's interval range it would fail in SQL at kill time instead of
/// at load.
public let maxSelectorAge: Duration = .seconds(87_600 * 3600)

/// An age selector's value: a duration as `parseDuration` reads it (no sign, no fraction, no
/// exponent, so never negative nor NaN), at most `maxSelectorAge`; or the reason it is refused.
public func parseAge(_ text: String) -> Result<Duration, AgeProblem> {
    guard let duration = parseDuration(text) else { return .failure(.notDuration) }
    guard duration <= maxSelectorAge else { return .failure(.tooLong) }
    return .success(duration)
}

/// Why an age selector's value is refused.
public enum AgeProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a duration like 30s, 10m or 1h30m.
    case notDuration
    /// Longer than `maxSelectorAge`.
    case tooLong

    public var description: String {
        switch self {
        case .notDuration: "must be a duration: write it like 500ms, 30s, 10m or 1h30m"
        case .tooLong: "is longer than 87600h (10 years), the longest age accepted"
        }
    }
}
