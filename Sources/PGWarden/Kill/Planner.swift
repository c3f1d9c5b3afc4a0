/// What happens to one session, and why.
public enum Decision: Sendable, Equatable {
    /// Signal the backend with this action (cancel first, for an escalation).
    case act(KillAction)
    /// Leave it alone: `.protected`, `.notPermitted` or `.capped`.
    case skip(ActionResult)
}

/// What became of one session an action was about; the raw value is the `result` label of
/// `pgwarden_actions_total` and the `result` field of the audit records.
public enum ActionResult: String, Sendable, Equatable, CaseIterable, Comparable {
    /// Signalled.
    case success
    /// Would have been signalled (dry run).
    case dryRun = "dry_run"
    /// No longer there, or no longer matching, when the kill statement ran.
    case gone
    /// Skipped: its role is protected, or it is a superuser's and the rule does not allow that.
    case protected
    /// Skipped: pgwarden's role may not signal it (a superuser's backend, without superuser rights).
    case notPermitted = "not_permitted"
    /// Skipped: over the rule's per-alert or per-minute cap.
    case capped
    /// The kill statement could not be sent, or the server refused the signal.
    case error
    /// The kill statement failed after it was sent: the session may or may not have been signalled.
    case unknown
    /// An escalation's terminate step found its rule removed, or no longer an escalation, in the
    /// policy in force (a reload during the grace period): not terminated.
    case withdrawn
    /// An escalation's terminate step stood down: the alert it answered resolved during the
    /// grace period. Not terminated.
    case resolved

    /// Signalled, or would have been in a dry run.
    public var acted: Bool { self == .success || self == .dryRun }

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The guard that left a session alone: the `guard` field of its audit record, so that any
/// outcome can be explained from the audit log alone.
public enum Guard: String, Sendable, Equatable {
    /// Its role is in protected_roles, or a member of one.
    case protectedRole = "protected_roles"
    /// A superuser's session, and the rule does not allow_superuser.
    case superuser
    /// pgwarden's role may not signal it.
    case signalPermission = "signal_permission"
    /// The rule's max_sessions_per_alert was reached.
    case perAlertCap = "max_sessions_per_alert"
    /// The rule's max_sessions_per_minute was reached.
    case perMinuteCap = "max_sessions_per_minute"
    /// At kill time the backend was gone, or no longer matched its identity (pid and
    /// backend_start), the selection or a guard: the kill statement left it alone.
    case killTimeRecheck = "kill_time_recheck"
    /// A reload during an escalation's grace period removed its rule or changed its action.
    case policyReload = "policy_reload"
    /// The alert an escalation answered resolved during its grace period.
    case alertResolved = "alert_resolved"
    /// pgwarden's role may not finish the prepared transaction (ROLLBACK PREPARED needs a
    /// superuser, or the role that prepared it, which a member may become with SET ROLE).
    case rollbackPermission = "rollback_permission"
    /// A rollback_prepared rule's max_transactions_per_alert was reached.
    case perAlertTransactionCap = "max_transactions_per_alert"
    /// A rollback_prepared rule's max_transactions_per_minute was reached.
    case perMinuteTransactionCap = "max_transactions_per_minute"
}

/// One planned session: the row as listed, the decision and, for a skip, the guard.
public struct PlannedSession: Sendable, Equatable {
    public var session: SessionRow
    public var decision: Decision
    public var refusedBy: Guard?
}

/// The pure heart of the kill path: from a rule, its selection, the listed sessions and the
/// remaining budget to a plan. No I/O; the kill statement re-checks every condition anyway.
public enum Planner {

    /// Plans `rows` under `rule` and `selection`. Matching sessions are taken oldest-in-state first;
    /// protected roles, superusers (unless allowed) and unsignalable backends are skipped; at most
    /// `min(rule.maxSessionsPerAlert, budget)` sessions are acted on, the rest are capped.
    public static func plan(rule: Rule, selection: Selection, protectedRoles: [String], rows: [SessionRow],
                            budget: Int) -> [PlannedSession] {
        let matching = rows.filter(selection.matches).sorted {
            $0.stateAge != $1.stateAge ? $0.stateAge > $1.stateAge : $0.pid < $1.pid
        }
        return decide(matching, rule: rule, budget: budget, caps: (.perAlertCap, .perMinuteCap)) { row in
            if row.isProtected || protectedRoles.containsExactly(row.usename) { return (.protected, .protectedRole) }
            if row.isSuperuser && !rule.sessions.allowSuperuser { return (.protected, .superuser) }
            return row.canSignal ? nil : (.notPermitted, .signalPermission)
        } act: { row in
            firstStep(rule.action, state: row.state)
        }.map { PlannedSession(session: $0.row, decision: $0.decision, refusedBy: $0.refusedBy) }
    }

    /// The decisions of a plan over `rows`, already matched and in the order they are taken:
    /// a row `refusal` names is skipped with that result and guard; of the others, at most
    /// `min(rule.maxSessionsPerAlert, budget)` are acted on with `act`, the rest are capped
    /// (`caps.perAlert` when the rule's own cap was reached, else `caps.perMinute`).
    static func decide<Row>(_ rows: [Row], rule: Rule, budget: Int, caps: (perAlert: Guard, perMinute: Guard),
                            refusal: (Row) -> (ActionResult, Guard)?,
                            act: (Row) -> KillAction) -> [(row: Row, decision: Decision, refusedBy: Guard?)] {
        let limit = max(0, min(rule.maxSessionsPerAlert, budget))
        var acting = 0
        return rows.map { row in
            if let (result, refusedBy) = refusal(row) { return (row, .skip(result), refusedBy) }
            if acting >= limit {
                return (row, .skip(.capped), acting >= rule.maxSessionsPerAlert ? caps.perAlert : caps.perMinute)
            }
            acting += 1
            return (row, .act(act(row)), nil)
        }
    }

    /// The signal sent first: an escalation cancels, except for idle-in-transaction backends.
    static func firstStep(_ action: KillAction, state: String) -> KillAction {
        switch action {
        case .cancelThenTerminate: SessionState.idleInTransaction.contains(state) ? .terminate : .cancel  // cancelling an idle backend does nothing
        default: action
        }
    }
}
