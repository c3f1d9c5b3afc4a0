import Foundation
import PGWarden
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the server's own timeouts miss, scraped from the running server (the branch of its
/// version): prepared transactions, xmin horizon holders, per-role timeout overrides, waits,
/// connection ages and the server's count of how sessions ended.
///
/// Ages are checked against the server's own figures taken just before and just after the scrape
/// (xids and time only move forward), never against a sleep. Serialized: the prepared
/// transactions of one test would show in the horizon of another; every prepared transaction is
/// rolled back before its database is dropped.
@Suite("Horizon, prepared transaction and wait metrics against a real server", .serialized)
struct HorizonMetricsTests {
    /// A prepared transaction is counted and aged per database and owner, holds the horizon with
    /// its xid, and disappears when rolled back.
    @Test func preparedTransactionIsCountedAgedAndGone() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let owner = try fx.createRole("pgw_2pc")
        let gid = "pgw-test-\(uniqueSuffix())"
        let session = try fx.connect(role: owner, database: db)
        try session.run("BEGIN; SELECT 1; PREPARE TRANSACTION '\(gid)'")
        let superuser = try fx.connect(role: "postgres", database: db)
        var prepared = true
        defer { if prepared { _ = try? superuser.run("ROLLBACK PREPARED '\(gid)'") } }
        func serverAges() throws -> (xids: Double, seconds: Double) {
            let row = try #require(try fx.admin.run(
                "SELECT age(transaction), date_part('epoch', now() - prepared) FROM pg_prepared_xacts WHERE gid = $1", [gid]).first)
            return (Double(row[0] ?? "") ?? -1, Double(row[1] ?? "") ?? -1)
        }
        func horizonBound() throws -> Double {
            try Double(fx.admin.run("SELECT max(age(transaction)) FROM pg_prepared_xacts").first?[0] ?? "") ?? -1
        }
        // The prepared transaction's xid falls behind as others are assigned.
        for _ in 0..<3 { try fx.admin.run("SELECT txid_current()") }

        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let before = try serverAges()
        let m = try pgw.scrape()
        let after = try serverAges()
        let bound = try horizonBound()
        let labels = ["datname": db, "owner": owner]
        #expect(m.value("pg_prepared_transactions", labels) == 1)
        let age = try #require(m.value("pg_prepared_transaction_age_max_seconds", labels))
        #expect(age >= before.seconds && age <= after.seconds, "\(before.seconds) <= \(age) <= \(after.seconds)")
        let horizon = try #require(m.value("pg_xmin_horizon_age_xids", ["holder": "prepared_transaction"]))
        #expect(before.xids >= 3)
        #expect(horizon >= before.xids && horizon <= bound, "\(before.xids) <= \(horizon) <= \(bound)")
        #expect(m.value("pg_xmin_horizon_age_xids", ["holder": "replication_slot"]) == 0, "the test server has no slot")
        #expect(m.all("pg_prepared_transactions").allSatisfy { Set($0.labels.keys) == ["datname", "owner"] })
        try expectPromtoolAccepts(m.text, workDir: fx.env.workDir)

        // The session that prepared it may end: the transaction stays, and so do its series.
        try fx.admin.run("SELECT pg_terminate_backend($1)", [String(session.pid)])
        try eventually("the preparing session is gone") { try !fx.exists(session.pid) }
        #expect(try pgw.scrape().value("pg_prepared_transactions", labels) == 1)

        try superuser.run("ROLLBACK PREPARED '\(gid)'")
        prepared = false
        let gone = try pgw.scrape()
        #expect(gone.value("pg_prepared_transactions", labels) == nil)
        #expect(gone.value("pg_prepared_transaction_age_max_seconds", labels) == nil)
        #expect(gone.value("pg_xmin_horizon_age_xids", ["holder": "prepared_transaction"]) != nil, "zero-filled, never absent")
    }

    /// A REPEATABLE READ transaction after a read holds its snapshot (backend_xmin); a READ
    /// COMMITTED transaction that wrote and sits idle holds its xid without any snapshot. Both
    /// hold the horizon, and both are what pg_session_xmin_age_max_xids reports.
    @Test func sessionsHoldingTheHorizon() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let reader = try fx.createRole("pgw_snap")
        let writer = try fx.createRole("pgw_xid")
        let owner = try fx.connect(role: "postgres", database: db)
        try owner.run("CREATE TABLE t (id int); GRANT ALL ON t TO \(quoteIdent(writer))")
        let snapshot = try fx.connect(role: reader, database: db)
        try snapshot.run("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        let wrote = try fx.connect(role: writer, database: db)
        try wrote.run("BEGIN; INSERT INTO t VALUES (1)")
        for _ in 0..<5 { try fx.admin.run("SELECT txid_current()") }
        func serverAges() throws -> (snapshot: Double, xid: Double, xidHolderXmin: String?) {
            let rows = try fx.admin.run("""
                SELECT pid, age(backend_xmin), age(backend_xid), backend_xmin::text FROM pg_stat_activity WHERE pid IN ($1, $2)
                """, [String(snapshot.pid), String(wrote.pid)])
            let bySession = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] ?? "", $0) })
            return (Double(bySession[String(snapshot.pid)]?[1] ?? "") ?? -1,
                    Double(bySession[String(wrote.pid)]?[2] ?? "") ?? -1,
                    bySession[String(wrote.pid)]?[3] ?? nil)
        }

        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let before = try serverAges()
        let m = try pgw.scrape()
        let after = try serverAges()
        #expect(before.xidHolderXmin == nil, "the writer holds no snapshot, only its xid")
        let snap = try #require(m.value("pg_session_xmin_age_max_xids", ["datname": db, "usename": reader]))
        #expect(snap >= 5)
        #expect(snap >= before.snapshot && snap <= after.snapshot, "\(before.snapshot) <= \(snap) <= \(after.snapshot)")
        let xid = try #require(m.value("pg_session_xmin_age_max_xids", ["datname": db, "usename": writer]))
        #expect(xid >= 5)
        #expect(xid >= before.xid && xid <= after.xid, "\(before.xid) <= \(xid) <= \(after.xid)")
        let horizon = try #require(m.value("pg_xmin_horizon_age_xids", ["holder": "session"]))
        #expect(horizon >= max(snap, xid))
        #expect(horizon == m.all("pg_session_xmin_age_max_xids").map(\.value).max(), "the holder is the oldest session")

        // Ended transactions hold nothing: the pairs disappear.
        try snapshot.run("COMMIT")
        try wrote.run("ROLLBACK")
        let released = try pgw.scrape()
        #expect(released.value("pg_session_xmin_age_max_xids", ["datname": db, "usename": reader]) == nil)
        #expect(released.value("pg_session_xmin_age_max_xids", ["datname": db, "usename": writer]) == nil)
    }

    /// Timeouts switched off (0) or changed per role, per database and per role in a database,
    /// read from pg_db_role_setting on every scrape (no reload needed), gone when reset.
    @Test func timeoutOverridesPerRoleAndDatabase() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_guard")
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        #expect(try pgw.scrape().all("pg_role_setting_seconds").allSatisfy { $0.labels["usename"] != role && $0.labels["datname"] != db })

        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) SET idle_in_transaction_session_timeout = 0")
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) SET statement_timeout = '2min'")
        try fx.admin.run("ALTER DATABASE \(quoteIdent(db)) SET statement_timeout = 0")
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) IN DATABASE \(quoteIdent(db)) SET lock_timeout = '1.5s'")
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) IN DATABASE \(quoteIdent(db)) SET idle_session_timeout = 90000")
        // Not a timeout: not exported.
        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) SET work_mem = '64MB'")
        let m = try pgw.scrape()
        func setting(_ datname: String, _ usename: String, _ name: String) -> Double? {
            m.value("pg_role_setting_seconds", ["datname": datname, "usename": usename, "setting": name])
        }
        #expect(setting("", role, "idle_in_transaction_session_timeout") == 0)
        #expect(setting("", role, "statement_timeout") == 120)
        #expect(setting(db, "", "statement_timeout") == 0)
        #expect(setting(db, role, "lock_timeout") == 1.5)
        #expect(setting(db, role, "idle_session_timeout") == 90)
        #expect(m.all("pg_role_setting_seconds").filter { $0.labels["usename"] == role || $0.labels["datname"] == db }.count == 5)
        #expect(m.all("pg_role_setting_seconds").allSatisfy { $0.labels["setting"] != "work_mem" })

        try fx.admin.run("ALTER ROLE \(quoteIdent(role)) RESET ALL")
        let reset = try pgw.scrape()
        #expect(reset.value("pg_role_setting_seconds", ["datname": "", "usename": role, "setting": "statement_timeout"]) == nil)
        #expect(reset.value("pg_role_setting_seconds", ["datname": db, "usename": role, "setting": "lock_timeout"]) == 1.5)
    }

    /// pgwarden reads a stored setting value as the server does: each value SET accepts gives
    /// the milliseconds the server itself computes, and a value it refuses is one pgwarden leaves out.
    @Test func settingValuesAreReadAsTheServerReadsThem() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let corpus = ["0", "1", "5000", "30s", " 30 s ", "2min", "1h", "1d", "250ms", "1500us", "499us", "500us", "1501us",
                      "1.5min", "1.0001min", "1.5", "2.5", "0.5ms", "1.5ms", ".5s", "5.s", "1e3", "1E3ms", "2.5e1s", "+10s",
                      "-0", "0x10", "0X1f s", "0x1e", "0x1.8", "0x1.8p1s", "0x1.p1", "010", "00", "010.5s", "2147483647",
                      "-1", "5 sec", "5S", "5m", "1e", "0x", "08", "0x1p3", "0x.8", "2147483648", "1e10", "inf", "nan",
                      "1_000", "soon", "", "24d", "25d"]
        for text in corpus {
            // lock_timeout: a millisecond setting that does not cancel the statement reading it.
            let server: Double?
            do {
                let row = try fx.admin.run("""
                    BEGIN; SELECT set_config('lock_timeout', $1, true); \
                    SELECT setting FROM pg_settings WHERE name = 'lock_timeout'
                    """.replacingOccurrences(of: "$1", with: "'\(text.replacingOccurrences(of: "'", with: "''"))'"))
                server = Double(row.first?[0] ?? "").map { $0 / 1000 }
            } catch {
                server = nil
            }
            _ = try? fx.admin.run("ROLLBACK")
            #expect(RoleSettingsCollector.seconds(fromSettingValue: text) == server, "\(text.debugDescription)")
        }
    }

    /// Sessions running a statement that waits, by wait_event_type; idle ones are not waiting.
    @Test func waitingSessionsByType() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_wait")
        let owner = try fx.connect(role: "postgres", database: db)
        try owner.run("CREATE TABLE t (id int); GRANT ALL ON t TO \(quoteIdent(app))")
        let holder = try fx.connect(role: app, database: db)
        try holder.run("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        let waiters = try (0..<2).map { _ in try fx.connect(role: app, database: db) }
        for waiter in waiters { waiter.startInBackground("SELECT count(*) FROM t") }
        let sleeper = try fx.connect(role: app, database: db)
        sleeper.startInBackground("SELECT pg_sleep(120)")
        try eventually("two sessions wait on the lock, one sleeps") {
            try fx.admin.run("""
                SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), count(*) FILTER (WHERE wait_event = 'PgSleep') \
                FROM pg_stat_activity WHERE datname = $1
                """, [db]).first ?? [] == ["2", "1"]
        }
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_sessions_waiting", ["datname": db, "usename": app, "wait_event_type": "Lock"]) == 2)
        #expect(m.value("pg_sessions_waiting", ["datname": db, "usename": app, "wait_event_type": "Timeout"]) == 1)
        // The holder sits idle in its transaction (waiting for its client): not counted.
        #expect(m.value("pg_sessions_waiting", ["datname": db, "usename": app, "wait_event_type": "Client"]) == nil)
        #expect(m.all("pg_sessions_waiting", ["datname": db]).count == 2)
        #expect(m.all("pg_sessions_waiting").allSatisfy { $0.labels["wait_event"] == nil })

        let detailed = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn(), "--collector.wait-event"])
        defer { detailed.stop() }
        let d = try detailed.scrape()
        #expect(d.value("pg_sessions_waiting", ["datname": db, "usename": app, "wait_event_type": "Lock", "wait_event": "relation"]) == 2)
        #expect(d.value("pg_sessions_waiting", ["datname": db, "usename": app, "wait_event_type": "Timeout", "wait_event": "PgSleep"]) == 1)
    }

    /// The oldest connection per database and role, between the server's figures before and after.
    @Test func oldestConnection() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_pool")
        let first = try fx.connect(role: role, database: db)
        _ = try fx.connect(role: role, database: db)
        func serverAge() throws -> Double {
            try Double(fx.admin.run("SELECT date_part('epoch', now() - backend_start) FROM pg_stat_activity WHERE pid = $1",
                                    [String(first.pid)]).first?[0] ?? "") ?? -1
        }
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let before = try serverAge()
        let m = try pgw.scrape()
        let after = try serverAge()
        let age = try #require(m.value("pg_session_backend_age_max_seconds", ["datname": db, "usename": role]))
        #expect(age >= before && age <= after, "\(before) <= \(age) <= \(after)")
        // pgwarden's own connection is never the oldest of anything.
        #expect(m.all("pg_session_backend_age_max_seconds").count == Set(m.all("pg_sessions").map {
            [$0.labels["datname"] ?? "", $0.labels["usename"] ?? ""] }).count)
    }

    /// The server's own count of how sessions ended moves with what happens to them: killed by
    /// pg_terminate_backend, FATAL at idle_in_transaction_session_timeout, abandoned by a client
    /// that vanished.
    @Test func sessionEndCountersMove() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_end")
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        func counters() throws -> (killed: Double?, abandoned: Double?, fatal: Double?) {
            let m = try pgw.scrape()
            return (m.value("pg_database_sessions_killed_total", ["datname": db]),
                    m.value("pg_database_sessions_abandoned_total", ["datname": db]),
                    m.value("pg_database_sessions_fatal_total", ["datname": db]))
        }
        let start = try counters()
        #expect(start.killed == 0 && start.abandoned == 0 && start.fatal == 0, "a new database starts at 0: \(start)")

        let victim = try fx.connect(role: role, database: db)
        try fx.admin.run("SELECT pg_terminate_backend($1)", [String(victim.pid)])
        try eventually("the kill is counted") { try counters().killed == 1 }

        let timedOut = try fx.connect(role: role, database: db)
        try timedOut.run("SET idle_in_transaction_session_timeout = '50ms'; BEGIN; SELECT 1")
        try eventually("the timeout's FATAL is counted") { try counters().fatal == 1 }

        let socketPath = "\(fx.env.socketDir)/.s.PGSQL.\(fx.env.port)"
        let vanishing = try UnixStartup(path: socketPath, user: "postgres", database: db)
        vanishing.closeWithoutGoodbye()
        try eventually("the vanished client is counted") { try counters().abandoned == 1 }
        let end = try counters()
        #expect(end.killed == 1 && end.fatal == 1 && end.abandoned == 1, "\(end)")
    }
}

