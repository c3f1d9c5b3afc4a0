/// Per-database connection limits (`datconnlimit`), their use, and sessions in databases that no
/// longer allow connections (`datallowconn = false`).
public struct DatabaseLimitsCollector: Collector {
    public init() {}

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // datconnlimit = -2 marks a database left invalid by an interrupted DROP DATABASE (15.4+).
        """
        SELECT ARRAY[d.datname::text, d.datconnlimit::text, \(boolText("d.datallowconn")), \
        COALESCE(s.sessions, 0)::text] FROM pg_database d LEFT JOIN (\
        SELECT datid, sum(n) AS sessions FROM grouped WHERE backend_type = 'client backend' GROUP BY datid) AS s \
        ON s.datid = d.oid WHERE d.datconnlimit <> -2 AND (NOT d.datistemplate OR s.sessions > 0) ORDER BY 1
        """
    }

    public func columns(options: CollectorOptions) -> [String] { ["datname", "connlimit", "allowconn", "sessions"] }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var limit = MetricFamily("pg_database_connection_limit", .gauge,
            help: "The database's connection limit (datconnlimit, -1 means none).")
        var used = MetricFamily("pg_database_sessions", .gauge,
            help: "Client sessions connected to the database (what datconnlimit is checked against).")
        var over = MetricFamily("pg_database_over_connection_limit", .gauge,
            help: "1 when the database holds more sessions than its connection limit, else 0.")
        var disallowed = MetricFamily("pg_database_disallowed_sessions", .gauge,
            help: "Sessions in a database that no longer allows connections (datallowconn = false).")
        let d = result.column("datname"), l = result.column("connlimit")
        let a = result.column("allowconn"), n = result.column("sessions")
        for row in result.rows {
            let labels = [("datname", row.text(d))]
            let connlimit = row.double(l), sessions = row.double(n)
            limit.add(connlimit, labels)
            used.add(sessions, labels)
            over.add(connlimit >= 0 && sessions > connlimit ? 1 : 0, labels)
            if !row.bool(a) { disallowed.add(sessions, labels) }
        }
        return [limit, used, over, disallowed]
    }
}
