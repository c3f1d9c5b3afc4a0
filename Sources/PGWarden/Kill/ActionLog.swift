import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One session acted on or skipped: the audit record.
public struct ActionRecord: Sendable, Equatable {
    public var time: Double
    public var rule: String
    public var alertname: String
    public var fingerprint: String
    public var session: SessionRow
    public var action: KillAction
    public var result: ActionResult
    public var dryRun: Bool
    /// For a session left alone: the guard that did it.
    public var refusedBy: Guard? = nil
    /// The alert's labels (the audit file has them; /actions does not).
    public var alertLabels: [String: String] = [:]
    /// The target acted on (fleet mode).
    public var target: String? = nil
    /// For a rollback_prepared record: the prepared transaction it is about (`session` is then
    /// unused, and the JSON carries the transaction's fields instead of a session's).
    public var prepared: PreparedTransaction? = nil

    /// The record as one line of the audit file: the fields of `json`, the alert's labels, and
    /// the session's query_id and query text when they were read.
    public var auditLine: String {
        var line = json
        line.removeLast()
        line += ",\"labels\":{" + alertLabels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { JSONText.quote($0) + ":" + JSONText.quote(alertLabels[$0]!) }.joined(separator: ",") + "}"
        if prepared == nil, let id = session.queryID { line += ",\"query_id\":" + JSONText.quote(id) }
        if prepared == nil, let query = session.queryText { line += ",\"query\":" + JSONText.quote(query) }
        return line + "}"
    }

    /// The record as a JSON object (for /actions and webhook responses).
    public var json: String {
        if let prepared { return Self.object(preparedFields(prepared)) }
        let fields: [(String, String)] = [
            ("time", JSONText.quote(formatRFC3339(seconds: Int(time), milliseconds: Int((time - time.rounded(.down)) * 1000)))),
        ] + (target.map { [("target", JSONText.quote($0))] } ?? []) + [
            ("rule", JSONText.quote(rule)), ("alertname", JSONText.quote(alertname)),
            ("fingerprint", JSONText.quote(fingerprint)), ("pid", String(session.pid)),
            ("datname", JSONText.quote(session.datname)), ("usename", JSONText.quote(session.usename)),
            ("application_name", JSONText.quote(session.applicationName)),
            ("client_addr", JSONText.quote(session.clientAddr)), ("state", JSONText.quote(session.state)),
            ("state_age_seconds", formatValue((session.stateAge * 1000).rounded() / 1000)),
            ("action", JSONText.quote(action.rawValue)), ("result", JSONText.quote(result.rawValue)),
            ("dry_run", dryRun ? "true" : "false"),
        ] + (refusedBy.map { [("guard", JSONText.quote($0.rawValue))] } ?? [])
        return Self.object(fields)
    }

    /// The fields of a prepared transaction's record, in the order of `json`.
    func preparedFields(_ t: PreparedTransaction) -> [(String, String)] {
        [
            ("time", JSONText.quote(formatRFC3339(seconds: Int(time), milliseconds: Int((time - time.rounded(.down)) * 1000)))),
            ("rule", JSONText.quote(rule)), ("alertname", JSONText.quote(alertname)),
            ("fingerprint", JSONText.quote(fingerprint)), ("gid", JSONText.quote(t.gid)),
            ("transaction", JSONText.quote(t.transaction)), ("prepared", JSONText.quote(t.preparedText)),
            ("datname", JSONText.quote(t.datname)), ("owner", JSONText.quote(t.owner)),
            ("prepared_age_seconds", formatValue((t.age * 1000).rounded() / 1000)),
            ("action", JSONText.quote(action.rawValue)), ("result", JSONText.quote(result.rawValue)),
            ("dry_run", dryRun ? "true" : "false"),
        ] + (refusedBy.map { [("guard", JSONText.quote($0.rawValue))] } ?? [])
    }

