import Logging
import Testing
@testable import PGWarden

/// Properties every collector's branch must have, whatever the server version.
@Suite("Collector SQL")
struct CollectorSQLTests {
    static let versions = [100000, 110000, 130000, 140000, 150000, 160000, 170000, 180000]
    /// The versions whose branches the collectors of issue 15 are written for, one per major.
    static let supportedVersions = [120000, 130000, 140000, 150000, 160000, 170000]
    static let optionSets = [CollectorOptions(), CollectorOptions(includeApplicationName: true),
                             CollectorOptions(includeWaitEvent: true)]

    @Test func defaultCollectorsInExpositionOrder() {
        let kinds = defaultCollectors.map { String(describing: type(of: $0)) }
        #expect(kinds == ["SettingsCollector", "SessionsCollector", "IdleInTransactionCollector", "BackendsCollector",
                          "RoleLimitsCollector", "DatabaseLimitsCollector", "LocksCollector",
                          "PreparedTransactionsCollector", "XminHorizonCollector", "BackendAgeCollector",
                          "RoleSettingsCollector", "WaitingSessionsCollector", "SessionEndsCollector"])
    }

    @Test(arguments: versions)
    func branchesNeverReadPgStatActivityThemselves(version: Int) {
        for collector in defaultCollectors {
            for options in Self.optionSets {
                let sql = collector.sql(serverVersion: version, options: options)
                #expect(!sql.contains("pg_stat_activity"), "\(type(of: collector)) must read the shared CTEs")
                #expect(!sql.contains("pg_stat_get_activity"), "\(type(of: collector)) must read the shared CTEs")
            }
        }
    }

    @Test(arguments: versions)
    func everyBranchIsOneReadOnlyParameterlessSelect(version: Int) {
        for collector in defaultCollectors {
            let sql = collector.sql(serverVersion: version, options: .init())
            let name = "\(type(of: collector))"
            #expect(!sql.contains(";"), "\(name)")
            #expect(!sql.contains("$1"), "\(name)")
            let head = sql.prefix(6).uppercased()
            #expect(head == "SELECT" || head.hasPrefix("WITH"), "\(name) starts with \(head)")
            #expect(sql.contains("ARRAY["), "\(name) returns a text[] row")
            for verb in ["INSERT ", "UPDATE ", "DELETE ", "pg_terminate_backend", "pg_cancel_backend", "set_config"] {
                #expect(!sql.contains(verb), "\(name) contains \(verb)")
            }
        }
    }

    @Test func onlySettingsLocksRoleSettingsAndSessionEndsDependOnTheVersion() {
        for collector in defaultCollectors {
            let old = collector.sql(serverVersion: 130000, options: .init())
            let new = collector.sql(serverVersion: 160000, options: .init())
            let versioned = collector is SettingsCollector || collector is LocksCollector
                || collector is RoleSettingsCollector || collector is SessionEndsCollector
            #expect((old != new) == versioned, "\(type(of: collector))")
        }
    }

    /// Each of 12-17 gets its own statement, and every branch of it is one read-only SELECT
    /// (the per-collector tests check each branch's text; the running server's is run for real
    /// by the integration tests).
    @Test(arguments: supportedVersions)
    func everySupportedVersionHasItsStatement(version: Int) {
        let statement = ScrapeStatement(collectors: defaultCollectors, serverVersion: version, options: .init())
        #expect(statement.sql.contains("'transaction_timeout'") == (version >= 170000))
        #expect(statement.sql.contains("sessions_killed") == (version >= 140000))
        #expect(statement.sql.contains("'idle_session_timeout'") == (version >= 140000))
        #expect(statement.sql.contains("waitstart") == (version >= 140000))
        #expect(occurrences(of: "pg_stat_get_activity(NULL)", in: statement.sql) == 1)
        for index in defaultCollectors.indices {
            #expect(statement.sql.contains(") AS q\(index)(r)"), "branch \(index)")
        }
    }

    @Test func locksUseWaitstartFrom14AndReadPgLocksOnlyWhenSomeoneWaits() {
        let v13 = LocksCollector().sql(serverVersion: 130000, options: .init())
        let v14 = LocksCollector().sql(serverVersion: 140000, options: .init())
        #expect(!v13.contains("pg_locks"))
        #expect(v14.contains("min(waitstart)"))
        #expect(v14.contains("EXISTS (SELECT 1 FROM activity WHERE wait_event_type = 'Lock')"))
    }

    @Test func applicationNameOnlyWhenOptedIn() {
        let plain = SessionsCollector().sql(serverVersion: 160000, options: .init())
        let withApp = SessionsCollector().sql(serverVersion: 160000, options: CollectorOptions(includeApplicationName: true))
        #expect(!plain.contains("GROUP BY application_name"))
        #expect(withApp.contains("GROUP BY application_name, datname, usename, state"))
        #expect(SessionsCollector().columns(options: .init()).count == 6)
        #expect(SessionsCollector().columns(options: CollectorOptions(includeApplicationName: true)).count == 7)
    }

    @Test func bucketBoundsComeFromOptions() {
        let options = CollectorOptions(idleInTransactionBuckets: [7, 42.5])
        let sql = IdleInTransactionCollector().sql(serverVersion: 160000, options: options)
        #expect(sql.contains("age <= 7)"))
        #expect(sql.contains("age <= 42.5)"))
        #expect(!sql.contains("age <= 3600)"))
        #expect(IdleInTransactionCollector().columns(options: options) == ["usename", "b0", "b1", "sessions", "total_age"])
        // Each session's age is computed once (the subquery is not pulled up into every FILTER).
        #expect(occurrences(of: "date_part(", in: sql) == 1)
        #expect(sql.contains("OFFSET 0) AS t GROUP BY usesysid) AS g GROUP BY role_name"))
    }

    @Test func namesAreLookedUpPerGroupNotPerSession() {
        for collector in [IdleInTransactionCollector(), LocksCollector()] as [any Collector] {
            let sql = collector.sql(serverVersion: 160000, options: .init())
            #expect(sql.contains("(SELECT rolname::text FROM pg_roles WHERE oid = "), "\(type(of: collector))")
            #expect(sql.contains("GROUP BY usesysid") || sql.contains("GROUP BY datid, usesysid"), "\(type(of: collector)) groups by oid first")
            #expect(sql.contains("role_name) AS role_name") || sql.contains("AS role_name"), "\(type(of: collector))")
            // ... and then by name: dropped roles share the name '', and a name gives one series.
            #expect(sql.contains("GROUP BY role_name") || sql.contains("GROUP BY kind, database_name, role_name"), "\(type(of: collector))")
        }
    }
}

