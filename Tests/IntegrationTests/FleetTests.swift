import Foundation
import PGWarden
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Fleet mode against real servers: three clusters with the same database and role names, one
/// pgwarden watching them through `targets:`. An alert acts on the target it names and on no
/// other; probes of one target never wait for another's.
/// Serialized: the action-lock test holds the shared server's action lock, which every other
/// fleet-mode pgwarden on that server would wait for.
@Suite("Fleet mode", .serialized)
struct FleetTests {
    /// A cluster of its own (started and stopped by the test) or the shared one.
    struct Cluster {
        var dir: String?
        var port: Int
        func dsn(user: String = "postgres", password: String? = "postgres", database: String = "postgres") -> String {
            "host=127.0.0.1 port=\(port) user=\(libpqQuote(user))" + (password.map { " password=\(libpqQuote($0))" } ?? "")
                + " dbname=\(libpqQuote(database)) connect_timeout=5"
        }
        func admin() throws -> TestSession { try TestSession(dsn: dsn()) }
    }

    static func startCluster(_ env: TestEnvironment, _ name: String) throws -> Cluster {
        let dir = "\(env.workDir)/fleet-\(name)-\(uniqueSuffix())"
        let port = try shell("\(env.clusterScript) start '\(dir)'").trimmingCharacters(in: .whitespacesAndNewlines)
        return Cluster(dir: dir, port: Int(port)!)
    }

    static func stop(_ env: TestEnvironment, _ cluster: Cluster) {
        if let dir = cluster.dir { _ = try? shell("\(env.clusterScript) stop '\(dir)'") }
    }

    /// Writes a file in the work directory and returns its path.
    static func write(_ env: TestEnvironment, _ name: String, _ text: String) throws -> String {
        let path = "\(env.workDir)/\(name)-\(uniqueSuffix())"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A webhook bearer token and the file holding it.
    static func token(_ env: TestEnvironment) throws -> (token: String, file: String) {
        let token = "token-\(uniqueSuffix())"
        return (token, try write(env, "token", token + "\n"))
    }

    /// A fleet config: `targets` (name, DSN) and one rule terminating the idle-in-transaction
    /// sessions of `db` on alert `alertname`, with `extra` rule keys (indented lines).
    static func idleConfig(_ targets: [(String, String)], alertname: String, db: String, extra: String = "") -> String {
        targetsYAML(targets) + "rules:\n  - name: idle\n    match: {alertname: \(alertname)}\n    action: terminate\n"
            + "    states: [idle in transaction]\n    databases: [\(db)]\n" + extra
    }

    /// A `targets:` list of (name, DSN) pairs.
    static func targetsYAML(_ targets: [(String, String)]) -> String {
        "targets:\n" + targets.map { "  - name: \($0.0)\n    dsn: \"\($0.1)\"\n" }.joined()
    }

    /// A pgwarden serving `config` with the webhook token in `tokenFile`.
    static func start(_ env: TestEnvironment, _ config: String, tokenFile: String, _ extra: [String] = []) throws -> PGWardenProcess {
        try PGWardenProcess(env, arguments: ["--config.file", try write(env, "fleet.yml", config), "--webhook.token-file", tokenFile] + extra)
    }

    /// A pgwarden watching `others` (the test server under these names) and `hanging`, a server
    /// that accepts connections and never answers, with a connect timeout longer than any test.
    static func startWithHangingTarget(_ env: TestEnvironment, _ hole: BlackHole, others: [String],
                                       _ extra: [String] = []) throws -> PGWardenProcess {
        let config = targetsYAML(others.map { ($0, env.dsn()) }
                                 + [("hanging", "host=127.0.0.1 port=\(hole.port) user=postgres dbname=postgres")])
        return try PGWardenProcess(env, arguments: ["--config.file", try write(env, "fleet-hang.yml", config),
                                                    "--db.connect-timeout", "120s"] + extra)
    }

    /// A notification's body with these alerts.
    static func payload(_ alerts: [[String: Any]]) throws -> [UInt8] {
        let payload: [String: Any] = [
            "version": "4", "status": "firing", "receiver": "pgwarden", "groupKey": "{}:{}", "truncatedAlerts": 0,
            "groupLabels": [:] as [String: String], "commonLabels": [:] as [String: String],
            "commonAnnotations": [:] as [String: String], "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
        ]
        return Array(try JSONSerialization.data(withJSONObject: payload))
    }

    /// POSTs a notification body to the pgwarden on `port`.
    static func post(port: Int, token: String, _ body: [UInt8]) throws -> RawResponse {
        try HTTP.request(port: port, method: "POST", path: "/webhook",
                         headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body)
    }

    /// POSTs a notification to a pgwarden and returns status and JSON.
    static func notify(_ pgw: PGWardenProcess, token: String, _ alerts: [[String: Any]]) throws -> (Int, [String: Any]) {
        let response = try post(port: pgw.port, token: token, payload(alerts))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, json)
    }

