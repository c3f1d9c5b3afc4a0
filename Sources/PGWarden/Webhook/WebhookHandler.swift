import Logging
import Synchronization

/// POST /webhook: Alertmanager notifications in, guarded actions out. Status codes follow
/// Alertmanager's retry contract: 2xx done, 5xx retried, other 4xx never retried.
public final class WebhookHandler: Sendable {
    public let policies: PolicyStore
    /// The counters, /actions and the audit file, shared by every target.
    public let log: ActionLog
    /// Where an alert's actions run.
    let routing: Routing
    private let credentials: Mutex<Credentials>
    /// Re-reads the secret files (nil when the credentials come from nowhere to re-read).
    private let loadCredentials: (@Sendable () throws -> WebhookAuth)?
    let logger: Logger
    let deadline: Duration
    /// --webhook.dry-run: report only, whatever the policy says.
    let forceDryRun: Bool

    /// Fleet mode: alerts handled by a notification answered 503 (see `handleFleet`).
    let retryMemory = RetryMemory()

    /// Where alerts act: the one server (`--dsn`), or the fleet's target each alert names.
    enum Routing: Sendable {
        /// The one server; with `--target.name`, only alerts naming it act.
        case single(ActionRunner, TargetIdentity?)
        /// Fleet mode: the target named by the alert's `label`; none or an unknown one acts on nothing.
        case fleet(Fleet, label: String)
    }

    /// The credentials in force, or none since re-reading the secret files failed.
    enum Credentials: Sendable {
        case available(WebhookAuth)
        /// The webhook and /actions answer 503 until a reload reads the files again.
        case unavailable
    }

    public static let maxBodyBytes = 1 << 20

    /// - Parameters:
    ///   - loadCredentials: reads the credentials again on `reload` (secret rotation).
    ///   - target: the server this pgwarden acts on (alerts about others act on nothing).
    public convenience init(policies: PolicyStore, runner: ActionRunner, auth: WebhookAuth,
                loadCredentials: (@Sendable () throws -> WebhookAuth)? = nil, logger: Logger,
                deadline: Duration = .seconds(5), forceDryRun: Bool = false, target: TargetIdentity? = nil) {
        self.init(policies: policies, log: runner.log, routing: .single(runner, target), auth: auth,
                  loadCredentials: loadCredentials, logger: logger, deadline: deadline, forceDryRun: forceDryRun)
    }

    /// Fleet mode: each alert acts on the target its `targetLabel` names (`--webhook.target-label`).
    public convenience init(policies: PolicyStore, fleet: Fleet, targetLabel: String, log: ActionLog, auth: WebhookAuth,
                            loadCredentials: (@Sendable () throws -> WebhookAuth)? = nil, logger: Logger,
                            deadline: Duration = .seconds(5), forceDryRun: Bool = false) {
        self.init(policies: policies, log: log, routing: .fleet(fleet, label: targetLabel), auth: auth,
                  loadCredentials: loadCredentials, logger: logger, deadline: deadline, forceDryRun: forceDryRun)
    }

    init(policies: PolicyStore, log: ActionLog, routing: Routing, auth: WebhookAuth,
         loadCredentials: (@Sendable () throws -> WebhookAuth)?, logger: Logger, deadline: Duration, forceDryRun: Bool) {
        self.forceDryRun = forceDryRun
        self.routing = routing
        self.policies = policies
        self.log = log
        self.credentials = Mutex(.available(auth))
        self.loadCredentials = loadCredentials
        self.logger = logger
        self.deadline = deadline
        log.declareEscalationRules(Self.escalationRules(policies.policy))
    }

    /// The names of the policy's cancel_then_terminate rules (pgwarden_escalations_pending).
    static func escalationRules(_ policy: Policy) -> [String] {
        policy.rules.filter { $0.action == .cancelThenTerminate }.map(\.name)
    }

