import Logging
import Synchronization

/// What one scrape produced: the rendered exposition and whether the database answered.
public struct ScrapeResult: Sendable {
    public var body: String
    public var up: Bool
}

/// Collects every metric family from one `Database` in one round trip per scrape.
public final class Scraper: Sendable {
    public let database: Database
    public let options: CollectorOptions
    private let collectors: [any Collector]
    private let logger: Logger
    private let version: String
    private let extraFamilies: @Sendable () -> [MetricFamily]
    /// Whether a scrape carries pgwarden's own process and build families (not in a fleet
    /// target's /probe: /metrics has them once).
    private let includesProcessFamilies: Bool
    private let flight = SingleFlight<ScrapeResult>()
    private let stats = Mutex(Stats())

    struct Stats {
        var errors = 0
        var scrapes = 0
        var lastDuration = 0.0
        var coalesced = 0
        var statements: [Int: ScrapeStatement] = [:]
        var wasUp: Bool?
        /// Settings rows held for the connection with this serial (see `ScrapeStatement`).
        var configuration: (connection: UInt64, rows: ScrapeStatement.HeldConfiguration)?
    }

    /// - Parameter extraFamilies: families of other parts (webhook, actions) added to every scrape.
    public init(database: Database, options: CollectorOptions = .init(), collectors: [any Collector] = defaultCollectors,
                version: String, logger: Logger, extraFamilies: @escaping @Sendable () -> [MetricFamily] = { [] },
                includesProcessFamilies: Bool = true) {
        self.includesProcessFamilies = includesProcessFamilies
        self.database = database
        self.options = options
        self.collectors = collectors
        self.version = version
        self.logger = logger
        self.extraFamilies = extraFamilies
    }

    /// Scrapes, or joins a scrape already under way.
    public func scrape() -> ScrapeResult {
        let (result, shared) = flight.run { collect() }
        if shared { stats.withLock { $0.coalesced += 1 } }
        return result
    }

    /// The one statement a scrape runs against a server of this version (built once per version).
    public func statement(serverVersion: Int) -> ScrapeStatement {
        if let cached = stats.withLock({ $0.statements[serverVersion] }) { return cached }
        let statement = ScrapeStatement(collectors: collectors, serverVersion: serverVersion, options: options)
        stats.withLock { $0.statements[serverVersion] = statement }
        return statement
    }

    private func collect() -> ScrapeResult {
        let start = ContinuousClock.now
        var families: [MetricFamily] = []
        var up = false
        do {
            let (result, serverVersion) = try database.withConnection { conn in
                let statement = statement(serverVersion: conn.serverVersion)
                let held = stats.withLock { s in s.configuration.flatMap { $0.connection == conn.serial ? $0.rows : nil } }
                let results = try conn.executePrepared(name: "pgwarden_scrape", sql: statement.sql,
                                                       params: [database.ownBackends.arrayLiteral, held?.loadTime],
                                                       timeout: database.settings.queryTimeout)
                let (parts, hold) = try statement.results(results.last ?? QueryResult(columns: [], rows: []), held: held)
                stats.withLock { $0.configuration = hold.map { (conn.serial, $0) } }
                return (parts, conn.serverVersion)
            }
            for (collector, result) in zip(collectors, result) {
                families += collector.families(from: result, options: options)
            }
            families.append(MetricFamily("pg_server_version_num", .gauge,
                help: "The server's version as server_version_num.", samples: [Sample(Double(serverVersion))]))
            up = true
        } catch {
            families = []
            // Whatever went wrong, the next scrape reads the settings again.
            stats.withLock { $0.configuration = nil }
            logger.error("scrape failed: the database could not be queried; pg_up is 0 until it answers",
                         metadata: ["error": "\(error)"])
        }
        let duration = start.duration(to: .now).seconds
        let (counts, becameUp) = stats.withLock { s -> (Stats, Bool) in
            s.scrapes += 1
            if !up { s.errors += 1 }
            s.lastDuration = duration
            let recovered = up && s.wasUp == false
            s.wasUp = up
            return (s, recovered)
        }
        if becameUp { logger.info("database answers again; scrapes are complete") }
        var all = [MetricFamily("pg_up", .gauge, help: "1 when this scrape could query the database, else 0.",
                                samples: [Sample(up ? 1 : 0)])]
        all += families
        all += selfFamilies(duration: duration, stats: counts)
        all += extraFamilies()
        return ScrapeResult(body: TextFormat.render(all), up: up)
    }

    private func selfFamilies(duration: Double, stats: Stats) -> [MetricFamily] {
        [
            MetricFamily("pgwarden_scrape_duration_seconds", .gauge,
                         help: "Time this scrape spent collecting from the database.", samples: [Sample(duration)]),
            MetricFamily("pgwarden_scrapes_total", .counter,
                         help: "Scrapes that queried the database (one round trip each).", samples: [Sample(Double(stats.scrapes))]),
            MetricFamily("pgwarden_scrapes_coalesced_total", .counter,
                         help: "Scrape requests answered with a concurrent scrape's result instead of their own round trip.",
                         samples: [Sample(Double(stats.coalesced))]),
            MetricFamily("pgwarden_scrape_errors_total", .counter,
                         help: "Scrapes that could not query the database.", samples: [Sample(Double(stats.errors))]),
        ] + (includesProcessFamilies ? Self.processFamilies(version: version) : [])
    }

    /// pgwarden_build_info and the process families.
    public static func processFamilies(version: String) -> [MetricFamily] {
        [
            MetricFamily("pgwarden_build_info", .gauge,
                         help: "A metric with a constant '1' value labeled by version, revision, branch and swiftversion from which pgwarden was built.",
                         samples: [Sample(1, labels: [("version", version), ("revision", BuildInfo.revision),
                                                      ("branch", BuildInfo.branch), ("swiftversion", BuildInfo.swiftVersion)])]),
        ] + ProcessMetrics.families()
    }
}