    /// True while a backend with this pid exists on the cluster.
    static func exists(_ pid: Int32, on cluster: Cluster) throws -> Bool {
        try !cluster.admin().run("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [String(pid)]).isEmpty
    }

    @Test func threeClustersSameNamesAnAlertActsOnlyOnTheTargetItNames() throws {
        let env = try TestEnvironment.load()
        let main = Cluster(dir: nil, port: env.port)
        let second = try Self.startCluster(env, "b")
        defer { Self.stop(env, second) }
        let third = try Self.startCluster(env, "c")
        defer { Self.stop(env, third) }
        let clusters = [main, second, third]
        // The same database and role on every cluster.
        let suffix = uniqueSuffix()
        let (db, role) = ("fleetapp_\(suffix)", "fleetuser_\(suffix)")
        for cluster in clusters {
            let admin = try cluster.admin()
            try admin.run("CREATE ROLE \(quoteIdent(role)) LOGIN PASSWORD 'pw'")
            try admin.run("CREATE DATABASE \(quoteIdent(db)) OWNER \(quoteIdent(role))")
        }
        defer {
            for cluster in clusters where cluster.dir == nil {
                if let admin = try? cluster.admin() {
                    _ = try? admin.run("DROP DATABASE IF EXISTS \(quoteIdent(db)) WITH (FORCE)")
                    _ = try? admin.run("DROP ROLE IF EXISTS \(quoteIdent(role))")
                }
            }
        }
        // One idle-in-transaction session of that role on each cluster.
        var sessions: [TestSession] = []
        for cluster in clusters {
            let s = try TestSession(dsn: cluster.dsn(user: role, password: "pw", database: db))
            try s.idleInTransaction()
            sessions.append(s)
        }
        Thread.sleep(forTimeInterval: 1.2)

        let passwordFile = try Self.write(env, "db3-password", "postgres\n")
        let (token, tokenFile) = try Self.token(env)
        let config = """
            targets:
              - name: db1
                dsn: "\(main.dsn())"
                labels: {cluster: main, env: prod}
              - name: db2
                dsn: "\(second.dsn())"
                labels: {cluster: second, env: prod}
              - name: db3
                dsn: "\(third.dsn(password: nil))"
                password_file: \(passwordFile)
                labels: {cluster: third, env: staging}
            rules:
              - name: staging-only
                match: {alertname: FleetStagingIdle}
                action: terminate
                target_labels: {env: staging}
                states: [idle in transaction]
                databases: [\(db)]
              - name: idle
                match: {alertname: FleetIdle}
                action: terminate
                targets: [db1, db2, db3]
                states: [idle in transaction]
                min_state_age: 1s
                databases: [\(db)]
                require_labels: [datname]
            """
        let configFile = try Self.write(env, "fleet.yml", config)
        let pgw = try PGWardenProcess(env, arguments: ["--config.file", configFile, "--webhook.token-file", tokenFile])
        defer { pgw.stop() }

        // Service discovery: every target, its labels, in file order.
        let sd = try HTTP.get(port: pgw.port, "/targets")
        #expect(sd.status == 200)
        let groups = (try JSONSerialization.jsonObject(with: Data(sd.body.utf8))) as? [[String: Any]] ?? []
        #expect(groups.map { $0["targets"] as? [String] ?? [] } == [["db1"], ["db2"], ["db3"]])
        #expect(groups.map { $0["labels"] as? [String: String] ?? [:] }
            == [["cluster": "main", "env": "prod"], ["cluster": "second", "env": "prod"], ["cluster": "third", "env": "staging"]])

        // Each probe sees its own cluster's session (the same names on each).
        for name in ["db1", "db2", "db3"] {
            let m = try pgw.scrape(path: "/probe?target=\(name)")
            #expect(m.value("pg_up") == 1, "\(name) is up")
            #expect(m.value("pg_sessions", ["datname": db, "usename": role, "state": "idle in transaction"]) == 1, "\(name)")
            #expect(m.value("pgwarden_scrape_errors_total") == 0)
            #expect(m.all("process_resident_memory_bytes").isEmpty, "pgwarden's own process metrics are on /metrics only")
        }
        let own = try pgw.scrape()
        #expect(own.value("pgwarden_targets") == 3)
        #expect(own.all("pg_up").isEmpty, "/metrics carries pgwarden's own metrics in fleet mode")
        #expect(own.value("process_resident_memory_bytes") != nil)

        // Bad probes: 400 naming the problem; nothing is scraped.
        let unknown = try HTTP.get(port: pgw.port, "/probe?target=db9")
        #expect(unknown.status == 400)
        #expect(unknown.body.contains("unknown target \"db9\""))
        #expect(try HTTP.get(port: pgw.port, "/probe").status == 400)
        #expect(try HTTP.get(port: pgw.port, "/probe?target=db1&target=db2").status == 400)
        #expect(try HTTP.get(port: pgw.port, "/probe?target=db1%00").status == 400)
        #expect(try HTTP.get(port: pgw.port, "/probe?target=DB1").status == 400, "names are compared byte for byte")

        // Alerts naming no target, an unknown one, or an empty one act on nothing.
        let labels = ["alertname": "FleetIdle", "datname": db]
        for instance in [nil, "db9", "", "db2 ", "db\u{0432}2"] as [String?] {
            var l = labels
            if let instance { l["instance"] = instance }
            let (status, json) = try Self.notify(pgw, token: token, [HookFixture.alert(l)])
            #expect(status == 200)
            #expect(HookFixture.outcome(json) == "unknown target", "instance \(String(describing: instance))")
        }
        // A rule scoped to staging targets does not answer an alert about a prod target.
        var staging = labels
        staging["alertname"] = "FleetStagingIdle"
        staging["instance"] = "db2"
        let (_, scoped) = try Self.notify(pgw, token: token, [HookFixture.alert(staging)])
        #expect(HookFixture.outcome(scoped) == "nothing matched")
        for (s, cluster) in zip(sessions, clusters) { #expect(try Self.exists(s.pid, on: cluster), "no session ended yet") }

        // The alert about db2 ends db2's session only.
        var aboutSecond = labels
        aboutSecond["instance"] = "db2"
        let (status, json) = try Self.notify(pgw, token: token, [HookFixture.alert(aboutSecond)])
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "acted")
        let alerts = json["alerts"] as? [[String: Any]] ?? []
        #expect(alerts.first?["target"] as? String == "db2")
        #expect(HookFixture.results(json) == [sessions[1].pid: "success"])
        #expect(sessions[1].wasTerminated())
        #expect(!sessions[0].wasTerminated(), "db1's session with the same names survives")
        #expect(!sessions[2].wasTerminated(), "db3's session with the same names survives")
        let actions = try HTTP.request(port: pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(token)"])
        #expect(actions.body.contains("\"target\":\"db2\""))
        let counted = try pgw.scrape()
        #expect(counted.value("pgwarden_actions_total", ["target": "db2", "rule": "idle", "result": "success"]) == 1)
        #expect(counted.all("pgwarden_actions_total").allSatisfy { $0.labels["target"] == "db2" })

        // A stopped cluster: its probe answers pg_up 0, the others stay up.
        Self.stop(env, third)
        let down = try pgw.scrape(path: "/probe?target=db3")
        #expect(down.value("pg_up") == 0)
        #expect(down.value("pgwarden_scrape_errors_total") == 1)
        #expect(try pgw.scrape(path: "/probe?target=db1").value("pg_up") == 1)
        #expect(try pgw.scrape(path: "/probe?target=db2").value("pg_up") == 1)
        #expect(pgw.log.contains("target=db3"), "the log names the target that failed")

        // Reload: db2 leaves and db4 (the second cluster under another name) arrives.
        let reloaded = config.replacingOccurrences(of: "  - name: db2\n", with: "  - name: db4\n")
            .replacingOccurrences(of: "targets: [db1, db2, db3]", with: "targets: [db1, db4, db3]")
        try reloaded.write(toFile: configFile, atomically: true, encoding: .utf8)
        kill(pgw.process.processIdentifier, SIGHUP)
        #expect(eventually("the reload is applied") { (try? HTTP.get(port: pgw.port, "/targets").body.contains("db4")) == true })
        #expect(try HTTP.get(port: pgw.port, "/probe?target=db2").status == 400)
        #expect(try pgw.scrape(path: "/probe?target=db4").value("pg_up") == 1)
        // A reload that would drop every target is refused; the fleet stays.
        try "rules:\n  - {name: x, match: {alertname: X}, action: cancel, databases: [x]}\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        kill(pgw.process.processIdentifier, SIGHUP)
        #expect(eventually("the refusal is logged") { pgw.log.contains("the targets list is gone") })
        #expect(try pgw.scrape(path: "/probe?target=db1").value("pg_up") == 1)
        #expect(try pgw.scrape().value("pgwarden_config_last_reload_successful") == 0)
    }

    /// A target that accepts TCP connections but never answers holds its own probe until its
    /// connect timeout; a probe of another target answers meanwhile.
    @Test func aHangingTargetDoesNotHoldUpAnotherTargetsProbe() throws {
        let env = try TestEnvironment.load()
        let hole = try BlackHole()
        let pgw = try Self.startWithHangingTarget(env, hole, others: ["fast"])
        defer { pgw.stop() }
        let hanging = PendingProbe(port: pgw.port, target: "hanging")
        #expect(eventually("the hanging target's connection reaches the black hole") { hole.accepted > 0 })
        for _ in 0..<5 {
            let m = try pgw.scrape(path: "/probe?target=fast")
            #expect(m.value("pg_up") == 1)
        }
        #expect(hanging.response == nil, "the hanging probe is still waiting for its server")
        hole.close()
        #expect(eventually("the hanging probe answers once its server is gone") { hanging.response != nil })
        #expect(Metrics(text: hanging.response?.body ?? "").value("pg_up") == 0)
    }

    /// Under --targets.max-connections the least recently used idle connection makes room; when
    /// every connection is busy (here: one still connecting to a server that hangs), a probe
    /// answers pg_up 0 at once instead of waiting, and says why.
    @Test func theConnectionCapEvictsIdleConnectionsAndRefusesWhenAllAreBusy() throws {
        let env = try TestEnvironment.load()
        let hole = try BlackHole()
        let pgw = try Self.startWithHangingTarget(env, hole, others: ["a", "b"], ["--targets.max-connections", "1"])
        defer { pgw.stop() }
        for name in ["a", "b", "a", "b"] {
            #expect(try pgw.scrape(path: "/probe?target=\(name)").value("pg_up") == 1, "\(name)")
        }
        var own = try pgw.scrape()
        #expect(own.value("pgwarden_target_connections") == 1)
        #expect(own.value("pgwarden_target_connections_max") == 1)
        #expect(own.value("pgwarden_target_connections_evicted_total") == 3)
        let hanging = PendingProbe(port: pgw.port, target: "hanging")
        #expect(eventually("the hanging target holds the only place") { hole.accepted > 0 })
        let refused = try pgw.scrape(path: "/probe?target=a")
        #expect(refused.value("pg_up") == 0)
        #expect(pgw.log.contains("every one is in use"))
        own = try pgw.scrape()
        #expect(own.value("pgwarden_target_connections_refused_total") == 1)
        hole.close()
        #expect(eventually("the hanging probe answers") { hanging.response != nil })
        #expect(try pgw.scrape(path: "/probe?target=a").value("pg_up") == 1, "the place is free again")
    }

    /// Two replicas given the same notification at once: the alert's claim lets one act, the
    /// other answers `other replica`; the rule's per-alert cap holds over both.
    @Test func twoReplicasSignalEachSessionOnceAndHoldTheCap() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(3)
        let (token, tokenFile) = try Self.token(fx.env)
        let config = Self.idleConfig([("db1", fx.env.dsn())], alertname: "ReplicaIdle", db: db,
                                     extra: "    max_sessions_per_alert: 2\n")
        let a = try Self.start(fx.env, config, tokenFile: tokenFile)
        defer { a.stop() }
        let b = try Self.start(fx.env, config, tokenFile: tokenFile)
        defer { b.stop() }
        let alert = HookFixture.alert(["alertname": "ReplicaIdle", "instance": "db1"], fingerprint: "f\(uniqueSuffix())")
        let body = try Self.payload([alert])
        let answers = Mutex<[Int: String]>([:])
        let group = DispatchGroup()
        for (index, port) in [a.port, b.port].enumerated() {
            group.enter()
            Thread.detachNewThread {
                let text = (try? Self.post(port: port, token: token, body))?.body ?? ""
                answers.withLock { $0[index] = text }
                group.leave()
            }
        }
        group.wait()
        let jsons = answers.withLock { a in (0..<2).map { (try? JSONSerialization.jsonObject(with: Data((a[$0] ?? "").utf8))) as? [String: Any] ?? [:] } }
        let outcomes = jsons.map { HookFixture.outcome($0) ?? "none" }
        #expect(outcomes.sorted() == ["acted", "other replica"])
        let acted = jsons.first { HookFixture.outcome($0) == "acted" } ?? [:]
        #expect(HookFixture.results(acted).values.filter { $0 == "success" }.count == 2)
        let ended = sessions.filter { $0.wasTerminated() }
        #expect(ended.count == 2, "the per-alert cap of 2 holds over both replicas")
        let owner = outcomes[0] == "acted" ? a : b
        let other = outcomes[0] == "acted" ? b : a
        // A later notification of the same alert: the owner acts again (as one pgwarden would), the other does not.
        let (_, again) = try Self.notify(other, token: token, [alert])
        #expect(HookFixture.outcome(again) == "other replica")
        // Resolved at the owner: its claim is released, and the other replica may act.
        var resolved = alert
        resolved["status"] = "resolved"
        let (_, released) = try Self.notify(owner, token: token, [resolved])
        #expect(HookFixture.outcome(released) == "resolved")
        let (_, now) = try Self.notify(other, token: token, [alert])
        #expect(HookFixture.outcome(now) == "acted")
        #expect(sessions.filter { $0.wasTerminated() }.count == 3)
    }

