import Testing
@testable import PGWarden

@Suite("PreparedTransactionsCollector")
struct PreparedTransactionsCollectorTests: CollectorSuite {
    let collector = PreparedTransactionsCollector()
    static let columns = ["datname", "owner", "transactions", "age"]

    @Test func familyNamesAndTypes() {
        let got = families([])
        #expect(got.map(\.name) == ["pg_prepared_transactions", "pg_prepared_transaction_age_max_seconds"])
        #expect(got.allSatisfy { $0.type == .gauge && $0.samples.isEmpty }, "no prepared transaction, no series")
    }

    @Test func countAndOldestAgePerDatabaseAndOwner() {
        let got = families([
            ["shop", "app", "3", "612.25"],
            ["shop", "batch", "1", "5"],
            ["reports", "app", "1", "0.5"],
        ])
        let count = family(got, "pg_prepared_transactions"), age = family(got, "pg_prepared_transaction_age_max_seconds")
        #expect(value(count, ["datname": "shop", "owner": "app"]) == 3)
        #expect(value(age, ["datname": "shop", "owner": "app"]) == 612.25)
        #expect(value(count, ["datname": "shop", "owner": "batch"]) == 1)
        #expect(value(age, ["datname": "reports", "owner": "app"]) == 0.5)
        #expect(count?.samples.count == 3)
        #expect(got.allSatisfy { $0.samples.allSatisfy { labelNames($0) == ["datname", "owner"] } })
    }

    @Test func transactionPreparedDuringTheScrapeIsNotNegative() {
        let got = families([["shop", "app", "1", "-0.000012"]])
        #expect(value(family(got, "pg_prepared_transaction_age_max_seconds"), ["datname": "shop", "owner": "app"]) == 0)
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        // A dropped owner comes as '' (the view's LEFT JOIN); names with quotes and spaces travel quoted.
        let got = try familiesThroughScrape(collector, [["my \"db\"", "", "2", "10"], ["shop", "rôle", "1", "1"]])
        #expect(value(family(got, "pg_prepared_transactions"), ["datname": "my \"db\"", "owner": ""]) == 2)
        #expect(value(family(got, "pg_prepared_transaction_age_max_seconds"), ["datname": "shop", "owner": "rôle"]) == 1)
    }

    @Test func columnsAreWhatFamiliesRead() {
        #expect(collector.columns(options: .init()) == Self.columns)
    }

    // MARK: SQL

    /// pg_prepared_xacts is the same in every supported version: one branch.
    @Test(arguments: CollectorSQLTests.supportedVersions)
    func sqlReadsPgPreparedXacts(version: Int) {
        let sql = singleBranch(version)
        #expect(sql.contains("FROM pg_prepared_xacts GROUP BY database, owner"))
        #expect(arrayElements(sql) == [["COALESCE(database::text, '')", "COALESCE(owner::text, '')", "count(*)::text",
                                        "date_part('epoch', now() - min(prepared))::text"]])
    }
}
