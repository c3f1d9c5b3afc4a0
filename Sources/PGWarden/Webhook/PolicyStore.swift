import Logging
import Synchronization

/// The policy in force, replaced atomically on a successful reload; a failed reload keeps it.
public final class PolicyStore: Sendable {
    public let path: String
    private let current: Mutex<Policy>
    private let lastReloadOK = Mutex(true)

    /// Loads `path`; throws the loader's error (naming line and key) when invalid.
    public init(path: String) throws {
        self.path = path
        current = Mutex(try PolicyLoader.load(path: path))
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
