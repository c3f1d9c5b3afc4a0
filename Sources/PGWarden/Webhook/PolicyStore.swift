import Logging
import Synchronization

/// The config file in force (its policy and its targets), replaced atomically on a successful
/// reload; a failed reload keeps it.
public final class PolicyStore: Sendable {
    public let path: String
    private let current: Mutex<ConfigFile>
    private let lastReloadOK = Mutex(true)
    /// Whether the file must hold rules (it serves the webhook).
    private let requiresRules: Bool
    /// What a reload may not change (nil accepts it): a file that started with targets keeps
    /// targets, one that started without gets none, and the webhook's presence follows the start.
    private let validate: (@Sendable (ConfigFile) -> String?)?

    /// Loads `path`; throws the loader's error (naming line and key) when invalid, and logs the
    /// loader's warnings.
    public init(path: String, logger: Logger? = nil, requiresRules: Bool = true,
                validate: (@Sendable (ConfigFile) -> String?)? = nil) throws {
        self.path = path
        self.requiresRules = requiresRules
        self.validate = validate
        let config = try Self.load(path: path, requiresRules: requiresRules)
        current = Mutex(config)
        if let logger { Self.warn(config, path: path, logger: logger) }
    }

    static func load(path: String, requiresRules: Bool) throws -> ConfigFile {
        let config = try PolicyLoader.loadConfig(path: path)
        if requiresRules && !config.hasRules {
            throw PolicyError(source: path, key: "rules", message: "no rules: add a rules list (see examples/pgwarden.yml)")
        }
        return config
    }

    /// Logs what `PolicyLoader.warnings` finds.
    static func warn(_ config: ConfigFile, path: String, logger: Logger) {
        for warning in PolicyLoader.warnings(config.policy) + PolicyLoader.targetWarnings(config) {
            logger.warning("policy rule is broad", metadata: ["config.file": "\(path)", "warning": "\(warning)"])
        }
    }

    public var policy: Policy { current.withLock { $0.policy } }
    public var config: ConfigFile { current.withLock { $0 } }

    /// Re-reads the file. On error logs why, keeps the old configuration and returns false.
    @discardableResult
    public func reload(logger: Logger) -> Bool {
        do {
            let config = try Self.load(path: path, requiresRules: requiresRules)
            if let problem = validate?(config) {
                throw PolicyError(source: path, message: problem)
            }
            current.withLock { $0 = config }
            lastReloadOK.withLock { $0 = true }
            logger.info("policy reloaded", metadata: ["config.file": "\(path)", "rules": "\(config.policy.rules.count)",
                                                      "targets": "\(config.targets.count)"])
            Self.warn(config, path: path, logger: logger)
            return true
        } catch {
            lastReloadOK.withLock { $0 = false }
            logger.error("policy reload failed; the previous policy stays in force", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// pgwarden_config_last_reload_successful.
    public func families() -> [MetricFamily] {
        [MetricFamily("pgwarden_config_last_reload_successful", .gauge,
                      help: "1 when the last load of --config.file succeeded, 0 when the previous policy is still in force.",
                      samples: [Sample(lastReloadOK.withLock { $0 } ? 1 : 0)])]
    }
}
