import Logging
import PGWarden

/// Flags of the kill hooks: the policy, the webhook's path, credentials and limits.
struct WebhookOptions {
    static let flags: [FlagSpec] = [
        .value("config.file", "file", help: "Policy file (YAML). With it, pgwarden serves the Alertmanager webhook; SIGHUP reloads it."),
        .value("webhook.path", "path", help: "Path of the Alertmanager webhook.", default: "/webhook"),
        .value("webhook.token-file", "file",
               help: "File holding the bearer token Alertmanager sends (http_config.authorization.credentials_file)."),
        .value("webhook.basic-auth-user", "user", help: "User name for HTTP basic auth on the webhook."),
        .value("webhook.basic-auth-password-file", "file", help: "File holding the HTTP basic auth password."),
        .toggle("webhook.allow-unauthenticated",
                help: "Serve the webhook without credentials (anyone who can reach it can make pgwarden act)."),
        .value("webhook.max-body-bytes", "bytes", help: "Largest notification accepted (413 above).",
               default: "\(WebhookHandler.maxBodyBytes)"),
        .value("webhook.timeout", "duration", help: "Deadline for answering a notification.", default: "5s"),
        .toggle("webhook.dry-run", help: "Only report what the policy would do, whatever the file says."),
        .value("target.name", "name",
               help: "The name alerts give this server (in --webhook.target-label), with --dsn. With it, a firing alert about another server, or about none, acts on nothing."),
        .value("webhook.target-label", "label",
               help: "The alert label naming the server an alert is about: the target's name in fleet mode (targets in --config.file), --target.name with --dsn.",
               default: TargetIdentity.defaultLabel),
        .value("audit.file", "file",
               help: "Append one JSON line per audit record (the fields of /actions, the alert's labels, query_id on 14+) to this file, mode 0600; SIGHUP reopens it."),
        .toggle("audit.query-text", help: "Also record the first \(SessionRow.maxQueryText) characters of each session's query in --audit.file."),
    ]

    var configFile: String?
    var path: String
    var tokenFile: String?
    var basicUser: String?
    var basicPasswordFile: String?
    var allowUnauthenticated: Bool
    var maxBodyBytes: Int
    var timeout: Duration
    var dryRun: Bool
    /// --target.name with --webhook.target-label; nil: alerts about any server act on this one.
    var target: TargetIdentity?
    /// --webhook.target-label.
    var targetLabel: String
    /// Whether --webhook.target-label was given.
    var targetLabelGiven: Bool
    /// --audit.file and --audit.query-text.
    var auditFile: String?
    var auditQueryText: Bool

    init(_ flags: ParsedFlags) throws(UsageError) {
        configFile = flags.value("config.file")
        path = flags.value("webhook.path") ?? ""
        tokenFile = flags.value("webhook.token-file")
        basicUser = flags.value("webhook.basic-auth-user")
        basicPasswordFile = flags.value("webhook.basic-auth-password-file")
        allowUnauthenticated = flags.isSet("webhook.allow-unauthenticated")
        maxBodyBytes = try flags.integer("webhook.max-body-bytes") ?? WebhookHandler.maxBodyBytes
        dryRun = flags.isSet("webhook.dry-run")
        auditFile = flags.value("audit.file")
        auditQueryText = flags.isSet("audit.query-text")
        if auditQueryText && auditFile == nil {
            throw UsageError("--audit.query-text only has an effect with --audit.file; give both or neither.")
        }
        if auditFile?.isEmpty == true { throw UsageError("--audit.file needs a file name.") }
        if auditFile != nil && configFile == nil {
            throw UsageError("--audit.file records the webhook's actions; it needs --config.file.")
        }
        guard path.hasPrefix("/"), path != "/", path != "/healthz", path != "/actions" else {
            throw UsageError("--webhook.path '\(path)' must start with / and not be /, /healthz or /actions.")
        }
        guard maxBodyBytes >= 1024 else {
            throw UsageError("--webhook.max-body-bytes \(maxBodyBytes) is too small; use at least 1024.")
        }
        let timeoutText = flags.value("webhook.timeout") ?? ""
        guard let timeout = parseDuration(timeoutText), timeout >= .seconds(1) else {
            throw UsageError("--webhook.timeout '\(timeoutText)' must be a duration of at least 1s, like 5s.")
        }
        self.timeout = timeout
        targetLabel = flags.value("webhook.target-label") ?? TargetIdentity.defaultLabel
        targetLabelGiven = flags.isGiven("webhook.target-label")
        if let name = flags.value("target.name") {
            do {
                target = try TargetIdentity(name: name, label: targetLabel)
            } catch {
                throw UsageError("\(error).")
            }
        } else if !PolicyLoader.isLabelName(targetLabel) {
            throw UsageError("--webhook.target-label \(JSONText.quote(targetLabel)) is not a label name "
                + "(a letter or _, then letters, digits or _), like instance.")
        }
        guard (basicUser == nil) == (basicPasswordFile == nil) else {
            throw UsageError("--webhook.basic-auth-user and --webhook.basic-auth-password-file go together; give both or neither.")
        }
    }

