import Foundation
import PGWarden
import Testing

/// The webhook's guarded actions against a real server.
@Suite("Kill hooks")
struct KillHookTests {
    static func idleRule(db: String, name: String = "idle-tx", extra: String = "") -> String {
        """
          - name: \(name)
            match: {alertname: IdleTx}
            action: terminate
            states: ["idle in transaction"]
            min_state_age: 1s
            databases: [\(db)]
        \(extra)
        """
    }

    /// A cancel_then_terminate rule for active queries in `db`.
    static func longQueryPolicy(db: String, grace: String) -> String {
        """
        rules:
          - name: long-query
            match: {alertname: LongQuery}
            action: cancel_then_terminate
            grace_period: \(grace)
            states: [active]
            min_state_age: 1s
            databases: [\(db)]
        """
    }

    /// A query that survives every cancel (it catches query_canceled and sleeps again).
    static let stubbornQuery = "DO $$ BEGIN LOOP BEGIN PERFORM pg_sleep(120); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$"

    /// Whether /actions holds a record of a terminate of `pid` with `result`.
    static func recordsTerminate(_ hook: HookFixture, pid: Int32, result: String) throws -> Bool {
        let body = try HTTP.request(port: hook.pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(hook.token)"]).body
        let records = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["actions"] as? [[String: Any]] ?? []
        return records.contains {
            $0["pid"] as? Int == Int(pid) && $0["action"] as? String == "terminate" && $0["result"] as? String == result
        }
    }

    @Test func idleInTransactionIsTerminatedAndGuardedSessionsSurvive() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_app"), prot = try fx.createRole("pgw_prot")
        let victim = try fx.connect(role: app, database: db)
        try victim.idleInTransaction()
        let protected = try fx.connect(role: prot, database: db)
        try protected.idleInTransaction()
        let superuser = try fx.connect(role: "postgres", database: db)
        try superuser.idleInTransaction()
        let young = try fx.connect(role: app, database: db)
        Thread.sleep(forTimeInterval: 1.2)
        try young.idleInTransaction()  // in the state for less than min_state_age
        let nonClient = try fx.admin.run("SELECT pid FROM pg_stat_activity WHERE backend_type IN ('checkpointer', 'background writer', 'walwriter', 'autovacuum launcher') ORDER BY 1")
        let hook = try HookFixture(fx, policy: "protected_roles: [\(prot)]\nrules:\n" + Self.idleRule(db: db),
                                   dsn: fx.env.dsn(database: db))
        _ = try hook.pgw.scrape()
        let ownPid = try fx.admin.run("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden'", [db])

        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "datname": db])])
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "acted")
        let results = HookFixture.results(json)
        #expect(results[victim.pid] == "success")
        #expect(results[protected.pid] == "protected")
        #expect(results[superuser.pid] == "protected", "superusers are protected unless the rule allows them")
        #expect(results[young.pid] == nil, "not yet past min_state_age: not even considered")
        #expect(victim.wasTerminated(), "the client sees the termination")
        try eventually("the backend has exited") { try !fx.exists(victim.pid) }
        for survivor in [protected, superuser, young] {
            #expect(try fx.state(of: survivor.pid) == "idle in transaction")
        }
        // Both of pgwarden's sessions (scrapes, actions) survive and neither is counted.
        let own = try fx.admin.run("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden' ORDER BY 1", [db])
        #expect(own.count == 2)
        #expect(own.contains(ownPid[0]))
        #expect(try fx.admin.run("SELECT pid FROM pg_stat_activity WHERE backend_type IN ('checkpointer', 'background writer', 'walwriter', 'autovacuum launcher') ORDER BY 1") == nonClient)
        let m = try hook.pgw.scrape()
        #expect(m.value("pg_up") == 1)
        #expect(m.value("pg_sessions", ["datname": db, "usename": "postgres", "state": "idle"]) == 0, "pgwarden's two idle sessions are not counted")
        #expect(m.value("pg_database_sessions", ["datname": db]) == 3)
        #expect(m.value("pgwarden_actions_total", ["rule": "idle-tx", "action": "terminate", "result": "success"]) == 1)
        #expect(m.value("pgwarden_actions_total", ["rule": "idle-tx", "action": "terminate", "result": "protected"]) == 2)
        #expect(m.value("pgwarden_webhook_requests_total", ["code": "200"]) == 1)
        #expect((m.value("pgwarden_last_action_timestamp_seconds", ["rule": "idle-tx"]) ?? 0) > 1_700_000_000)
        #expect(hook.pgw.log.contains("msg=\"session acted on\""))
        #expect(hook.pgw.log.contains("backend.pid=\(victim.pid)"))
    }

    @Test func dryRunKillsNothingAndReportsWhatItWould() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole()
        let s = try fx.connect(role: app, database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db, extra: "    dry_run: true"))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])])
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "dry run")
        #expect(HookFixture.results(json)[s.pid] == "dry_run")
        #expect(try fx.state(of: s.pid) == "idle in transaction")
        #expect(try hook.pgw.scrape().value("pgwarden_actions_total", ["result": "dry_run"]) == 1)
    }

    @Test func resolvedAlertsNeverAct() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let s = try fx.connect(role: try fx.createRole(), database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx"], status: "resolved")], status: "resolved")
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "resolved")
        #expect(try fx.state(of: s.pid) == "idle in transaction")
    }

    @Test func pidAddressedAlertNeedsMatchingBackendStart() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let s = try fx.connect(role: try fx.createRole(), database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let start = try #require(try fx.admin.run("SELECT EXTRACT(EPOCH FROM backend_start)::text FROM pg_stat_activity WHERE pid = $1", [String(s.pid)]).first?[0] ?? nil)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db))
        var (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "pid": String(s.pid), "backend_start": String(Double(start)! - 60)])])
        #expect(status == 200)
        #expect(HookFixture.results(json).isEmpty)
        (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "pid": String(s.pid)])])
        #expect(HookFixture.outcome(json) == "not addressable")
        #expect(try fx.state(of: s.pid) == "idle in transaction")
        (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "pid": String(s.pid), "backend_start": start])])
        #expect(HookFixture.results(json)[s.pid] == "success")
        #expect(s.wasTerminated())
    }

    @Test func replayingTheSameNotificationIsIdempotent() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let s = try fx.connect(role: role, database: db)
        try s.idleInTransaction()
        let bystander = try fx.connect(role: role, database: db)
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db))
        let alert = HookFixture.alert(["alertname": "IdleTx"], fingerprint: "same")
        let first = try hook.notify([alert])
        #expect(HookFixture.results(first.1)[s.pid] == "success")
        try eventually("the terminated session has exited") { try !fx.exists(s.pid) }
        let second = try hook.notify([alert])
        #expect(second.0 == 200)
        #expect(HookFixture.outcome(second.1) == "no matching sessions")
        #expect(try fx.state(of: bystander.pid) == "idle")
        #expect(try hook.pgw.scrape().value("pgwarden_actions_total", ["result": "success"]) == 1)
    }

    @Test func capsPerAlertAndPerMinuteHold() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(6)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db, extra: "    max_sessions_per_alert: 2\n    max_sessions_per_minute: 3"))
        func count(_ json: [String: Any], _ result: String) -> Int { HookFixture.results(json).values.filter { $0 == result }.count }
        let first = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1
        #expect(count(first, "success") == 2)
        #expect(count(first, "capped") == 4)
        let firstKilled = HookFixture.results(first).filter { $0.value == "success" }.map(\.key)
        try eventually("the sessions terminated first have exited") { try !firstKilled.contains { try fx.exists($0) } }
        let second = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1
        #expect(count(second, "success") == 1, "only one left in this minute's budget of 3")
        #expect(count(second, "capped") == 3)
        let secondKilled = HookFixture.results(second).filter { $0.value == "success" }.map(\.key)
        try eventually("the session terminated second has exited") { try !secondKilled.contains { try fx.exists($0) } }
        let third = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1
        #expect(count(third, "success") == 0)
        let alive = try sessions.filter { try fx.exists($0.pid) }.count
        #expect(alive == 3)
        #expect(try hook.pgw.scrape().value("pgwarden_actions_total", ["result": "capped"]) == 10)
    }

    @Test func alertLabelsCannotWidenARule() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase(), other = try fx.createDatabase()
        let allowed = try fx.createRole("pgw_allowed"), outside = try fx.createRole("pgw_outside")
        let a = try fx.connect(role: allowed, database: db)
        let b = try fx.connect(role: outside, database: db)
        let c = try fx.connect(role: allowed, database: other)
        for s in [a, b, c] { try s.idleInTransaction() }
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db, extra: "    roles: [\(allowed)]"))
        for labels in [["usename": outside], ["datname": other], ["datname": other, "usename": allowed],
                       ["application_name": "not-psql-or-anything"]] {
            let (status, json) = try hook.notify([HookFixture.alert(labels.merging(["alertname": "IdleTx"]) { $1 })])
            #expect(status == 200)
            #expect(HookFixture.results(json).isEmpty, "\(labels) selected nothing")
        }
        for s in [a, b, c] { #expect(try fx.state(of: s.pid) == "idle in transaction") }
        let narrowed = try hook.notify([HookFixture.alert(["alertname": "IdleTx", "usename": allowed])]).1
        #expect(HookFixture.results(narrowed) == [a.pid: "success"])
    }

    @Test func escalationCancelsThenTerminatesOnlyWhatKeepsRunning() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let stops = try fx.connect(role: role, database: db)
        stops.startInBackground("SELECT pg_sleep(120)")
        let stubborn = try fx.connect(role: role, database: db)
        stubborn.startInBackground(Self.stubbornQuery)
        try eventually("both run") { try fx.state(of: stops.pid) == "active" && fx.state(of: stubborn.pid) == "active" }
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: Self.longQueryPolicy(db: db, grace: "1s"))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery"])])
        #expect(status == 200)
        let first = HookFixture.sessions(json)
        #expect(first.count == 2)
        #expect(first.allSatisfy { $0["action"] as? String == "cancel" && $0["result"] as? String == "success" })
        try eventually("the stubborn session is terminated after the grace period") { try !fx.exists(stubborn.pid) }
        #expect(try fx.state(of: stops.pid) == "idle", "the cancelled query stopped; the session stays")
        try eventually("the escalation is recorded") {
            try Self.recordsTerminate(hook, pid: stubborn.pid, result: "success") && Self.recordsTerminate(hook, pid: stops.pid, result: "gone")
        }
    }

    /// pgwarden's connection dies during the grace period (a restart, idle_session_timeout): the
    /// escalation replaces it before its terminate step instead of losing that step.
    @Test func escalationSurvivesAConnectionLostDuringTheGracePeriod() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let stubborn = try fx.connect(role: try fx.createRole(), database: db)
        stubborn.startInBackground(Self.stubbornQuery)
        try eventually("it runs") { try fx.state(of: stubborn.pid) == "active" }
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: Self.longQueryPolicy(db: db, grace: "2s"), dsn: fx.env.dsn(database: db))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery"])])
        #expect(status == 200)
        #expect(HookFixture.results(json)[stubborn.pid] == "success", "cancelled")
        let ended = try fx.admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden'", [db])
        #expect(!ended.isEmpty, "pgwarden's connection was ended during the grace period")
        try eventually("the stubborn session is terminated after the grace period") { try !fx.exists(stubborn.pid) }
        try eventually("the escalation is recorded as a success") { try Self.recordsTerminate(hook, pid: stubborn.pid, result: "success") }
    }

    @Test func idleInTransactionEscalationTerminatesDirectly() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let s = try fx.connect(role: try fx.createRole(), database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: """
            rules:
              - name: esc
                match: {alertname: IdleTx}
                action: cancel_then_terminate
                grace_period: 30s
                states: ["idle in transaction"]
                databases: [\(db)]
            """)
        let json = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1
        #expect(HookFixture.sessions(json).first?["action"] as? String == "terminate")
        #expect(s.wasTerminated())
    }

    /// The connection is lost right after the kill statement reached the server: the server
    /// ran it, pgwarden cannot know. It must not send it again (a second run would find the
    /// sessions gone and report "gone"); each session gets an audit record "unknown", the
    /// answer is 503, and Alertmanager's retry finds nothing left to do.
    @Test func killStatementLostMidwayIsAuditedAsUnknown() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_app")
        let a = try fx.connect(role: app, database: db), b = try fx.connect(role: app, database: db)
        try a.idleInTransaction()
        try b.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let proxy = try FaultProxy(upstreamPort: fx.env.port)
        defer { proxy.stop() }
        let dsn = "host=127.0.0.1 port=\(proxy.port) user=postgres password=postgres dbname=\(libpqQuote(db)) connect_timeout=5"
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db), dsn: dsn)
        let alert = HookFixture.alert(["alertname": "IdleTx", "datname": db])

        proxy.cutAfter("pg_terminate_backend(t.pid)")
        let (status, _) = try hook.notify([alert])
        #expect(status == 503)
        try eventually("the server ran the kill statement") { try !fx.exists(a.pid) && !fx.exists(b.pid) }
        let actions = try HTTP.request(port: hook.pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(hook.token)"]).body
        for pid in [a.pid, b.pid] {
            #expect(actions.contains("\"pid\":\(pid),"), "pid \(pid) has an audit record")
        }
        #expect(actions.components(separatedBy: "\"action\":\"terminate\",\"result\":\"unknown\"").count - 1 == 2)
        #expect(!actions.contains("\"result\":\"gone\""), "the statement was not sent a second time")
        #expect(try hook.pgw.scrape().value("pgwarden_actions_total", ["rule": "idle-tx", "action": "terminate", "result": "unknown"]) == 2)

        // Alertmanager retries the 503: nothing matches any more.
        let (again, json) = try hook.notify([alert])
        #expect(again == 200)
        #expect(HookFixture.outcome(json) == "no matching sessions")
    }

    @Test func leastPrivilegeRoleSkipsSuperusersWithoutFailingTheBatch() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let monitor = try fx.createRole("pgw_monitor", options: "IN ROLE pg_monitor, pg_signal_backend")
        let app = try fx.createRole()
        let superuser = try fx.connect(role: "postgres", database: db)
        try superuser.idleInTransaction()
        let victim = try fx.connect(role: app, database: db)
        try victim.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db, extra: "    allow_superuser: true"),
                                   dsn: fx.env.dsn(user: monitor, password: "pw"))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "IdleTx"])])
        #expect(status == 200)
        let results = HookFixture.results(json)
        #expect(results[victim.pid] == "success")
        #expect(results[superuser.pid] == "not_permitted")
        #expect(victim.wasTerminated())
        #expect(try fx.state(of: superuser.pid) == "idle in transaction")
        // The exporter works with the same least-privilege role.
        let m = try hook.pgw.scrape()
        #expect(m.value("pg_up") == 1)
        #expect(m.value("pg_sessions", ["datname": db, "usename": "postgres", "state": "idle in transaction"]) == 1)
    }

    /// The blocked-sessions alert carries the waiters' labels; the blocker (another role, idle in
    /// its transaction) is what an only_blocking rule terminates.
    @Test func onlyBlockingRuleTerminatesTheBlockerOfTheAlertedSessions() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let batch = try fx.createRole("pgw_batch"), app = try fx.createRole("pgw_app")
        let owner = try fx.connect(role: "postgres", database: db)
        try owner.run("CREATE TABLE t (id int); GRANT ALL ON t TO \(quoteIdent(batch)), \(quoteIdent(app))")
        let blocker = try fx.connect(role: batch, database: db)
        try blocker.run("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        let bystander = try fx.connect(role: batch, database: db)
        try bystander.idleInTransaction()
        let waiter = try fx.connect(role: app, database: db)
        waiter.startInBackground("SELECT count(*) FROM t")
        try eventually("the waiter waits") {
            try !fx.admin.run("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [String(waiter.pid)]).isEmpty
        }
        let hook = try HookFixture(fx, policy: """
            rules:
              - name: idle-blockers
                match: {alertname: Blocked}
                action: terminate
                states: ["idle in transaction"]
                only_blocking: true
                databases: [\(db)]
            """)
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "Blocked", "datname": db, "usename": app])])
        #expect(status == 200)
        #expect(HookFixture.results(json) == [blocker.pid: "success"], "\(json)")
        #expect(blocker.wasTerminated())
        #expect(try fx.state(of: bystander.pid) == "idle in transaction", "idle in transaction but blocking nobody")
        try eventually("the waiter got its lock") { try fx.state(of: waiter.pid) != "active" || fx.exists(waiter.pid) == false }
    }

    @Test func actionsEndpointNeedsCredentials() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db))
        #expect(try HTTP.get(port: hook.pgw.port, "/actions").status == 401)
        let ok = try HTTP.request(port: hook.pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(hook.token)"])
        #expect(ok.status == 200)
        #expect(ok.body.hasPrefix("{\"actions\":["))
    }

    @Test func reloadKeepsTheOldPolicyWhenTheNewOneIsInvalid() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let s = try fx.connect(role: try fx.createRole(), database: db)
        try s.idleInTransaction()
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: db, extra: "    dry_run: true"))
        try "rules:\n  - name: broken\n    match: {alertname: IdleTx}\n    action: obliterate\n".write(toFile: hook.policyPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        eventually("the reload is refused") { hook.pgw.log.contains("policy reload failed") }
        #expect(hook.pgw.log.contains("obliterate"))
        #expect(try hook.pgw.scrape().value("pgwarden_config_last_reload_successful") == 0)
        #expect(HookFixture.results(try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1)[s.pid] == "dry_run")
        try ("rules:\n" + Self.idleRule(db: db)).write(toFile: hook.policyPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        try eventually("the reload succeeds") { try hook.pgw.scrape().value("pgwarden_config_last_reload_successful") == 1 }
        #expect(HookFixture.results(try hook.notify([HookFixture.alert(["alertname": "IdleTx"])]).1)[s.pid] == "success")
    }

    /// SIGHUP re-reads the token file: the new token is in force, the old one is not; a file
    /// that can no longer be read revokes the token (see KillSafetyTests for the whole story).
    @Test func sighupRereadsTheTokenFileAndRevokesItWhenUnreadable() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let hook = try HookFixture(fx, policy: "rules:\n" + Self.idleRule(db: try fx.createDatabase()))
        func status(_ token: String) throws -> Int {
            try HTTP.request(port: hook.pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(token)"]).status
        }
        #expect(try status(hook.token) == 200)
        try "rotated-\(hook.token)\n".write(toFile: hook.tokenPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        try eventually("the new token is in force") { try status("rotated-\(hook.token)") == 200 }
        #expect(try status(hook.token) == 401, "the old token no longer works")
        try FileManager.default.removeItem(atPath: hook.tokenPath)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        eventually("the failed re-read is logged") { hook.pgw.log.contains("webhook credentials could not be re-read") }
        #expect(try status("rotated-\(hook.token)") == 503, "an unreadable file revokes the credentials")
    }

    @Test func startupRefusesBadPolicyAndMissingCredentials() throws {
        let env = try TestEnvironment.load()
        let bad = "\(env.workDir)/bad-\(uniqueSuffix()).yml"
        try "rules:\n  - name: x\n    match: {alertname: A}\n    action: terminate\n    max_sessions_per_alert: ten\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let token = "\(env.workDir)/tok-\(uniqueSuffix())"
        try "t".write(toFile: token, atomically: true, encoding: .utf8)
        let invalid = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", bad, "--webhook.token-file", token])
        #expect(invalid.status == 1)
        #expect(invalid.output.contains(":5:"), "names the line: \(invalid.output)")
        #expect(invalid.output.contains("max_sessions_per_alert"))
        // Without credentials: a file that does not load is reported first (it may hold only
        // targets, which need none); a file with rules needs them.
        let unloadable = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", bad])
        #expect(unloadable.status == 1)
        #expect(unloadable.output.contains("max_sessions_per_alert"))
        let good = "\(env.workDir)/good-\(uniqueSuffix()).yml"
        try "rules:\n  - name: x\n    match: {alertname: A}\n    action: terminate\n    databases: [x]\n".write(toFile: good, atomically: true, encoding: .utf8)
        let open = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", good])
        #expect(open.status == 2)
        #expect(open.output.contains("--webhook.allow-unauthenticated"))
        let missing = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", "/nonexistent/policy.yml", "--webhook.token-file", token])
        #expect(missing.status == 1)
        #expect(missing.output.contains("/nonexistent/policy.yml"))
    }
}
