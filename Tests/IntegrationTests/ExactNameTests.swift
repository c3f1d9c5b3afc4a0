import Foundation
import PGWarden
import Testing

/// Roles whose names are canonically equivalent but byte-distinct (café with é, and with e and
/// a combining accent) are two roles to PostgreSQL, and so to pgwarden: two series, two names
/// to the filters. Merged, one role could hide its sessions behind the other's.
@Suite("Byte-distinct names against a real server")
struct ExactNameTests {
    @Test func canonicallyEquivalentRolesStayTwoSeriesAndTwoNames() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let suffix = uniqueSuffix()
        let composed = "caf\u{E9}_\(suffix)", decomposed = "cafe\u{301}_\(suffix)"
        try fx.createRole(exactly: composed)
        try fx.createRole(exactly: decomposed)
        #expect(composed == decomposed, "Swift calls them equal")
        #expect(!composed.isExactly(decomposed), "their bytes differ")
        let a = try fx.connect(role: composed, database: db)
        let b1 = try fx.connect(role: decomposed, database: db), b2 = try fx.connect(role: decomposed, database: db)
        for s in [a, b1, b2] { try s.idleInTransaction() }

        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let series = try pgw.scrape().all("pg_sessions", ["datname": db, "state": "idle in transaction"])
        #expect(series.count == 2, "\(series)")
        #expect(series.map(\.value).sorted() == [1, 2])

        // The manual command with the composed name selects that role's session only.
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db, "--role", composed])
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 session(s) signalled, 0 left alone"), "\(output)")
        #expect(a.wasTerminated())
        #expect(try fx.state(of: b1.pid) == "idle in transaction" && fx.state(of: b2.pid) == "idle in transaction")
    }
}
