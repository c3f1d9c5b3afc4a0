import Dispatch
import Logging
import Synchronization

/// Which alert an action answers (empty for the command line).
public struct AlertRef: Sendable, Equatable {
    public var alertname: String
    public var fingerprint: String
    /// The alert's labels, for the audit file.
    public var labels: [String: String]

    public init(alertname: String, fingerprint: String, labels: [String: String] = [:]) {
        self.alertname = alertname
        self.fingerprint = fingerprint
        self.labels = labels
    }
}

/// The policy in force and whether --webhook.dry-run holds, asked again when an escalation's
/// terminate step runs (a reload may have changed the rule, its protection or its dry run).
public typealias PolicySource = @Sendable () -> (policy: Policy, forceDryRun: Bool)

/// Runs one rule's action: list sessions, plan, signal with guards, audit. Shared by the
/// webhook and the command line. One action at a time, so caps and repeated notifications
/// always see the state the previous action left.
public final class ActionRunner: Sendable {
    public let killer: Killer
    public let log: ActionLog
    let limiter = RateLimiter()
    let serial = Mutex(())
    let logger: Logger
    /// Escalations in their grace period, until their terminate step runs, their alert resolves
    /// or their target leaves the fleet.
    let pending = PendingEscalations()
    /// The target's name in fleet mode: every record carries it.
    public let target: String?
    let claims = Mutex(Claims())
    /// Set when the runner's target leaves the fleet (or changes).
    private let retired = Mutex(false)

    /// The target left the config file or changed on a reload: escalations still waiting in
    /// their grace period terminate nothing (result `withdrawn`).
    public func retire() {
        retired.withLock { $0 = true }
        killer.database.retire()
        let withdrawn = pending.removeAll()
        guard !withdrawn.isEmpty else { return }
        log.setPendingEscalations(pending.counts())
        for escalation in withdrawn {
            let records = stamped(escalation.cancelled.map {
                ActionRecord(escalation.rule, escalation.alert, $0, .terminate, .withdrawn, dryRun: false, refusedBy: .policyReload)
            })
            logger.warning("escalation withdrawn: its target left the config file, or changed, during the grace period",
                           metadata: ["rule": "\(escalation.rule.name)", "sessions": "\(records.count)"])
            log.record(records)
            escalation.onEscalated?(records)
        }
    }

    /// The alerts this replica has claimed on the server (advisory locks held by its action
    /// connection), by second key, with when each was taken.
    struct Claims {
        var connection: UInt64 = 0
        var held: [Int32: ContinuousClock.Instant] = [:]
    }

    /// How long a claim is kept when no resolved notification releases it: longer than the spread
    /// of one notification's deliveries to the replicas, shorter than a blocked alert may wait.
    public static let claimRetention: Duration = .seconds(300)
    /// Most claims held at once; past it the oldest is released.
    public static let maxClaims = 1000

    public init(killer: Killer, log: ActionLog, logger: Logger, target: String? = nil) {
        self.killer = killer
        self.log = log
        self.logger = logger
        self.target = target
    }

