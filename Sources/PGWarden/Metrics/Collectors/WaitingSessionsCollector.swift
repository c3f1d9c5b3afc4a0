/// Client sessions running a statement that is waiting, per database, role and
/// `wait_event_type` (and `wait_event` when opted in).
///
/// Idle sessions, in a transaction or not, wait for their client (`Client`/`ClientRead`) by
/// definition; they are counted by `pg_sessions`, not here. `wait_event_type` comes from the
/// server's fixed list (Activity, BufferPin, Client, Extension, InjectionPoint, IO, IPC, Lock,
/// LWLock, Timeout), so the label is bounded; `wait_event` has a few hundred values and is
/// opt-in (`--collector.wait-event`).
public struct WaitingSessionsCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] {
        ["datname", "usename", "wait_event_type"] + (options.includeWaitEvent ? ["wait_event"] : []) + ["sessions"]
    }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // One branch for 12-17 (wait_event_type and wait_event since 9.6; 'fastpath function
        // call' is the other state in which a session runs something).
        let event = options.includeWaitEvent ? ", COALESCE(wait_event, '') AS wait_event" : ""
        let eventColumn = options.includeWaitEvent ? ", wait_event" : ""
        // Counted per oid, then per name: the sessions of two dropped roles (both named '')
        // make one series, not two with the same labels.
        return """
            SELECT ARRAY[datname, usename, wait_event_type\(eventColumn), sum(n)::text] FROM (\
            SELECT \(databaseName("datid")) AS datname, \(roleName("usesysid")) AS usename, wait_event_type\(event), \
            count(*) AS n FROM activity WHERE backend_type = 'client backend' AND state IN ('active', 'fastpath function call') \
            AND wait_event_type IS NOT NULL GROUP BY datid, usesysid, wait_event_type\(eventColumn)) AS w \
            GROUP BY datname, usename, wait_event_type\(eventColumn)
            """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var family = MetricFamily("pg_sessions_waiting", .gauge,
            help: "Client sessions whose running statement is in a wait, per database, role and wait_event_type (idle sessions are not counted).")
        let d = result.column("datname"), u = result.column("usename"), t = result.column("wait_event_type")
        let e = options.includeWaitEvent ? result.column("wait_event") : nil
        let n = result.column("sessions")
        for row in result.rows {
            var labels = [("datname", row.text(d)), ("usename", row.text(u)), ("wait_event_type", row.text(t))]
            if let e { labels.append(("wait_event", row.text(e))) }
            family.add(row.double(n), labels)
        }
        return [family]
    }
}
