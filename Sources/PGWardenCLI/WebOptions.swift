import PGWarden

#if canImport(Glibc)
import Glibc
#endif

/// Flags of the HTTP edge: the web configuration file, the whole-request deadline and the
/// connection caps.
struct WebOptions {
    static let flags: [FlagSpec] = [
        .value("web.config.file", "file",
               help: "Web configuration (exporter-toolkit format): TLS, client certificates, basic auth users, response headers. SIGHUP re-reads it and its certificate files."),
        .value("web.request-timeout", "duration",
               help: "Time a client has to send a whole request (headers and body), from connecting or from the previous response; slower clients are cut off.",
               default: "10s"),
        .value("web.max-connections", "count",
               help: "Connections held at once (each costs a socket and at most 32 KiB, no thread).", default: "4096"),
        .value("web.max-connections-per-ip", "count", help: "Connections one client address may hold at once.",
               default: "64"),
    ]

    var configFile: String?
    var limits = HTTPLimits()

    /// Whether --web.max-connections-per-ip was given (fleet mode raises the default).
    var perIPGiven = false

    init(_ flags: ParsedFlags) throws(UsageError) {
        configFile = flags.value("web.config.file")
        let timeoutText = flags.value("web.request-timeout") ?? ""
        guard let timeout = parseDuration(timeoutText), timeout >= .seconds(1), timeout <= .seconds(3600) else {
            throw UsageError("--web.request-timeout '\(timeoutText)' must be a duration from 1s to 1h, like 10s.")
        }
        limits.requestTimeout = timeout
        let total = try flags.integer("web.max-connections") ?? limits.maxConnections
        guard (16...1_000_000).contains(total) else {
            throw UsageError("--web.max-connections \(total) must be from 16 to 1000000.")
        }
        perIPGiven = flags.isGiven("web.max-connections-per-ip")
        let perIP = try flags.integer("web.max-connections-per-ip") ?? limits.maxConnectionsPerIP
        guard (1...total).contains(perIP) else {
            throw UsageError("--web.max-connections-per-ip \(perIP) must be from 1 to --web.max-connections (\(total)).")
        }
        limits.maxConnections = total
        limits.maxConnectionsPerIP = perIP
    }
}

/// Raises the soft limit on open files towards the hard limit so that `wanted` connections (plus
/// pgwarden's own files and database connections) fit; returns the connections that fit.
func raiseOpenFileLimit(forConnections wanted: Int) -> Int {
    let reserve = 64
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
    let needed = rlim_t(wanted + reserve)
    if limit.rlim_cur < needed {
        limit.rlim_cur = min(needed, limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return min(wanted, max(16, Int(limit.rlim_cur) - reserve))
}
