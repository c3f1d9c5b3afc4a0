import Testing
@testable import PGWarden

@Suite("XminHorizonCollector")
struct XminHorizonCollectorTests: CollectorSuite {
    let collector = XminHorizonCollector()

    /// What the branch returns when nothing holds the horizon: no session rows, and NULL for
    /// the two aggregates.
    static let nothingHeld: [[String?]] = [["prepared_transaction", "", "", nil], ["replication_slot", "", "", nil]]

    @Test func everyHolderIsZeroFilled() {
        let got = families(Self.nothingHeld)
        #expect(got.map(\.name) == ["pg_xmin_horizon_age_xids", "pg_session_xmin_age_max_xids"])
        #expect(got.allSatisfy { $0.type == .gauge })
        let horizon = family(got, "pg_xmin_horizon_age_xids")
        #expect(horizon?.samples.map { labelDict($0)["holder"] } == ["session", "prepared_transaction", "replication_slot"])
        #expect(horizon?.samples.allSatisfy { $0.value == 0 } == true)
        #expect(family(got, "pg_session_xmin_age_max_xids")?.samples.isEmpty == true)
        // Even an empty result (which the branch never gives) keeps the three series.
        #expect(family(families([]), "pg_xmin_horizon_age_xids")?.samples.count == 3)
    }

    @Test func sessionHolderIsTheOldestSession() {
        let got = families([
            ["session", "shop", "app", "1200"],
            ["session", "shop", "report", "45000"],
            ["session", "", "replicator", "300"],
            ["prepared_transaction", "", "", "90000"],
            ["replication_slot", "", "", "12"],
        ])
        let horizon = family(got, "pg_xmin_horizon_age_xids"), sessions = family(got, "pg_session_xmin_age_max_xids")
        #expect(value(horizon, ["holder": "session"]) == 45000)
        #expect(value(horizon, ["holder": "prepared_transaction"]) == 90000)
        #expect(value(horizon, ["holder": "replication_slot"]) == 12)
        #expect(value(sessions, ["datname": "shop", "usename": "app"]) == 1200)
        #expect(value(sessions, ["datname": "shop", "usename": "report"]) == 45000)
        #expect(value(sessions, ["datname": "", "usename": "replicator"]) == 300)
        #expect(sessions?.samples.count == 3)
        #expect(sessions?.samples.allSatisfy { labelNames($0) == ["datname", "usename"] } == true)
    }

    @Test func unknownHolderKindsAreIgnored() {
        let got = families(Self.nothingHeld + [["vacuum", "x", "y", "99"]])
        #expect(family(got, "pg_xmin_horizon_age_xids")?.samples.count == 3)
        #expect(family(got, "pg_xmin_horizon_age_xids")?.samples.allSatisfy { $0.value == 0 } == true)
        #expect(family(got, "pg_session_xmin_age_max_xids")?.samples.isEmpty == true)
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        let got = try familiesThroughScrape(collector, [
            ["session", "my db", "", "7"], ["prepared_transaction", "", "", nil], ["replication_slot", "", "", "3"],
        ])
        #expect(value(family(got, "pg_session_xmin_age_max_xids"), ["datname": "my db", "usename": ""]) == 7)
        #expect(value(family(got, "pg_xmin_horizon_age_xids"), ["holder": "prepared_transaction"]) == 0)
        #expect(value(family(got, "pg_xmin_horizon_age_xids"), ["holder": "replication_slot"]) == 3)
        #expect(collector.columns(options: .init()) == ["holder", "datname", "usename", "age"])
    }

    // MARK: SQL

    @Test(arguments: CollectorSQLTests.supportedVersions)
    func sqlReadsTheThreeKindsOfHolder(version: Int) {
        let sql = singleBranch(version)
        // Sessions from the shared CTE, per database and role name, autovacuum left out.
        #expect(sql.contains("FROM grouped WHERE xmin_age IS NOT NULL AND backend_type IS DISTINCT FROM 'autovacuum worker' GROUP BY datname, usename"))
        #expect(sql.contains("FROM pg_prepared_xacts"))
        #expect(sql.contains("FROM pg_replication_slots"))
        #expect(arrayElements(sql) == [
            ["'session'", "datname", "usename", "max(xmin_age)::text"],
            ["'prepared_transaction'", "''", "''", "max(age(transaction))::text"],
            ["'replication_slot'", "''", "''", "max(GREATEST(age(xmin), age(catalog_xmin)))::text"],
        ])
    }

    /// The session ages come from the scrape statement's `grouped`, which takes each session's
    /// backend_xmin or backend_xid, whichever is older.
    @Test(arguments: CollectorSQLTests.supportedVersions)
    func groupedCarriesTheXminAgeOfEverySession(version: Int) {
        let statement = ScrapeStatement(collectors: [collector], serverVersion: version, options: .init())
        #expect(statement.sql.contains("backend_start, backend_xid, backend_xmin FROM pg_stat_get_activity(NULL)"))
        #expect(statement.sql.contains("max(GREATEST(age(backend_xid), age(backend_xmin))) AS xmin_age FROM activity"))
    }
}
