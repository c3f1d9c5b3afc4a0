import Foundation
import PGWarden
import Testing

/// Kill safety, tried adversarially against a real server: alerts whose numbers are not numbers,
/// repeated alerts, alerts about another server, and revoked credentials.
@Suite("Kill safety")
struct KillSafetyTests {
    /// A session idle in a transaction past the rule's min_state_age, and its backend_start as
    /// the Unix seconds PostgreSQL gives.
    static func idleSession(_ fx: AdminFixture, db: String) throws -> (TestSession, String) {
        let s = try fx.connect(role: try fx.createRole(), database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let start = try fx.admin.run("SELECT EXTRACT(EPOCH FROM backend_start)::text FROM pg_stat_activity WHERE pid = $1",
                                     [String(s.pid)]).first?[0] ?? nil
        return (s, try #require(start))
    }

    /// Secret files must be printable ASCII without blanks; start-up names the flag and the file.
    /// (The listen address is one this host does not have, so that a pgwarden that took the
    /// secret would exit at once too, instead of serving.)
    @Test func startupRefusesASecretThatIsNotPrintableASCII() throws {
        let env = try TestEnvironment.load()
        let nowhere = ["--web.listen-address", "192.0.2.1:9793"]
        let policy = "\(env.workDir)/policy-\(uniqueSuffix()).yml"
        try ("rules:\n" + KillHookTests.idleRule(db: "postgres")).write(toFile: policy, atomically: true, encoding: .utf8)
        let token = "\(env.workDir)/tok-\(uniqueSuffix())"
        try Data(Array("tok".utf8) + [0xFF, 0x0A]).write(to: URL(fileURLWithPath: token))
        let bad = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", policy, "--webhook.token-file", token] + nowhere)
        #expect(bad.status == 1)
        #expect(bad.output.contains("--webhook.token-file \(token): the secret has a blank, a control character or a non-ASCII byte (at byte 4 of the secret)"), "\(bad.output)")
        let password = "\(env.workDir)/pw-\(uniqueSuffix())"
        try "pass word\n".write(toFile: password, atomically: true, encoding: .utf8)
        let spaced = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", policy, "--webhook.basic-auth-user", "am",
                                           "--webhook.basic-auth-password-file", password] + nowhere)
        #expect(spaced.status == 1)
        #expect(spaced.output.contains("--webhook.basic-auth-password-file \(password): the secret has a blank"), "\(spaced.output)")
        #expect(!spaced.output.contains("pass word"), "the secret is not shown")
    }
}
