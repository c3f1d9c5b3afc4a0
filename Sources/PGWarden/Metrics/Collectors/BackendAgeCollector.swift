/// The oldest client connection per database and role (`now() - backend_start`): pools that never
/// recycle their connections, leaked connections, sessions that outlive a deployment.
public struct BackendAgeCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["datname", "usename", "age"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // One branch for 12-17: backend_start has been in pg_stat_get_activity since 9.x.
        """
        SELECT ARRAY[datname, usename, \(ageSeconds("min(backend_start)"))::text] FROM grouped \
        WHERE backend_type = 'client backend' GROUP BY datname, usename
        """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var age = MetricFamily("pg_session_backend_age_max_seconds", .gauge,
            help: "Age of the oldest client connection (now - backend_start) per database and role.")
        let d = result.column("datname"), u = result.column("usename"), a = result.column("age")
        for row in result.rows where row[a] != nil {
            age.add(max(0, row.double(a)), [("datname", row.text(d)), ("usename", row.text(u))])
        }
        return [age]
    }
}
