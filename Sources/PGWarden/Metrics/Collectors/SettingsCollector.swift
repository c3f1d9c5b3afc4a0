/// Connection capacity and the server's built-in session guards, from pg_settings.
public struct SettingsCollector: Collector {
    /// A pg_settings entry exported as a gauge, from which server version on.
    struct Setting {
        var name: String
        var metric: String
        var help: String
        var since: Int
    }

    static let settings: [Setting] = [
        Setting(name: "max_connections", metric: "pg_max_connections",
                help: "max_connections: the server's connection slots.", since: 0),
        Setting(name: "superuser_reserved_connections", metric: "pg_superuser_reserved_connections",
                help: "superuser_reserved_connections: slots only superusers may use.", since: 0),
        Setting(name: "reserved_connections", metric: "pg_reserved_connections",
                help: "reserved_connections: slots reserved for pg_use_reserved_connections members (16+).", since: 160000),
        Setting(name: "idle_in_transaction_session_timeout", metric: "pg_setting_idle_in_transaction_session_timeout_seconds",
                help: "idle_in_transaction_session_timeout in seconds as configured for new sessions (0 = off).", since: 0),
        Setting(name: "idle_session_timeout", metric: "pg_setting_idle_session_timeout_seconds",
                help: "idle_session_timeout in seconds as configured for new sessions (0 = off, 14+).", since: 140000),
        Setting(name: "statement_timeout", metric: "pg_setting_statement_timeout_seconds",
                help: "statement_timeout in seconds as configured for new sessions (0 = off).", since: 0),
        Setting(name: "transaction_timeout", metric: "pg_setting_transaction_timeout_seconds",
                help: "transaction_timeout in seconds as configured for new sessions (0 = off, 17+).", since: 170000),
    ]

    public init() {}

    /// reset_val changes only when the session re-reads the configuration files.
    public var readsConfiguration: Bool { true }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        let names = Self.settings.filter { serverVersion >= $0.since }.map { "'\($0.name)'" }.joined(separator: ", ")
        // reset_val, not setting: pgwarden SETs its own statement_timeout; reset_val is what the
        // configuration (file, ALTER SYSTEM) gives a session.
        return "SELECT ARRAY[name, reset_val, COALESCE(unit, '')] FROM pg_settings WHERE name IN (\(names))"
    }

    public func columns(options: CollectorOptions) -> [String] { ["name", "value", "unit"] }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        let name = result.column("name"), value = result.column("value"), unit = result.column("unit")
        var byName: [String: Double] = [:]
        for row in result.rows {
            byName[row.text(name)] = Self.seconds(row.double(value), unit: row.text(unit))
        }
        return Self.settings.compactMap { setting in
            guard let v = byName[setting.name] else { return nil }
            return MetricFamily(setting.metric, .gauge, help: setting.help, samples: [Sample(v)])
        }
    }

    /// Converts a time setting to seconds by its pg_settings unit; unitless values pass through.
    static func seconds(_ value: Double, unit: String) -> Double {
        switch unit {
        case "ms": return value / 1000
        case "s": return value
        case "min": return value * 60
        case "h": return value * 3600
        case "d": return value * 86400
        default: return value
        }
    }
}
