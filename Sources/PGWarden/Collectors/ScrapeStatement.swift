/// Builds the one statement a scrape runs and splits its rows back per collector.
///
/// The session list is expensive to read (the server builds every column of every backend,
/// query text included, and looks each backend up in the process array), so it is read once,
/// straight from `pg_stat_get_activity(NULL)` (the function behind pg_stat_activity, without the
/// view's per-row name joins), into a materialized CTE that every collector's branch shares.
/// Sessions are then counted per database/role oid and the names are joined to the few groups.
/// The branches are joined with UNION ALL and tagged by their position. The statement's one
/// parameter ($1, int4[]) lists pgwarden's other own backends (the actions' connection).
public struct ScrapeStatement: Sendable {
    public let sql: String
    let columns: [[String]]

    public init(collectors: [any Collector], serverVersion: Int, options: CollectorOptions) {
        // Before 12 every CTE is materialized anyway; from 12 it has to be asked for, or the
        // session list would be read again by every branch that uses it.
        let materialized = serverVersion >= 120000 ? "MATERIALIZED " : ""
        let app = options.includeApplicationName
        var sql = """
            WITH activity AS \(materialized)(SELECT pid, backend_type, datid, usesysid, state, \
            \(app ? "application_name, " : "")state_change, xact_start, wait_event_type FROM pg_stat_get_activity(NULL) \
            WHERE pid <> pg_backend_pid() AND pid <> ALL($1::int4[])), \
            grouped AS \(materialized)(SELECT g.*, COALESCE(d.datname::text, '') AS datname, \
            COALESCE(r.rolname::text, '') AS usename FROM (SELECT backend_type, datid, usesysid, \
            COALESCE(state, 'unknown') AS state, \(app ? "COALESCE(application_name, '')" : "''::text") AS application_name, \
            count(*) AS n, min(state_change) AS state_change, min(xact_start) AS xact_start FROM activity \
            GROUP BY 1, 2, 3, 4, 5) AS g LEFT JOIN pg_database d ON d.oid = g.datid LEFT JOIN pg_roles r ON r.oid = g.usesysid)
            """
        for (index, collector) in collectors.enumerated() {
            sql += index == 0 ? "\nSELECT " : "\nUNION ALL SELECT "
            sql += "\(index) AS section, r FROM (\(collector.sql(serverVersion: serverVersion, options: options))) AS q\(index)(r)"
        }
        self.sql = sql
        self.columns = collectors.map { $0.columns(options: options) }
    }

    /// One `QueryResult` per collector from the statement's (section, r) rows.
    public func split(_ result: QueryResult) throws -> [QueryResult] {
        var rows = [[[String?]]](repeating: [], count: columns.count)
        for row in result.rows {
            guard let section = row[0].flatMap({ Int($0) }), section >= 0, section < columns.count,
                  let text = row[1], let elements = parseTextArray(text), elements.count == columns[section].count else {
                throw PostgresError(.queryFailed, message: "unexpected scrape row \(row)")
            }
            rows[section].append(elements)
        }
        return zip(columns, rows).map { QueryResult(columns: $0, rows: $1) }
    }
}
