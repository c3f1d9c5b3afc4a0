import Testing
@testable import PGWarden

/// Planner.plan: ordering, guards (protected, superuser, permission), the cap and escalation's first step.
@Suite("Planner.plan")
struct PlannerTests {
    static func rule(_ action: KillAction = .terminate, maxPerAlert: Int = 10,
                     sessions: SessionCriteria = .init()) -> Rule {
        Rule(name: "r", match: AlertMatch(alertname: "A"), action: action, sessions: sessions,
             maxSessionsPerAlert: maxPerAlert)
    }

    static func row(_ pid: Int32, age: Double = 10, state: String = "active", user: String = "app",
                    superuser: Bool = false, canSignal: Bool = true) -> SessionRow {
        SessionRow(pid: pid, backendStartMicros: 1_704_067_200_000_000 + Int64(pid % 10) * 1_000_000, datname: "db", usename: user,
                   state: state, stateAge: age, isSuperuser: superuser, canSignal: canSignal)
    }

    static func plan(_ rule: Rule, _ rows: [SessionRow], selection: Selection? = nil, protected: [String] = [],
                     budget: Int = 100) -> [PlannedSession] {
        Planner.plan(rule: rule, selection: selection ?? Selection(criteria: rule.sessions),
                     protectedRoles: protected, rows: rows, budget: budget)
    }

    @Test func oldestInStateFirstTiesByPid() {
        let rows = [Self.row(5, age: 20), Self.row(3, age: 50), Self.row(9, age: 50), Self.row(1, age: 1),
                    Self.row(2, age: 50.5), Self.row(4, age: 20)]
        let planned = Self.plan(Self.rule(), rows)
        #expect(planned.map(\.session.pid) == [2, 3, 9, 4, 5, 1])
        #expect(planned.allSatisfy { $0.decision == .act(.terminate) })
        // The planned rows are the listed rows, unchanged.
        #expect(Set(planned.map(\.session.pid)) == Set(rows.map(\.pid)))
        #expect(planned.first { $0.session.pid == 2 }?.session == rows[4])
    }

    @Test func capActsOnOldest() {
        let rows = (1...5).map { Self.row(Int32($0), age: Double($0) * 10) }  // pid 5 oldest
        let planned = Self.plan(Self.rule(maxPerAlert: 2), rows)
        #expect(planned.map(\.session.pid) == [5, 4, 3, 2, 1])
        #expect(planned.map(\.decision) == [.act(.terminate), .act(.terminate), .skip(.capped), .skip(.capped), .skip(.capped)])
    }

    @Test func protectedRolesAreSkipped() {
        let rows = [Self.row(1, age: 30, user: "postgres_admin"), Self.row(2, age: 20, user: "app")]
        let planned = Self.plan(Self.rule(), rows, protected: ["postgres_admin", "replicator"])
        #expect(planned.map(\.decision) == [.skip(.protected), .act(.terminate)])
    }

    /// A member of a protected group (the server marks the row) is skipped like the group itself.
    @Test func membersOfProtectedGroupsAreSkipped() {
        var member = Self.row(1, age: 30, user: "alice")
        member.isProtected = true
        let planned = Self.plan(Self.rule(), [member, Self.row(2, age: 20, user: "app")], protected: ["admins"])
        #expect(planned.map(\.decision) == [.skip(.protected), .act(.terminate)])
    }

    /// Each skip names its guard: the audit log alone explains every outcome.
    @Test func everySkipNamesItsGuard() {
        var member = Self.row(1, age: 90, user: "alice")
        member.isProtected = true
        let rows = [member, Self.row(2, age: 80, user: "boss", superuser: true), Self.row(3, age: 70, canSignal: false),
                    Self.row(4, age: 60), Self.row(5, age: 50), Self.row(6, age: 40)]
        let perAlert = Self.plan(Self.rule(maxPerAlert: 1), rows, protected: ["admins"])
        #expect(perAlert.map(\.refusedBy) == [.protectedRole, .superuser, .signalPermission, nil, .perAlertCap, .perAlertCap])
        let perMinute = Self.plan(Self.rule(maxPerAlert: 10), rows, protected: ["admins"], budget: 2)
        #expect(perMinute.map(\.refusedBy) == [.protectedRole, .superuser, .signalPermission, nil, nil, .perMinuteCap])
    }

    @Test func superuserIsProtectedUnlessAllowed() {
        let rows = [Self.row(1, user: "boss", superuser: true, canSignal: true)]
        #expect(Self.plan(Self.rule(), rows).map(\.decision) == [.skip(.protected)])
        let allowed = Self.rule(sessions: SessionCriteria(allowSuperuser: true))
        #expect(Self.plan(allowed, rows).map(\.decision) == [.act(.terminate)])
    }

    @Test func superuserAllowedButNotSignalableIsNotPermitted() {
        let allowed = Self.rule(sessions: SessionCriteria(allowSuperuser: true))
        let rows = [Self.row(1, user: "boss", superuser: true, canSignal: false),
                    Self.row(2, user: "other", canSignal: false)]
        #expect(Self.plan(allowed, rows).map(\.decision) == [.skip(.notPermitted), .skip(.notPermitted)])
    }

