import Foundation
import PGWarden
import Testing

/// A text as an SQL string literal, quoted by the test itself (standard_conforming_strings is on:
/// only the quote is doubled), so the code under test does not quote its own fixtures.
func sqlLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}

extension AdminFixture {
    /// Prepares a transaction (it gets an xid) as `role` in `database` under `gid`; the session
    /// that prepared it is closed, as a forgotten prepared transaction's usually is.
    func prepare(_ gid: String, role: String, database: String) throws {
        let session = try TestSession(dsn: env.dsn(user: role, password: role == "postgres" ? "postgres" : "pw", database: database))
        try session.run("BEGIN")
        try session.run("SELECT txid_current()")
        try session.run("PREPARE TRANSACTION " + sqlLiteral(gid))
    }

    /// How many prepared transactions `database` has (counted by the server: gids that differ as
    /// bytes only would be one key of a Swift dictionary).
    func preparedCount(_ database: String) throws -> Int {
        Int(try admin.run("SELECT count(*) FROM pg_prepared_xacts WHERE database = $1", [database]).first?[0] ?? "") ?? -1
    }

    /// The prepared transactions of `database`, by gid: xid and prepared time (microseconds).
    func preparedIn(_ database: String) throws -> [String: (xid: String, prepared: String)] {
        var out: [String: (String, String)] = [:]
        for row in try admin.run("SELECT gid, transaction::text, (extract(epoch FROM prepared) * 1000000)::int8::text "
                                 + "FROM pg_prepared_xacts WHERE database = $1", [database]) {
            out[row[0]!] = (row[1]!, row[2]!)
        }
        return out
    }

    /// Whether a prepared transaction with exactly this gid exists (compared by the server).
    func isPrepared(_ gid: String) throws -> Bool {
        try admin.run("SELECT count(*) FROM pg_prepared_xacts WHERE gid = $1", [gid]).first?[0] == "1"
    }

    /// Finishes `gid` as the superuser, from its own database (ROLLBACK PREPARED or COMMIT PREPARED).
    func finish(_ gid: String, database: String, commit: Bool = false) throws {
        let session = try TestSession(dsn: env.dsn(database: database))
        try session.run((commit ? "COMMIT PREPARED " : "ROLLBACK PREPARED ") + sqlLiteral(gid))
    }

    /// Rolls back every prepared transaction left in the test's databases (DROP DATABASE refuses
    /// a database with prepared transactions).
    func rollBackPreparedLeftovers() {
        for db in databases {
            guard let rows = try? admin.run("SELECT gid FROM pg_prepared_xacts WHERE database = $1", [db]), !rows.isEmpty,
                  let session = try? TestSession(dsn: env.dsn(database: db)) else { continue }
            for row in rows { _ = try? session.run("ROLLBACK PREPARED " + sqlLiteral(row[0] ?? "")) }
        }
    }
}

/// A killer connected as the test's superuser (or `dsn`), for the rollback path on its own.
func testKiller(_ env: TestEnvironment, dsn: String? = nil) -> Killer {
    Killer(database: Database(settings: ConnectionSettings(dsn: dsn ?? env.dsn(), connectTimeout: .seconds(5))))
}

/// A rollback test's own database and role on `fx`, and a killer for the rollback path.
struct PreparedScene {
    let fx: AdminFixture
    let db: String
    let role: String
    let killer: Killer

    init(_ fx: AdminFixture, databasePrefix: String = "pgw_db") throws {
        self.fx = fx
        db = try fx.createDatabase(databasePrefix)
        role = try fx.createRole()
        killer = testKiller(fx.env)
    }

    /// The listed transaction with exactly this gid (bytes), in the scene's database.
    func listed(_ gid: String) throws -> PreparedTransaction? {
        try killer.listPrepared().first { $0.gid.isExactly(gid) && $0.datname == db }
    }

    /// Prepares `gid` as the scene's role in its database, and returns it as listed.
    func prepareListed(_ gid: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PreparedTransaction {
        try fx.prepare(gid, role: role, database: db)
        return try #require(try listed(gid), "listed: \(gid.debugDescription)", sourceLocation: sourceLocation)
    }

    /// ROLLBACK PREPARED of `target` under `selection` (any age by default), as the killer does it.
    func rollBack(_ target: PreparedTransaction, selection: PreparedSelection = PreparedSelection(criteria: PreparedCriteria()),
                  protectedRoles: [String] = []) -> RollbackOutcome {
        killer.rollbackPrepared(target, selection: selection, protectedRoles: protectedRoles)
    }
}
