import Foundation
import PGWarden
import Testing

/// Sessions in every state, limits, NOLOGIN, blockers: scraped over HTTP, exact values asserted.
/// Serialized: settingsFollowReloadsAndNewSessions changes the server's configuration and reloads
/// it, which gives every session a new configuration load time; settingsBranchIsSkippedWhileTheLoadTimeHolds
/// holds one load time across several scrapes and failed when the reload landed in between. No
/// other suite reloads the shared test server's configuration.
@Suite("Session metrics against a real server", .serialized)
struct SessionMetricsTests {
    @Test func everyStateIsCountedExactly() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_app")
        let idle1 = try fx.connect(role: app, database: db)
        _ = try fx.connect(role: app, database: db)
        _ = idle1
        let inTx = try fx.connect(role: app, database: db)
        try inTx.run("BEGIN; SELECT 1")
        let aborted = try fx.connect(role: app, database: db)
        try aborted.run("BEGIN")
        #expect(aborted.fail("SELECT 1/0") != nil)
        let active = try fx.connect(role: app, database: db)
        active.startInBackground("SELECT pg_sleep(120)")
        let disabled = try fx.connect(role: "postgres", database: db)
        try disabled.run("SET track_activities = off")
        try eventually("the active session runs") { try fx.state(of: active.pid) == "active" }
        Thread.sleep(forTimeInterval: 1.1)

        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_up") == 1)
        let expected: [String: Double] = [
            "active": 1, "idle": 2, "idle in transaction": 1, "idle in transaction (aborted)": 1,
            "fastpath function call": 0, "disabled": 0,
        ]
        for (state, count) in expected {
            #expect(m.value("pg_sessions", ["datname": db, "usename": app, "state": state]) == count, "state \(state)")
        }
        #expect(m.value("pg_sessions", ["datname": db, "usename": "postgres", "state": "disabled"]) == 1)
        let idleAge = try #require(m.value("pg_session_state_age_max_seconds", ["datname": db, "usename": app, "state": "idle in transaction"]))
        #expect(idleAge >= 1.0)
        let xactAge = try #require(m.value("pg_session_transaction_age_max_seconds", ["datname": db, "usename": app, "state": "idle in transaction"]))
        #expect(xactAge >= idleAge)
        #expect(m.value("pg_session_transaction_age_max_seconds", ["datname": db, "usename": app, "state": "idle"]) == nil)
        #expect(m.value("pg_idle_in_transaction_age_seconds_count", ["usename": app]) == 2)
        #expect(m.value("pg_idle_in_transaction_age_seconds_bucket", ["usename": app, "le": "+Inf"]) == 2)
        #expect(m.value("pg_idle_in_transaction_age_seconds_bucket", ["usename": app, "le": "1"]) == 0)
        #expect(m.value("pg_database_sessions", ["datname": db]) == 6)
        #expect(m.value("pg_role_sessions", ["usename": app]) == 5)
    }

    @Test func roleLimitLoweredBelowLiveSessions() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_lim")
        for _ in 0..<3 { _ = try fx.connect(role: role, database: db) }
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        var m = try pgw.scrape()
        #expect(m.value("pg_role_connection_limit", ["usename": role]) == -1)
        #expect(m.value("pg_role_over_connection_limit", ["usename": role]) == 0)
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) CONNECTION LIMIT 1")
        m = try pgw.scrape()
        #expect(m.value("pg_role_connection_limit", ["usename": role]) == 1)
        #expect(m.value("pg_role_sessions", ["usename": role]) == 3)
        #expect(m.value("pg_role_over_connection_limit", ["usename": role]) == 1)
    }

    @Test func databaseConnectionLimit() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase(options: "CONNECTION LIMIT 2")
        let role = try fx.createRole()
        for _ in 0..<2 { _ = try fx.connect(role: role, database: db) }
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        var m = try pgw.scrape()
        #expect(m.value("pg_database_connection_limit", ["datname": db]) == 2)
        #expect(m.value("pg_database_sessions", ["datname": db]) == 2)
        #expect(m.value("pg_database_over_connection_limit", ["datname": db]) == 0)
        try fx.admin.run("ALTER DATABASE \(quoteIdent(db)) CONNECTION LIMIT 1")
        m = try pgw.scrape()
        #expect(m.value("pg_database_over_connection_limit", ["datname": db]) == 1)
    }

    @Test func nologinRoleAndDisallowedDatabaseKeepTheirSessions() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_gone")
        _ = try fx.connect(role: role, database: db)
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        var m = try pgw.scrape()
        #expect(m.value("pg_role_nologin_sessions", ["usename": role]) == nil)
        #expect(m.value("pg_database_disallowed_sessions", ["datname": db]) == nil)
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) NOLOGIN")
        try fx.admin.run("ALTER DATABASE \(quoteIdent(db)) ALLOW_CONNECTIONS false")
        m = try pgw.scrape()
        #expect(m.value("pg_role_nologin_sessions", ["usename": role]) == 1)
        #expect(m.value("pg_database_disallowed_sessions", ["datname": db]) == 1)
        try fx.admin.run("ALTER DATABASE \(quoteIdent(db)) ALLOW_CONNECTIONS true")
    }

    @Test func blockerAndBlockedSession() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let holderRole = try fx.createRole("pgw_holder")
        let waiterRole = try fx.createRole("pgw_waiter")
        let owner = try fx.connect(role: "postgres", database: db)
        try owner.run("CREATE TABLE t (id int); GRANT ALL ON t TO \(quoteIdent(holderRole)), \(quoteIdent(waiterRole))")
        let holder = try fx.connect(role: holderRole, database: db)
        try holder.run("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        let waiter = try fx.connect(role: waiterRole, database: db)
        waiter.startInBackground("SELECT count(*) FROM t")
        try eventually("the waiter waits on the lock") {
            try !fx.admin.run("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [String(waiter.pid)]).isEmpty
        }
        Thread.sleep(forTimeInterval: 1.1)
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_blocked_sessions", ["datname": db, "usename": waiterRole]) == 1)
        #expect(m.value("pg_blocking_sessions", ["datname": db, "usename": holderRole]) == 1)
        #expect(m.value("pg_blocked_sessions", ["datname": db, "usename": holderRole]) == nil)
        let wait = try #require(m.value("pg_blocked_wait_max_seconds", ["datname": db, "usename": waiterRole]))
        #expect(wait >= 1.0)
    }

    @Test func ownSessionIsNeverCounted() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn(database: db)])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_up") == 1)
        #expect(m.all("pg_sessions", ["datname": db]).isEmpty)
        #expect(m.value("pg_database_sessions", ["datname": db]) == 0)
        // pgwarden's own session is there, with application_name pgwarden, and still uncounted.
        let own = try fx.admin.run("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden'", [db])
        #expect(own.first?[0] == "1")
    }

    @Test func applicationNameLabelIsOptIn() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let s = try fx.connect(role: role, database: db)
        try s.run("SET application_name = 'billing \"v2\"\\batch'")
        let plain = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { plain.stop() }
        #expect(try plain.scrape().all("pg_sessions", ["datname": db]).allSatisfy { $0.labels["application_name"] == nil })
        let labelled = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn(), "--collector.application-name"])
        defer { labelled.stop() }
        let m = try labelled.scrape()
        #expect(m.value("pg_sessions", ["datname": db, "usename": role, "state": "idle", "application_name": "billing \"v2\"\\batch"]) == 1)
    }

    @Test func exoticNamesAreEscapedAndOutputPassesPromtool() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase("pgw_\"q\\uoté\n")
        let role = try fx.createRole("rôle \"x\"\\y")
        _ = try fx.connect(role: role, database: db)
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_sessions", ["datname": db, "usename": role, "state": "idle"]) == 1)
        try expectPromtoolAccepts(m.text, workDir: fx.env.workDir)
    }

    /// The settings come from the server's configuration, not pgwarden's session. pgwarden reads
    /// them once per session and again after every reload; a new session reads them afresh.
    @Test func settingsFollowReloadsAndNewSessions() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        func setting(_ name: String) throws -> Double? {
            try fx.admin.run("SELECT reset_val FROM pg_settings WHERE name = $1", [name]).first?[0].flatMap { Double($0) }
        }
        let maxConnections = try #require(try setting("max_connections"))
        let statementTimeoutMs = try #require(try setting("statement_timeout"))
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn(database: db)])
        defer { pgw.stop() }
        defer {
            _ = try? fx.admin.run("ALTER SYSTEM RESET idle_in_transaction_session_timeout")
            _ = try? fx.admin.run("SELECT pg_reload_conf()")
        }
        // The first scrape reads them; the next ones get the same values from what pgwarden holds.
        for scrape in 1...3 {
            let m = try pgw.scrape()
            #expect(m.value("pg_max_connections") == maxConnections, "scrape \(scrape)")
            #expect(m.value("pg_setting_statement_timeout_seconds") == statementTimeoutMs / 1000,
                    "scrape \(scrape): the server's statement_timeout, not the 5 s pgwarden sets on its own session")
            #expect(m.value("pg_setting_idle_in_transaction_session_timeout_seconds") == 0, "scrape \(scrape)")
            #expect(m.value("pg_setting_idle_session_timeout_seconds") == 0, "scrape \(scrape)")
        }

        // A database-level setting reaches new sessions only, without a reload: the running
        // session keeps its value, and the one pgwarden opens after losing it has the new one.
        // (Before any reload, so that both sessions have the same configuration load time.)
        try fx.admin.run("ALTER DATABASE \(quoteIdent(db)) SET idle_session_timeout = '7d'")
        #expect(try pgw.scrape().value("pg_setting_idle_session_timeout_seconds") == 0)
        try fx.admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden'", [db])
        try eventually("the new session's value is scraped") {
            let m = try pgw.scrape()
            return m.value("pg_up") == 1 && m.value("pg_setting_idle_session_timeout_seconds") == 604800
        }
        // A reload (7 days: long enough not to end any other test's session).
        try fx.admin.run("ALTER SYSTEM SET idle_in_transaction_session_timeout = '7d'")
        try fx.admin.run("SELECT pg_reload_conf()")
        try eventually("a scrape shows the reloaded value") {
            try pgw.scrape().value("pg_setting_idle_in_transaction_session_timeout_seconds") == 604800
        }
        #expect(try pgw.scrape().value("pg_setting_idle_in_transaction_session_timeout_seconds") == 604800)

        let m = try pgw.scrape()
        #expect(m.value("pg_max_connections") == maxConnections)
        #expect(m.value("pg_setting_idle_session_timeout_seconds") == 604800)
    }

    /// On the server: the settings branch returns nothing when the session's configuration load
    /// time is the one the caller holds, and the held rows stand in. The session prints times with
    /// a zone abbreviation (DateStyle SQL, India's IST, which timestamptz input reads as Israel's).
    @Test func settingsBranchIsSkippedWhileTheLoadTimeHolds() throws {
        let env = try TestEnvironment.load()
        let conn = try PGConnection.connect(dsn: env.dsn(), defaults: [], overrides: [], timeout: .seconds(10))
        _ = try conn.execute("SET DateStyle = 'SQL, DMY'; SET TimeZone = 'Asia/Kolkata'", timeout: .seconds(10))
        let statement = ScrapeStatement(collectors: defaultCollectors, serverVersion: conn.serverVersion, options: .init())
        func run(_ loadTime: String?) throws -> QueryResult {
            try #require(try conn.executePrepared(name: "scrape", sql: statement.sql, params: ["{}", loadTime], timeout: .seconds(10)).last)
        }
        let first = try run(nil)
        let (read, held) = try statement.results(first, held: nil)
        let heldRows = try #require(held)
        #expect(heldRows.loadTime.hasSuffix("IST"), "printed as \(heldRows.loadTime)")
        #expect(read[0].rows.contains { $0.first == "max_connections" })
        for _ in 0..<6 {  // past the custom plans, on the generic one
            let again = try run(heldRows.loadTime)
            #expect(!again.rows.contains { $0.first == "0" }, "the settings branch did not run")
            #expect(again.rows.last?[1]?.hasSuffix(",f}") == true)
            let (parts, stillHeld) = try statement.results(again, held: heldRows)
            #expect(parts[0] == read[0])
            #expect(stillHeld == heldRows)
        }
        // Another load time (as after a reload): the branch runs.
        let other = try run("01/01/2000 00:00:00 UTC")
        #expect(other.rows.contains { $0.first == "0" })
    }
}
