import Logging
import PGWarden
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Serves /metrics (and, with a policy, the webhook) until SIGTERM or SIGINT.
struct Serve: Subcommand {
    static let spec = CommandSpec(
        name: "pgwarden serve", abstract: "Run the exporter (the default).",
        flags: [
            .value("web.listen-address", "address", help: "Address to listen on: [host]:port.", default: ":9793"),
            .value("web.telemetry-path", "path", help: "Path under which to expose metrics.", default: "/metrics"),
            .toggle("collector.application-name",
                    help: "Add an application_name label to the session families (unbounded cardinality: opt in only if your applications set few names)."),
            .toggle("collector.wait-event",
                    help: "Add a wait_event label to pg_sessions_waiting (a few hundred possible values, against about ten wait_event_types)."),
            .toggle("db.warm-backend-heap",
                    help: "After connecting, have each of pgwarden's backends allocate and free one block of 4-31 MiB once, so glibc in the backend keeps its heap between scrapes (less server CPU per scrape at thousands of sessions, 3-5 MB more resident per backend). Changes the monitored server's behaviour: opt in."),
            .value("targets.max-connections", "count",
                   help: "Fleet mode: most PostgreSQL connections open at once over every target (at the cap, the least recently used idle one closes).",
                   default: "1000"),
        ] + WebOptions.flags + ConnectionOptions.flags + LoggingOptions.flags + WebhookOptions.flags)

    var listenAddress: String
    var telemetryPath: String
    var applicationNameLabel: Bool
    var waitEventLabel: Bool
    var warmBackendHeap: Bool
    var connection: ConnectionOptions
    var logging: LoggingOptions
    var webhook: WebhookOptions
    var web: WebOptions
    var maxTargetConnections: Int

    init(_ flags: ParsedFlags) throws(UsageError) {
        maxTargetConnections = try flags.integer("targets.max-connections") ?? 1000
        guard maxTargetConnections >= 1, maxTargetConnections <= 100_000 else {
            throw UsageError("--targets.max-connections \(maxTargetConnections) must be between 1 and 100000.")
        }
        listenAddress = flags.value("web.listen-address") ?? ""
        telemetryPath = flags.value("web.telemetry-path") ?? ""
        applicationNameLabel = flags.isSet("collector.application-name")
        waitEventLabel = flags.isSet("collector.wait-event")
        warmBackendHeap = flags.isSet("db.warm-backend-heap")
        connection = try ConnectionOptions(flags)
        logging = try LoggingOptions(flags)
        webhook = try WebhookOptions(flags)
        web = try WebOptions(flags)
        guard ListenAddress(parsing: listenAddress) != nil else {
            throw UsageError("--web.listen-address '\(listenAddress)' is not [host]:port (e.g. :9793, 127.0.0.1:9793, [::1]:9793).")
        }
        guard telemetryPath.hasPrefix("/"), telemetryPath != "/", telemetryPath != "/healthz" else {
            throw UsageError("--web.telemetry-path '\(telemetryPath)' must start with / and not be / or /healthz.")
        }
        guard webhook.path != telemetryPath else {
            throw UsageError("--webhook.path and --web.telemetry-path are both '\(telemetryPath)'; give them different paths.")
        }
    }

