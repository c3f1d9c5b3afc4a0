import Testing
@testable import PGWarden

@Suite("DatabaseLimitsCollector")
struct DatabaseLimitsCollectorTests: CollectorSuite {
    let collector = DatabaseLimitsCollector()
    static let columns = ["datname", "connlimit", "allowconn", "sessions"]

    @Test func familyNamesAndTypes() {
        let got = families([])
        #expect(got.map(\.name) == ["pg_database_connection_limit", "pg_database_sessions",
                                    "pg_database_over_connection_limit", "pg_database_disallowed_sessions"])
        #expect(got.allSatisfy { $0.type == .gauge && $0.samples.isEmpty })
    }

    @Test(arguments: [
        ("-1", "300", 0.0),
        ("0", "0", 0.0),
        ("0", "1", 1.0),
        ("2", "2", 0.0),
        ("2", "3", 1.0),
    ])
    func overLimit(connlimit: String, sessions: String, over: Double) {
        let got = families([["app", connlimit, "t", sessions]])
        #expect(value(family(got, "pg_database_over_connection_limit"), ["datname": "app"]) == over)
        #expect(value(family(got, "pg_database_connection_limit"), ["datname": "app"]) == Double(connlimit))
        #expect(value(family(got, "pg_database_sessions"), ["datname": "app"]) == Double(sessions))
    }

    @Test func disallowedDatabasesReportTheirSessions() {
        let got = families([
            ["app", "-1", "t", "3"],
            ["closed", "-1", "f", "4"],
            ["closed_empty", "-1", "f", "0"],
        ])
        let disallowed = family(got, "pg_database_disallowed_sessions")
        #expect(value(disallowed, ["datname": "closed"]) == 4)
        #expect(samples(disallowed, ["datname": "app"]).isEmpty, "databases that allow connections never appear")
        // A closed database without sessions may be exported as 0, never as more.
        #expect(samples(disallowed, ["datname": "closed_empty"]).allSatisfy { $0.value == 0 })
        #expect(value(family(got, "pg_database_over_connection_limit"), ["datname": "closed"]) == 0)
    }

    @Test func labelsAreDatnameOnly() {
        let got = families([["データ", "5", "t", "1"]])
        for f in got {
            #expect(f.samples.allSatisfy { labelNames($0) == ["datname"] }, "\(f.name)")
        }
        #expect(value(family(got, "pg_database_sessions"), ["datname": "データ"]) == 1)
    }

    @Test func columnsAreWhatFamiliesRead() {
        #expect(collector.columns(options: .init()) == Self.columns)
    }

    @Test func booleanTextFromTheScrapeStatement() throws {
        let got = try familiesThroughScrape(collector, [
            ["closed db", "-1", "f", "4"],
            ["app", "1", "t", "2"],
        ])
        #expect(value(family(got, "pg_database_disallowed_sessions"), ["datname": "closed db"]) == 4)
        #expect(samples(family(got, "pg_database_disallowed_sessions"), ["datname": "app"]).isEmpty)
        #expect(value(family(got, "pg_database_over_connection_limit"), ["datname": "app"]) == 1)
    }

    @Test func sqlSkipsInvalidAndIdleTemplateDatabases() {
        let sql = collector.sql(serverVersion: 160000, options: .init())
        #expect(sql.contains("FROM pg_database d"))
        #expect(sql.contains("datconnlimit <> -2"))
        #expect(sql.contains("(NOT d.datistemplate OR s.sessions > 0)"))
        // Client sessions are added up from the shared per-group counts, per database oid.
        #expect(sql.contains("SELECT datid, sum(n) AS sessions FROM grouped WHERE backend_type = 'client backend' GROUP BY datid"))
        #expect(sql.contains("ON s.datid = d.oid"))
        #expect(readsOnlySharedCTEs(sql))
        #expect(!sql.contains("FROM activity"))
        #expect(!sql.contains(";"))
    }

    @Test func sqlArrayFollowsColumns() {
        let arrays = arrayElements(collector.sql(serverVersion: 160000, options: .init()))
        #expect(arrays == [[
            "d.datname::text", "d.datconnlimit::text", "CASE WHEN d.datallowconn THEN 't' ELSE 'f' END",
            "COALESCE(s.sessions, 0)::text",
        ]])
        #expect(arrays.first?.count == Self.columns.count)
    }
}