    /// Acts on the sessions `selection` picks under `rule` and returns the records. An escalation's
    /// terminate step runs later, after the grace period, on a background queue; `onEscalated`
    /// receives its records (tests and the CLI wait for it).
    ///
    /// When a kill statement fails after it was sent (a timeout, a lost connection), the
    /// sessions it was about may or may not have been signalled: each gets an audit record with
    /// result `unknown`, and counts against the per-minute cap, before the error is thrown (the
    /// webhook answers 5xx, so Alertmanager retries, and the retry acts only on sessions that
    /// still match). When it could not be sent at all (no connection), they get `error`.
    /// `policyNow` is asked for the policy in force when an escalation's terminate step runs;
    /// without it (the command line) the policy of the moment holds.
    @discardableResult
    public func run(rule: Rule, selection: Selection, protectedRoles: [String], dryRun: Bool, alert: AlertRef,
                    policyNow: PolicySource? = nil,
                    onEscalated: (@Sendable ([ActionRecord]) -> Void)? = nil) throws -> [ActionRecord] {
        precondition(rule.action != .rollbackPrepared, "rollback_prepared rules run through runPrepared")
        let (records, cancelled, failure) = try serial.withLock { _ -> ([ActionRecord], [SessionRow], (any Error)?) in
          try killer.exclusively { connection, effectsSent -> SameThread<([ActionRecord], [SessionRow], (any Error)?)> in
            SameThread(try {
            if killer.coordinatesReplicas && !dryRun && !alert.alertname.isEmpty {
                guard try claim(alert, on: connection) else { throw OtherReplica() }
            }
            let rows = try killer.listSessions(on: connection, protectedRoles: protectedRoles)
            let budget = limiter.remaining(rule: rule.name, limit: rule.maxSessionsPerMinute)
            let plan = Planner.plan(rule: rule, selection: selection, protectedRoles: protectedRoles, rows: rows, budget: budget)
            var records: [ActionRecord] = []
            var byAction: [KillAction: [SessionRow]] = [:]
            for planned in plan {
                switch planned.decision {
                case .skip(let reason):
                    records.append(.init(rule, alert, planned.session, Planner.firstStep(rule.action, state: planned.session.state),
                                         reason, dryRun: dryRun, refusedBy: planned.refusedBy))
                case .act(let action):
                    if dryRun {
                        records.append(.init(rule, alert, planned.session, action, .dryRun, dryRun: true))
                    } else {
                        byAction[action, default: []].append(planned.session)
                    }
                }
            }
            var cancelled: [SessionRow] = []
            for action in [KillAction.terminate, .cancel] {
                guard let targets = byAction[action] else { continue }
                let outcomes: [Int32: SignalOutcome]
                do {
                    effectsSent()
                    outcomes = try killer.signal(on: connection, action, targets: targets, selection: selection,
                                                 protectedRoles: protectedRoles)
                } catch {
                    let sent = Self.mayHaveBeenSent(error)
                    if sent { limiter.record(rule: rule.name, count: targets.count) }
                    records += targets.map { .init(rule, alert, $0, action, sent ? .unknown : .error, dryRun: false) }
                    return (records, [], error)
                }
                let signalled = targets.filter { outcomes[$0.pid] == .signalled }
                limiter.record(rule: rule.name, count: signalled.count)
                if action == .cancel && rule.action == .cancelThenTerminate { cancelled = signalled }
                for target in targets {
                    records.append(.init(rule, alert, target, action, Self.result(outcomes[target.pid]), dryRun: false))
                }
            }
            return (records, cancelled, nil)
            }())
          }.value
        }
        log.record(stamped(records))
        if let failure {
            let sent = Self.mayHaveBeenSent(failure)
            logger.error(sent ? "a kill statement failed; whether its sessions were signalled is unknown (result \"unknown\" in the audit log)"
                              : "a kill statement could not be sent: the database could not be reached; nothing was signalled",
                         metadata: ["rule": "\(rule.name)", "error": "\(failure)"])
            onEscalated?([])
            throw failure
        }
        if !cancelled.isEmpty {
            let fixed = Policy(protectedRoles: protectedRoles, dryRun: dryRun, rules: [rule])
            scheduleEscalation(rule: rule, selection: selection, alert: alert, cancelled: cancelled,
                               policyNow: policyNow ?? { (fixed, false) }, onEscalated: onEscalated)
        } else {
            onEscalated?([])
        }
        return stamped(records)
    }

    /// The records with this runner's target.
    func stamped(_ records: [ActionRecord]) -> [ActionRecord] {
        guard let target else { return records }
        return records.map { var r = $0; r.target = target; return r }
    }

