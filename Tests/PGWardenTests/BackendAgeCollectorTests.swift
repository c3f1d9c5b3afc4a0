import Testing
@testable import PGWarden

@Suite("BackendAgeCollector")
struct BackendAgeCollectorTests: CollectorSuite {
    let collector = BackendAgeCollector()

    @Test func oldestConnectionPerDatabaseAndRole() {
        let got = families([["shop", "app", "86400.5"], ["shop", "batch", "3"], ["", "", "12"]])
        #expect(got.map(\.name) == ["pg_session_backend_age_max_seconds"])
        #expect(got[0].type == .gauge)
        #expect(value(got[0], ["datname": "shop", "usename": "app"]) == 86400.5)
        #expect(value(got[0], ["datname": "shop", "usename": "batch"]) == 3)
        #expect(value(got[0], ["datname": "", "usename": ""]) == 12)
    }

    @Test func unknownStartTimesAndClockSkewAreHandled() {
        // backend_start is NULL for sessions pgwarden's role may not see; such a group has no age.
        let got = families([["shop", "other", nil], ["shop", "app", "-0.001"]])
        #expect(got[0].samples.count == 1)
        #expect(value(got[0], ["datname": "shop", "usename": "app"]) == 0)
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        let got = try familiesThroughScrape(collector, [["data base", "rôle \"x\"", "7.25"]])
        #expect(value(got[0], ["datname": "data base", "usename": "rôle \"x\""]) == 7.25)
        #expect(collector.columns(options: .init()) == ["datname", "usename", "age"])
    }

    @Test(arguments: CollectorSQLTests.supportedVersions)
    func sqlGroupsClientBackendsByName(version: Int) {
        let sql = singleBranch(version)
        #expect(sql.contains("FROM grouped WHERE backend_type = 'client backend' GROUP BY datname, usename"))
        #expect(arrayElements(sql) == [["datname", "usename", "date_part('epoch', now() - min(backend_start))::text"]])
    }
}