    /// While another pgwarden holds a server's action lock, a notification waits at most
    /// lock_timeout and answers 503 (Alertmanager retries); once free, it acts.
    @Test func theActionLockSerialisesReplicas() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(1)
        let (token, tokenFile) = try Self.token(fx.env)
        let pgw = try Self.start(fx.env, Self.idleConfig([("db1", fx.env.dsn())], alertname: "LockIdle", db: db),
                                 tokenFile: tokenFile, ["--db.lock-timeout", "300ms"])
        defer { pgw.stop() }
        let holder = try TestSession(dsn: fx.env.dsn())
        try holder.run("SELECT pg_advisory_lock(\(Killer.actionLockKey.0), \(Killer.actionLockKey.1))")
        let alert = HookFixture.alert(["alertname": "LockIdle", "instance": "db1"])
        let refused = try Self.post(port: pgw.port, token: token, Self.payload([alert]))
        #expect(refused.status == 503)
        #expect(refused.body.contains("another pgwarden is acting on target \"db1\""))
        #expect(try fx.exists(sessions[0].pid))
        try holder.run("SELECT pg_advisory_unlock(\(Killer.actionLockKey.0), \(Killer.actionLockKey.1))")
        let (retried, after) = try Self.notify(pgw, token: token, [alert])
        #expect(retried == 200)
        #expect(HookFixture.outcome(after) == "acted")
        #expect(sessions[0].wasTerminated())
        // pgwarden released the lock after acting: another session takes it at once.
        #expect(try holder.run("SELECT pg_try_advisory_lock(\(Killer.actionLockKey.0), \(Killer.actionLockKey.1))").first?[0] == "t")
    }

    /// A target removed (or changed) by a reload while one of its escalations waits in the grace
    /// period: the terminate step is withdrawn, the session survives.
    @Test func anEscalationOfARemovedTargetIsWithdrawn() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let stubborn = try fx.connect(role: try fx.createRole(), database: db)
        stubborn.startInBackground(KillHookTests.stubbornQuery)
        try eventually("it runs") { try fx.state(of: stubborn.pid) == "active" }
        let (token, tokenFile) = try Self.token(fx.env)
        let config = Self.targetsYAML([("db1", fx.env.dsn()), ("other", fx.env.dsn())]) + """
            rules:
              - name: long
                match: {alertname: FleetLong}
                action: cancel_then_terminate
                grace_period: 5m
                states: [active]
                databases: [\(db)]
            """
        let configFile = try Self.write(fx.env, "escalation.yml", config)
        let pgw = try PGWardenProcess(fx.env, arguments: ["--config.file", configFile, "--webhook.token-file", tokenFile])
        defer { pgw.stop() }
        let (_, json) = try Self.notify(pgw, token: token, [HookFixture.alert(["alertname": "FleetLong", "instance": "db1"])])
        #expect(HookFixture.results(json)[stubborn.pid] == "success", "cancelled")
        try config.replacingOccurrences(of: "  - name: db1\n", with: "  - name: db1-renamed\n")
            .write(toFile: configFile, atomically: true, encoding: .utf8)
        kill(pgw.process.processIdentifier, SIGHUP)
        #expect(eventually("the reload is applied") { pgw.log.contains("targets reloaded") })
        // Withdrawn at the reload, not at the end of the grace period.
        #expect(eventually("the terminate step is withdrawn") {
            let body = (try? HTTP.request(port: pgw.port, path: "/actions", headers: ["Authorization": "Bearer \(token)"]).body) ?? ""
            return body.contains("\"action\":\"terminate\",\"result\":\"withdrawn\"")
        })
        #expect(try fx.exists(stubborn.pid), "the session of the removed target survives")
        #expect(pgw.log.contains("its target left the config file"))
    }

    /// One notification about a target that is down and one that is up: the healthy target's
    /// alert is handled, the notification is answered 503 for the other, and Alertmanager's retry
    /// does not act on the healthy target's alert a second time.
    @Test func aDownTargetDoesNotHoldUpAnotherTargetsAlerts() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(2)
        let (token, tokenFile) = try Self.token(fx.env)
        let config = Self.idleConfig([("down", "host=127.0.0.1 port=1 user=postgres dbname=postgres"), ("up", fx.env.dsn())],
                                     alertname: "MixedIdle", db: db, extra: "    max_sessions_per_alert: 1\n")
        let pgw = try Self.start(fx.env, config, tokenFile: tokenFile)
        defer { pgw.stop() }
        let body = try Self.payload([HookFixture.alert(["alertname": "MixedIdle", "instance": "down"]),
                                     HookFixture.alert(["alertname": "MixedIdle", "instance": "up"])])
        let first = try Self.post(port: pgw.port, token: token, body)
        #expect(first.status == 503)
        #expect(first.body.contains("target \"down\" cannot be reached"))
        #expect(sessions.filter { $0.wasTerminated() }.count == 1, "the healthy target's alert acted (cap 1)")
        let retry = try Self.post(port: pgw.port, token: token, body)
        #expect(retry.status == 503, "the down target still fails")
        #expect(sessions.filter { $0.wasTerminated() }.count == 1, "the retry did not act on the healthy target's alert again")
        #expect(try pgw.scrape().value("pgwarden_webhook_alerts_total", ["outcome": "duplicate"]) == 1)
    }

    /// Two targets that are two databases of one server: a rule acting on one never selects
    /// pgwarden's own connections for the other.
    @Test func twoTargetsOnOneServerSpareEachOthersConnections() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let (token, tokenFile) = try Self.token(fx.env)
        let config = Self.targetsYAML([("a", fx.env.dsn(database: db)), ("b", fx.env.dsn(database: db))]) + """
            rules:
              - name: idle
                match: {alertname: SharedIdle}
                action: terminate
                states: [idle]
                databases: [\(db)]
                allow_superuser: true
            """
        let pgw = try Self.start(fx.env, config, tokenFile: tokenFile)
        defer { pgw.stop() }
        // a's scrape and action connections, both idle in the database.
        #expect(try pgw.scrape(path: "/probe?target=a").value("pg_up") == 1)
        let (_, first) = try Self.notify(pgw, token: token, [HookFixture.alert(["alertname": "SharedIdle", "instance": "a"])])
        #expect(HookFixture.outcome(first) == "no matching sessions")
        let own = try fx.admin.run("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgwarden'", [db])
        #expect(own.first?[0] == "2", "a's two connections are there")
        let (_, second) = try Self.notify(pgw, token: token, [HookFixture.alert(["alertname": "SharedIdle", "instance": "b"])])
        #expect(HookFixture.outcome(second) == "no matching sessions", "b's rule never selects a's connections")
        #expect(try pgw.scrape(path: "/probe?target=a").value("pgwarden_scrape_errors_total") == 0)
    }

    /// `pgwarden sessions|terminate --config.file F --target NAME` act on that target.
    @Test func manualCommandsTakeATarget() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, sessions) = try fx.idleInTransactionSessions(1)
        let passwordFile = try Self.write(fx.env, "pw", "postgres\n")
        let config = """
            targets:
              - name: main
                dsn: "host=127.0.0.1 port=\(fx.env.port) user=postgres dbname=postgres"
                password_file: \(passwordFile)
            """
        let configFile = try Self.write(fx.env, "manual.yml", config)
        let listed = try runPGWarden(fx.env, ["sessions", "--config.file", configFile, "--target", "main", "--database", db,
                                              "--output", "json"])
        #expect(listed.status == 0, "\(listed.output)")
        #expect(listed.output.contains("\"pid\":\(sessions[0].pid)"))
        let unknown = try runPGWarden(fx.env, ["sessions", "--config.file", configFile, "--target", "mian"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("--target \"mian\" is not a target"))
        let both = try runPGWarden(fx.env, ["sessions", "--config.file", configFile, "--target", "main", "--dsn", fx.env.dsn()])
        #expect(both.status == 2)
        let done = try runPGWarden(fx.env, ["terminate", "--config.file", configFile, "--target", "main", "--database", db,
                                            "--output", "json"])
        #expect(done.status == 0, "\(done.output)")
        #expect(done.output.contains("\"target\":\"main\""))
        #expect(sessions[0].wasTerminated())
        // The prepared-transaction commands take the target too.
        let prepared = try runPGWarden(fx.env, ["prepared", "--config.file", configFile, "--target", "main", "--output", "json"])
        #expect(prepared.status == 0, "\(prepared.output)")
        let rollback = try runPGWarden(fx.env, ["rollback-prepared", "--config.file", configFile, "--target", "mian", "--all"])
        #expect(rollback.status == 1)
        #expect(rollback.output.contains("--target \"mian\" is not a target"))
    }
}

