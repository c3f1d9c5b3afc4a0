import Foundation
import PGWarden
import Testing

/// Roles dropped while their sessions live on all show as `usename=""`: a scrape must still give
/// one series per label set, or Prometheus refuses the whole scrape as duplicated samples.
@Suite("Dropped roles in the metrics")
struct DroppedRolesMetricsTests {
    @Test func twoDroppedRolesGiveOneSeriesNotTwo() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let roles = [try fx.createRole(), try fx.createRole()]
        let sessions = try roles.map { try fx.connect(role: $0, database: db) }
        for s in sessions { try s.idleInTransaction() }
        for role in roles { try fx.admin.run("DROP ROLE \(quoteIdent(role))") }
        let pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", fx.env.dsn()])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.all("pg_idle_in_transaction_age_seconds_count", ["usename": ""]).count == 1)
        #expect((m.value("pg_idle_in_transaction_age_seconds_count", ["usename": ""]) ?? 0) >= 2,
                "both dropped roles' sessions are counted under the one empty name")
        // No two samples with the same name and labels anywhere in the scrape.
        let samples = m.text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { $0[..<($0.lastIndex(of: " ") ?? $0.endIndex)] }
        let repeated = Dictionary(grouping: samples, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(repeated.isEmpty, "repeated series: \(repeated.sorted())")
    }
}
