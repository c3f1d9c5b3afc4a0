/// The distribution of idle-in-transaction ages per role: a histogram of the current sessions
/// (a gauge histogram, rebuilt each scrape; use it directly, never through rate()).
public struct IdleInTransactionCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] {
        ["usename"] + options.idleInTransactionBuckets.indices.map { "b\($0)" } + ["sessions", "total_age"]
    }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        let bounds = options.idleInTransactionBuckets
        let counts = bounds.indices.map { "count(*) FILTER (WHERE age <= \(formatValue(bounds[$0]))) AS b\($0), " }.joined()
        let sums = bounds.indices.map { "sum(b\($0))::text, " }.joined()
        // OFFSET 0 keeps the subquery from being pulled up, so each session's age is computed
        // once rather than once per bucket. Counted per role oid, named once per oid, then summed
        // per name: roles that were dropped while their sessions live on all have the name '',
        // and one name must give one series.
        return """
            SELECT ARRAY[role_name, \(sums)sum(n)::text, sum(total_age)::text] FROM (\
            SELECT \(roleName("usesysid")) AS role_name, \(counts)count(*) AS n, COALESCE(sum(age), 0) AS total_age FROM (\
            SELECT usesysid, GREATEST(0, \(ageSeconds("state_change"))) AS age FROM activity \
            WHERE backend_type = 'client backend' AND state IN ('idle in transaction', 'idle in transaction (aborted)') \
            OFFSET 0) AS t GROUP BY usesysid) AS g GROUP BY role_name ORDER BY role_name
            """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var family = MetricFamily("pg_idle_in_transaction_age_seconds", .histogram,
            help: "Current idle-in-transaction sessions (aborted included) per role, by time idle in the transaction.")
        let u = result.column("usename"), n = result.column("sessions"), total = result.column("total_age")
        let bucketColumns = options.idleInTransactionBuckets.indices.map { result.column("b\($0)") }
        for row in result.rows {
            let counts = BucketCounts(upperBounds: options.idleInTransactionBuckets,
                                      cumulative: bucketColumns.map { row.double($0) },
                                      count: row.double(n), sum: row.double(total))
            counts.append(to: &family, labels: [("usename", row.text(u))])
        }
        return [family]
    }
}
