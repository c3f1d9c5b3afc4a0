import Testing
@testable import PGWarden

@Suite("LocksCollector")
struct LocksCollectorTests {
    let collector = LocksCollector()
    static let columns = ["kind", "datname", "usename", "sessions", "wait"]

    func families(_ rows: [[String?]]) -> [MetricFamily] {
        collector.families(from: QueryResult(columns: Self.columns, rows: rows), options: .init())
    }

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

    // MARK: SQL

    @Test(arguments: [100000, 120000, 130000, 139999])
    func sqlBefore14UsesStateChange(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(!sql.contains("waitstart"))
        #expect(sql.contains("a.state_change AS since"))
    }

    @Test(arguments: [140000, 150004, 160000, 170002])
    func sqlFrom14UsesWaitstart(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(sql.contains("l.waitstart"))
        #expect(sql.contains("pg_locks"))
        #expect(sql.contains("NOT l.granted"))
    }

    @Test(arguments: [130000, 160000])
    func sqlExcludesOwnBackendEverywhere(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(sql.contains("pg_blocking_pids"))
        #expect(sql.contains("'blocked'"))
        #expect(sql.contains("'blocking'"))
        // Both reads of pg_stat_activity (waiters and holders) leave pgwarden's own backend out.
        #expect(occurrences(of: "pg_stat_activity", in: sql) == 2)
        #expect(occurrences(of: "pg_backend_pid()", in: sql) >= 2)
        #expect(!sql.contains(";"))
    }
}