/// A probe sent on a thread of its own; its response once it has one.
final class PendingProbe: Sendable {
    private let answer = Mutex<RawResponse?>(nil)

    init(port: Int, target: String) {
        Thread.detachNewThread { [self] in
            let response = try? HTTP.get(port: port, "/probe?target=\(target)")
            answer.withLock { $0 = response }
        }
    }

    var response: RawResponse? { answer.withLock { $0 } }
}

/// A TCP listener on 127.0.0.1 that completes handshakes (the kernel's backlog) and never
/// answers: a PostgreSQL server that hangs. Closing it resets the waiting connections.
final class BlackHole: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let accepted_ = Mutex(0)
    private var clients: [Int32] = []
    private var closed = false
    private let lock = NSLock()

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        fd = listener
        var address = RawSocket.address("127.0.0.1", port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw SetupError("black hole: bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        var actual = sockaddr_in()
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                lock.lock()
                if closed {
                    lock.unlock()
                    Glibc.close(client)
                    return
                }
                clients.append(client)
                lock.unlock()
                accepted_.withLock { $0 += 1 }
            }
        }
    }

    /// Connections accepted (held without an answer).
    var accepted: Int { accepted_.withLock { $0 } }

    /// Closes the listener and every held connection (with a reset), once: a descriptor closed
    /// twice may by then be another test's connection.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        // Wakes the accepting thread (accept fails on a shut-down listener); the descriptor
        // itself is closed in deinit, after that thread (which holds self) has ended, so no
        // other test's socket can take its number while it is still in use here.
        shutdown(fd, Int32(SHUT_RDWR))
        for client in clients {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            Glibc.close(client)
        }
        clients = []
    }

    deinit {
        close()
        Glibc.close(fd)
    }
}
