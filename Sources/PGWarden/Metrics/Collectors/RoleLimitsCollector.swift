/// Per-role connection limits (`rolconnlimit`), their use, and sessions of roles that can no
/// longer log in (NOLOGIN set while sessions stay open).
public struct RoleLimitsCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["usename", "connlimit", "canlogin", "sessions"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        """
        SELECT ARRAY[r.rolname::text, r.rolconnlimit::text, \(boolText("r.rolcanlogin")), \
        COALESCE(s.sessions, 0)::text] FROM pg_roles r LEFT JOIN (\
        SELECT usesysid, sum(n) AS sessions FROM grouped WHERE backend_type = 'client backend' GROUP BY usesysid) AS s \
        ON s.usesysid = r.oid WHERE r.rolconnlimit >= 0 OR s.sessions > 0 ORDER BY 1
        """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var limit = MetricFamily("pg_role_connection_limit", .gauge,
            help: "The role's connection limit (rolconnlimit, -1 means none), for roles with sessions or a limit.")
        var used = MetricFamily("pg_role_sessions", .gauge,
            help: "Client sessions held by the role across all databases (what rolconnlimit is checked against).")
        var over = MetricFamily("pg_role_over_connection_limit", .gauge,
            help: "1 when the role holds more sessions than its connection limit (e.g. a limit lowered below the live count), else 0.")
        var nologin = MetricFamily("pg_role_nologin_sessions", .gauge,
            help: "Sessions held by a role that can no longer log in (NOLOGIN).")
        let u = result.column("usename"), l = result.column("connlimit")
        let c = result.column("canlogin"), n = result.column("sessions")
        for row in result.rows {
            let labels = [("usename", row.text(u))]
            let connlimit = row.double(l), sessions = row.double(n)
            limit.add(connlimit, labels)
            used.add(sessions, labels)
            over.add(connlimit >= 0 && sessions > connlimit ? 1 : 0, labels)
            if !row.bool(c) && sessions > 0 { nologin.add(sessions, labels) }
        }
        return [limit, used, over, nologin]
    }
}
