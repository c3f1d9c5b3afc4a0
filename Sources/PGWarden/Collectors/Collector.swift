/// Options that shape what the collectors export.
public struct CollectorOptions: Sendable, Equatable {
    /// Adds an `application_name` label to the per-session families (opt-in: unbounded cardinality).
    public var includeApplicationName: Bool
    /// Upper bounds, in seconds, of the idle-in-transaction age distribution.
    public var idleInTransactionBuckets: [Double]

    public static let defaultIdleInTransactionBuckets: [Double] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600]

    public init(includeApplicationName: Bool = false,
                idleInTransactionBuckets: [Double] = CollectorOptions.defaultIdleInTransactionBuckets) {
        self.includeApplicationName = includeApplicationName
        self.idleInTransactionBuckets = idleInTransactionBuckets
    }
}

/// One collector: a single read-only SQL statement (no values in it) adapted to the server
/// version, and the mapping from its rows to metric families. Pure: tested without a database.
public protocol Collector: Sendable {
    /// The statement this collector runs. It never includes pgwarden's own backend.
    func sql(serverVersion: Int, options: CollectorOptions) -> String
    /// The families built from the statement's result.
    func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily]
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
]

/// Client backends other than pgwarden's own: the set every session count is taken over.
let clientSessionsFilter = "backend_type = 'client backend' AND pid <> pg_backend_pid()"

/// `now() - column` in seconds (numeric on 14+, double before; both parse as Double).
func ageSeconds(_ column: String) -> String {
    "EXTRACT(EPOCH FROM (now() - \(column)))"
}
