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
               help: "The name alerts give this server (in --webhook.target-label). With it, a firing alert about another server, or about none, acts on nothing."),
        .value("webhook.target-label", "label", help: "The alert label naming the server an alert is about (with --target.name).",
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
        if let name = flags.value("target.name") {
            do {
                target = try TargetIdentity(name: name, label: flags.value("webhook.target-label") ?? TargetIdentity.defaultLabel)
            } catch {
                throw UsageError("\(error).")
            }
        } else if flags.isGiven("webhook.target-label") {
            throw UsageError("--webhook.target-label only has an effect with --target.name; give both or neither.")
        }
        guard (basicUser == nil) == (basicPasswordFile == nil) else {
            throw UsageError("--webhook.basic-auth-user and --webhook.basic-auth-password-file go together; give both or neither.")
        }
        if configFile != nil && tokenFile == nil && basicUser == nil && !allowUnauthenticated {
            throw UsageError("the webhook needs credentials: give --webhook.token-file (or basic auth), "
                + "or --webhook.allow-unauthenticated to run it open on purpose.")
        }
    }

    /// The webhook handler, or nil without --config.file. Loads the policy and the secrets.
    func makeHandler(settings: ConnectionSettings, ownBackends: OwnBackends, logger: Logger) throws -> WebhookHandler? {
        guard let configFile else { return nil }
        let policies: PolicyStore
        let auth: WebhookAuth
        let (tokenFile, basicUser, basicPasswordFile) = (self.tokenFile, self.basicUser, self.basicPasswordFile)
        let loadCredentials: @Sendable () throws -> WebhookAuth = {
            WebhookAuth(
                bearerToken: try tokenFile.map { try readSecretFile($0, flag: "--webhook.token-file") },
                basicUser: basicUser,
                basicPassword: try basicPasswordFile.map { try readSecretFile($0, flag: "--webhook.basic-auth-password-file") })
        }
        do {
            policies = try PolicyStore(path: configFile, logger: logger)
            auth = try loadCredentials()
        } catch {
            throw RuntimeError("\(error)")
        }
        if auth.isOpen {
            logger.warning("the webhook accepts unauthenticated requests (--webhook.allow-unauthenticated); anyone who reaches it can make pgwarden act")
        }
        if target == nil {
            logger.warning("""
                no --target.name: a firing alert about any server will act on the server pgwarden connects to; \
                give --target.name with the name this server's alerts carry in their \(TargetIdentity.defaultLabel) label
                """)
        }
        var policy = policies.policy
        if dryRun { policy.dryRun = true }
        let deadline = timeout
        // The actions get their own connection, with timeouts inside the response deadline.
        var actionSettings = settings
        actionSettings.statementTimeout = min(settings.statementTimeout, deadline / 2)
        actionSettings.queryTimeout = actionSettings.statementTimeout + .milliseconds(500)
        actionSettings.connectTimeout = min(settings.connectTimeout, deadline / 2)
        let audit: AuditFile?
        do {
            audit = try auditFile.map { try AuditFile(path: $0, logger: logger) }
        } catch {
            throw RuntimeError("\(error)")
        }
        let runner = ActionRunner(killer: Killer(database: Database(settings: actionSettings, ownBackends: ownBackends),
                                                 readsQueryText: auditQueryText),
                                  log: ActionLog(logger: Logger(label: "pgwarden.audit"), audit: audit), logger: logger)
        var enabled: Logger.Metadata = ["config.file": "\(configFile)", "rules": "\(policy.rules.count)",
                                        "path": "\(path)", "dry_run": "\(policy.dryRun)"]
        if let target { enabled["target.name"] = "\(target.name)"; enabled["target.label"] = "\(target.label)" }
        logger.info("webhook enabled", metadata: enabled)
        return WebhookHandler(policies: policies, runner: runner, auth: auth,
                              loadCredentials: auth.isOpen ? nil : loadCredentials, logger: logger, deadline: deadline,
                              forceDryRun: dryRun, target: target)
    }
}
