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

    init(_ flags: ParsedFlags) throws(UsageError) {
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
        let ownBackends = OwnBackends()
        let database = Database(settings: settings, ownBackends: ownBackends)
        let webConfig = WebConfigStore(path: web.configFile)
        let initialWeb: WebConfig
        do {
            initialWeb = try webConfig.load(logger: logger)
        } catch {
            throw RuntimeError("\(error)")
        }
        if initialWeb.users != nil, webhook.configFile != nil, webhook.tokenFile != nil {
            throw RuntimeError("--webhook.token-file cannot be combined with basic_auth_users in --web.config.file: a request "
                + "carries one Authorization header, so Alertmanager cannot send both; use TLS client certificates for the web "
                + "layer, or --webhook.basic-auth-user with the same user and password as a basic_auth_users entry")
        }
        if let users = initialWeb.users, webhook.configFile != nil, let user = webhook.basicUser,
           let passwordFile = webhook.basicPasswordFile {
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
        let hooks = try webhook.makeHandler(settings: settings, ownBackends: ownBackends, logger: logger)
        let serving = ServerHolder()
        let scraper = Scraper(database: database, options: CollectorOptions(includeApplicationName: applicationNameLabel,
                                                                            includeWaitEvent: waitEventLabel),
                              version: PGWardenVersion.current, logger: logger,
                              extraFamilies: {
                                  (hooks.map { $0.runner.log.families() + $0.policies.families() } ?? [])
                                      + webConfig.families() + (serving.server?.families() ?? [])
                              })
        var routes = ExporterRoutes.make(scraper: scraper, telemetryPath: telemetryPath, version: PGWardenVersion.current)
        if let hooks {
            routes.merge(hooks.routes(webhookPath: webhook.path, maxBodyBytes: webhook.maxBodyBytes)) { $1 }
        }
        let webhookPath = webhook.path
        let router = Router(routes: routes) { path, status in
            if path == webhookPath { hooks?.runner.log.countWebhookRequest(status: status) }
        }
        var limits = web.limits
        limits.maxConnections = raiseOpenFileLimit(forConnections: limits.maxConnections)
        if limits.maxConnections < web.limits.maxConnections {
            logger.warning("the open-file limit caps the connections pgwarden can hold", metadata: [
                "requested": "\(web.limits.maxConnections)", "max_connections": "\(limits.maxConnections)"])
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
                if let hooks { hooks.reload(logger: logger) }
                if web.configFile != nil { webConfig.reload(into: server, logger: logger) }
                if hooks == nil && web.configFile == nil {
                    logger.info("SIGHUP received; nothing to reload without --config.file or --web.config.file")
                }
                continue
            }
            logger.info("shutting down", metadata: ["signal": "\(signal == SIGTERM ? "SIGTERM" : "SIGINT")"])
            server.stop()
            database.disconnect()
            return
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
