import Logging
import Synchronization

/// The policy in force, replaced atomically on a successful reload; a failed reload keeps it.
public final class PolicyStore: Sendable {
    public let path: String
    private let current: Mutex<Policy>
    private let lastReloadOK = Mutex(true)

    /// Loads `path`; throws the loader's error (naming line and key) when invalid, and logs the
    /// loader's warnings.
    public init(path: String, logger: Logger? = nil) throws {
        self.path = path
        let policy = try PolicyLoader.load(path: path)
        current = Mutex(policy)
        if let logger { Self.warn(policy, path: path, logger: logger) }
    }

    /// Logs what `PolicyLoader.warnings` finds.
    static func warn(_ policy: Policy, path: String, logger: Logger) {
        for warning in PolicyLoader.warnings(policy) {
            logger.warning("policy rule is broad", metadata: ["config.file": "\(path)", "warning": "\(warning)"])
        }
    }

    public var policy: Policy { current.withLock { $0 } }

    /// Re-reads the file. On error logs why, keeps the old policy and returns false.
    @discardableResult
    public func reload(logger: Logger) -> Bool {
        do {
            let policy = try PolicyLoader.load(path: path)
            current.withLock { $0 = policy }
            lastReloadOK.withLock { $0 = true }
            logger.info("policy reloaded", metadata: ["config.file": "\(path)", "rules": "\(policy.rules.count)"])
            Self.warn(policy, path: path, logger: logger)
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
