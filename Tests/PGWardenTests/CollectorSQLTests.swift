import Logging
import Testing
@testable import PGWarden

/// Properties every collector's statement must have, whatever the server version.
@Suite("Collector SQL")
struct CollectorSQLTests {
    static let versions = [100000, 130000, 140000, 150000, 160000, 170000, 180000]
    static let optionSets = [CollectorOptions(), CollectorOptions(includeApplicationName: true)]

    @Test func defaultCollectorsInExpositionOrder() {
        let kinds = defaultCollectors.map { String(describing: type(of: $0)) }
        #expect(kinds == ["SettingsCollector", "SessionsCollector", "IdleInTransactionCollector", "BackendsCollector",
                          "RoleLimitsCollector", "DatabaseLimitsCollector", "LocksCollector"])
    }

    @Test(arguments: versions)
    func everyReadOfPgStatActivityExcludesOwnBackend(version: Int) {
        for collector in defaultCollectors {
            for options in Self.optionSets {
                let sql = collector.sql(serverVersion: version, options: options)
                let reads = occurrences(of: "pg_stat_activity", in: sql)
                let exclusions = occurrences(of: "pg_backend_pid()", in: sql)
                #expect(exclusions >= reads, "\(type(of: collector)) on \(version): \(reads) reads, \(exclusions) exclusions")
                if reads > 0 { #expect(sql.contains("<> pg_backend_pid()"), "\(type(of: collector))") }
            }
        }
    }

    @Test(arguments: versions)
    func everyStatementIsSingleReadOnlyAndParameterless(version: Int) {
        for collector in defaultCollectors {
            let sql = collector.sql(serverVersion: version, options: .init())
            let name = "\(type(of: collector))"
            // The scraper joins statements with ";" and expects one result per collector.
            #expect(!sql.contains(";"), "\(name)")
            #expect(!sql.contains("$1"), "\(name)")
            let head = sql.drop { $0 == " " || $0 == "\n" }.prefix(6).uppercased()
            #expect(head == "SELECT" || head.hasPrefix("WITH"), "\(name) starts with \(head)")
            for verb in ["INSERT ", "UPDATE ", "DELETE ", "pg_terminate_backend", "pg_cancel_backend", "set_config"] {
                #expect(!sql.contains(verb), "\(name) contains \(verb)")
            }
        }
    }

    @Test func onlySettingsAndLocksDependOnTheVersion() {
        for collector in defaultCollectors {
            let old = collector.sql(serverVersion: 130000, options: .init())
            let new = collector.sql(serverVersion: 160000, options: .init())
            let versioned = collector is SettingsCollector || collector is LocksCollector
            #expect((old != new) == versioned, "\(type(of: collector))")
        }
    }
}

@Suite("Scraper SQL")
struct ScraperSQLTests {
    /// Construction does no I/O: the database connects lazily on the first scrape.
    static func makeScraper(options: CollectorOptions = .init(), collectors: [any Collector] = defaultCollectors) -> Scraper {
        Scraper(database: Database(settings: ConnectionSettings(dsn: "host=/nonexistent")), options: options,
                collectors: collectors, version: "test", logger: Logger(label: "pgwarden.tests"))
    }

    @Test(arguments: [130000, 140000, 160000])
    func joinsOneStatementPerCollectorInOrder(version: Int) {
        let scraper = Self.makeScraper()
        let statements = scraper.sql(serverVersion: version).split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("\n") ? String($0.dropFirst()) : String($0) }
        #expect(statements.count == defaultCollectors.count)
        for (statement, collector) in zip(statements, defaultCollectors) {
            #expect(statement == collector.sql(serverVersion: version, options: .init()), "\(type(of: collector))")
        }
    }

    @Test func sqlDependsOnVersionAndIsStableWhenRepeated() {
        let scraper = Self.makeScraper()
        let v13 = scraper.sql(serverVersion: 130000)
        let v16 = scraper.sql(serverVersion: 160000)
        #expect(v13 != v16)
        #expect(!v13.contains("'reserved_connections'"))
        #expect(v16.contains("'reserved_connections'"))
        // A second call (served from the cache) gives the same text, per version.
        #expect(scraper.sql(serverVersion: 130000) == v13)
        #expect(scraper.sql(serverVersion: 160000) == v16)
    }

    @Test func scraperPassesItsOptionsToCollectors() {
        let plain = Self.makeScraper().sql(serverVersion: 160000)
        let withApp = Self.makeScraper(options: CollectorOptions(includeApplicationName: true)).sql(serverVersion: 160000)
        #expect(!plain.contains("application_name"))
        #expect(withApp.contains("application_name"))
        let buckets = Self.makeScraper(options: CollectorOptions(idleInTransactionBuckets: [7])).sql(serverVersion: 160000)
        #expect(buckets.contains("age <= 7) AS b0"))
        #expect(!buckets.contains(" AS b1"))
    }

    @Test func customCollectorList() {
        let scraper = Self.makeScraper(collectors: [BackendsCollector()])
        #expect(scraper.sql(serverVersion: 160000) == BackendsCollector().sql(serverVersion: 160000, options: .init()))
    }
}
