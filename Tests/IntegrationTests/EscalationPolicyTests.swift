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

    /// Notifies, checks the cancel, rewrites the policy and reloads it during the grace period.
    static func cancelThenReload(_ hook: HookFixture, pid: Int32, newPolicy: String) throws {
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "LongQuery"])])
        #expect(status == 200)
        #expect(HookFixture.results(json)[pid] == "success", "cancelled")
        try newPolicy.write(toFile: hook.policyPath, atomically: true, encoding: .utf8)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        eventually("the reload is done") { hook.pgw.log.contains("policy reloaded") }
    }

    @Test func aReloadThatProtectsTheRoleAndTurnsOnDryRunStopsTheTerminate() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, role, stubborn) = try Self.stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "4s"))
        try Self.cancelThenReload(hook, pid: stubborn.pid,
                                  newPolicy: "protected_roles: [\(role)]\ndry_run: true\n" + KillHookTests.longQueryPolicy(db: db, grace: "4s"))
        try eventually("the terminate step is recorded as protected") {
            try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "protected")
        }
        #expect(try fx.state(of: stubborn.pid) == "active", "not terminated")
        #expect(try !KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "success"))
    }

    @Test func aRuleRemovedDuringTheGracePeriodTerminatesNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let (db, _, stubborn) = try Self.stubbornSession(fx)
        let hook = try HookFixture(fx, policy: KillHookTests.longQueryPolicy(db: db, grace: "4s"))
        try Self.cancelThenReload(hook, pid: stubborn.pid,
                                  newPolicy: "rules:\n  - name: other\n    match: {alertname: Other}\n    action: cancel\n")
        try eventually("the terminate step is recorded as withdrawn") {
            try KillHookTests.recordsTerminate(hook, pid: stubborn.pid, result: "withdrawn")
        }
        #expect(try fx.state(of: stubborn.pid) == "active", "not terminated")
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
