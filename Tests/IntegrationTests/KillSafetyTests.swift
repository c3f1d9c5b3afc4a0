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

    /// `backend_start` values Swift's `Double(_:)` reads but that are no backend's start: NaN
    /// passed the old pid-reuse guard (every comparison with NaN is false) and ended whatever
    /// held the pid. Each must leave the session alone and say why.
    @Test func pidAddressedAlertWithHostileBackendStartSignalsNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let (s, start) = try Self.idleSession(fx, db: db)
        let hook = try HookFixture(fx, policy: "rules:\n" + KillHookTests.idleRule(db: db))
        let pid = String(s.pid)
        let cases: [(pid: String, start: String)] = [
            (pid, "NaN"), (pid, "nan"), (pid, "-nan"), (pid, "inf"), (pid, "-inf"), (pid, "1e308"), (pid, "0x1p3"),
            (pid, " " + start), (pid, start + " "), (pid, "+" + start), (pid, "0" + start), (pid, start + ".5"),
            (pid, "1"), (pid, "99999999999"),
            ("+" + pid, start), (" " + pid, start), ("0" + pid, start), (pid + ".0", start), ("NaN", start),
        ]
        for c in cases {
            let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "pid": c.pid, "backend_start": c.start])])
            #expect(status == 200)
            #expect(HookFixture.outcome(json) == "not addressable", "pid \(c.pid.debugDescription) backend_start \(c.start.debugDescription): \(json)")
            #expect(HookFixture.sessions(json).isEmpty)
            #expect(try fx.state(of: s.pid) == "idle in transaction", "after pid \(c.pid.debugDescription) backend_start \(c.start.debugDescription)")
        }
        let m = try hook.pgw.scrape()
        #expect(m.all("pgwarden_actions_total").isEmpty)
        #expect(m.value("pgwarden_webhook_alerts_total", ["outcome": "not addressable"]) == Double(cases.count))
        #expect(hook.pgw.log.contains(#"the alert's backend_start label \"NaN\" is not Unix seconds"#), "the log says why")

        // The control: the session's own pid and backend_start do address it.
        let (_, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "pid": pid, "backend_start": start])])
        #expect(HookFixture.results(json)[s.pid] == "success")
        #expect(s.wasTerminated())
    }

    /// One notification carrying the same firing alert five times (three copies by fingerprint,
    /// two with made-up fingerprints) gets the rule's per-alert cap once, not five times.
    @Test func repeatedAlertInOneNotificationGetsThePerAlertCapOnce() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(6)
        let hook = try HookFixture(fx, policy: "rules:\n" + KillHookTests.idleRule(
            db: db, extra: "    max_sessions_per_alert: 2\n    max_sessions_per_minute: 100"))
        let labels = ["alertname": "IdleTx", "datname": db]
        let alerts = [HookFixture.alert(labels, fingerprint: "same"), HookFixture.alert(labels, fingerprint: "same"),
                      HookFixture.alert(labels, fingerprint: "same"), HookFixture.alert(labels, fingerprint: "other-1"),
                      HookFixture.alert(labels, fingerprint: "other-2")]
        let (status, json) = try hook.notify(alerts)
        #expect(status == 200)
        let outcomes = (json["alerts"] as? [[String: Any]] ?? []).map { $0["outcome"] as? String }
        #expect(outcomes == ["acted", "duplicate", "duplicate", "duplicate", "duplicate"], "\(json)")
        let signalled = (0..<5).flatMap { HookFixture.sessions(json, alert: $0) }.filter { $0["result"] as? String == "success" }
        #expect(signalled.count == 2)
        let ended = signalled.compactMap { ($0["pid"] as? Int).map(Int32.init) }
        try eventually("the two signalled sessions have exited") { try !ended.contains { try fx.exists($0) } }
        let alive = try sessions.filter { try fx.state(of: $0.pid) == "idle in transaction" }
        #expect(alive.count == 4, "at most max_sessions_per_alert sessions ended")
        let m = try hook.pgw.scrape()
        #expect(m.value("pgwarden_actions_total", ["rule": "idle-tx", "action": "terminate", "result": "success"]) == 2)
        #expect(m.value("pgwarden_webhook_alerts_total", ["outcome": "duplicate"]) == 4)
    }

    /// With --target.name db1, a firing alert about db2, or naming no server, acts on nothing;
    /// one about db1 acts. Without --target.name, start-up warns.
    @Test func alertsAboutAnotherTargetActOnNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let (s, _) = try Self.idleSession(fx, db: db)
        let hook = try HookFixture(fx, policy: "rules:\n" + KillHookTests.idleRule(db: db), extraArguments: ["--target.name", "db1"])
        #expect(!hook.pgw.log.contains("no --target.name"))
        for labels in [["instance": "db2"], [:], ["instance": ""], ["instance": "db1:9187"], ["server": "db1"]] {
            let (status, json) = try hook.notify([HookFixture.alert(labels.merging(["alertname": "IdleTx"]) { $1 })])
            #expect(status == 200)
            #expect(HookFixture.outcome(json) == "other target", "\(labels): \(json)")
            #expect(HookFixture.sessions(json).isEmpty)
            #expect(try fx.state(of: s.pid) == "idle in transaction", "after \(labels)")
        }
        #expect(hook.pgw.log.contains("alert about another target not acted on"))
        var m = try hook.pgw.scrape()
        #expect(m.value("pgwarden_webhook_alerts_total", ["outcome": "other target"]) == 5)
        #expect(m.all("pgwarden_actions_total").isEmpty)

        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "instance": "db1"])])
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "acted", "\(json)")
        #expect(HookFixture.results(json)[s.pid] == "success")
        #expect(s.wasTerminated())
        m = try hook.pgw.scrape()
        #expect(m.value("pgwarden_webhook_alerts_total", ["outcome": "acted"]) == 1)

        let anyTarget = try HookFixture(fx, policy: "rules:\n" + KillHookTests.idleRule(db: db))
        #expect(anyTarget.pgw.log.contains("no --target.name: a firing alert about any server will act on the server pgwarden connects to"))
    }

    /// A token file emptied, removed or made malformed and then SIGHUP: the old token no longer
    /// works; the webhook and /actions answer 503 (credentials unavailable), act on nothing, and
    /// a later SIGHUP with a good file restores service with the new token only.
    @Test(arguments: ["emptied", "removed", "malformed"])
    func aTokenFileThatCannotBeReReadRevokesTheToken(change: String) throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let (s, _) = try Self.idleSession(fx, db: db)
        let hook = try HookFixture(fx, policy: "rules:\n" + KillHookTests.idleRule(db: db))
        func actions(_ token: String) throws -> RawResponse {
            try HTTP.request(port: hook.pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(token)"])
        }
        #expect(try actions(hook.token).status == 200)
        switch change {
        case "emptied": try "\n".write(toFile: hook.tokenPath, atomically: true, encoding: .utf8)
        case "removed": try FileManager.default.removeItem(atPath: hook.tokenPath)
        default: try "two words\n".write(toFile: hook.tokenPath, atomically: true, encoding: .utf8)
        }
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        try eventually("the old token is refused") { try actions(hook.token).status == 503 }
        let refused = try actions(hook.token)
        #expect(refused.body.contains("credentials are unavailable"), "\(refused.body)")
        #expect(try actions("two words").status == 503)
        let (status, _) = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])])
        #expect(status == 503)
        #expect(try fx.state(of: s.pid) == "idle in transaction")
        #expect(hook.pgw.log.contains("webhook credentials could not be re-read"))
        #expect(try hook.pgw.scrape().value("pgwarden_webhook_requests_total", ["code": "503"]) == 1)

        try "restored-\(hook.token)\n".write(toFile: hook.tokenPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        try eventually("the new token is in force") { try actions("restored-\(hook.token)").status == 200 }
        #expect(try actions(hook.token).status == 401, "the removed token stays removed")
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

    /// A password in --dsn is visible in `ps`: start-up warns, without showing it. The same DSN
    /// in DATA_SOURCE_NAME (not on the command line) gets no warning.
    @Test func passwordInTheDSNFlagIsWarnedAbout() throws {
        let env = try TestEnvironment.load()
        let password = "pw-\(uniqueSuffix())"
        let dsn = "host=\(env.host) port=\(env.port) user=postgres password=\(password) dbname=postgres connect_timeout=5"
        let flagged = try PGWardenProcess(env, arguments: ["--dsn", dsn])
        defer { flagged.stop() }
        _ = try flagged.scrape()
        #expect(flagged.log.contains("--dsn carries a password, which other users of this host can read in the process list (ps)"),
                "\(flagged.log)")
        #expect(!flagged.log.contains(password), "the password is not logged")
        let fromEnvironment = try PGWardenProcess(env, arguments: [], environment: ["DATA_SOURCE_NAME": dsn])
        defer { fromEnvironment.stop() }
        _ = try fromEnvironment.scrape()
        #expect(!fromEnvironment.log.contains("carries a password"))
        let uri = try PGWardenProcess(env, arguments: ["--dsn", "postgresql://postgres:\(password)@\(env.host):\(env.port)/postgres"])
        defer { uri.stop() }
        #expect(uri.log.contains("--dsn carries a password"))
        let manual = try runPGWarden(env, ["sessions", "--dsn", dsn, "--database", "nonexistent-\(uniqueSuffix())"])
        #expect(manual.output.contains("--dsn carries a password"), "\(manual.output)")
        #expect(!manual.output.contains(password))
    }
}
