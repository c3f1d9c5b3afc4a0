/// Sessions waiting on locks held by others, the sessions holding them, and the longest wait.
public struct LocksCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["kind", "datname", "usename", "sessions", "wait"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // pg_locks.waitstart (14+) says when the lock wait began; before 14, the state change
        // (the start of the waiting statement) is the closest bound. pg_locks is only read when
        // some backend waits on a lock (the EXISTS is evaluated once).
        let waitStarts = serverVersion >= 140000
            ? "LEFT JOIN (SELECT pid, min(waitstart) AS waitstart FROM pg_locks WHERE NOT granted " +
              "AND EXISTS (SELECT 1 FROM activity WHERE wait_event_type = 'Lock') GROUP BY pid) AS l ON l.pid = w.pid"
            : ""
        let since = serverVersion >= 140000 ? "COALESCE(l.waitstart, w.state_change)" : "w.state_change"
        // Counted per database and role oid, named once per oid pair, then summed per name:
        // dropped roles (or databases) whose sessions live on all have the name '', and one
        // name pair must give one series.
        return """
            WITH waiting AS (SELECT w.datid, w.usesysid, pg_blocking_pids(w.pid) AS blockers, \(since) AS since \
            FROM activity w\(waitStarts.isEmpty ? "" : " " + waitStarts) WHERE w.wait_event_type = 'Lock') \
            SELECT ARRAY[kind, database_name, role_name, sum(n)::text, \
            CASE WHEN kind = 'blocked' THEN GREATEST(0, \(ageSeconds("min(since)")))::text ELSE '0' END] FROM (\
            SELECT 'blocked' AS kind, \(databaseName("datid")) AS database_name, \(roleName("usesysid")) AS role_name, \
            count(*) AS n, min(since) AS since FROM waiting WHERE cardinality(blockers) > 0 \
            GROUP BY datid, usesysid \
            UNION ALL SELECT 'blocking', \(databaseName("a.datid")), \(roleName("a.usesysid")), \
            count(*), NULL::timestamptz FROM activity a WHERE a.pid IN (SELECT unnest(blockers) FROM waiting) \
            GROUP BY a.datid, a.usesysid) AS g GROUP BY kind, database_name, role_name
            """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var blocked = MetricFamily("pg_blocked_sessions", .gauge,
            help: "Sessions waiting on a lock held by another session (pg_blocking_pids non-empty).")
        var wait = MetricFamily("pg_blocked_wait_max_seconds", .gauge,
            help: "Longest current wait for a lock among the blocked sessions.")
        var blocking = MetricFamily("pg_blocking_sessions", .gauge,
            help: "Sessions holding a lock that at least one other session waits for.")
        let k = result.column("kind"), d = result.column("datname"), u = result.column("usename")
        let n = result.column("sessions"), w = result.column("wait")
        for row in result.rows {
            let labels = [("datname", row.text(d)), ("usename", row.text(u))]
            if row.text(k) == "blocked" {
                blocked.add(row.double(n), labels)
                wait.add(row.double(w), labels)
            } else {
                blocking.add(row.double(n), labels)
            }
        }
        return [blocked, wait, blocking]
    }
}
