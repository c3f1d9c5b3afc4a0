import Foundation
import Logging
import Testing
@testable import PGWarden

/// ActionLog counters and recent list, and ActionRecord's JSON.
@Suite("ActionLog")
struct ActionLogTests {
    static func log(capacity: Int = 500) -> ActionLog {
        ActionLog(logger: Logger(label: "pgwarden.tests") { _ in SwiftLogNoOpLogHandler() }, capacity: capacity)
    }

    static func record(_ rule: String = "r1", _ action: KillAction = .terminate, _ result: ActionResult = .success,
                       time: Double = 1_700_000_000, pid: Int32 = 1) -> ActionRecord {
        ActionRecord(time: time, rule: rule, alertname: "A", fingerprint: "fp", session: SessionRow(pid: pid),
                     action: action, result: result, dryRun: result == .dryRun)
    }

    @Test func actionCountersPerRuleActionResult() throws {
        let log = Self.log()
        log.record([Self.record("r1", .terminate, .success), Self.record("r1", .terminate, .success),
                    Self.record("r1", .terminate, .protected), Self.record("r2", .cancel, .dryRun)])
        log.record([Self.record("r1", .cancel, .capped), Self.record("r1", .terminate, .success)])
        let families = log.families()
        let actions = try #require(family(families, "pgwarden_actions_total"))
        #expect(actions.type == .counter)
        #expect(value(actions, ["rule": "r1", "action": "terminate", "result": "success"]) == 3)
        #expect(value(actions, ["rule": "r1", "action": "terminate", "result": "protected"]) == 1)
        #expect(value(actions, ["rule": "r1", "action": "cancel", "result": "capped"]) == 1)
        #expect(value(actions, ["rule": "r2", "action": "cancel", "result": "dry_run"]) == 1)
        #expect(actions.samples.count == 4)
        #expect(actions.samples.allSatisfy { labelNames($0) == ["rule", "action", "result"] })
        #expect(value(actions, ["rule": "r2", "action": "terminate", "result": "success"]) == nil)
    }

    @Test func alertOutcomesAreCountedByTheirLabelValue() throws {
        let log = Self.log()
        log.countAlert(.nothingMatched)
        log.countAlert(.nothingMatched)
        log.countAlert(.acted)
        let alerts = try #require(log.families().first { $0.name == "pgwarden_webhook_alerts_total" })
        #expect(value(alerts, ["outcome": "nothing matched"]) == 2)
        #expect(value(alerts, ["outcome": "acted"]) == 1)
        #expect(alerts.samples.count == 2)
        #expect(alerts.help.contains("not addressable"))
    }

