import Testing
@testable import PGWarden

@Suite("LocksCollector")
struct LocksCollectorTests: CollectorSuite {
    let collector = LocksCollector()
    static let columns = ["kind", "datname", "usename", "sessions", "wait"]

    @Test func familyNamesAndTypes() {
        let got = families([])
        #expect(got.map(\.name) == ["pg_blocked_sessions", "pg_blocked_wait_max_seconds", "pg_blocking_sessions"])
        #expect(got.allSatisfy { $0.type == .gauge && $0.samples.isEmpty })
    }

    @Test func splitsBlockedAndBlocking() {
        let got = families([
            ["blocked", "app", "alice", "2", "12.5"],
            ["blocked", "app", "bob", "1", "0"],
            ["blocking", "app", "carol", "1", "0"],
            ["blocking", "reports", "alice", "3", "0"],
        ])
        let blocked = family(got, "pg_blocked_sessions")
        let wait = family(got, "pg_blocked_wait_max_seconds")
        let blocking = family(got, "pg_blocking_sessions")
        #expect(value(blocked, ["datname": "app", "usename": "alice"]) == 2)
        #expect(value(blocked, ["datname": "app", "usename": "bob"]) == 1)
        #expect(value(wait, ["datname": "app", "usename": "alice"]) == 12.5)
        #expect(value(wait, ["datname": "app", "usename": "bob"]) == 0)
        #expect(value(blocking, ["datname": "app", "usename": "carol"]) == 1)
        #expect(value(blocking, ["datname": "reports", "usename": "alice"]) == 3)
        // Holders are not waiters and vice versa.
        #expect(blocked?.samples.count == 2)
        #expect(wait?.samples.count == 2)
        #expect(blocking?.samples.count == 2)
        #expect(samples(blocked, ["datname": "app", "usename": "carol"]).isEmpty)
        #expect(samples(blocking, ["datname": "app", "usename": "bob"]).isEmpty)
        #expect(got.allSatisfy { $0.samples.allSatisfy { labelNames($0) == ["datname", "usename"] } })
    }

    @Test func sessionBothBlockedAndBlockingAppearsInBoth() {
        // In a lock chain a → b → c, b waits for c and blocks a.
        let got = families([
            ["blocked", "app", "b", "1", "3"],
            ["blocking", "app", "b", "1", "0"],
        ])
        #expect(value(family(got, "pg_blocked_sessions"), ["datname": "app", "usename": "b"]) == 1)
        #expect(value(family(got, "pg_blocking_sessions"), ["datname": "app", "usename": "b"]) == 1)
    }

    @Test func columnsAreWhatFamiliesRead() {
        #expect(collector.columns(options: .init()) == Self.columns)
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        // Empty labels (NULL datname/usename COALESCEd to '') and spaces travel quoted in the text[].
        let got = try familiesThroughScrape(collector, [
            ["blocked", "", "", "1", "0.25"],
            ["blocked", "my db", "alice", "2", "7.5"],
            ["blocking", "my db", "bob", "1", "0"],
        ])
        #expect(value(family(got, "pg_blocked_sessions"), ["datname": "", "usename": ""]) == 1)
        #expect(value(family(got, "pg_blocked_sessions"), ["datname": "my db", "usename": "alice"]) == 2)
        #expect(value(family(got, "pg_blocked_wait_max_seconds"), ["datname": "my db", "usename": "alice"]) == 7.5)
        #expect(value(family(got, "pg_blocking_sessions"), ["datname": "my db", "usename": "bob"]) == 1)
    }

    // MARK: SQL

    @Test(arguments: [100000, 120000, 130000, 139999])
    func sqlBefore14UsesStateChange(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(!sql.contains("waitstart"))
        #expect(!sql.contains("pg_locks"))
        #expect(sql.contains("w.state_change AS since"))
    }

    @Test(arguments: [140000, 150004, 160000, 170002])
    func sqlFrom14UsesWaitstart(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(sql.contains("min(waitstart)"))
        #expect(sql.contains("FROM pg_locks WHERE NOT granted"))
        // pg_locks is only read when some backend waits on a lock.
        #expect(sql.contains("EXISTS (SELECT 1 FROM activity WHERE wait_event_type = 'Lock')"))
        #expect(sql.contains("COALESCE(l.waitstart, w.state_change) AS since"))
        #expect(sql.contains("ON l.pid = w.pid"))
    }

    @Test(arguments: [130000, 160000])
    func sqlReadsActivityForWaitersAndHolders(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(readsOnlySharedCTEs(sql))
        #expect(sql.contains("pg_blocking_pids(w.pid) AS blockers"))
        #expect(sql.contains("FROM activity w"))
        #expect(sql.contains("WHERE w.wait_event_type = 'Lock'"))
        // Blocked: waiting on a lock that another session holds (not, e.g., a lock just granted).
        #expect(sql.contains("FROM waiting WHERE cardinality(blockers) > 0"))
        // Blocking: the holders named by the waiters' blockers, looked up in activity too.
        #expect(sql.contains("FROM activity a WHERE a.pid IN (SELECT unnest(blockers) FROM waiting)"))
        #expect(!sql.contains("clients"), "any backend (autovacuum included) can block or be blocked")
        #expect(!sql.contains(";"))
    }

    @Test(arguments: [130000, 160000])
    func sqlArraysFollowColumns(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        let arrays = arrayElements(sql)
        #expect(arrays.count == 1, "one ARRAY over both kinds, summed per name")
        for elements in arrays { #expect(elements.count == Self.columns.count, "\(elements)") }
        #expect(arrays.first?.prefix(4) == ["kind", "database_name", "role_name", "sum(n)::text"])
        #expect(arrays.first?.last?.contains("CASE WHEN kind = 'blocked' THEN") == true, "the blocked rows carry the longest wait")
        #expect(arrays.first?.last?.hasSuffix("ELSE '0' END") == true)
        #expect(sql.contains("SELECT 'blocked' AS kind, COALESCE((SELECT datname::text FROM pg_database WHERE oid = datid), '') AS database_name"))
        #expect(sql.contains("UNION ALL SELECT 'blocking', COALESCE((SELECT datname::text FROM pg_database WHERE oid = a.datid), '')"))
        #expect(sql.hasSuffix("GROUP BY a.datid, a.usesysid) AS g GROUP BY kind, database_name, role_name"))
    }
}