    /// `{"k":v,…}` from fields whose values are already JSON.
    static func object(_ fields: [(String, String)]) -> String {
        var object = "{"
        object.reserveCapacity(fields.reduce(2) { $0 + $1.0.utf8.count + $1.1.utf8.count + 4 })
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { object += "," }
            object += "\""
            object += key
            object += "\":"
            object += value
        }
        return object + "}"
    }
}

/// Audit log lines, the bounded list behind GET /actions, and the action and webhook counters.
public final class ActionLog: Sendable {
    private let logger: Logger
    private let capacity: Int
    private let state = Mutex(State())

    struct State {
        var recent: [ActionRecord] = []
        var actions: [ActionKey: Int] = [:]
        var webhookRequests: [Int: Int] = [:]
        var alerts: [AlertOutcome: Int] = [:]
        var lastAction: [String: Double] = [:]
        /// Cancelled sessions waiting for their escalation's terminate step, by rule.
        var pendingEscalations: [ExactName: Int] = [:]
        /// Rules shown by pgwarden_escalations_pending even at 0: the policy's escalations.
        var escalationRules: Set<ExactName> = []
    }

    /// `--audit.file`, when given.
    public let audit: AuditFile?

    public init(logger: Logger, capacity: Int = 500, audit: AuditFile? = nil) {
        self.logger = logger
        self.capacity = capacity
        self.audit = audit
    }

    /// Logs one line per record, counts them and keeps the latest `capacity`.
    public func record(_ records: [ActionRecord]) {
        for r in records {
            let level: Logger.Level = r.result == .error || r.result == .unknown ? .error : .info
            if let t = r.prepared {
                let message: Logger.Message = r.result.acted ? "prepared transaction acted on"
                    : r.result == .unknown ? "prepared transaction perhaps acted on" : "prepared transaction skipped"
                logger.log(level: level, message,
                           metadata: [
                               "rule": "\(r.rule)", "alert.name": "\(r.alertname)", "alert.fingerprint": "\(r.fingerprint)",
                               "gid": "\(t.gid)", "transaction": "\(t.transaction)", "prepared": "\(t.preparedText)",
                               "datname": "\(t.datname)", "owner": "\(t.owner)",
                               "prepared_age_seconds": "\(formatValue((t.age * 1000).rounded() / 1000))",
                               "action": "\(r.action.rawValue)", "result": "\(r.result.rawValue)", "dry_run": "\(r.dryRun)",
                           ].merging(r.refusedBy.map { ["guard": "\($0.rawValue)"] } ?? [:]) { $1 })
                continue
            }
            let message: Logger.Message = r.result.acted ? "session acted on" : r.result == .unknown ? "session perhaps acted on" : "session skipped"
            logger.log(level: level, message,
                       metadata: [
                           "rule": "\(r.rule)", "alert.name": "\(r.alertname)", "alert.fingerprint": "\(r.fingerprint)",
                           "backend.pid": "\(r.session.pid)", "datname": "\(r.session.datname)",
                           "usename": "\(r.session.usename)", "application_name": "\(r.session.applicationName)",
                           "client_addr": "\(r.session.clientAddr)", "state": "\(r.session.state)",
                           "state_age_seconds": "\(formatValue((r.session.stateAge * 1000).rounded() / 1000))",
                           "action": "\(r.action.rawValue)", "result": "\(r.result.rawValue)", "dry_run": "\(r.dryRun)",
                       ].merging(r.refusedBy.map { ["guard": "\($0.rawValue)"] } ?? [:]) { $1 })
        }
        audit?.append(records.map(\.auditLine))
        state.withLock { s in
            for r in records {
                s.actions[ActionKey(rule: r.rule, action: r.action, result: r.result, target: r.target), default: 0] += 1
                if r.result == .success { s.lastAction[r.rule] = r.time }
            }
            s.recent.append(contentsOf: records)
            if s.recent.count > capacity { s.recent.removeFirst(s.recent.count - capacity) }
        }
    }

    /// Counts one alert of a notification by what was made of it.
    public func countAlert(_ outcome: AlertOutcome) {
        state.withLock { $0.alerts[outcome, default: 0] += 1 }
    }

