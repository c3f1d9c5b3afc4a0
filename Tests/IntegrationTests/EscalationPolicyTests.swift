import Foundation
import PGWarden
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An escalation's terminate step runs under the policy in force when it runs, not the one of
/// the moment it was scheduled, and its terminations count against the per-minute cap.
@Suite("Escalations under the policy in force against a real server")
struct EscalationPolicyTests {
    /// A stubborn active session (it survives every cancel) in a new database, old enough for min_state_age.
    static func stubbornSession(_ fx: AdminFixture) throws -> (db: String, role: String, session: TestSession) {
        let db = try fx.createDatabase()
        let role = try fx.createRole()
        let session = try fx.connect(role: role, database: db)
        session.startInBackground(KillHookTests.stubbornQuery)
        try eventually("it runs") { try fx.state(of: session.pid) == "active" }
        Thread.sleep(forTimeInterval: 1.2)
        return (db, role, session)
    }

    /// An escalation of a stubborn session whose policy is replaced by `newPolicy` (given the
    /// database and role) during the grace period: the terminate step is recorded with `result`
    /// and the session keeps running.
    static func reloadDuringGrace(newPolicy: (String, String) -> String, expect result: String) throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, role, stubborn) = try stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "4s"))
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery"])])
        #expect(status == 200)
        #expect(HookFixture.results(json)[stubborn.pid] == "success", "cancelled")
        try newPolicy(db, role).write(toFile: hook.policyPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        eventually("the reload is done") { hook.pgw.log.contains("policy reloaded") }
        try eventually("the terminate step is recorded as \(result)") {
            try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: result)
        }
        #expect(try fx.state(of: stubborn.pid) == "active", "not terminated")
        #expect(try !KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "success"))
    }

    @Test func aReloadThatProtectsTheRoleAndTurnsOnDryRunStopsTheTerminate() throws {
        try Self.reloadDuringGrace(newPolicy: { db, role in
            "protected_roles: [\(role)]\ndry_run: true\n" + KillHookTests.longQueryPolicy(db: db, grace: "4s")
        }, expect: "protected")
    }

    @Test func aRuleRemovedDuringTheGracePeriodTerminatesNothing() throws {
        try Self.reloadDuringGrace(newPolicy: { _, _ in "rules:\n  - name: other\n    match: {alertname: Other}\n    action: cancel\n" },
                                   expect: "withdrawn")
    }

    /// The cancel spent the rule's only signal of the minute: the terminate step is capped.
    @Test func terminationsCountAgainstThePerMinuteCap() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, _, stubborn) = try Self.stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "1s") + "\n    max_sessions_per_minute: 1\n")
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery"])])
        #expect(status == 200)
        #expect(HookFixture.results(json)[stubborn.pid] == "success", "cancelled")
        try eventually("the terminate step is recorded as capped") {
            try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "capped")
        }
        #expect(try fx.state(of: stubborn.pid) == "active", "not terminated")
    }
}

/// Escalations stand down when their alert resolves during the grace period.
@Suite("Escalations standing down on a real server")
struct EscalationResolvedTests {
    static func pending(_ hook: HookFixture) throws -> Double? {
        try hook.pgw.scrape().value("pgwarden_escalations_pending", ["rule": "long-query"])
    }

    @Test func aResolvedAlertDuringTheGracePeriodTerminatesNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, _, stubborn) = try EscalationPolicyTests.stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "3s"))
        #expect(try Self.pending(hook) == 0, "the policy's escalation is shown at 0")
        let labels = ["alertname": "LongQuery", "datname": db]
        let (status, json) = try hook.notify([HookFixture.alert(labels, fingerprint: "fp-long")])
        #expect(status == 200)
        #expect(HookFixture.results(json)[stubborn.pid] == "success", "cancelled")
        #expect(try Self.pending(hook) == 1)
        let (resolvedStatus, resolved) = try hook.notify([HookFixture.alert(labels, status: "resolved", fingerprint: "fp-long")],
                                                         status: "resolved")
        #expect(resolvedStatus == 200)
        #expect(HookFixture.outcome(resolved) == "resolved")
        #expect(HookFixture.sessions(resolved).first?["result"] as? String == "resolved", "\(resolved)")
        #expect(HookFixture.sessions(resolved).first?["guard"] as? String == "alert_resolved")
        #expect(try Self.pending(hook) == 0)
        try eventually("the grace period is over") {
            hook.pgw.log.contains("escalation grace period over; nothing to terminate: it stood down when its alert resolved")
        }
        #expect(try fx.state(of: stubborn.pid) == "active", "not terminated")
        #expect(try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "resolved"))
        #expect(try !KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "success"))
        let m = try hook.pgw.scrape()
        #expect(m.value("pgwarden_actions_total", ["rule": "long-query", "action": "terminate", "result": "resolved"]) == 1)
        #expect(m.value("pgwarden_actions_total", ["rule": "long-query", "action": "cancel", "result": "success"]) == 1)
        #expect(m.all("pgwarden_actions_total").count == 2)
        // A second resolved notification finds nothing to stand down and does nothing.
        let (_, again) = try hook.notify([HookFixture.alert(labels, status: "resolved", fingerprint: "fp-long")], status: "resolved")
        #expect(HookFixture.outcome(again) == "resolved" && HookFixture.sessions(again).isEmpty)
    }

    /// Another alert resolving is not this escalation's alert: the terminate step runs.
    @Test func anotherAlertResolvingDoesNotStandItDown() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, _, stubborn) = try EscalationPolicyTests.stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "1s"))
        let (_, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery", "datname": db], fingerprint: "fp-a")])
        #expect(HookFixture.results(json)[stubborn.pid] == "success")
        let (_, resolved) = try hook.notify([HookFixture.alert(["alertname": "LongQuery", "datname": "other"], status: "resolved",
                                                               fingerprint: "fp-b")], status: "resolved")
        #expect(HookFixture.outcome(resolved) == "resolved" && HookFixture.sessions(resolved).isEmpty)
        try eventually("the terminate step ran") { try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "success") }
        try eventually("the stubborn backend has exited") { try !fx.exists(stubborn.pid) }
        #expect(try Self.pending(hook) == 0)
    }
}