    /// After the grace period, terminates the cancelled sessions that still match, under the
    /// policy in force then: the rule as it is now (removed or no longer an escalation: nothing is
    /// terminated, result `withdrawn`; now dry run: `dry_run`), its protection, its caps (the
    /// per-minute budget is spent by the terminations too), and each session as it is now. Until
    /// then the escalation waits in `pending`, where the resolved notification of its alert
    /// stands it down (`standDown`): then nothing is terminated.
    private func scheduleEscalation(rule scheduled: Rule, selection: Selection, alert: AlertRef, cancelled: [SessionRow],
                                    policyNow: @escaping PolicySource,
                                    onEscalated: (@Sendable ([ActionRecord]) -> Void)?) {
        let grace = scheduled.gracePeriod.milliseconds
        let id = pending.add(PendingEscalation(rule: scheduled, alert: alert, cancelled: cancelled, onEscalated: onEscalated))
        log.setPendingEscalations(pending.counts())
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(grace))) { [self] in
            let records: [ActionRecord]? = serial.withLock { _ in
                // Taken out under the lock: from here on a resolved notification is too late.
                guard pending.remove(id) != nil else { return nil }
                log.setPendingEscalations(pending.counts())
                let (policy, forceDryRun) = policyNow()
                guard let rule = policy.rules.first(where: { $0.name.isExactly(scheduled.name) }),
                      rule.action == .cancelThenTerminate else {
                    logger.warning("escalation withdrawn: the rule was removed or changed by a reload during the grace period",
                                   metadata: ["rule": "\(scheduled.name)"])
                    return cancelled.map { .init(scheduled, alert, $0, .terminate, .withdrawn, dryRun: false, refusedBy: .policyReload) }
                }
                var current = selection
                current.criteria = rule.sessions
                return escalate(rule: rule, selection: current, protectedRoles: policy.protectedRoles,
                                dryRun: forceDryRun || policy.dryRun || rule.dryRun, alert: alert, cancelled: cancelled)
            }
            guard let records else {
                logger.info("escalation grace period over; nothing to terminate: it stood down when its alert resolved, or its target left the config file",
                            metadata: ["rule": "\(scheduled.name)", "alert.fingerprint": "\(alert.fingerprint)"])
                return
            }
            log.record(stamped(records))
            onEscalated?(stamped(records))
        }
    }

    /// A resolved alert: the escalations it started that are still in their grace period stand
    /// down. Their cancelled sessions are recorded as `terminate`/`resolved` and are never
    /// terminated. Sends no statement, so it can never act on a session. Returns the records.
    public func standDown(resolved alert: AlertRef) -> [ActionRecord] {
        let stood = pending.removeAll(answering: alert)
        guard !stood.isEmpty else { return [] }
        log.setPendingEscalations(pending.counts())
        var all: [ActionRecord] = []
        for escalation in stood {
            let records = escalation.cancelled.map {
                ActionRecord(escalation.rule, escalation.alert, $0, .terminate, .resolved, dryRun: false, refusedBy: .alertResolved)
            }
            logger.info("escalation stood down: its alert resolved during the grace period",
                        metadata: ["rule": "\(escalation.rule.name)", "alert.fingerprint": "\(escalation.alert.fingerprint)",
                                   "sessions": "\(records.count)"])
            log.record(stamped(records))
            escalation.onEscalated?(stamped(records))
            all += stamped(records)
        }
        return all
    }

    /// The terminate step of an escalation, under the lock: the cancelled sessions that are still
    /// the same backends are planned again as they are now and terminated with every guard.
    private func escalate(rule: Rule, selection: Selection, protectedRoles: [String], dryRun: Bool, alert: AlertRef,
                          cancelled: [SessionRow]) -> [ActionRecord] {
        // A replica holding the target's action lock past lock_timeout: the terminate step has
        // no Alertmanager retry behind it, so it waits its turn a few times before giving up.
        var attempt = 1
        while true {
            do {
                return try killer.exclusively { connection, effectsSent in
                    try escalate(on: connection, effectsSent: effectsSent, rule: rule, selection: selection, protectedRoles: protectedRoles,
                                 dryRun: dryRun, alert: alert, cancelled: cancelled)
                }
            } catch let error as PostgresError where error.sqlState == "55P03" && attempt < Self.escalationLockAttempts {
                logger.info("escalation waits for the target's action lock, held by another pgwarden",
                            metadata: ["rule": "\(rule.name)", "attempt": "\(attempt)"])
                attempt += 1
                continue
            } catch {
                return failedEscalation(error, rule: rule, alert: alert, cancelled: cancelled)
            }
        }
    }

    /// Attempts at the action lock for an escalation's terminate step.
    static let escalationLockAttempts = 5

    /// Taking the lock or listing failed; that sends no signal, so nothing was terminated.
    private func failedEscalation(_ error: any Error, rule: Rule, alert: AlertRef, cancelled: [SessionRow]) -> [ActionRecord] {
        logger.error("escalation failed: the sessions could not be listed; the cancelled sessions were not terminated",
                     metadata: ["rule": "\(rule.name)", "error": "\(error)"])
        return cancelled.map { .init(rule, alert, $0, .terminate, .error, dryRun: false) }
    }

    private func escalate(on connection: PGConnection, effectsSent: () -> Void, rule: Rule, selection: Selection,
                          protectedRoles: [String], dryRun: Bool, alert: AlertRef, cancelled: [SessionRow]) throws -> [ActionRecord] {
        func failed(_ error: any Error, _ rows: [SessionRow]) -> [ActionRecord] {
            let sent = Self.mayHaveBeenSent(error)
            logger.error(sent ? "escalation failed: whether the cancelled sessions were terminated is unknown"
                              : "escalation failed: the database could not be reached; the cancelled sessions were not terminated",
                         metadata: ["rule": "\(rule.name)", "error": "\(error)"])
            return rows.map { .init(rule, alert, $0, .terminate, sent ? .unknown : .error, dryRun: false) }
        }
        // A listing that fails is thrown: on a kept connection found dead, the whole step runs
        // again on a new one (nothing was sent); otherwise the caller records the error.
        let now = try killer.listSessions(on: connection, protectedRoles: protectedRoles)
        let identities = Set(cancelled.map { SessionIdentity($0) })
        let still = now.filter { identities.contains(SessionIdentity($0)) }
        let stillIdentities = Set(still.map { SessionIdentity($0) })
        var records = cancelled.filter { !stillIdentities.contains(SessionIdentity($0)) }
            .map { ActionRecord(rule, alert, $0, .terminate, .gone, dryRun: dryRun, refusedBy: .killTimeRecheck) }
        let budget = limiter.remaining(rule: rule.name, limit: rule.maxSessionsPerMinute)
        var targets: [SessionRow] = []
        for planned in Planner.plan(rule: rule, selection: selection, protectedRoles: protectedRoles, rows: still, budget: budget) {
            switch planned.decision {
            case .skip(let reason):
                records.append(.init(rule, alert, planned.session, .terminate, reason, dryRun: dryRun, refusedBy: planned.refusedBy))
            case .act: if dryRun {
                    records.append(.init(rule, alert, planned.session, .terminate, .dryRun, dryRun: true))
                } else {
                    targets.append(planned.session)
                }
            }
        }
        // Rows that no longer match the selection are not planned at all: left alone as gone.
        let planned = Set(records.map { SessionIdentity($0.session) } + targets.map { SessionIdentity($0) })
        records += still.filter { !planned.contains(SessionIdentity($0)) }
            .map { .init(rule, alert, $0, .terminate, .gone, dryRun: dryRun, refusedBy: .killTimeRecheck) }
        guard !targets.isEmpty else { return records }
        do {
            effectsSent()
            let outcomes = try killer.signal(on: connection, .terminate, targets: targets, selection: selection,
                                             protectedRoles: protectedRoles)
            limiter.record(rule: rule.name, count: targets.filter { outcomes[$0.pid] == .signalled }.count)
            return records + targets.map { .init(rule, alert, $0, .terminate, Self.result(outcomes[$0.pid]), dryRun: false) }
        } catch {
            if Self.mayHaveBeenSent(error) { limiter.record(rule: rule.name, count: targets.count) }
            return records + failed(error, targets)
        }
    }

    /// Whether a kill statement that failed may have reached the server: unless the failure came
    /// while connecting, it may have, and some of its targets may have been signalled.
    static func mayHaveBeenSent(_ error: any Error) -> Bool {
        !((error as? PostgresError)?.whileConnecting ?? false)
    }

    static func result(_ outcome: SignalOutcome?) -> ActionResult {
        switch outcome {
        case .signalled: .success
        case .gone, nil: .gone
        case .failed: .error
        }
    }
}

/// A backend's identity: its pid and when it started (a reused pid is another backend).
struct SessionIdentity: Hashable {
    var pid: Int32
    var start: Int64
    init(_ row: SessionRow) { (pid, start) = (row.pid, row.backendStartMicros) }
}

extension ActionRecord {
    /// A record of `rule` answering `alert`, stamped now.
    init(_ rule: Rule, _ alert: AlertRef, _ session: SessionRow, _ action: KillAction, _ result: ActionResult, dryRun: Bool,
         refusedBy: Guard? = nil) {
        self.init(time: unixTime(), rule: rule.name, alertname: alert.alertname, fingerprint: alert.fingerprint,
                  session: session, action: action, result: result, dryRun: dryRun,
                  refusedBy: refusedBy ?? (result == .gone ? .killTimeRecheck : nil), alertLabels: alert.labels)
    }
}

/// A value handed back through `Database.withConnection` (which asks for `Sendable`) on the
/// thread that made it: the action's records and, when it failed, its error.
struct SameThread<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Another pgwarden replica holds the alert's claim on this target (see `ActionRunner.claim`):
/// this one does nothing.
public struct OtherReplica: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "another pgwarden replica has claimed this alert on the server and acts on it" }
}
