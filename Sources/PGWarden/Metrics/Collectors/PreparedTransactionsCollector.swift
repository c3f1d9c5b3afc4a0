/// Prepared transactions (two-phase commit) per database and owner, and the oldest one's age.
///
/// A prepared transaction outlives the session that prepared it, holds its locks and its place
/// in vacuum's horizon, and none of the server's session timeouts applies to it. Series exist
/// only where prepared transactions do (`pg_xmin_horizon_age_xids{holder="prepared_transaction"}`
/// is the zero-filled signal that there are none).
public struct PreparedTransactionsCollector: Collector {
    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["datname", "owner", "transactions", "age"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // pg_prepared_xacts has had the same columns since 8.1: one branch for 12-17 alike.
        """
        SELECT ARRAY[COALESCE(database::text, ''), COALESCE(owner::text, ''), count(*)::text, \
        \(ageSeconds("min(prepared)"))::text] FROM pg_prepared_xacts GROUP BY database, owner ORDER BY 1
        """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var count = MetricFamily("pg_prepared_transactions", .gauge,
            help: "Prepared transactions (PREPARE TRANSACTION, waiting for COMMIT/ROLLBACK PREPARED) per database and owner.")
        var age = MetricFamily("pg_prepared_transaction_age_max_seconds", .gauge,
            help: "Age of the oldest prepared transaction (now - prepared) per database and owner; no session timeout applies to it.")
        let d = result.column("datname"), o = result.column("owner")
        let n = result.column("transactions"), a = result.column("age")
        for row in result.rows {
            let labels = [("datname", row.text(d)), ("owner", row.text(o))]
            count.add(row.double(n), labels)
            // A transaction prepared after the scrape's now() but before its read comes out a
            // few microseconds negative.
            age.add(max(0, row.double(a)), labels)
        }
        return [count, age]
    }
}