@Suite("Scrape statement")
struct ScrapeStatementTests {
    @Test(arguments: CollectorSQLTests.versions)
    func readsTheSessionListOnceExcludingOwnBackends(version: Int) {
        let statement = ScrapeStatement(collectors: defaultCollectors, serverVersion: version, options: .init())
        #expect(occurrences(of: "pg_stat_get_activity(NULL)", in: statement.sql) == 1)
        #expect(!statement.sql.contains("pg_stat_activity"), "the view's per-session name joins are not needed")
        #expect(statement.sql.contains("FROM pg_stat_get_activity(NULL) WHERE pid <> pg_backend_pid() AND pid <> ALL($1::int4[])"))
        #expect(statement.sql.contains("activity AS MATERIALIZED") == (version >= 120000))
        // Sessions are counted once, at the finest grain, per oid; names are joined to the groups.
        #expect(statement.sql.contains("grouped AS \(version >= 120000 ? "MATERIALIZED " : "")(SELECT g.*, COALESCE(d.datname::text, '') AS datname"))
        #expect(statement.sql.contains("count(*) AS n, min(state_change) AS state_change, min(xact_start) AS xact_start, "
            + "min(backend_start) AS backend_start, max(GREATEST(age(backend_xid), age(backend_xmin))) AS xmin_age FROM activity GROUP BY 1, 2, 3, 4, 5)"))
        #expect(statement.sql.contains("LEFT JOIN pg_database d ON d.oid = g.datid LEFT JOIN pg_roles r ON r.oid = g.usesysid"))
        #expect(!statement.sql.contains(";"))
    }

    @Test func applicationNameIsReadOnlyWhenOptedIn() {
        let plain = ScrapeStatement(collectors: defaultCollectors, serverVersion: 160000, options: .init())
        let withApp = ScrapeStatement(collectors: defaultCollectors, serverVersion: 160000,
                                      options: CollectorOptions(includeApplicationName: true))
        #expect(!plain.sql.contains("application_name, state_change"))
        #expect(plain.sql.contains("''::text AS application_name"))
        #expect(withApp.sql.contains("state, application_name, state_change, xact_start, wait_event_type, backend_start, backend_xid, backend_xmin FROM pg_stat_get_activity"))
        #expect(withApp.sql.contains("COALESCE(application_name, '') AS application_name"))
    }

    @Test func oneTaggedBranchPerCollectorInOrder() {
        let statement = ScrapeStatement(collectors: defaultCollectors, serverVersion: 160000, options: .init())
        #expect(occurrences(of: "UNION ALL SELECT ", in: statement.sql) >= defaultCollectors.count - 1)
        for index in defaultCollectors.indices {
            #expect(statement.sql.contains("SELECT \(index) AS section, r FROM ("), "branch \(index)")
            #expect(statement.sql.contains(") AS q\(index)(r)"), "branch \(index)")
        }
    }

    @Test func splitRoutesRowsToTheirCollectors() throws {
        let statement = ScrapeStatement(collectors: [BackendsCollector(), SettingsCollector()], serverVersion: 160000,
                                        options: .init())
        let rows: [[String?]] = [
            ["0", "{\"client backend\",3}"],
            ["1", "{max_connections,100,\"\"}"],
            ["0", "{walwriter,1}"],
        ]
        let parts = try statement.split(QueryResult(columns: ["section", "r"], rows: rows))
        #expect(parts.count == 2)
        #expect(parts[0].columns == ["backend_type", "backends"])
        #expect(parts[0].rows == [["client backend", "3"], ["walwriter", "1"]])
        #expect(parts[1].rows == [["max_connections", "100", ""]])
    }

    @Test func settingsBranchRunsOnlyAfterAReload() {
        let statement = ScrapeStatement(collectors: [BackendsCollector(), SettingsCollector()], serverVersion: 160000,
                                        options: .init())
        let gate = "WHERE pg_conf_load_time()::text IS DISTINCT FROM $2::text"
        #expect(statement.sql.contains(") AS q1(r) \(gate)"))
        #expect(!statement.sql.contains(") AS q0(r) WHERE"), "session branches run on every scrape")
        #expect(statement.sql.hasSuffix(
            "\nUNION ALL SELECT -1 AS section, ARRAY[pg_conf_load_time()::text, CASE WHEN pg_conf_load_time()::text IS DISTINCT FROM $2::text THEN 't' ELSE 'f' END]"))
        #expect(SettingsCollector().readsConfiguration)
        #expect(defaultCollectors.filter(\.readsConfiguration).count == 1)
    }

    @Test func heldSettingsStandInWhenTheBranchDidNotRun() throws {
        let statement = ScrapeStatement(collectors: [BackendsCollector(), SettingsCollector()], serverVersion: 160000,
                                        options: .init())
        let loaded = "2026-11-21 10:00:00.123456+00"
        let first: [[String?]] = [["0", "{\"client backend\",3}"], ["1", "{max_connections,100,\"\"}"], ["-1", "{\"\(loaded)\",t}"]]
        let (parts, held) = try statement.results(QueryResult(columns: ["section", "r"], rows: first), held: nil)
        #expect(parts[1].rows == [["max_connections", "100", ""]])
        #expect(held?.loadTime == loaded)

        // Same load time: the server skipped the branch; the held rows stand in, sessions are fresh.
        let second: [[String?]] = [["0", "{\"client backend\",4}"], ["-1", "{\"\(loaded)\",f}"]]
        let (again, heldAgain) = try statement.results(QueryResult(columns: ["section", "r"], rows: second), held: held)
        #expect(again[0].rows == [["client backend", "4"]])
        #expect(again[1].rows == [["max_connections", "100", ""]])
        #expect(heldAgain == held)

        // After a reload the branch ran again: its rows replace the held ones.
        let reloaded = "2026-11-21 11:00:00+00"
        let third: [[String?]] = [["1", "{max_connections,200,\"\"}"], ["-1", "{\"\(reloaded)\",t}"]]
        let (fresh, heldFresh) = try statement.results(QueryResult(columns: ["section", "r"], rows: third), held: held)
        #expect(fresh[1].rows == [["max_connections", "200", ""]])
        #expect(heldFresh?.loadTime == reloaded)

        // Skipped without anything held cannot happen ($2 was NULL); it is an error, not empty settings.
        #expect(throws: PostgresError.self) {
            try statement.results(QueryResult(columns: ["section", "r"], rows: second), held: nil)
        }
    }

    @Test(arguments: [
        ["-1", "{2026-11-21}"],  // configuration row without the flag
        ["-1", "{2026-11-21,maybe}"],
        ["7", "{a,1}"],          // no such section
        ["0", "{a,1,2}"],        // wrong element count
        ["0", "not an array"],
        [nil, "{a,1}"],
    ] as [[String?]])
    func splitRejectsMalformedRows(row: [String?]) {
        let statement = ScrapeStatement(collectors: [BackendsCollector()], serverVersion: 160000, options: .init())
        #expect(throws: PostgresError.self) { try statement.split(QueryResult(columns: ["section", "r"], rows: [row])) }
    }

    @Test func scraperBuildsOneStatementPerVersionAndCachesIt() {
        let scraper = Scraper(database: Database(settings: ConnectionSettings(dsn: "host=/nonexistent")),
                              version: "test", logger: Logger(label: "pgwarden.tests"))
        let v13 = scraper.statement(serverVersion: 130000).sql
        let v16 = scraper.statement(serverVersion: 160000).sql
        #expect(v13 != v16)
        #expect(!v13.contains("'reserved_connections'"))
        #expect(v16.contains("'reserved_connections'"))
        #expect(scraper.statement(serverVersion: 130000).sql == v13)
    }
}

@Suite("Text array parsing")
struct TextArrayTests {
    @Test(arguments: [
        ("{}", []),
        ("{a}", ["a"]),
        ("{a,b,c}", ["a", "b", "c"]),
        ("{\"idle in transaction\",3}", ["idle in transaction", "3"]),
        ("{NULL,x}", [nil, "x"]),
        ("{\"NULL\",x}", ["NULL", "x"]),
        ("{\"\",x}", ["", "x"]),
        ("{\"a\\\"b\",\"c\\\\d\"}", ["a\"b", "c\\d"]),
        ("{\"a,b\",\"{c}\"}", ["a,b", "{c}"]),
        ("{rôle,データ}", ["rôle", "データ"]),
        ("{\"line\nbreak\"}", ["line\nbreak"]),
    ] as [(String, [String?])])
    func parses(text: String, expected: [String?]) {
        #expect(parseTextArray(text) == expected)
    }

    @Test(arguments: ["", "a,b", "{a", "a}", "{\"unterminated}", "{\"a\"b}"])
    func rejects(text: String) {
        #expect(parseTextArray(text) == nil)
    }
}
