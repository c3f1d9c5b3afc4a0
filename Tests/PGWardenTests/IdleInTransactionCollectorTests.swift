import Testing
@testable import PGWarden

@Suite("IdleInTransactionCollector")
struct IdleInTransactionCollectorTests {
    let collector = IdleInTransactionCollector()
    let options = CollectorOptions(idleInTransactionBuckets: [1, 10, 60])

    /// Builds the row PostgreSQL would return for one role's idle-in-transaction ages.
    func row(_ usename: String, ages: [Double], bounds: [Double]) -> [String?] {
        let buckets = bounds.map { bound in String(ages.filter { $0 <= bound }.count) }
        return [usename] + buckets + [String(ages.count), String(ages.reduce(0, +))]
    }

    func columns(_ bounds: [Double]) -> [String] {
        ["usename"] + bounds.indices.map { "b\($0)" } + ["sessions", "total_age"]
    }

    @Test func histogramPerRoleFromAges() {
        let bounds = options.idleInTransactionBuckets
        let alice = [0.5, 3, 7, 45, 500]
        let bob = [45.0]
        let result = QueryResult(columns: columns(bounds),
                                 rows: [row("alice", ages: alice, bounds: bounds), row("bob", ages: bob, bounds: bounds)])
        let got = collector.families(from: result, options: options)
        #expect(got.count == 1)
        let h = got[0]
        #expect(h.name == "pg_idle_in_transaction_age_seconds")
        #expect(h.type == .histogram)
        // alice: ≤1 → 1, ≤10 → 3, ≤60 → 4, all 5; sum 555.5.
        #expect(value(h, ["usename": "alice", "le": "1"], suffix: "_bucket") == 1)
        #expect(value(h, ["usename": "alice", "le": "10"], suffix: "_bucket") == 3)
        #expect(value(h, ["usename": "alice", "le": "60"], suffix: "_bucket") == 4)
        #expect(value(h, ["usename": "alice", "le": "+Inf"], suffix: "_bucket") == 5)
        #expect(value(h, ["usename": "alice"], suffix: "_count") == 5)
        #expect(value(h, ["usename": "alice"], suffix: "_sum") == 555.5)
        // bob: one session idle 45 s falls in the 60 bucket only.
        #expect(value(h, ["usename": "bob", "le": "10"], suffix: "_bucket") == 0)
        #expect(value(h, ["usename": "bob", "le": "60"], suffix: "_bucket") == 1)
        #expect(value(h, ["usename": "bob", "le": "+Inf"], suffix: "_bucket") == 1)
        #expect(value(h, ["usename": "bob"], suffix: "_sum") == 45)
        // Per role: 3 bounds + +Inf + _sum + _count.
        #expect(h.samples.count == 2 * 6)
    }

    @Test func renderedHistogramIsValidExposition() {
        let bounds = options.idleInTransactionBuckets
        let result = QueryResult(columns: columns(bounds), rows: [row("app", ages: [2, 20], bounds: bounds)])
        let text = TextFormat.render(collector.families(from: result, options: options))
        #expect(text.contains("# TYPE pg_idle_in_transaction_age_seconds histogram\n"))
        #expect(text.contains("pg_idle_in_transaction_age_seconds_bucket{usename=\"app\",le=\"10\"} 1\n"))
        #expect(text.contains("pg_idle_in_transaction_age_seconds_bucket{usename=\"app\",le=\"+Inf\"} 2\n"))
        #expect(text.contains("pg_idle_in_transaction_age_seconds_sum{usename=\"app\"} 22\n"))
        #expect(text.contains("pg_idle_in_transaction_age_seconds_count{usename=\"app\"} 2\n"))
    }

    @Test func noRowsNoSamples() {
        let got = collector.families(from: QueryResult(columns: columns(options.idleInTransactionBuckets), rows: []),
                                     options: options)
        #expect(got.count == 1)
        #expect(got[0].samples.isEmpty)
    }

    @Test func defaultBucketsGiveOneLeLabelEach() {
        let bounds = CollectorOptions.defaultIdleInTransactionBuckets
        let result = QueryResult(columns: columns(bounds), rows: [row("app", ages: [0, 4000], bounds: bounds)])
        let h = collector.families(from: result, options: CollectorOptions())[0]
        let les = h.samples.filter { $0.suffix == "_bucket" }.map { labelDict($0)["le"]! }
        #expect(les == bounds.map { formatValue($0) } + ["+Inf"])
        #expect(les.first == "1" && les.dropLast().last == "3600")
        // 4000 s is beyond the last bound: only +Inf counts it.
        #expect(value(h, ["usename": "app", "le": "3600"], suffix: "_bucket") == 1)
        #expect(value(h, ["usename": "app", "le": "+Inf"], suffix: "_bucket") == 2)
    }

    @Test(arguments: [[1.0, 10, 60], [0.5], CollectorOptions.defaultIdleInTransactionBuckets])
    func columnsAreWhatFamiliesRead(bounds: [Double]) {
        #expect(collector.columns(options: CollectorOptions(idleInTransactionBuckets: bounds)) == columns(bounds))
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        let bounds = options.idleInTransactionBuckets
        let got = try familiesThroughScrape(collector, [row("app user", ages: [0.5, 30], bounds: bounds)],
                                            options: options)
        let h = got[0]
        #expect(value(h, ["usename": "app user", "le": "1"], suffix: "_bucket") == 1)
        #expect(value(h, ["usename": "app user", "le": "60"], suffix: "_bucket") == 2)
        #expect(value(h, ["usename": "app user"], suffix: "_sum") == 30.5)
        #expect(value(h, ["usename": "app user"], suffix: "_count") == 2)
    }

    // MARK: SQL

    @Test func sqlHasOneFilteredCountPerBucket() {
        let options = CollectorOptions(idleInTransactionBuckets: [0.5, 30, 3600])
        let sql = collector.sql(serverVersion: 160000, options: options)
        let arrays = arrayElements(sql)
        #expect(arrays.count == 1)
        #expect(arrays.first == ["role_name", "sum(b0)::text", "sum(b1)::text", "sum(b2)::text", "sum(n)::text", "sum(total_age)::text"])
        // Counted per role oid (one filtered count per bucket), named per oid, summed per name.
        #expect(sql.contains("SELECT COALESCE((SELECT rolname::text FROM pg_roles WHERE oid = usesysid), '') AS role_name, "
            + "count(*) FILTER (WHERE age <= 0.5) AS b0, count(*) FILTER (WHERE age <= 30) AS b1, "
            + "count(*) FILTER (WHERE age <= 3600) AS b2, count(*) AS n, COALESCE(sum(age), 0) AS total_age FROM ("))
        #expect(arrays.first?.count == collector.columns(options: options).count)
    }

    @Test func sqlCountsBothIdleInTransactionStatesOfClientBackends() {
        let sql = collector.sql(serverVersion: 160000, options: CollectorOptions())
        #expect(sql.contains("FROM activity WHERE backend_type = 'client backend' AND state IN ('idle in transaction', 'idle in transaction (aborted)')"))
        #expect(sql.contains("GREATEST(0, date_part('epoch', now() - state_change)) AS age"), "float8 ages, not numeric")
        #expect(sql.contains("GROUP BY usesysid"), "grouped per role oid, named once per role")
        #expect(readsOnlySharedCTEs(sql))
        #expect(!sql.contains(";"))
        #expect(occurrences(of: "FILTER (WHERE age <=", in: sql) == CollectorOptions.defaultIdleInTransactionBuckets.count)
        #expect(arrayElements(sql).first?.count == collector.columns(options: CollectorOptions()).count)
    }
}
