import Foundation
import PGWarden
import Testing

/// pgwarden's own sessions: what the server or its role settings cannot change under it, and
/// that no moment exists in which the kill path could select one of them.
@Suite("pgwarden's own sessions against a real server")
struct SessionSettingsTests {
    /// The pid guard compares backend_start as a number: a role whose DateStyle and TimeZone print
    /// timestamps that PostgreSQL's input reads differently (Postgres/DMY in India, SQL in Jakarta,
    /// floats shortened by extra_float_digits) still has its target signalled, not reported gone.
    @Test(arguments: [
        ("Postgres, DMY", "Asia/Kolkata", "1"),
        ("SQL, DMY", "Asia/Jakarta", "0"),
        ("German", "America/St_Johns", "-15"),
    ])
    func killsWhateverTheRoleSettings(dateStyle: String, timeZone: String, floatDigits: String) throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole()
        let warden = try fx.createRole("pgw_warden", options: "IN ROLE pg_signal_backend, pg_monitor")
        for (name, value) in [("DateStyle", dateStyle), ("TimeZone", timeZone), ("extra_float_digits", floatDigits)] {
            try fx.admin.run("ALTER ROLE \(quoteIdent(warden)) SET \(name) = '\(value)'")
        }
        let victim = try fx.connect(role: app, database: db)
        try victim.idleInTransaction()
        let dsn = fx.env.dsn(user: warden, password: "pw", database: db)
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", dsn, "--pid", String(victim.pid)])
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 session(s) signalled"), "\(output)")
        #expect(victim.wasTerminated())
    }

    /// A new connection's backend is one of pgwarden's own from its first statement on: held at
    /// its session settings (the answer never arrives), it is already invisible to the kill path
    /// of another connection sharing the registry.
    @Test func ownConnectionIsRegisteredBeforeItsFirstStatement() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let proxy = try FaultProxy(upstreamPort: fx.env.port)
        defer { proxy.stop() }
        let own = OwnBackends()
        let name = "pgw_own_\(uniqueSuffix())"
        let proxied = Database(settings: ConnectionSettings(dsn: "host=127.0.0.1 port=\(proxy.port) user=postgres password=postgres dbname=postgres",
                                                            applicationName: name), ownBackends: own)
        let killer = Killer(database: Database(settings: ConnectionSettings(dsn: fx.env.dsn()), ownBackends: own))
        proxy.cutAfter("set_config('statement_timeout'", holding: 30)
        let opened = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = try? proxied.execute("SELECT 1")
            opened.signal()
        }
        var held: Int32?
        try eventually("the proxied connection runs its session settings") {
            held = try fx.admin.run("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%set_config%'",
                                    [name]).first.flatMap { $0[0].flatMap { Int32($0) } }
            return held != nil
        }
        let pid = try #require(held)
        #expect(try fx.exists(pid), "still connected while the kill path lists sessions")
        #expect(try !killer.listSessions().contains { $0.pid == pid })
        #expect(own.all.contains(pid))
        proxy.stop()
        opened.wait()
        #expect(!own.all.contains(pid), "a connection that failed to start is no longer registered")
    }
}