    /// The webhook and /actions routes. Their credentials are checked from the headers, before
    /// any body byte is read, and again by the handlers; they run on the actions' own workers.
    public func routes(webhookPath: String, maxBodyBytes: Int = WebhookHandler.maxBodyBytes) -> [String: Route] {
        let authorize: @Sendable (HTTPRequest) -> HTTPResponse? = { [self] head in refusal(head) }
        return [
            webhookPath: Route(methods: ["POST"], maxBodyBytes: maxBodyBytes, lane: .actions, authorize: authorize) { [self] request in
                handleNotification(request)
            },
            "/actions": Route(methods: ["GET", "HEAD"], lane: .actions, authorize: authorize) { [self] request in
                recentActions(request)
            },
        ]
    }

    /// The credentials in force; nil while they are unavailable.
    var auth: WebhookAuth? {
        credentials.withLock { if case .available(let auth) = $0 { auth } else { nil } }
    }

    /// SIGHUP: reloads the policy and re-reads the secret files. A policy that fails keeps the
    /// previous one. Secret files that fail (missing, empty, unreadable, malformed) revoke the
    /// credentials in force: the operator who emptied or removed a token file meant to withdraw
    /// that token, so the webhook answers 503 until a later SIGHUP reads good files.
    public func reload(logger: Logger, reloadingPolicy: Bool = true) {
        if reloadingPolicy { policies.reload(logger: logger) }
        log.declareEscalationRules(Self.escalationRules(policies.policy))
        log.audit?.reopen()
        guard let loadCredentials else { return }
        do {
            let fresh = try loadCredentials()
            credentials.withLock { $0 = .available(fresh) }
            logger.info("webhook credentials re-read")
        } catch {
            credentials.withLock { $0 = .unavailable }
            logger.error("webhook credentials could not be re-read; the webhook and /actions answer 503 until a SIGHUP reads them",
                         metadata: ["error": "\(error)"])
        }
    }

