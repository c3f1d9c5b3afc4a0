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

    @Test func sqlExcludesOwnBackendButNotOtherTypes() {
        let sql = collector.sql(serverVersion: 160000, options: .init())
        #expect(sql.contains("pg_stat_activity"))
        #expect(sql.contains("pid <> pg_backend_pid()"))
        // Every process type is counted, so there is no client-backend filter here.
        #expect(!sql.contains("'client backend'"))
        #expect(sql.contains("AS backend_type"))
        #expect(sql.contains("AS backends"))
    }
}
