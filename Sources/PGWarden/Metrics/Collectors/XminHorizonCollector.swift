/// How far back each kind of holder keeps vacuum's xmin horizon, in transaction ids, and the
/// sessions that hold it per database and role.
///
/// Vacuum cannot remove row versions that the oldest snapshot or running transaction might still
/// see. Three kinds of holders set that horizon: sessions (their snapshot, `backend_xmin`, or
/// their own transaction id, `backend_xid`, whichever is older), prepared transactions (their
/// transaction id) and replication slots (`xmin` fed back by a standby, `catalog_xmin` of logical
/// decoding). Autovacuum workers are left out: a vacuum's own snapshot does not hold back other
/// vacuums (PROC_IN_VACUUM), and it is not something to end.
public struct XminHorizonCollector: Collector {
    /// A kind of horizon holder, the `holder` label's value.
    public enum Holder: String, CaseIterable, Sendable {
        case session
        case preparedTransaction = "prepared_transaction"
        case replicationSlot = "replication_slot"
    }

    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["holder", "datname", "usename", "age"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // The columns read here exist unchanged in 12-17: one branch for all. The two aggregates
        // without GROUP BY always return one row (NULL when there is no holder of that kind).
        """
        SELECT ARRAY['\(Holder.session.rawValue)', datname, usename, max(xmin_age)::text] FROM grouped \
        WHERE xmin_age IS NOT NULL AND backend_type IS DISTINCT FROM 'autovacuum worker' GROUP BY datname, usename \
        UNION ALL SELECT ARRAY['\(Holder.preparedTransaction.rawValue)', '', '', max(age(transaction))::text] \
        FROM pg_prepared_xacts \
        UNION ALL SELECT ARRAY['\(Holder.replicationSlot.rawValue)', '', '', \
        max(GREATEST(age(xmin), age(catalog_xmin)))::text] FROM pg_replication_slots
        """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var horizon = MetricFamily("pg_xmin_horizon_age_xids", .gauge,
            help: "How many transaction ids vacuum's xmin horizon is held back, per kind of holder (0 when none holds it).")
        var sessions = MetricFamily("pg_session_xmin_age_max_xids", .gauge,
            help: "Age in transaction ids of the oldest backend_xmin or backend_xid among the sessions of this database and role that hold one.")
        let h = result.column("holder"), d = result.column("datname"), u = result.column("usename"), a = result.column("age")
        var oldest: [Holder: Double] = [:]
        for row in result.rows {
            guard let holder = Holder(rawValue: row.text(h)) else { continue }
            let age = max(0, row.double(a))
            oldest[holder] = max(oldest[holder] ?? 0, age)
            if holder == .session {
                sessions.add(age, [("datname", row.text(d)), ("usename", row.text(u))])
            }
        }
        for holder in Holder.allCases {
            horizon.add(oldest[holder] ?? 0, [("holder", holder.rawValue)])
        }
        return [horizon, sessions]
    }
}