    /// The checks that depend on what --config.file holds: credentials for a webhook (rules),
    /// --target.name only with --dsn, --webhook.target-label only where it routes.
    func check(_ config: ConfigFile) throws(UsageError) {
        if config.hasRules && tokenFile == nil && basicUser == nil && !allowUnauthenticated {
            throw UsageError("the webhook needs credentials: give --webhook.token-file (or basic auth), "
                + "or --webhook.allow-unauthenticated to run it open on purpose.")
        }
        if !config.targets.isEmpty && target != nil {
            throw UsageError("--target.name names the one server of --dsn; with targets in --config.file each target's name "
                + "is its identity, so remove --target.name.")
        }
        if let clash = config.targets.first(where: { $0.labels[targetLabel] != nil }) {
            throw UsageError("target \(clash.name) in --config.file sets the label \(targetLabel), which is --webhook.target-label: "
                + "/targets would give its series another target's name; remove the label or choose another --webhook.target-label.")
        }
        if config.targets.isEmpty && target == nil && targetLabelGiven {
            throw UsageError("--webhook.target-label only has an effect with --target.name (or targets in --config.file); give both or neither.")
        }
        if !config.hasRules && auditFile != nil {
            throw UsageError("--audit.file records the webhook's actions; --config.file has no rules, so there is no webhook.")
        }
    }

    /// The actions' connection settings: their own connection, with timeouts inside the response deadline.
    func actionSettings(_ settings: ConnectionSettings) -> ConnectionSettings {
        var actionSettings = settings
        actionSettings.statementTimeout = min(settings.statementTimeout, timeout / 2)
        actionSettings.queryTimeout = actionSettings.statementTimeout + .milliseconds(500)
        actionSettings.connectTimeout = min(settings.connectTimeout, timeout / 2)
        return actionSettings
    }

    /// The action log with --audit.file.
    func makeLog(logger: Logger) throws -> ActionLog {
        let audit: AuditFile?
        do {
            audit = try auditFile.map { try AuditFile(path: $0, logger: logger) }
        } catch {
            throw RuntimeError("\(error)")
        }
        return ActionLog(logger: Logger(label: "pgwarden.audit"), audit: audit)
    }

    /// Reads the credentials (again on every reload).
    func credentialLoader() -> @Sendable () throws -> WebhookAuth {
        let (tokenFile, basicUser, basicPasswordFile) = (self.tokenFile, self.basicUser, self.basicPasswordFile)
        return {
            WebhookAuth(
                bearerToken: try tokenFile.map { try readSecretFile($0, flag: "--webhook.token-file") },
                basicUser: basicUser,
                basicPassword: try basicPasswordFile.map { try readSecretFile($0, flag: "--webhook.basic-auth-password-file") })
        }
    }

    /// Fleet mode: the webhook over every target's runner, or nil when the file has no rules.
    func makeFleetHandler(store: PolicyStore, fleet: Fleet, log: ActionLog, logger: Logger) throws -> WebhookHandler? {
        guard store.config.hasRules else { return nil }
        let loadCredentials = credentialLoader()
        let auth: WebhookAuth
        do { auth = try loadCredentials() } catch { throw RuntimeError("\(error)") }
        if auth.isOpen {
            logger.warning("the webhook accepts unauthenticated requests (--webhook.allow-unauthenticated); anyone who reaches it can make pgwarden act")
        }
        logger.info("webhook enabled", metadata: [
            "config.file": "\(store.path)", "rules": "\(store.policy.rules.count)", "targets": "\(fleet.targets.count)",
            "path": "\(path)", "dry_run": "\(dryRun || store.policy.dryRun)", "target.label": "\(targetLabel)"])
        return WebhookHandler(policies: store, fleet: fleet, targetLabel: targetLabel, log: log, auth: auth,
                              loadCredentials: auth.isOpen ? nil : loadCredentials, logger: logger, deadline: timeout,
                              forceDryRun: dryRun)
    }

    /// The webhook handler for the one server of --dsn, or nil without rules.
    func makeHandler(store: PolicyStore?, settings: ConnectionSettings, ownBackends: OwnBackends, logger: Logger) throws -> WebhookHandler? {
        guard let store, store.config.hasRules else { return nil }
        let loadCredentials = credentialLoader()
        let auth: WebhookAuth
        do { auth = try loadCredentials() } catch { throw RuntimeError("\(error)") }
        if auth.isOpen {
            logger.warning("the webhook accepts unauthenticated requests (--webhook.allow-unauthenticated); anyone who reaches it can make pgwarden act")
        }
        if target == nil {
            logger.warning("""
                no --target.name: a firing alert about any server will act on the server pgwarden connects to; \
                give --target.name with the name this server's alerts carry in their \(TargetIdentity.defaultLabel) label
                """)
        }
        var policy = store.policy
        if dryRun { policy.dryRun = true }
        let runner = ActionRunner(killer: Killer(database: Database(settings: actionSettings(settings), ownBackends: ownBackends),
                                                 readsQueryText: auditQueryText),
                                  log: try makeLog(logger: logger), logger: logger)
        var enabled: Logger.Metadata = ["config.file": "\(store.path)", "rules": "\(policy.rules.count)",
                                        "path": "\(path)", "dry_run": "\(policy.dryRun)"]
        if let target { enabled["target.name"] = "\(target.name)"; enabled["target.label"] = "\(target.label)" }
        logger.info("webhook enabled", metadata: enabled)
        return WebhookHandler(policies: store, runner: runner, auth: auth,
                              loadCredentials: auth.isOpen ? nil : loadCredentials, logger: logger, deadline: timeout,
                              forceDryRun: dryRun, target: target)
    }
}