    /// nil when the request's Authorization header (its bytes, as sent) is acceptable; the
    /// response to send otherwise: 503 while there are no credentials, 401 for wrong ones.
    func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard let auth else {
            return .error(503, "the webhook's credentials are unavailable: the secret files could not be re-read at the last reload "
                + "(pgwarden's log says why); fix them and send SIGHUP")
        }
        return auth.accepts(bytes: request.headerValueBytes("authorization")) ? nil : unauthorized()
    }

    func unauthorized() -> HTTPResponse {
        .error(401, "missing or wrong credentials; send the bearer token from --webhook.token-file (or the basic auth user and password)",
               headers: [("WWW-Authenticate", "Bearer realm=\"pgwarden\"")])
    }

    /// GET /actions?limit=N: the most recent records as JSON, newest last.
    func recentActions(_ request: HTTPRequest) -> HTTPResponse {
        if let refusal = refusal(request) { return refusal }
        var limit = 100
        if let text = request.queryItems["limit"] {
            guard let n = Int(text), n >= 0 else { return .error(400, "limit '\(text)' is not a whole number >= 0") }
            limit = n
        }
        let records = log.recent(limit: limit)
        return HTTPResponse(status: 200, contentType: "application/json",
                            text: "{\"actions\":[" + records.map(\.json).joined(separator: ",") + "]}\n")
    }

    func handleNotification(_ request: HTTPRequest) -> HTTPResponse {
        if let refusal = refusal(request) { return refusal }
        let contentType = request.header("content-type")?.split(separator: ";").first?.trimmingCharacters() ?? ""
        guard contentType.lowercased() == "application/json" else {
            return .error(415, "Content-Type is '\(contentType)'; send application/json")
        }
        let notification: AlertNotification
        do {
            notification = try AlertNotification.decode(request.body)
        } catch {
            logger.warning("webhook request rejected", metadata: ["reason": "\(error)"])
            return .error(400, "malformed notification: \(error)")
        }
        let start = ContinuousClock.now
        let policy = policies.policy
        if case .fleet = routing { return handleFleet(notification, policy: policy, start: start) }
        var results: [String] = []
        var seen = SeenAlerts()
        for (index, alert) in notification.alerts.enumerated() {
            if let earlier = seen.earlier(alert, index: index) {
                results.append(summary(alert, .duplicate, reason: SeenAlerts.reason(earlier)))
                continue
            }
            if start.duration(to: .now) >= deadline {
                return .error(503, "the response deadline passed before every alert was handled; the rest will be handled when Alertmanager retries")
            }
            do {
                results.append(try handle(alert, policy: policy))
            } catch let error as PostgresError where error.isConnectionLevel {
                logger.error("webhook could not reach the database", metadata: ["error": "\(error)"])
                return .error(503, "the database cannot be reached (\(error.kind.rawValue)); Alertmanager will retry")
            } catch let error as PostgresError where error.sqlState == "55P03" {
                // lock_not_available: another pgwarden (a replica) holds the action lock on this server.
                logger.warning("webhook waited too long for the action lock: another pgwarden is acting on this server",
                               metadata: ["error": "\(error)"])
                return .error(503, "another pgwarden is acting on this server (its action lock was held past --db.lock-timeout); "
                    + "Alertmanager will retry")
            } catch {
                logger.error("webhook action failed", metadata: ["error": "\(error)"])
                return .error(500, "the action failed: \(error)")
            }
        }
        return HTTPResponse(status: 200, contentType: "application/json",
                            text: "{\"status\":\"processed\",\"alerts\":[" + results.joined(separator: ",") + "]}\n")
    }

    /// Handles one alert and returns its JSON summary.
    func handle(_ alert: AlertNotification.Alert, policy: Policy) throws -> String {
        let ref = AlertRef(alertname: alert.labels["alertname"] ?? "", fingerprint: alert.fingerprint ?? "", labels: alert.labels)
        let runner: ActionRunner
        var fleetTarget: TargetConfig?
        switch routing {
        case .single(let one, let target):
            if let target, !target.isAbout(alert.labels) {
                guard alert.status == "firing" else { return summary(alert, .resolved) }
                let reason = target.reason(alert.labels)
                logger.warning("alert about another target not acted on",
                               metadata: ["alert.name": "\(ref.alertname)", "alert.fingerprint": "\(ref.fingerprint)",
                                          "reason": "\(reason)"])
                return summary(alert, .otherTarget, reason: reason)
            }
            runner = one
        case .fleet(let fleet, let label):
            guard let name = alert.labels[label], !name.isEmpty, let target = fleet.target(named: name),
                  let targetRunner = target.runner else {
                guard alert.status == "firing" else { return summary(alert, .resolved) }
                let reason = alert.labels[label].map { $0.isEmpty ? "its \(label) label is empty" : "its \(label) label \(JSONText.quote($0)) is not a configured target" }
                    ?? "it has no \(label) label naming a target"
                logger.warning("alert naming no known target not acted on",
                               metadata: ["alert.name": "\(ref.alertname)", "alert.fingerprint": "\(ref.fingerprint)",
                                          "reason": "\(reason)"])
                return summary(alert, .unknownTarget, reason: reason + "; nothing is done")
            }
            runner = targetRunner
            fleetTarget = target.config
        }
        guard alert.status == "firing" else { return resolved(alert, runner: runner) }
        guard let rule = policy.rule(for: alert.labels, target: fleetTarget) else { return summary(alert, .nothingMatched) }
        let dryRun = forceDryRun || policy.dryRun || rule.dryRun
        let missing = rule.missingLabels(alert.labels)
        if !missing.isEmpty {
            let reason = "the alert lacks, or carries empty, the label(s) \(missing.joined(separator: ", ")) that rule "
                + "\(rule.name) requires; nothing is done"
            logger.warning("alert not acted on", metadata: ["rule": "\(rule.name)", "alert.fingerprint": "\(ref.fingerprint)",
                                                            "reason": "\(reason)"])
            return summary(alert, .missingLabels, rule: rule.name, dryRun: dryRun, reason: reason)
        }
        if rule.action == .rollbackPrepared {
            let selection = PreparedSelection.narrowing(rule.prepared, by: alert.labels)
            let records = try runner.runPrepared(rule: rule, selection: selection, protectedRoles: policy.protectedRoles,
                                                 dryRun: dryRun, alert: ref)
            return summary(alert, Self.outcome(records, dryRun: dryRun, none: .noMatchingTransactions), rule: rule.name,
                           dryRun: dryRun, records: records, recordsKey: "transactions")
        }
        let selection = Selection.narrowing(rule.sessions, by: alert.labels)
        if let reason = selection.unusableReason {
            logger.warning("alert not acted on", metadata: ["rule": "\(rule.name)", "alert.fingerprint": "\(ref.fingerprint)", "reason": "\(reason)"])
            return summary(alert, .notAddressable, rule: rule.name, dryRun: dryRun, reason: reason)
        }
        let (policies, forceDryRun, scope) = (self.policies, self.forceDryRun, fleetTarget)
        let records: [ActionRecord]
        do {
          records = try runner.run(rule: rule, selection: selection, protectedRoles: policy.protectedRoles,
                                     dryRun: dryRun, alert: ref, policyNow: {
                                         // In fleet mode, a rule whose scope no longer includes the target is gone for it.
                                         var now = policies.policy
                                         if let scope { now.rules.removeAll { !$0.applies(to: scope) } }
                                         return (now, forceDryRun)
                                     })
        } catch let other as OtherReplica {
            logger.info("alert left to another replica", metadata: ["rule": "\(rule.name)", "alert.fingerprint": "\(ref.fingerprint)"])
            return summary(alert, .otherReplica, rule: rule.name, dryRun: dryRun, reason: other.description, target: runner.target)
        }
        return summary(alert, Self.outcome(records, dryRun: dryRun, none: .noMatchingSessions), rule: rule.name,
                       dryRun: dryRun, records: records, target: runner.target)
    }

    /// What was made of an alert whose rule ran and produced `records`.
    static func outcome(_ records: [ActionRecord], dryRun: Bool, none: AlertOutcome) -> AlertOutcome {
        records.isEmpty ? none : records.contains { $0.result.acted } ? (dryRun ? .dryRun : .acted) : .nothingActedOn
    }

    /// A resolved alert never acts. The escalations it started that are still in their grace
    /// period stand down: their sessions are not terminated (result `resolved`).
    func resolved(_ alert: AlertNotification.Alert, runner: ActionRunner) -> String {
        let ref = AlertRef(alertname: alert.labels["alertname"] ?? "", fingerprint: alert.fingerprint ?? "", labels: alert.labels)
        runner.releaseClaim(ref)
        let records = runner.standDown(resolved: ref)
        guard !records.isEmpty else { return summary(alert, .resolved, target: runner.target) }
        let rules = Set(records.map { ExactName($0.rule) }).sorted().map(\.text).joined(separator: ", ")
        return summary(alert, .resolved, rule: records.first?.rule,
                       reason: "the alert resolved during the grace period of rule \(rules): its \(records.count) cancelled "
                           + "session(s) will not be terminated", records: records, target: runner.target)
    }

    /// Counts an alert's outcome and returns its JSON summary.
    func summary(_ alert: AlertNotification.Alert, _ outcome: AlertOutcome, rule: String? = nil, dryRun: Bool = false,
                 reason: String? = nil, records: [ActionRecord] = [], recordsKey: String = "sessions",
                 target: String? = nil) -> String {
        log.countAlert(outcome)
        var fields = ["\"alertname\":\(JSONText.quote(alert.labels["alertname"] ?? ""))",
                      "\"fingerprint\":\(JSONText.quote(alert.fingerprint ?? ""))",
                      "\"status\":\(JSONText.quote(alert.status))", "\"outcome\":\(JSONText.quote(outcome.rawValue))"]
        if let target { fields.append("\"target\":\(JSONText.quote(target))") }
        if let rule { fields.append("\"rule\":\(JSONText.quote(rule))") }
        if let reason { fields.append("\"reason\":\(JSONText.quote(reason))") }
        fields.append("\"dry_run\":\(dryRun)")
        fields.append("\"\(recordsKey)\":[" + records.map(\.json).joined(separator: ",") + "]")
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension Substring {
    /// The text without surrounding spaces and tabs.
    func trimmingCharacters() -> String { String(self).trimmingWhitespace() }
}
