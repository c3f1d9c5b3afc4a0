import Foundation
import PGWarden
import Testing

/// `pgwarden sessions|cancel|terminate`: the DBA recipes from the seeds, with the same guards.
@Suite("Manual commands")
struct ManualCLITests {
    @Test func emptyADatabaseBeforeARestoreExceptOwnSession() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let a = try fx.connect(role: try fx.createRole(), database: db)
        let b = try fx.connect(role: try fx.createRole(), database: db)
        try b.idleInTransaction()
        let su = try fx.connect(role: "postgres", database: db)
        let elsewhere = try fx.connect(role: "postgres", database: "postgres")
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(database: db), "--database", db, "--include-superusers"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("3 session(s) signalled, 0 left alone"), "\(output)")
        for s in [a, b, su] { #expect(s.wasTerminated()) }
        #expect(try fx.exists(elsewhere.pid))
        #expect(try fx.admin.run("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", [db]).first?[0] == "0")
    }

    @Test func allSessionsOfOneRoleAcrossDatabases() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db1 = try fx.createDatabase(), db2 = try fx.createDatabase()
        let role = try fx.createRole("pgw_regina"), other = try fx.createRole()
        let s1 = try fx.connect(role: role, database: db1), s2 = try fx.connect(role: role, database: db2)
        let keep = try fx.connect(role: other, database: db1)
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--role", role])
        #expect(status == 0, "\(output)")
        #expect(s1.wasTerminated() && s2.wasTerminated())
        #expect(try fx.state(of: keep.pid) == "idle")
    }

    @Test func idleInTransactionLongerThanAThresholdAndNonSuperusersOnly() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let old = try fx.connect(role: role, database: db)
        try old.idleInTransaction()
        let su = try fx.connect(role: "postgres", database: db)
        try su.idleInTransaction()
        let idle = try fx.connect(role: role, database: db)
        Thread.sleep(forTimeInterval: 1.5)
        let young = try fx.connect(role: role, database: db)
        try young.idleInTransaction()
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db,
                                                        "--state", "idle in transaction", "--min-state-age", "1s"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("\(old.pid)"))
        #expect(output.contains("protected"), "the superuser's session is listed as protected: \(output)")
        #expect(output.contains("1 session(s) signalled, 1 left alone"), "\(output)")
        #expect(old.wasTerminated())
        #expect(try fx.state(of: su.pid) == "idle in transaction")
        #expect(try fx.state(of: young.pid) == "idle in transaction")
        #expect(try fx.state(of: idle.pid) == "idle")
    }

    @Test func allIdleSessionsDryRunThenForReal() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let i1 = try fx.connect(role: role, database: db), i2 = try fx.connect(role: role, database: db)
        let busy = try fx.connect(role: role, database: db)
        try busy.idleInTransaction()
        let dry = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db, "--state", "idle", "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.output.contains("dry run: 2 session(s) would be signalled"), "\(dry.output)")
        #expect(dry.output.contains("dry_run"))
        #expect(try fx.state(of: i1.pid) == "idle" && fx.state(of: i2.pid) == "idle")
        let real = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db, "--state", "idle"])
        #expect(real.status == 0)
        #expect(i1.wasTerminated() && i2.wasTerminated())
        #expect(try fx.state(of: busy.pid) == "idle in transaction")
    }

    @Test func cancelStopsTheQueryAndKeepsTheSession() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let s = try fx.connect(role: try fx.createRole(), database: db)
        s.startInBackground("SELECT pg_sleep(120)")
        try eventually("the query runs") { try fx.state(of: s.pid) == "active" }
        let (status, output) = try runPGWarden(fx.env, ["cancel", "--dsn", fx.env.dsn(), "--database", db, "--state", "active"])
        #expect(status == 0, "\(output)")
        try eventually("the session is idle again") { try fx.state(of: s.pid) == "idle" }
    }

    @Test func singlePidAndSessionsListing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let target = try fx.connect(role: role, database: db), other = try fx.connect(role: role, database: db)
        let listing = try runPGWarden(fx.env, ["sessions", "--dsn", fx.env.dsn(), "--database", db])
        #expect(listing.status == 0)
        #expect(listing.output.contains("\(target.pid)") && listing.output.contains("\(other.pid)"))
        #expect(listing.output.contains("2 session(s)"))
        let (status, _) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--pid", String(target.pid)])
        #expect(status == 0)
        #expect(target.wasTerminated())
        #expect(try fx.state(of: other.pid) == "idle")
    }

    @Test func refusesToActOnEverythingWithoutAll() throws {
        let env = try TestEnvironment.load()
        for args in [["terminate"], ["cancel"], ["terminate", "--exclude-role", "x"]] {
            let (status, output) = try runPGWarden(env, args + ["--dsn", env.dsn()])
            #expect(status == 2)
            #expect(output.contains("--all"), "\(output)")
        }
        let bad = try runPGWarden(env, ["terminate", "--state", "sleeping", "--dsn", env.dsn()])
        #expect(bad.status == 2)
        #expect(bad.output.contains("idle in transaction"))
        let down = try runPGWarden(env, ["sessions", "--dsn", "host=127.0.0.1 port=1 user=postgres"])
        #expect(down.status == 1)
        #expect(down.output.contains("connection failed"))
    }
}
