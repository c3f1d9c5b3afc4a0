import Foundation
import PGWarden
import Testing

/// `--output json` of the manual commands: one JSON document, the field names of /actions.
@Suite("Manual commands' JSON output")
struct ManualJSONTests {
    static func parse(_ output: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    @Test func sessionsAndTerminateAsJSON() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole("pgw_json")
        let victim = try fx.connect(role: role, database: db)
        try victim.idleInTransaction()
        let su = try fx.connect(role: "postgres", database: db)

        let listed = try runPGWarden(fx.env, ["sessions", "--dsn", fx.env.dsn(), "--database", db, "--output", "json"],
                                     separateStandardError: true)
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.errors.contains("password"), "the --dsn password warning goes to standard error: \(listed.errors)")
        let document = try Self.parse(listed.output)
        let sessions = try #require(document["sessions"] as? [[String: Any]])
        #expect(document["count"] as? Int == 2 && sessions.count == 2)
        let row = try #require(sessions.first { $0["pid"] as? Int == Int(victim.pid) })
        #expect(Set(row.keys) == ["pid", "backend_start", "backend_start_seconds", "datname", "usename", "application_name",
                                  "client_addr", "state", "state_age_seconds", "transaction_age_seconds", "backend_age_seconds", "superuser",
                                  "protected", "can_signal", "blocking", "note"])
        #expect(row["datname"] as? String == db && row["usename"] as? String == role)
        #expect(row["state"] as? String == "idle in transaction")
        #expect(row["superuser"] as? Bool == false && row["can_signal"] as? Bool == true && row["note"] as? String == "")
        #expect((row["backend_start"] as? String)?.hasSuffix("Z") == true)
        let started = try fx.admin.run("SELECT extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = $1",
                                       [String(victim.pid)]).first?[0].flatMap(Double.init)
        #expect(abs((row["backend_start_seconds"] as? Double ?? 0) - (started ?? -1)) < 0.000002)
        let superuser = try #require(sessions.first { $0["pid"] as? Int == Int(su.pid) })
        #expect((superuser["note"] as? String)?.hasPrefix("superuser") == true)

        let done = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db, "--output", "json"],
                                   separateStandardError: true)
        #expect(done.status == 0, "\(done.output)")
        let result = try Self.parse(done.output)
        #expect(result["dry_run"] as? Bool == false)
        #expect(result["signalled"] as? Int == 1 && result["left_alone"] as? Int == 1 && result["would_signal"] as? Int == 0)
        let actions = try #require(result["actions"] as? [[String: Any]])
        #expect(Set(actions.compactMap { $0["result"] as? String }) == ["success", "protected"])
        let skipped = try #require(actions.first { $0["pid"] as? Int == Int(su.pid) })
        #expect(skipped["guard"] as? String == "superuser")
        #expect(victim.wasTerminated())

        let bad = try runPGWarden(fx.env, ["sessions", "--dsn", fx.env.dsn(), "--output", "yaml"])
        #expect(bad.status == 2 && bad.output.contains("--output 'yaml' is not a format"), "\(bad.output)")
    }
}
