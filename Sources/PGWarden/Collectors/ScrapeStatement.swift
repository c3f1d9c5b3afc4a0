/// Builds the one statement a scrape runs and splits its rows back per collector.
///
/// pg_stat_activity is expensive to read (the server builds every column of every backend,
/// query text included), so it is read once into a materialized CTE that every collector's
/// branch shares; the branches are joined with UNION ALL and tagged by their position.
/// Its one parameter ($1, int4[]) lists pgwarden's other own backends (the actions' connection).
public struct ScrapeStatement: Sendable {
    public let sql: String
    let columns: [[String]]

    public init(collectors: [any Collector], serverVersion: Int, options: CollectorOptions) {
        // Before 12 every CTE is materialized; from 12 the session list is materialized once and
        // `clients` is inlined as a filter over it instead of being copied again.
        let materialized = serverVersion >= 120000 ? "MATERIALIZED " : ""
        let inlined = serverVersion >= 120000 ? "NOT MATERIALIZED " : ""
        var sql = """
            WITH activity AS \(materialized)(SELECT pid, backend_type, datid, datname, usesysid, usename, state, \
            application_name, state_change, xact_start, wait_event_type FROM pg_stat_activity \
            WHERE pid <> pg_backend_pid() AND pid <> ALL($1::int4[])), \
            clients AS \(inlined)(SELECT * FROM activity WHERE backend_type = 'client backend'), \
            grouped AS \(materialized)(SELECT backend_type, datid, COALESCE(datname::text, '') AS datname, usesysid, \
            COALESCE(usename::text, '') AS usename, COALESCE(state, 'unknown') AS state, \
            \(options.includeApplicationName ? "COALESCE(application_name, '')" : "''::text") AS application_name, \
            count(*) AS n, min(state_change) AS state_change, min(xact_start) AS xact_start FROM activity \
            GROUP BY 1, 2, 3, 4, 5, 6, 7)
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
