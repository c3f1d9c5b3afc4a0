import Testing
@testable import PGWarden

@Suite("RoleLimitsCollector")
struct RoleLimitsCollectorTests: CollectorSuite {
    let collector = RoleLimitsCollector()
    static let columns = ["usename", "connlimit", "canlogin", "sessions"]

    @Test func familyNamesAndTypes() {
        let got = families([])
        #expect(got.map(\.name) == ["pg_role_connection_limit", "pg_role_sessions",
                                    "pg_role_over_connection_limit", "pg_role_nologin_sessions"])
        #expect(got.allSatisfy { $0.type == .gauge && $0.samples.isEmpty })
    }

    /// Over the limit means strictly more sessions than rolconnlimit; -1 means no limit at all.
    @Test(arguments: [
        ("-1", "0", 0.0),
        ("-1", "5000", 0.0),
        ("0", "0", 0.0),
        ("0", "1", 1.0),
        ("10", "9", 0.0),
        ("10", "10", 0.0),
        ("10", "11", 1.0),
        ("5", "7", 1.0),
    ])
    func overLimit(connlimit: String, sessions: String, over: Double) {
        let got = families([["app", connlimit, "t", sessions]])
        #expect(value(family(got, "pg_role_over_connection_limit"), ["usename": "app"]) == over)
        #expect(value(family(got, "pg_role_connection_limit"), ["usename": "app"]) == Double(connlimit))
        #expect(value(family(got, "pg_role_sessions"), ["usename": "app"]) == Double(sessions))
    }

    @Test func nologinOnlyWhenSessionsRemain() {
        let got = families([
            ["retired", "-1", "f", "2"],
            ["locked", "3", "f", "0"],
            ["active", "-1", "t", "4"],
        ])
        let nologin = family(got, "pg_role_nologin_sessions")
        #expect(value(nologin, ["usename": "retired"]) == 2)
        #expect(samples(nologin, ["usename": "locked"]).isEmpty, "a NOLOGIN role with no sessions is not a problem")
        #expect(samples(nologin, ["usename": "active"]).isEmpty, "roles that can log in never appear")
        #expect(nologin?.samples.count == 1)
        // NOLOGIN does not count as over the limit by itself.
        #expect(value(family(got, "pg_role_over_connection_limit"), ["usename": "retired"]) == 0)
    }

    @Test func everyRoleGetsLimitSessionsAndOverSamples() {
        let got = families([
            ["a", "-1", "t", "1"],
            ["b", "2", "t", "0"],
            ["c", "1", "f", "3"],
        ])
        for name in ["pg_role_connection_limit", "pg_role_sessions", "pg_role_over_connection_limit"] {
            let f = family(got, name)
            #expect(f?.samples.count == 3, "\(name)")
            #expect(f?.samples.map { labelDict($0)["usename"]! } == ["a", "b", "c"], "\(name) keeps row order")
        }
        #expect(value(family(got, "pg_role_over_connection_limit"), ["usename": "c"]) == 1)
        #expect(value(family(got, "pg_role_nologin_sessions"), ["usename": "c"]) == 3)
    }

    @Test func columnsAreWhatFamiliesRead() {
        #expect(collector.columns(options: .init()) == Self.columns)
    }

    @Test func booleanTextFromTheScrapeStatement() throws {
        // rolcanlogin arrives as 't'/'f' (a CASE in the branch), quoted names as any text element.
        let got = try familiesThroughScrape(collector, [
            ["retired role", "-1", "f", "2"],
            ["app", "5", "t", "6"],
        ])
        #expect(value(family(got, "pg_role_nologin_sessions"), ["usename": "retired role"]) == 2)
        #expect(samples(family(got, "pg_role_nologin_sessions"), ["usename": "app"]).isEmpty)
        #expect(value(family(got, "pg_role_over_connection_limit"), ["usename": "app"]) == 1)
        #expect(value(family(got, "pg_role_sessions"), ["usename": "retired role"]) == 2)
    }

    @Test func sqlJoinsRolesWithClientSessionCounts() {
        let sql = collector.sql(serverVersion: 160000, options: .init())
        #expect(sql.contains("FROM pg_roles r"))
        // Client sessions are added up from the shared per-group counts, per role oid.
        #expect(sql.contains("SELECT usesysid, sum(n) AS sessions FROM grouped WHERE backend_type = 'client backend' GROUP BY usesysid"))
        #expect(sql.contains("ON s.usesysid = r.oid"))
        #expect(readsOnlySharedCTEs(sql))
        #expect(!sql.contains("FROM activity"))
        // Roles without a limit and without sessions are left out.
        #expect(sql.contains("WHERE r.rolconnlimit >= 0 OR s.sessions > 0"))
        #expect(!sql.contains(";"))
    }

    @Test func sqlArrayFollowsColumns() {
        let arrays = arrayElements(collector.sql(serverVersion: 160000, options: .init()))
        #expect(arrays == [[
            "r.rolname::text", "r.rolconnlimit::text", "CASE WHEN r.rolcanlogin THEN 't' ELSE 'f' END",
            "COALESCE(s.sessions, 0)::text",
        ]])
        #expect(arrays.first?.count == Self.columns.count)
    }
}