    /// Skipped sessions (protected, not permitted) do not use up the cap.
    @Test func skippedSessionsDoNotConsumeTheCap() {
        let rows = [Self.row(1, age: 100, user: "admin"), Self.row(2, age: 90, superuser: true),
                    Self.row(3, age: 80, canSignal: false), Self.row(4, age: 70), Self.row(5, age: 60),
                    Self.row(6, age: 50)]
        let planned = Self.plan(Self.rule(maxPerAlert: 2), rows, protected: ["admin"])
        #expect(planned.map(\.session.pid) == [1, 2, 3, 4, 5, 6])
        #expect(planned.map(\.decision) == [.skip(.protected), .skip(.protected), .skip(.notPermitted),
                                            .act(.terminate), .act(.terminate), .skip(.capped)])
    }

    @Test(arguments: [
        (10, 3, 3), (2, 10, 2), (4, 4, 4), (10, 0, 0), (0, 10, 0), (10, -3, 0), (10, 100, 5), (5, 5, 5),
    ])
    func capIsMinOfPerAlertAndBudget(maxPerAlert: Int, budget: Int, expectedActed: Int) {
        let rows = (1...5).map { Self.row(Int32($0), age: 100 - Double($0)) }  // pid 1 oldest
        let planned = Self.plan(Self.rule(maxPerAlert: maxPerAlert), rows, budget: budget)
        #expect(planned.count == 5)
        let acted = planned.prefix { $0.decision == .act(.terminate) }
        #expect(acted.count == expectedActed)
        #expect(planned.dropFirst(expectedActed).allSatisfy { $0.decision == .skip(.capped) })
    }

    @Test func zeroBudgetCapsEverythingButKeepsGuardReasons() {
        let rows = [Self.row(1, age: 3), Self.row(2, age: 2, user: "admin"), Self.row(3, age: 1)]
        let planned = Self.plan(Self.rule(), rows, protected: ["admin"], budget: 0)
        #expect(planned.map(\.decision) == [.skip(.capped), .skip(.protected), .skip(.capped)])
    }

    @Test(arguments: [
        ("idle in transaction", KillAction.terminate),
        ("idle in transaction (aborted)", .terminate),
        ("active", .cancel),
    ])
    func cancelThenTerminateFirstStep(state: String, expected: KillAction) {
        let planned = Self.plan(Self.rule(.cancelThenTerminate), [Self.row(1, state: state)])
        #expect(planned.map(\.decision) == [.act(expected)])
    }

    /// Plain actions are never rewritten, whatever the state.
    @Test(arguments: [KillAction.cancel, .terminate], ["active", "idle in transaction", "idle in transaction (aborted)"])
    func plainActionsAreKept(action: KillAction, state: String) {
        let planned = Self.plan(Self.rule(action), [Self.row(1, state: state)])
        #expect(planned.map(\.decision) == [.act(action)])
    }

    @Test func mixedEscalationPlan() {
        let rows = [Self.row(1, age: 5, state: "active"), Self.row(2, age: 9, state: "idle in transaction")]
        let planned = Self.plan(Self.rule(.cancelThenTerminate), rows)
        #expect(planned.map(\.session.pid) == [2, 1])
        #expect(planned.map(\.decision) == [.act(.terminate), .act(.cancel)])
    }

    @Test func nonMatchingRowsAreAbsent() {
        let criteria = SessionCriteria(states: ["idle in transaction"], roles: NameFilter(include: ["app"]))
        let rows = [Self.row(1, state: "idle in transaction"), Self.row(2, state: "active"),
                    Self.row(3, state: "idle in transaction", user: "batch"),
                    Self.row(4, state: "idle in transaction", user: "admin")]
        let planned = Self.plan(Self.rule(sessions: criteria), rows, protected: ["admin"])
        // pid 4 is protected but does not match the rule either: it is not in the plan at all.
        #expect(planned.map(\.session.pid) == [1])
        #expect(planned.map(\.decision) == [.act(.terminate)])
    }

    @Test func alertNarrowingFiltersThePlan() {
        let rule = Self.rule()
        let selection = Selection.narrowing(rule.sessions, by: ["alertname": "A", "usename": "batch"])
        let rows = [Self.row(1, user: "app"), Self.row(2, user: "batch")]
        #expect(Self.plan(rule, rows, selection: selection).map(\.session.pid) == [2])
    }

    @Test func unusableSelectionPlansNothing() {
        let rule = Self.rule()
        let selection = Selection.narrowing(rule.sessions, by: ["alertname": "A", "pid": "1"])
        #expect(selection.unusableReason != nil)
        #expect(Self.plan(rule, [Self.row(1), Self.row(2)], selection: selection).isEmpty)
    }

    @Test func emptyInputPlansNothing() {
        #expect(Self.plan(Self.rule(), []).isEmpty)
    }
}
