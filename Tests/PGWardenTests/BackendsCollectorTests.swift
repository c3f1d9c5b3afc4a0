import Testing
@testable import PGWarden

@Suite("BackendsCollector")
struct BackendsCollectorTests {
    let collector = BackendsCollector()

    @Test func oneSamplePerBackendType() {
        let result = QueryResult(columns: ["backend_type", "backends"], rows: [
            ["autovacuum launcher", "1"],
            ["background writer", "1"],
            ["client backend", "12"],
            ["walsender", "2"],
        ])
        let got = collector.families(from: result, options: .init())
        #expect(got.map(\.name) == ["pg_backends"])
        let f = got[0]
        #expect(f.type == .gauge)
        #expect(f.samples.count == 4)
        #expect(f.samples.allSatisfy { labelNames($0) == ["backend_type"] })
        #expect(value(f, ["backend_type": "client backend"]) == 12)
        #expect(value(f, ["backend_type": "walsender"]) == 2)
        #expect(value(f, ["backend_type": "autovacuum launcher"]) == 1)
        #expect(f.samples.map(\.value).reduce(0, +) == 16)
    }

    @Test func bigCountsAndEmptyResult() {
        let big = QueryResult(columns: ["backend_type", "backends"], rows: [["client backend", "10000"]])
        #expect(value(collector.families(from: big, options: .init())[0], ["backend_type": "client backend"]) == 10000)
        let none = QueryResult(columns: ["backend_type", "backends"], rows: [])
        #expect(collector.families(from: none, options: .init())[0].samples.isEmpty)
    }

    @Test func columnOrderDoesNotMatter() {
        let result = QueryResult(columns: ["backends", "backend_type"], rows: [["3", "checkpointer"]])
        #expect(value(collector.families(from: result, options: .init())[0], ["backend_type": "checkpointer"]) == 3)
    }

    @Test func columnsAreWhatFamiliesRead() throws {
        let columns = collector.columns(options: .init())
        #expect(columns == ["backend_type", "backends"])
        let got = try familiesThroughScrape(collector, [["client backend", "3"], ["autovacuum worker", "1"]])
        #expect(value(got[0], ["backend_type": "client backend"]) == 3)
        #expect(value(got[0], ["backend_type": "autovacuum worker"]) == 1)
    }

    @Test func sqlCountsEveryBackendTypeFromActivity() {
        let sql = collector.sql(serverVersion: 160000, options: .init())
        // grouped (counts of activity, which already leaves pgwarden's own backends out) has
        // every process type; this branch adds its counts up per type, without a client filter.
        #expect(sql.contains("FROM grouped"))
        #expect(!sql.contains("clients"))
        #expect(!sql.contains("'client backend'"))
        #expect(readsOnlySharedCTEs(sql))
        #expect(sql.contains("GROUP BY backend_type"))
        #expect(arrayElements(sql) == [["COALESCE(backend_type, 'unknown')", "sum(n)::text"]])
    }
}