/// A PostgreSQL session opened by hand over the Unix socket (trust authentication), closed
/// without a Terminate message, as a client that crashed or lost its network would leave it.
final class UnixStartup {
    private var fd: Int32

    init(path: String, user: String, database: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupError("socket() failed: errno \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { close(fd); throw SetupError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw SetupError("connect to \(path) failed: errno \(errno)") }
        // StartupMessage: length, protocol 3.0, then name/value pairs and a final NUL.
        var body: [UInt8] = [0, 3, 0, 0]
        for (name, value) in [("user", user), ("database", database)] {
            body += Array(name.utf8) + [0] + Array(value.utf8) + [0]
        }
        body.append(0)
        let length = UInt32(body.count + 4)
        let message = withUnsafeBytes(of: length.bigEndian, Array.init) + body
        guard message.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == message.count else {
            throw SetupError("startup message not sent: errno \(errno)")
        }
        // Read until ReadyForQuery ('Z', 5 bytes of length and status).
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !Self.readyForQuery(received) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw SetupError("no ReadyForQuery from the server (recv \(n), errno \(errno))") }
            received += buffer[0..<n]
            if received.first == UInt8(ascii: "E") { throw SetupError("the server refused the startup") }
        }
    }

    /// Whether the messages received so far end with ReadyForQuery.
    private static func readyForQuery(_ bytes: [UInt8]) -> Bool {
        var i = 0
        while i + 5 <= bytes.count {
            let length = Int(bytes[i + 1]) << 24 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 8 | Int(bytes[i + 4])
            if bytes[i] == UInt8(ascii: "Z") { return true }
            i += 1 + length
        }
        return false
    }

    /// Closes the socket without sending Terminate ('X').
    func closeWithoutGoodbye() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { closeWithoutGoodbye() }
}
