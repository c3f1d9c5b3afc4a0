/// The server's own count of how sessions ended, per database (pg_stat_database, PostgreSQL 14+):
/// killed by an operator (pg_terminate_backend, pgwarden's terminations among them), abandoned by
/// their client, or ended by a FATAL error (the session timeouts among them).
public struct SessionEndsCollector: Collector {
    /// A pg_stat_database counter and the family it becomes.
    struct Counter {
        var column: String
        var metric: String
        var help: String
    }

    static let counters: [Counter] = [
        Counter(column: "sessions_killed", metric: "pg_database_sessions_killed_total",
                help: "Sessions to this database terminated by operator intervention (pg_terminate_backend; pgwarden's terminations count here), from pg_stat_database."),
        Counter(column: "sessions_abandoned", metric: "pg_database_sessions_abandoned_total",
                help: "Sessions to this database ended because the client went away without closing them, from pg_stat_database."),
        Counter(column: "sessions_fatal", metric: "pg_database_sessions_fatal_total",
                help: "Sessions to this database ended by a FATAL error (idle and transaction timeouts among them), from pg_stat_database."),
    ]

    /// The first server version whose pg_stat_database has the session counters.
    static let since = 140000

    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["datname"] + Self.counters.map(\.column) }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        let elements = Self.counters.map { "\($0.column)::text" }.joined(separator: ", ")
        guard serverVersion >= Self.since else {
            // 12 and 13 have no such counters: a branch that returns nothing, and no families.
            return "SELECT ARRAY[NULL::text, \(Self.counters.map { _ in "NULL" }.joined(separator: ", "))] WHERE false"
        }
        // The row without a datname is the shared objects' (datid 0); only the counters read are
        // computed (the view is flattened), once per database.
        return "SELECT ARRAY[datname::text, \(elements)] FROM pg_stat_database WHERE datname IS NOT NULL ORDER BY 1"
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        guard !result.rows.isEmpty else { return [] }
        let d = result.column("datname")
        return Self.counters.map { counter in
            var family = MetricFamily(counter.metric, .counter, help: counter.help)
            let c = result.column(counter.column)
            for row in result.rows where row[c] != nil {
                family.add(row.double(c), [("datname", row.text(d))])
            }
            return family
        }
    }
}
