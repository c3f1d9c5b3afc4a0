import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `--web.config.file`: loaded at start (a broken file stops start-up) and on SIGHUP, when the
/// server takes the new configuration, certificate and key without closing its socket. A failed
/// reload keeps the previous configuration, logs why and shows in
/// `pgwarden_web_config_last_reload_successful`.
public final class WebConfigStore: Sendable {
    /// nil without --web.config.file (plain HTTP).
    public let path: String?
    private let status = Mutex<(ok: Bool, at: Double)>((true, 0))

    public init(path: String?) {
        self.path = path
    }

    /// The configuration to start with (plain HTTP without a file), the loader's warnings
    /// logged; throws the loader's error.
    public func load(logger: Logger) throws(PolicyError) -> WebConfig {
        guard let path else { return .plain }
        let loaded = try WebConfigLoader.load(path: path)
        Self.warn(loaded, path: path, logger: logger)
        status.withLock { $0 = (true, Self.now()) }
        return loaded.config
    }

    static func warn(_ loaded: WebConfigLoader.Loaded, path: String, logger: Logger) {
        for warning in loaded.warnings {
            logger.warning("web configuration setting has no effect", metadata: ["web.config.file": "\(path)", "warning": "\(warning)"])
        }
    }

    /// Re-reads the file and its certificate files and hands them to `server`. On error logs why,
    /// keeps what is serving and returns false.
    @discardableResult
    public func reload(into server: HTTPServer, logger: Logger) -> Bool {
        guard let path else { return true }
        do {
            let loaded = try WebConfigLoader.load(path: path)
            try server.reload(web: loaded.config)
            status.withLock { $0 = (true, Self.now()) }
            logger.info("web configuration reloaded", metadata: [
                "web.config.file": "\(path)", "tls": "\(loaded.config.tls != nil)",
                "client_auth_type": "\(loaded.config.tls?.clientAuth.rawValue ?? "none")",
                "basic_auth_users": "\(loaded.config.users?.count ?? 0)"])
            Self.warn(loaded, path: path, logger: logger)
            return true
        } catch {
            status.withLock { $0.ok = false }
            logger.error("web configuration reload failed; the previous one stays in force", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// pgwarden_web_config_last_reload_successful and _success_timestamp_seconds (with a file).
    public func families() -> [MetricFamily] {
        guard path != nil else { return [] }
        let (ok, at) = status.withLock { $0 }
        return [
            MetricFamily("pgwarden_web_config_last_reload_successful", .gauge,
                         help: "1 when the last load of --web.config.file succeeded, 0 when the previous web configuration is still in force.",
                         samples: [Sample(ok ? 1 : 0)]),
            MetricFamily("pgwarden_web_config_last_reload_success_timestamp_seconds", .gauge,
                         help: "Unix time of the last successful load of --web.config.file.",
                         samples: [Sample(at)]),
        ]
    }

    static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
