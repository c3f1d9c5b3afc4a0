import Testing
@testable import PGWarden

@Suite("WaitingSessionsCollector")
struct WaitingSessionsCollectorTests: CollectorSuite {
    let collector = WaitingSessionsCollector()
    static let withEvent = CollectorOptions(includeWaitEvent: true)

    @Test func waitingSessionsPerWaitEventType() {
        let got = families([
            ["shop", "app", "Lock", "4"],
            ["shop", "app", "IO", "1"],
            ["shop", "batch", "Timeout", "2"],
        ])
        #expect(got.map(\.name) == ["pg_sessions_waiting"])
        #expect(got[0].type == .gauge)
        #expect(value(got[0], ["datname": "shop", "usename": "app", "wait_event_type": "Lock"]) == 4)
        #expect(value(got[0], ["datname": "shop", "usename": "app", "wait_event_type": "IO"]) == 1)
        #expect(value(got[0], ["datname": "shop", "usename": "batch", "wait_event_type": "Timeout"]) == 2)
        #expect(got[0].samples.allSatisfy { labelNames($0) == ["datname", "usename", "wait_event_type"] })
        #expect(families([])[0].samples.isEmpty)
    }

    @Test func waitEventLabelOnlyWhenOptedIn() throws {
        #expect(collector.columns(options: .init()) == ["datname", "usename", "wait_event_type", "sessions"])
        #expect(collector.columns(options: Self.withEvent) == ["datname", "usename", "wait_event_type", "wait_event", "sessions"])
        let got = try familiesThroughScrape(collector, [
            ["shop", "app", "Lock", "transactionid", "3"],
            ["shop", "app", "Lock", "relation", "1"],
        ], options: Self.withEvent)
        #expect(value(got[0], ["datname": "shop", "usename": "app", "wait_event_type": "Lock", "wait_event": "transactionid"]) == 3)
        #expect(value(got[0], ["datname": "shop", "usename": "app", "wait_event_type": "Lock", "wait_event": "relation"]) == 1)
        #expect(got[0].samples.allSatisfy { labelNames($0) == ["datname", "usename", "wait_event_type", "wait_event"] })
    }

    // MARK: SQL

    @Test(arguments: CollectorSQLTests.supportedVersions)
    func sqlCountsRunningClientSessionsInAWait(version: Int) {
        let sql = singleBranch(version)
        #expect(sql.contains("FROM activity WHERE backend_type = 'client backend' AND state IN ('active', 'fastpath function call') AND wait_event_type IS NOT NULL"))
        #expect(!sql.contains("wait_event,") && !sql.contains("wait_event)"), "no wait_event unless opted in")
        // Counted per oid, then per name (two dropped roles are both '' and must make one series).
        #expect(sql.contains("GROUP BY datid, usesysid, wait_event_type) AS w GROUP BY datname, usename, wait_event_type"))
        #expect(arrayElements(sql).first == ["datname", "usename", "wait_event_type", "sum(n)::text"])
    }

    @Test func sqlWithWaitEvent() {
        let sql = collector.sql(serverVersion: 150000, options: Self.withEvent)
        #expect(sql.contains("wait_event_type, COALESCE(wait_event, '') AS wait_event, count(*) AS n"))
        #expect(sql.contains("GROUP BY datid, usesysid, wait_event_type, wait_event) AS w GROUP BY datname, usename, wait_event_type, wait_event"))
        #expect(arrayElements(sql).first == ["datname", "usename", "wait_event_type", "wait_event", "sum(n)::text"])
        let statement = ScrapeStatement(collectors: [collector], serverVersion: 150000, options: Self.withEvent)
        #expect(statement.sql.contains("wait_event_type, wait_event, backend_start"), "the shared CTE reads wait_event")
        let plain = ScrapeStatement(collectors: [collector], serverVersion: 150000, options: .init())
        #expect(plain.sql.contains("wait_event_type, backend_start"), "and only when opted in")
    }
}