    func run() throws {
        let logger = bootstrapLogging(logging)
        connection.warnIfPasswordOnCommandLine(logger)
        let signals = SignalWaiter(blocking: [SIGTERM, SIGINT, SIGHUP])
        let settings = connection.settings(environment: environment(), warmsBackendHeap: warmBackendHeap)
        let store = try loadConfig(logger: logger)
        let config = store?.config ?? ConfigFile()
        try webhook.check(config)
        if !config.targets.isEmpty && connection.dsn != nil {
            throw RuntimeError("--dsn and targets in --config.file both say which servers to watch; keep one "
                + "(a fleet of one is a targets list with one entry)")
        }
        let webConfig = WebConfigStore(path: web.configFile)
        let initialWeb: WebConfig
        do {
            initialWeb = try webConfig.load(logger: logger)
        } catch {
            throw RuntimeError("\(error)")
        }
        try checkCredentialsAgainstWebConfig(initialWeb, hasRules: config.hasRules)
        let serving = ServerHolder()
        let options = CollectorOptions(includeApplicationName: applicationNameLabel, includeWaitEvent: waitEventLabel)
        var routes: [String: Route]
        let hooks: WebhookHandler?
        let fleet: Fleet?
        let database: Database?
        if !config.targets.isEmpty, let store {
            let log = try webhook.makeLog(logger: logger)
            let budget = ConnectionBudget(limit: maxTargetConnections)
            let (hasRules, webhook, version) = (config.hasRules, self.webhook, PGWardenVersion.current)
            // One registry of pgwarden's own backends for the whole fleet: two targets may be two
            // databases of one server, and neither may select the other's connections. (A pid
            // of one server equal to pgwarden's on another is then spared too: the safe side.)
            let own = OwnBackends()
            let made = Fleet(targets: config.targets, budget: budget) { target in
                var targetSettings = settings
                targetSettings.dsn = target.dsn
                targetSettings.passwordFile = target.passwordFile
                var targetLogger = logger
                targetLogger[metadataKey: "target"] = "\(target.name)"
                let scraper = Scraper(database: Database(settings: targetSettings, ownBackends: own, budget: budget),
                                      options: options, version: version, logger: targetLogger, includesProcessFamilies: false)
                let runner = hasRules ? ActionRunner(
                    killer: Killer(database: Database(settings: webhook.actionSettings(targetSettings), ownBackends: own, budget: budget),
                                   readsQueryText: webhook.auditQueryText, coordinatesReplicas: true),
                    log: log, logger: targetLogger, target: target.name) : nil
                return FleetTarget(config: target, scraper: scraper, runner: runner)
            }
            fleet = made
            database = nil
            hooks = try webhook.makeFleetHandler(store: store, fleet: made, log: log, logger: logger)
            routes = ExporterRoutes.make(
                metrics: {
                    var families = Scraper.processFamilies(version: version) + made.families() + store.families()
                    if let hooks { families += hooks.log.families() }
                    families += webConfig.families() + (serving.server?.families() ?? [])
                    return TextFormat.render(families)
                },
                telemetryPath: telemetryPath, version: version, fleet: true)
            routes.merge(made.routes()) { $1 }
            if hasRules { made.startClaimSweeper() }
            logger.info("fleet mode", metadata: ["targets": "\(config.targets.count)", "config.file": "\(store.path)",
                                                 "max_connections": "\(maxTargetConnections)"])
        } else {
            let ownBackends = OwnBackends()
            let single = Database(settings: settings, ownBackends: ownBackends)
            database = single
            fleet = nil
            hooks = try webhook.makeHandler(store: store, settings: settings, ownBackends: ownBackends, logger: logger)
            let scraper = Scraper(database: single, options: options,
                                  version: PGWardenVersion.current, logger: logger,
                                  extraFamilies: {
                                      (hooks.map { $0.log.families() } ?? []) + (store?.families() ?? [])
                                          + webConfig.families() + (serving.server?.families() ?? [])
                                  })
            routes = ExporterRoutes.make(scraper: scraper, telemetryPath: telemetryPath, version: PGWardenVersion.current)
        }
        for path in [webhook.path, "/actions"] where hooks != nil && routes[path] != nil {
            throw RuntimeError("--webhook.path '\(path)' is a path pgwarden already serves; choose another")
        }
        if let hooks {
            routes.merge(hooks.routes(webhookPath: webhook.path, maxBodyBytes: webhook.maxBodyBytes)) { $1 }
        }
        let webhookPath = webhook.path
        let router = Router(routes: routes) { path, status in
            if path == webhookPath { hooks?.log.countWebhookRequest(status: status) }
        }
        var limits = web.limits
        if let fleet {
            let count = fleet.targets.count
            // A probe waits on its own target only: enough workers that the fleet's probes, a
            // few slow or down targets among them, need not queue behind each other.
            limits.workerThreads = max(limits.workerThreads, min(64, count + 2))
            // Notifications handle their targets side by side, but several may wait at once.
            limits.actionThreads = max(limits.actionThreads, min(8, count))
            // One Prometheus keeps a connection per target it probes, all from one address.
            if !web.perIPGiven {
                limits.maxConnectionsPerIP = min(limits.maxConnections, max(limits.maxConnectionsPerIP, 2 * count + 16))
            }
        }
        limits.maxConnections = raiseOpenFileLimit(forConnections: limits.maxConnections + (fleet == nil ? 0 : maxTargetConnections))
            - (fleet == nil ? 0 : maxTargetConnections)
        if limits.maxConnections < web.limits.maxConnections {
            logger.warning("the open-file limit caps the connections pgwarden can hold", metadata: [
                "requested": "\(web.limits.maxConnections)", "max_connections": "\(limits.maxConnections)"])
        }
        guard limits.maxConnections >= 1 else {
            throw RuntimeError("the open-file limit leaves no room for HTTP connections; raise it (ulimit -n) or lower --targets.max-connections")
        }
        limits.maxConnectionsPerIP = min(limits.maxConnectionsPerIP, limits.maxConnections)
        let server = HTTPServer(handler: router, logger: logger, limits: limits)
        do {
            try server.start(ListenAddress(parsing: listenAddress)!, web: initialWeb)
        } catch {
            throw RuntimeError("\(error)")
        }
        serving.server = server
        logger.info("pgwarden listening", metadata: [
            "address": "\(listenAddress)", "port": "\(server.port)", "telemetry_path": "\(telemetryPath)",
            "version": "\(PGWardenVersion.current)", "tls": "\(initialWeb.tls != nil)",
            "client_auth_type": "\(initialWeb.tls?.clientAuth.rawValue ?? "none")",
            "basic_auth_users": "\(initialWeb.users?.count ?? 0)",
            "request_timeout": "\(limits.requestTimeout)", "max_connections": "\(limits.maxConnections)",
            "max_connections_per_ip": "\(limits.maxConnectionsPerIP)",
        ])
        while true {
            let signal = signals.wait()
            if signal == SIGHUP {
                if let store, store.reload(logger: logger) { fleet?.update(store.config.targets, logger: logger) }
                if let hooks { hooks.reload(logger: logger, reloadingPolicy: false) }
                if web.configFile != nil { webConfig.reload(into: server, logger: logger) }
                if store == nil && web.configFile == nil {
                    logger.info("SIGHUP received; nothing to reload without --config.file or --web.config.file")
                }
                continue
            }
            logger.info("shutting down", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
            server.stop()
            database?.disconnect()
            for target in fleet?.targets ?? [] { target.scraper.database.disconnect() }
            return
        }
    }

    /// --config.file, loaded; nil without it. A reload may change the rules and the targets, but
    /// not what the process was started as: fleet or one server, with a webhook or without.
    func loadConfig(logger: Logger) throws -> PolicyStore? {
        guard let path = webhook.configFile else { return nil }
        do {
            let initial = try PolicyLoader.loadConfig(path: path)
            let (fleetMode, hasRules) = (!initial.targets.isEmpty, initial.hasRules)
            return try PolicyStore(path: path, logger: logger, requiresRules: !fleetMode) { config in
                if fleetMode && config.targets.isEmpty {
                    return "the targets list is gone; pgwarden started in fleet mode and keeps it until a restart"
                }
                if !fleetMode && !config.targets.isEmpty {
                    return "targets were added; pgwarden started for the one server of --dsn, so restart it for fleet mode"
                }
                if hasRules != config.hasRules {
                    return hasRules ? "the rules are gone; the webhook keeps its policy until a restart (dry_run: true stops it acting)"
                                    : "rules were added; pgwarden started without a webhook, so restart it to serve one"
                }
                return nil
            }
        } catch {
            throw RuntimeError("\(error)")
        }
    }

    /// One Authorization header cannot carry both the web configuration's basic auth and the
    /// webhook's own credentials.
    func checkCredentialsAgainstWebConfig(_ initialWeb: WebConfig, hasRules: Bool) throws {
        guard hasRules, let users = initialWeb.users else { return }
        if webhook.tokenFile != nil {
            throw RuntimeError("--webhook.token-file cannot be combined with basic_auth_users in --web.config.file: a request "
                + "carries one Authorization header, so Alertmanager cannot send both; use TLS client certificates for the web "
                + "layer, or --webhook.basic-auth-user with the same user and password as a basic_auth_users entry")
        }
        if let user = webhook.basicUser, let passwordFile = webhook.basicPasswordFile {
            let password: String
            do {
                password = try readSecretFile(passwordFile, flag: "--webhook.basic-auth-password-file")
            } catch {
                throw RuntimeError("\(error)")
            }
            guard users.accepts(user: user, password: password) else {
                throw RuntimeError("--webhook.basic-auth-user '\(user)' with its password is not one of basic_auth_users in "
                    + "--web.config.file: a request carries one Authorization header, so no webhook request could pass both; "
                    + "use the same user and password in both")
            }
        }
    }
}

/// Sets up swift-log with pgwarden's line format and level; returns the main logger.
func bootstrapLogging(_ options: LoggingOptions) -> Logger {
    bootstrapLogging(level: options.level, format: options.format)
}

/// Sets up swift-log from a level name (debug, info, warn, error) and a LogFormat name.
@discardableResult
func bootstrapLogging(level levelName: String, format formatName: String) -> Logger {
    let level: Logger.Level = switch levelName {
    case "debug": .debug
    case "warn": .warning
    case "error": .error
    default: .info
    }
    let format = LogFormat(rawValue: formatName) ?? .logfmt
    LoggingSystem.bootstrap { LineLogHandler(label: $0, format: format, level: level) }
    return Logger(label: "pgwarden")
}

/// The process environment as a dictionary.
func environment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let eq = text.firstIndex(of: "=") {
            result[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        pointer += 1
    }
    return result
}

/// Blocks signals in every thread started afterwards and hands them to `wait()`.
struct SignalWaiter {
    private var set = sigset_t()

    init(blocking signals: [Int32]) {
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Waits for the next blocked signal and returns its number.
    func wait() -> Int32 {
        var set = self.set
        var received: Int32 = 0
        while sigwait(&set, &received) != 0 {}
        return received
    }
}

/// The server, once started, for the metrics of the scrape that is built before it.
final class ServerHolder: Sendable {
    private let slot = Mutex<HTTPServer?>(nil)
    var server: HTTPServer? {
        get { slot.withLock { $0 } }
        set { slot.withLock { $0 = newValue } }
    }
}
