/// Every server process by `backend_type` (client backends, autovacuum, walsender, workers…).
public struct BackendsCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["backend_type", "backends"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        "SELECT ARRAY[COALESCE(backend_type, 'unknown'), sum(n)::text] FROM grouped GROUP BY backend_type ORDER BY 1"
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var family = MetricFamily("pg_backends", .gauge,
            help: "Server processes by backend_type, excluding pgwarden's own sessions.")
        let t = result.column("backend_type"), n = result.column("backends")
        for row in result.rows { family.add(row.double(n), [("backend_type", row.text(t))]) }
        return [family]
    }
}
