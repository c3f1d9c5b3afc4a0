/// Every server process by `backend_type` (client backends, autovacuum, walsender, workers…).
public struct BackendsCollector: Collector {
    public init() {}

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        "SELECT COALESCE(backend_type, 'unknown') AS backend_type, count(*) AS backends " +
            "FROM pg_stat_activity WHERE pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1"
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var family = MetricFamily("pg_backends", .gauge,
            help: "Server processes by backend_type, excluding pgwarden's own session.")
        let t = result.column("backend_type"), n = result.column("backends")
        for row in result.rows { family.add(row.double(n), [("backend_type", row.text(t))]) }
        return [family]
    }
}
