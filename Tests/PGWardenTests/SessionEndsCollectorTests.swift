import Testing
@testable import PGWarden

@Suite("SessionEndsCollector")
struct SessionEndsCollectorTests: CollectorSuite {
    let collector = SessionEndsCollector()
    static let columns = ["datname", "sessions_killed", "sessions_abandoned", "sessions_fatal"]

    @Test func countersPerDatabase() {
        let got = families([["postgres", "0", "1", "2"], ["shop", "17", "3", "5"]])
        #expect(got.map(\.name) == ["pg_database_sessions_killed_total", "pg_database_sessions_abandoned_total",
                                    "pg_database_sessions_fatal_total"])
        #expect(got.allSatisfy { $0.type == .counter && $0.samples.count == 2 })
        #expect(value(family(got, "pg_database_sessions_killed_total"), ["datname": "shop"]) == 17)
        #expect(value(family(got, "pg_database_sessions_abandoned_total"), ["datname": "shop"]) == 3)
        #expect(value(family(got, "pg_database_sessions_fatal_total"), ["datname": "shop"]) == 5)
        #expect(value(family(got, "pg_database_sessions_killed_total"), ["datname": "postgres"]) == 0, "zero, not absent")
    }

    @Test func noRowsBefore14NoFamilies() {
        #expect(families([]).isEmpty)
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        #expect(collector.columns(options: .init()) == Self.columns)
        let got = try familiesThroughScrape(collector, [["my \"db\"", "1", "2", "3"]])
        #expect(value(family(got, "pg_database_sessions_fatal_total"), ["datname": "my \"db\""]) == 3)
    }

    // MARK: SQL

    @Test(arguments: [120000, 130000, 139999])
    func sqlBefore14ReturnsNothing(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(!sql.contains("pg_stat_database"))
        #expect(!sql.contains("sessions_killed"))
        #expect(sql.hasSuffix("WHERE false"))
        #expect(arrayElements(sql).first?.count == Self.columns.count)
    }

    @Test(arguments: [140000, 150004, 160000, 170000])
    func sqlFrom14ReadsPgStatDatabase(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(sql == "SELECT ARRAY[datname::text, sessions_killed::text, sessions_abandoned::text, sessions_fatal::text] FROM pg_stat_database WHERE datname IS NOT NULL ORDER BY 1")
        #expect(arrayElements(sql).first?.count == Self.columns.count)
    }
}
