/// Sessions waiting on locks held by others, the sessions holding them, and the longest wait.
public struct LocksCollector: Collector {
    public init() {}

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // pg_locks.waitstart (14+) says when the lock wait began; before 14, the state change
        // (the start of the waiting statement) is the closest bound.
        let since = serverVersion >= 140000
            ? "COALESCE((SELECT min(l.waitstart) FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted), a.state_change)"
            : "a.state_change"
        return """
            WITH w AS (SELECT a.pid, COALESCE(a.datname, '') AS datname, COALESCE(a.usename, '') AS usename, \
            pg_blocking_pids(a.pid) AS blockers, \(since) AS since FROM pg_stat_activity a \
            WHERE a.wait_event_type = 'Lock' AND a.pid <> pg_backend_pid()), \
            b AS (SELECT DISTINCT unnest(blockers) AS pid FROM w) \
            SELECT 'blocked' AS kind, datname, usename, count(*) AS sessions, \
            GREATEST(0, max(\(ageSeconds("since")))) AS wait FROM w WHERE cardinality(blockers) > 0 GROUP BY 2, 3 \
            UNION ALL SELECT 'blocking', COALESCE(a.datname, ''), COALESCE(a.usename, ''), count(*), 0 \
            FROM pg_stat_activity a JOIN b ON a.pid = b.pid WHERE a.pid <> pg_backend_pid() GROUP BY 2, 3 \
            ORDER BY 1, 2, 3
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
