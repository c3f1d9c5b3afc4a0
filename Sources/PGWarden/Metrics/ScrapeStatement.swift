/// Builds the one statement a scrape runs and splits its rows back per collector.
///
/// The session list is expensive to read (the server builds every column of every backend,
/// query text included, and looks each backend up in the process array), so it is read once,
/// straight from `pg_stat_get_activity(NULL)` (the function behind pg_stat_activity, without the
/// view's per-row name joins), into a materialized CTE that every collector's branch shares.
/// Sessions are then counted per database/role oid and the names are joined to the few groups.
/// The branches are joined with UNION ALL and tagged by their position. $1 (int4[]) lists
/// pgwarden's other own backends (the actions' connection).
///
/// The branches of collectors that read the configuration (`readsConfiguration`) run only when
/// the session's configuration was loaded at another time than $2: pg_conf_load_time() as this
/// session printed it when the caller got their rows (NULL on a new connection). The times are
/// compared as the session's text, never parsed back: with a DateStyle other than ISO the text
/// carries a zone abbreviation that timestamptz input may reject or misread. A session re-reads
/// the configuration files on every reload, and pg_conf_load_time() then changes, so within one
/// connection the rows held are exactly what the branches would return; pg_show_all_settings
/// (about 2 ms at 2000 sessions, for a handful of values) is skipped on every other scrape. A
/// last row, tagged -1, carries the load time and whether those branches ran.
public struct ScrapeStatement: Sendable {
    public let sql: String
    let columns: [[String]]
    /// Positions of the collectors whose branches depend on the configuration load time.
    let configurationSections: [Int]

    /// Configuration-dependent rows held from an earlier scrape on the same connection.
    public struct HeldConfiguration: Sendable, Equatable {
        /// pg_conf_load_time() as the session printed it (passed back as $2).
        public var loadTime: String
        var results: [Int: QueryResult]
    }

    public init(collectors: [any Collector], serverVersion: Int, options: CollectorOptions) {
        // Before 12 every CTE is materialized anyway; from 12 it has to be asked for, or the
        // session list would be read again by every branch that uses it.
        let materialized = serverVersion >= 120000 ? "MATERIALIZED " : ""
        let app = options.includeApplicationName
        let wait = options.includeWaitEvent
        // xmin_age: how far the group's oldest snapshot (backend_xmin) or own transaction id
        // (backend_xid, which holds the horizon without a snapshot, e.g. idle in a transaction
        // after a write under READ COMMITTED) lies behind; age() of NULL is NULL and GREATEST
        // skips it.
        var sql = """
            WITH activity AS \(materialized)(SELECT pid, backend_type, datid, usesysid, state, \
            \(app ? "application_name, " : "")state_change, xact_start, wait_event_type, \(wait ? "wait_event, " : "")\
            backend_start, backend_xid, backend_xmin FROM pg_stat_get_activity(NULL) \
            WHERE pid <> pg_backend_pid() AND pid <> ALL($1::int4[])), \
            grouped AS \(materialized)(SELECT g.*, COALESCE(d.datname::text, '') AS datname, \
            COALESCE(r.rolname::text, '') AS usename FROM (SELECT backend_type, datid, usesysid, \
            COALESCE(state, 'unknown') AS state, \(app ? "COALESCE(application_name, '')" : "''::text") AS application_name, \
            count(*) AS n, min(state_change) AS state_change, min(xact_start) AS xact_start, \
            min(backend_start) AS backend_start, max(GREATEST(age(backend_xid), age(backend_xmin))) AS xmin_age FROM activity \
            GROUP BY 1, 2, 3, 4, 5) AS g LEFT JOIN pg_database d ON d.oid = g.datid LEFT JOIN pg_roles r ON r.oid = g.usesysid)
            """
        let reloaded = "pg_conf_load_time()::text IS DISTINCT FROM $2::text"
        for (index, collector) in collectors.enumerated() {
            sql += index == 0 ? "\nSELECT " : "\nUNION ALL SELECT "
            sql += "\(index) AS section, r FROM (\(collector.sql(serverVersion: serverVersion, options: options))) AS q\(index)(r)"
            // No column in it: the planner makes it a one-time filter, and the branch is not run at all.
            if collector.readsConfiguration { sql += " WHERE \(reloaded)" }
        }
        sql += "\nUNION ALL SELECT -1 AS section, ARRAY[pg_conf_load_time()::text, CASE WHEN \(reloaded) THEN 't' ELSE 'f' END]"
        self.sql = sql
        self.columns = collectors.map { $0.columns(options: options) }
        self.configurationSections = collectors.indices.filter { collectors[$0].readsConfiguration }
    }

    /// The collectors' results from a scrape's rows, completed with `held` where the
    /// configuration branches did not run, and what to hold for the next scrape on this connection.
    public func results(_ result: QueryResult, held: HeldConfiguration?) throws -> (results: [QueryResult], held: HeldConfiguration?) {
        let (split, meta) = try splitTagged(result)
        var parts = split
        guard let meta else { return (parts, nil) }
        if meta.read {
            let kept = Dictionary(uniqueKeysWithValues: configurationSections.map { ($0, parts[$0]) })
            return (parts, HeldConfiguration(loadTime: meta.loadTime, results: kept))
        }
        guard let held else {
            throw PostgresError(.queryFailed, message: "the server skipped the settings although pgwarden holds none; the next scrape reads them")
        }
        for index in configurationSections { parts[index] = held.results[index] ?? parts[index] }
        return (parts, held)
    }

    /// One `QueryResult` per collector from the statement's (section, r) rows, as they came.
    public func split(_ result: QueryResult) throws -> [QueryResult] {
        try splitTagged(result).parts
    }

    private func splitTagged(_ result: QueryResult) throws -> (parts: [QueryResult], meta: (loadTime: String, read: Bool)?) {
        var rows = [[[String?]]](repeating: [], count: columns.count)
        var meta: (loadTime: String, read: Bool)?
        for row in result.rows {
            let section = row[0].flatMap { Int($0) }
            let elements = row[1].flatMap(parseTextArray)
            if section == -1, let elements, elements.count == 2, let loadTime = elements[0], let read = elements[1],
               read == "t" || read == "f" {
                meta = (loadTime, read == "t")
                continue
            }
            guard let section, section >= 0, section < columns.count, let elements,
                  elements.count == columns[section].count else {
                throw PostgresError(.queryFailed, message: "unexpected scrape row \(row)")
            }
            rows[section].append(elements)
        }
        return (zip(columns, rows).map { QueryResult(columns: $0, rows: $1) }, meta)
    }
}
