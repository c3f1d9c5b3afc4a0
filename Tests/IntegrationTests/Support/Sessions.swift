import Foundation
import PGWarden

/// A client session used by a test to put a backend into a given state.
final class TestSession: @unchecked Sendable {
    // @unchecked: a session is driven by one thread at a time (the test, or the one background
    // statement it started and that the test never overlaps with a foreground call).
    let connection: PGConnection
    let pid: Int32

    init(dsn: String) throws {
        connection = try PGConnection.connect(dsn: dsn, defaults: [], overrides: [], timeout: .seconds(10))
        pid = connection.backendPID
    }

    /// Runs statements and returns the rows of the last result.
    @discardableResult
    func run(_ sql: String, _ params: [String?]? = nil) throws -> [[String?]] {
        try connection.execute(sql, params: params, timeout: .seconds(30)).last?.rows ?? []
    }

    /// Runs `sql` expecting an error (e.g. to abort a transaction); returns the error.
    func fail(_ sql: String) -> Error? {
        do { try run(sql); return nil } catch { return error }
    }

    /// Starts a statement that keeps running (pg_sleep, a lock wait) on a background thread.
    func startInBackground(_ sql: String) {
        let connection = self.connection
        Thread.detachNewThread {
            _ = try? connection.execute(sql, timeout: .seconds(300))
        }
    }
}

/// The superuser's view of the test server: creates uniquely named objects and cleans them up.
final class AdminFixture: @unchecked Sendable {
    // @unchecked: used from one test's thread only.
    let env: TestEnvironment
    let admin: TestSession
    private(set) var databases: [String] = []
    private(set) var roles: [String] = []
    private var sessions: [TestSession] = []

    init() throws {
        env = try TestEnvironment.load()
        admin = try TestSession(dsn: env.dsn())
    }

    /// Creates a database and returns its name (quoted where needed by the caller).
    func createDatabase(_ prefix: String = "pgw_db", options: String = "") throws -> String {
        let name = "\(prefix)_\(uniqueSuffix())"
        try admin.run("CREATE DATABASE \(quoteIdent(name)) \(options)")
        databases.append(name)
        return name
    }

    /// Creates a login role with password `pw` and returns its name.
    func createRole(_ prefix: String = "pgw_role", options: String = "") throws -> String {
        let name = "\(prefix)_\(uniqueSuffix())"
        try admin.run("CREATE ROLE \(quoteIdent(name)) LOGIN PASSWORD 'pw' \(options)")
        roles.append(name)
        return name
    }

    /// Creates a login role named exactly `name` (password `pw`), dropped at clean-up.
    func createRole(exactly name: String) throws {
        try admin.run("CREATE ROLE \(quoteIdent(name)) LOGIN PASSWORD 'pw'")
        roles.append(name)
    }

    /// `count` sessions of one new role in a new database, idle in a transaction for over a second
    /// (past a rule's `min_state_age: 1s`).
    func idleInTransactionSessions(_ count: Int) throws -> (db: String, sessions: [TestSession]) {
        let db = try createDatabase()
        let role = try createRole()
        var sessions: [TestSession] = []
        for _ in 0..<count {
            let s = try connect(role: role, database: db)
            try s.run("BEGIN; SELECT 1")
            sessions.append(s)
        }
        Thread.sleep(forTimeInterval: 1.2)
        return (db, sessions)
    }

    /// Opens a session as `role` (password `pw`; the superuser's when role is postgres).
    func connect(role: String, database: String) throws -> TestSession {
        let session = try TestSession(dsn: env.dsn(user: role, password: role == "postgres" ? "postgres" : "pw",
                                                   database: database))
        sessions.append(session)
        return session
    }

    /// The backend's current state as pg_stat_activity reports it.
    func state(of pid: Int32) throws -> String? {
        try admin.run("SELECT state FROM pg_stat_activity WHERE pid = $1", [String(pid)]).first?[0] ?? nil
    }

    /// True while a backend with this pid exists.
    func exists(_ pid: Int32) throws -> Bool {
        try !admin.run("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [String(pid)]).isEmpty
    }

    /// Terminates every session the test opened and drops what it created.
    func cleanUp() {
        rollBackPreparedLeftovers()
        for db in databases {
            _ = try? admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [db])
        }
        for role in roles {
            _ = try? admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", [role])
        }
        Thread.sleep(forTimeInterval: 0.2)
        for db in databases { _ = try? admin.run("DROP DATABASE IF EXISTS \(quoteIdent(db)) WITH (FORCE)") }
        for role in roles { _ = try? admin.run("DROP ROLE IF EXISTS \(quoteIdent(role))") }
    }
}

/// A double-quoted SQL identifier.
func quoteIdent(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