    @Test func emptyLogHasFamiliesWithoutSamples() {
        let families = Self.log().families()
        #expect(families.map(\.name) == ["pgwarden_actions_total", "pgwarden_webhook_requests_total",
                                         "pgwarden_webhook_alerts_total", "pgwarden_last_action_timestamp_seconds",
                                         "pgwarden_escalations_pending"])
        #expect(families.allSatisfy { $0.samples.isEmpty })
    }

    @Test func webhookRequestsByCode() throws {
        let log = Self.log()
        for status in [200, 200, 401, 400, 200, 503] { log.countWebhookRequest(status: status) }
        let requests = try #require(family(log.families(), "pgwarden_webhook_requests_total"))
        #expect(requests.type == .counter)
        #expect(value(requests, ["code": "200"]) == 3)
        #expect(value(requests, ["code": "401"]) == 1)
        #expect(value(requests, ["code": "400"]) == 1)
        #expect(value(requests, ["code": "503"]) == 1)
        #expect(requests.samples.count == 4)
    }

    @Test func lastActionOnlyForSuccess() throws {
        let log = Self.log()
        log.record([Self.record("r1", .terminate, .success, time: 1000.5),
                    Self.record("r1", .terminate, .gone, time: 2000),
                    Self.record("r1", .cancel, .error, time: 2500),
                    Self.record("r2", .cancel, .dryRun, time: 3000),
                    Self.record("r3", .cancel, .protected, time: 3000),
                    Self.record("r4", .cancel, .capped, time: 3000)])
        log.record([Self.record("r5", .cancel, .success, time: 4000)])
        let last = try #require(family(log.families(), "pgwarden_last_action_timestamp_seconds"))
        #expect(last.type == .gauge)
        #expect(value(last, ["rule": "r1"]) == 1000.5)
        #expect(value(last, ["rule": "r5"]) == 4000)
        #expect(last.samples.count == 2)
        log.record([Self.record("r1", .cancel, .success, time: 5000)])
        #expect(value(family(log.families(), "pgwarden_last_action_timestamp_seconds"), ["rule": "r1"]) == 5000)
    }

    @Test func recentIsBoundedByCapacityNewestLast() {
        let log = Self.log(capacity: 3)
        log.record((1...4).map { Self.record(pid: Int32($0)) })
        log.record([Self.record(pid: 5)])
        #expect(log.recent(limit: 100).map(\.session.pid) == [3, 4, 5])
        #expect(log.recent(limit: 2).map(\.session.pid) == [4, 5])
        #expect(log.recent(limit: 0).isEmpty)
        #expect(log.recent(limit: -1).isEmpty)
        // Counters keep counting past the capacity.
        #expect(value(family(log.families(), "pgwarden_actions_total"),
                      ["rule": "r1", "action": "terminate", "result": "success"]) == 5)
    }

    @Test func recentWithRoom() {
        let log = Self.log()
        #expect(log.recent(limit: 10).isEmpty)
        let records = [Self.record(pid: 1), Self.record("r2", .cancel, .gone, pid: 2)]
        log.record(records)
        #expect(log.recent(limit: 10) == records)
    }

    // MARK: - JSON

    static func parse(_ json: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func aSkippedRecordNamesItsGuard() throws {
        let record = ActionRecord(time: 1_700_000_000, rule: "r", alertname: "A", fingerprint: "f", session: SessionRow(pid: 1),
                                  action: .terminate, result: .capped, dryRun: false, refusedBy: .perMinuteCap)
        #expect(try Self.parse(record.json)["guard"] as? String == "max_sessions_per_minute")
    }

    @Test func recordJSONHasTheFields() throws {
        let session = SessionRow(pid: 4242, datname: "shop", usename: "o'brien \"the\" \\admin",
                                 applicationName: "web\nworker\t1", clientAddr: "10.1.2.3", state: "idle in transaction",
                                 stateAge: 12.3456)
        let record = ActionRecord(time: 1_700_000_000.25, rule: "kill-idle", alertname: "IdleTx", fingerprint: "abc123",
                                  session: session, action: .cancelThenTerminate, result: .success, dryRun: false)
        let object = try Self.parse(record.json)
        #expect(Set(object.keys) == ["time", "rule", "alertname", "fingerprint", "pid", "datname", "usename",
                                     "application_name", "client_addr", "state", "state_age_seconds", "action",
                                     "result", "dry_run"])
        #expect(object["time"] as? String == "2023-11-14T22:13:20.250Z")
        #expect(object["rule"] as? String == "kill-idle")
        #expect(object["alertname"] as? String == "IdleTx")
        #expect(object["fingerprint"] as? String == "abc123")
        #expect((object["pid"] as? NSNumber)?.intValue == 4242)
        #expect(object["datname"] as? String == "shop")
        #expect(object["usename"] as? String == "o'brien \"the\" \\admin")
        #expect(object["application_name"] as? String == "web\nworker\t1")
        #expect(object["client_addr"] as? String == "10.1.2.3")
        #expect(object["state"] as? String == "idle in transaction")
        #expect((object["state_age_seconds"] as? NSNumber)?.doubleValue == 12.346)
        #expect(object["action"] as? String == "cancel_then_terminate")
        #expect(object["result"] as? String == "success")
        #expect((object["dry_run"] as? NSNumber)?.boolValue == false)
        #expect(!record.json.contains("\n"))
    }

    @Test func dryRunRecordJSON() throws {
        let record = ActionRecord(time: 0, rule: "r", alertname: "", fingerprint: "", session: SessionRow(pid: 1, stateAge: 60),
                                  action: .cancel, result: .dryRun, dryRun: true)
        let object = try Self.parse(record.json)
        #expect(object["time"] as? String == "1970-01-01T00:00:00.000Z")
        #expect((object["dry_run"] as? NSNumber)?.boolValue == true)
        #expect(record.json.contains(#""dry_run":true"#))
        #expect((object["state_age_seconds"] as? NSNumber)?.doubleValue == 60)
        #expect(object["fingerprint"] as? String == "")
    }

    /// The /actions body is the records joined into one JSON array; every record must parse there too.
    @Test func recordsJoinIntoValidJSON() throws {
        let records = [Self.record(pid: 1), Self.record("r\u{1}x", .cancel, .gone, pid: 2)]
        let body = "{\"actions\":[" + records.map(\.json).joined(separator: ",") + "]}"
        let object = try Self.parse(body)
        let actions = try #require(object["actions"] as? [[String: Any]])
        #expect(actions.count == 2)
        #expect(actions[1]["rule"] as? String == "r\u{1}x")
    }
}
