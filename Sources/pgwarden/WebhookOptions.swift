import ArgumentParser
import Logging
import PGWarden

/// Flags of the kill hooks: the policy, the webhook's path, credentials and limits.
struct WebhookOptions: ParsableArguments {
    @Option(name: .customLong("config.file"),
            help: "Policy file (YAML). With it, pgwarden serves the Alertmanager webhook; SIGHUP reloads it.")
    var configFile: String?

    @Option(name: .customLong("webhook.path"), help: "Path of the Alertmanager webhook.")
    var path: String = "/webhook"

    @Option(name: .customLong("webhook.token-file"),
            help: "File holding the bearer token Alertmanager sends (http_config.authorization.credentials_file).")
    var tokenFile: String?

    @Option(name: .customLong("webhook.basic-auth-user"), help: "User name for HTTP basic auth on the webhook.")
    var basicUser: String?

    @Option(name: .customLong("webhook.basic-auth-password-file"), help: "File holding the HTTP basic auth password.")
    var basicPasswordFile: String?

    @Flag(name: .customLong("webhook.allow-unauthenticated"),
          help: "Serve the webhook without credentials (anyone who can reach it can make pgwarden act).")
    var allowUnauthenticated = false

    @Option(name: .customLong("webhook.max-body-bytes"), help: "Largest notification accepted (413 above).")
    var maxBodyBytes: Int = WebhookHandler.maxBodyBytes

    @Option(name: .customLong("webhook.timeout"), help: "Deadline for answering a notification.")
    var timeout: String = "5s"

    @Flag(name: .customLong("webhook.dry-run"), help: "Only report what the policy would do, whatever the file says.")
    var dryRun = false

    func validate() throws {
        guard path.hasPrefix("/"), path != "/", path != "/healthz", path != "/actions" else {
            throw ValidationError("--webhook.path '\(path)' must start with / and not be /, /healthz or /actions.")
        }
        guard maxBodyBytes >= 1024 else {
            throw ValidationError("--webhook.max-body-bytes \(maxBodyBytes) is too small; use at least 1024.")
        }
        guard let d = parseDuration(timeout), d >= .seconds(1) else {
            throw ValidationError("--webhook.timeout '\(timeout)' must be a duration of at least 1s, like 5s.")
        }
        guard (basicUser == nil) == (basicPasswordFile == nil) else {
            throw ValidationError("--webhook.basic-auth-user and --webhook.basic-auth-password-file go together; give both or neither.")
        }
        if configFile != nil && tokenFile == nil && basicUser == nil && !allowUnauthenticated {
            throw ValidationError("the webhook needs credentials: give --webhook.token-file (or basic auth), "
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
            policies = try PolicyStore(path: configFile)
            auth = try loadCredentials()
        } catch {
            throw RuntimeError("\(error)")
        }
        if auth.isOpen {
            logger.warning("the webhook accepts unauthenticated requests (--webhook.allow-unauthenticated); anyone who reaches it can make pgwarden act")
        }
        var policy = policies.policy
        if dryRun { policy.dryRun = true }
        let deadline = parseDuration(timeout)!
        // The actions get their own connection, with timeouts inside the response deadline.
        var actionSettings = settings
        actionSettings.statementTimeout = min(settings.statementTimeout, deadline / 2)
        actionSettings.queryTimeout = actionSettings.statementTimeout + .milliseconds(500)
        actionSettings.connectTimeout = min(settings.connectTimeout, deadline / 2)
        let runner = ActionRunner(killer: Killer(database: Database(settings: actionSettings, ownBackends: ownBackends)),
                                  log: ActionLog(logger: Logger(label: "pgwarden.audit")), logger: logger)
        logger.info("webhook enabled", metadata: ["config.file": "\(configFile)", "rules": "\(policy.rules.count)",
                                                  "path": "\(path)", "dry_run": "\(policy.dryRun)"])
        return WebhookHandler(policies: policies, runner: runner, auth: auth,
                              loadCredentials: auth.isOpen ? nil : loadCredentials, logger: logger, deadline: deadline,
                              forceDryRun: dryRun)
    }
}