    /// Sets the sessions waiting for an escalation's terminate step, by rule (the rules absent
    /// wait for nothing).
    public func setPendingEscalations(_ counts: [String: Int]) {
        state.withLock { s in
            s.pendingEscalations = Dictionary(counts.map { (ExactName($0.key), $0.value) }, uniquingKeysWith: +)
        }
    }

    /// The policy's cancel_then_terminate rules, shown by pgwarden_escalations_pending at 0 when
    /// nothing waits (set at start and on every reload).
    public func declareEscalationRules(_ names: [String]) {
        state.withLock { $0.escalationRules = Set(names.map(ExactName.init)) }
    }

    /// Counts one webhook response by status code.
    public func countWebhookRequest(status: Int) {
        state.withLock { $0.webhookRequests[status, default: 0] += 1 }
    }

    /// The most recent records, newest last, at most `limit`.
    public func recent(limit: Int) -> [ActionRecord] {
        state.withLock { Array($0.recent.suffix(max(0, limit))) }
    }

    /// pgwarden_actions_total, pgwarden_webhook_requests_total, pgwarden_webhook_alerts_total,
    /// pgwarden_last_action_timestamp_seconds.
    public func families() -> [MetricFamily] {
        let s = state.withLock { $0 }
        var actions = MetricFamily("pgwarden_actions_total", .counter,
            help: "Sessions acted on or skipped, by rule, action and result ("
                + ActionResult.allCases.map(\.rawValue).joined(separator: ", ") + "), and by target in fleet mode.")
        for key in s.actions.keys.sorted() {
            var labels = [("rule", key.rule), ("action", key.action.rawValue), ("result", key.result.rawValue)]
            if let target = key.target { labels.append(("target", target)) }
            actions.add(Double(s.actions[key]!), labels)
        }
        var requests = MetricFamily("pgwarden_webhook_requests_total", .counter,
            help: "Webhook requests by HTTP status code of the response.")
        for code in s.webhookRequests.keys.sorted() {
            requests.add(Double(s.webhookRequests[code]!), [("code", String(code))])
        }
        var alerts = MetricFamily("pgwarden_webhook_alerts_total", .counter,
            help: "Alerts received by the webhook, by what was made of them ("
                + AlertOutcome.allCases.map(\.rawValue).joined(separator: ", ") + ").")
        for outcome in s.alerts.keys.sorted() { alerts.add(Double(s.alerts[outcome]!), [("outcome", outcome.rawValue)]) }
        var last = MetricFamily("pgwarden_last_action_timestamp_seconds", .gauge,
            help: "Unix time of the last session a rule signalled successfully.")
        for rule in s.lastAction.keys.sorted() { last.add(s.lastAction[rule]!, [("rule", rule)]) }
        var pending = MetricFamily("pgwarden_escalations_pending", .gauge,
            help: "Sessions cancelled by a cancel_then_terminate rule and waiting for its terminate step (the grace period), by rule.")
        for rule in s.escalationRules.union(s.pendingEscalations.keys).sorted() {
            pending.add(Double(s.pendingEscalations[rule] ?? 0), [("rule", rule.text)])
        }
        var result = [actions, requests, alerts, last, pending]
        if let audit {
            result.append(MetricFamily("pgwarden_audit_write_errors_total", .counter,
                                       help: "Batches of audit records that could not be written to --audit.file.",
                                       samples: [Sample(Double(audit.writeErrors))]))
        }
        return result
    }
}

/// One series of pgwarden_actions_total.
struct ActionKey: Hashable, Comparable {
    var rule: String
    var action: KillAction
    var result: ActionResult
    /// The target in fleet mode (a `target` label), nil with `--dsn`.
    var target: String? = nil

    static func < (a: Self, b: Self) -> Bool {
        (a.rule, a.action.rawValue, a.result.rawValue, a.target ?? "") < (b.rule, b.action.rawValue, b.result.rawValue, b.target ?? "")
    }
}

/// The current Unix time in seconds.
public func unixTime() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
