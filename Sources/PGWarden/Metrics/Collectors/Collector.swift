/// Options that shape what the collectors export.
public struct CollectorOptions: Sendable, Equatable {
    /// Adds an `application_name` label to the per-session families (opt-in: unbounded cardinality).
    public var includeApplicationName: Bool
    /// Adds a `wait_event` label to `pg_sessions_waiting` (opt-in: a few hundred possible values).
    public var includeWaitEvent: Bool
    /// Upper bounds, in seconds, of the idle-in-transaction age distribution.
    public var idleInTransactionBuckets: [Double]

    public static let defaultIdleInTransactionBuckets: [Double] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600]

    public init(includeApplicationName: Bool = false, includeWaitEvent: Bool = false,
                idleInTransactionBuckets: [Double] = CollectorOptions.defaultIdleInTransactionBuckets) {
        self.includeApplicationName = includeApplicationName
        self.includeWaitEvent = includeWaitEvent
        self.idleInTransactionBuckets = idleInTransactionBuckets
    }
}

/// One collector: a read-only SELECT (no values in it) adapted to the server version, and the
/// mapping from its rows to metric families. Pure: tested without a database.
///
/// Every collector's SELECT becomes one branch of the single scrape statement built by
/// `ScrapeStatement`, so it reads sessions from the shared CTEs, never from pg_stat_activity:
/// `activity` (every backend except pgwarden's own, read once per scrape: pid, backend_type,
/// datid, usesysid, state, state_change, xact_start, wait_event_type, backend_start, backend_xid,
/// backend_xmin, and application_name and wait_event when opted in; no names) and `grouped`
/// (activity counted per backend_type, database, role, state and, when opted in,
/// application_name, with the oldest state_change, xact_start and backend_start and the largest
/// xmin age: n, state_change, xact_start, backend_start, xmin_age, and the datname and usename of
/// each group). Names of other oids
/// come from `roleName`/`databaseName`. It returns one `text[]` column whose elements follow
/// `columns`.
public protocol Collector: Sendable {
    /// Names of the elements of each returned row, in order.
    func columns(options: CollectorOptions) -> [String]
    /// The branch: a SELECT returning one text[] per row.
    func sql(serverVersion: Int, options: CollectorOptions) -> String
    /// The families built from the branch's rows.
    func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily]
    /// True when the branch's rows change only when the session re-reads the configuration
    /// (pg_settings' reset_val): `ScrapeStatement` then runs it only after a reload.
    var readsConfiguration: Bool { get }
}

extension Collector {
    public var readsConfiguration: Bool { false }
}

/// The collectors pgwarden runs on every scrape, in exposition order.
public let defaultCollectors: [any Collector] = [
    SettingsCollector(),
    SessionsCollector(),
    IdleInTransactionCollector(),
    BackendsCollector(),
    RoleLimitsCollector(),
    DatabaseLimitsCollector(),
    LocksCollector(),
    PreparedTransactionsCollector(),
    XminHorizonCollector(),
    BackendAgeCollector(),
    RoleSettingsCollector(),
    WaitingSessionsCollector(),
    SessionEndsCollector(),
]

/// `now() - column` in seconds. date_part returns float8; EXTRACT returns numeric on 14+,
/// which is several times slower per row.
func ageSeconds(_ column: String) -> String {
    "date_part('epoch', now() - \(column))"
}

/// The role named by an oid column, '' when it no longer exists (for a handful of groups, not per session).
func roleName(_ column: String) -> String {
    "COALESCE((SELECT rolname::text FROM pg_roles WHERE oid = \(column)), '')"
}

/// The database named by an oid column, '' for none (background processes) or a dropped one.
func databaseName(_ column: String) -> String {
    "COALESCE((SELECT datname::text FROM pg_database WHERE oid = \(column)), '')"
}

/// A boolean column as 't'/'f' text, as PostgreSQL's own output writes it.
func boolText(_ column: String) -> String {
    "CASE WHEN \(column) THEN 't' ELSE 'f' END"
}
