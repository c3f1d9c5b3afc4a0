import Foundation
import PGWarden
import Testing

/// min_backend_age: old pooled connections, by the webhook and by the command line.
@Suite("min_backend_age against a real server")
struct BackendAgeTests {
    /// An idle session connected over a second ago and one connected just now, in a new database.
    static func oldAndYoung(_ fx: AdminFixture) throws -> (db: String, old: TestSession, young: TestSession) {
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let old = try fx.connect(role: role, database: db)
        Thread.sleep(forTimeInterval: 1.2)
        let young = try fx.connect(role: role, database: db)
        return (db, old, young)
    }

    @Test func webhookRuleEndsOnlyOldConnections() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, old, young) = try Self.oldAndYoung(fx)
        let hook = try HookFixture(fx, policy: """
            rules:
              - name: rebalance
                match: {alertname: OldConnections}
                action: terminate
                states: [idle]
                min_backend_age: 1s
                databases: [\(db)]
            """)
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "OldConnections"])])
        #expect(status == 200)
        #expect(HookFixture.results(json) == [old.pid: "success"], "\(json)")
        #expect(old.wasTerminated())
        #expect(try fx.state(of: young.pid) == "idle")
    }

    @Test func commandLineEndsOnlyOldConnections() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, old, young) = try Self.oldAndYoung(fx)
        let listing = try runPGWarden(fx.env, ["sessions", "--dsn", fx.env.dsn(), "--database", db, "--min-backend-age", "1s",
                                               "--output", "json"], separateStandardError: true)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(listing.output.utf8)) as? [String: Any])
        let sessions = document["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.compactMap { $0["pid"] as? Int } == [Int(old.pid)])
        #expect((sessions.first?["backend_age_seconds"] as? Double ?? 0) >= 1)
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db, "--min-backend-age", "1s"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 session(s) signalled, 0 left alone"), "\(output)")
        #expect(old.wasTerminated())
        #expect(try fx.state(of: young.pid) == "idle")
        // --min-backend-age narrows on its own: no --all needed, and a young pool is left alone.
        let none = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--min-backend-age", "87600h"])
        #expect(none.status == 0 && none.output.contains("0 session(s) signalled"), "\(none.output)")
    }
}
