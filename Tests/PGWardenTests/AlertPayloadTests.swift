import Foundation
import Testing
@testable import PGWarden

/// AlertNotification.decode: Alertmanager webhook version 4 in, a message naming the problem out.
@Suite("AlertNotification.decode")
struct AlertPayloadTests {
    /// A notification as Alertmanager 0.27 sends it, plus fields this version does not know.
    static let full = #"""
    {
      "receiver": "pgwarden",
      "status": "firing",
      "alerts": [
        {
          "status": "firing",
          "labels": {
            "alertname": "PostgresIdleInTransactionTooLong",
            "datname": "shop",
            "usename": "app",
            "application_name": "web",
            "pid": "4242",
            "backend_start": "1714557600.123456",
            "instance": "db1:9793",
            "severity": "page"
          },
          "annotations": {"summary": "pid 4242 idle in transaction for 10m", "runbook_url": "https://runbooks/x"},
          "startsAt": "2024-05-01T10:10:00.000Z",
          "endsAt": "0001-01-01T00:00:00Z",
          "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
          "fingerprint": "c6d9b3e1a7f04a2b",
          "silencedBy": [],
          "someFutureField": {"nested": [1, 2.5, null, true]}
        },
        {
          "status": "resolved",
          "labels": {"alertname": "PostgresTooManyConnections", "datname": "shop"},
          "annotations": {},
          "startsAt": "2024-05-01T09:00:00Z",
          "endsAt": "2024-05-01T09:30:00Z",
          "generatorURL": "",
          "fingerprint": "0011223344556677"
        }
      ],
      "groupLabels": {"alertname": "PostgresIdleInTransactionTooLong"},
      "commonLabels": {"instance": "db1:9793"},
      "commonAnnotations": {},
      "externalURL": "http://alertmanager:9093",
      "version": "4",
      "groupKey": "{}:{alertname=\"PostgresIdleInTransactionTooLong\"}",
      "truncatedAlerts": 0,
      "unknownTopLevel": "ignored"
    }
    """#

    static func decode(_ text: String) throws(PayloadError) -> AlertNotification {
        try AlertNotification.decode(Array(text.utf8))
    }

    /// The error message for `text`; nil when it decodes.
    static func error(_ text: String) -> String? {
        do {
            _ = try decode(text)
            return nil
        } catch {
            return error.description
        }
    }

    static func alertJSON(_ labels: String = #"{"alertname":"A"}"#, status: String = #""firing""#) -> String {
        #"{"status":\#(status),"labels":\#(labels)}"#
    }

    static func notification(alerts: String, version: String = #""4""#, status: String = #""firing""#) -> String {
        #"{"version":\#(version),"status":\#(status),"alerts":\#(alerts)}"#
    }

    @Test func fullPayloadDecodes() throws {
        let n = try Self.decode(Self.full)
        #expect(n.version == "4")
        #expect(n.status == "firing")
        #expect(n.receiver == "pgwarden")
        #expect(n.groupKey == #"{}:{alertname="PostgresIdleInTransactionTooLong"}"#)
        #expect(n.truncatedAlerts == 0)
        #expect(n.groupLabels == ["alertname": "PostgresIdleInTransactionTooLong"])
        #expect(n.commonLabels == ["instance": "db1:9793"])
        #expect(n.commonAnnotations == [:])
        #expect(n.externalURL == "http://alertmanager:9093")
        try #require(n.alerts.count == 2)
        let a = n.alerts[0]
        #expect(a.status == "firing")
        #expect(a.labels["alertname"] == "PostgresIdleInTransactionTooLong")
        #expect(a.labels["pid"] == "4242" && a.labels["backend_start"] == "1714557600.123456")
        #expect(a.labels.count == 8)
        #expect(a.annotations?["summary"] == "pid 4242 idle in transaction for 10m")
        #expect(a.startsAt == "2024-05-01T10:10:00.000Z")
        #expect(a.endsAt == "0001-01-01T00:00:00Z")
        #expect(a.generatorURL == "http://prometheus:9090/graph?g0.expr=x")
        #expect(a.fingerprint == "c6d9b3e1a7f04a2b")
        #expect(n.alerts[1].status == "resolved")
        #expect(n.alerts[1].fingerprint == "0011223344556677")
    }

    @Test func minimalPayloadDecodes() throws {
        let n = try Self.decode(Self.notification(alerts: "[" + Self.alertJSON() + "]", status: #""resolved""#))
        #expect(n.status == "resolved")
        #expect(n.receiver == nil && n.groupKey == nil && n.truncatedAlerts == nil)
        #expect(n.alerts.count == 1)
        #expect(n.alerts[0].annotations == nil && n.alerts[0].fingerprint == nil)
    }

    @Test func emptyAlertListDecodes() throws {
        #expect(try Self.decode(Self.notification(alerts: "[]")).alerts.isEmpty)
    }

    @Test(arguments: [#""3""#, #""""#, #""4.0""#, #""v4""#])
    func wrongVersion(version: String) {
        let message = Self.error(Self.notification(alerts: "[]", version: version))
        #expect(message?.hasPrefix("version is \(version)") == true, "\(message ?? "decoded")")
        #expect(message?.contains(#""4""#) == true)
    }

    @Test func numericVersionIsTheWrongType() {
        let message = Self.error(Self.notification(alerts: "[]", version: "4"))
        #expect(message == "version has the wrong type; expected a string")
    }

    @Test(arguments: [#""pending""#, #""FIRING""#, #""""#])
    func wrongStatus(status: String) {
        let message = Self.error(Self.notification(alerts: "[]", status: status))
        #expect(message?.hasPrefix("status is \(status)") == true, "\(message ?? "decoded")")
    }

    @Test func wrongAlertStatusNamesTheAlert() {
        let alerts = "[" + Self.alertJSON() + "," + Self.alertJSON(status: #""pending""#) + "]"
        let message = Self.error(Self.notification(alerts: alerts))
        #expect(message?.hasPrefix(#"alerts[1].status is "pending""#) == true, "\(message ?? "decoded")")
    }

    @Test(arguments: [
        (#"{"status":"firing","alerts":[]}"#, "version is missing"),
        (#"{"version":"4","alerts":[]}"#, "status is missing"),
        (#"{"version":"4","status":"firing"}"#, "alerts is missing"),
        (#"{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"A"}}]}"#, "alerts[0].status is missing"),
        (#"{"version":"4","status":"firing","alerts":[{"status":"firing"}]}"#, "alerts[0].labels is missing"),
    ])
    func missingFields(body: String, expected: String) {
        #expect(Self.error(body) == expected)
    }

    @Test func nullAlerts() {
        let message = Self.error(Self.notification(alerts: "null"))
        #expect(message?.hasPrefix("alerts is null") == true, "\(message ?? "decoded")")
    }

    @Test(arguments: [#"{"alertname":"A"}"#, #""A""#, "3"])
    func alertsNotAnArray(alerts: String) {
        let message = Self.error(Self.notification(alerts: alerts))
        #expect(message == "alerts has the wrong type; expected an array")
    }

    @Test(arguments: [#"{"severity":"page"}"#, #"{"alertname":""}"#, "{}"])
    func alertnameMissing(labels: String) {
        let alerts = "[" + Self.alertJSON() + "," + Self.alertJSON(labels) + "]"
        #expect(Self.error(Self.notification(alerts: alerts)) == "alerts[1].labels has no alertname")
    }

    @Test func labelValueOfTheWrongType() {
        let message = Self.error(Self.notification(alerts: "[" + Self.alertJSON(#"{"alertname":"A","pid":4242}"#) + "]"))
        #expect(message?.hasPrefix("alerts[0].labels") == true, "\(message ?? "decoded")")
        #expect(message == "alerts[0].labels.pid has the wrong type; expected a string")
        #expect(message?.contains("wrong type; expected a string") == true, "\(message ?? "decoded")")
    }

    @Test func labelsOfTheWrongType() {
        let message = Self.error(Self.notification(alerts: "[" + Self.alertJSON(#""alertname=A""#) + "]"))
        #expect(message?.hasPrefix("alerts[0].labels has the wrong type; expected ") == true, "\(message ?? "decoded")")
        #expect(message?.hasSuffix("an array") == false, "labels is a JSON object, not an array")
    }

    @Test func alertOfTheWrongType() {
        let message = Self.error(Self.notification(alerts: #"[{"status":"firing","labels":{"alertname":"A"}}, "x"]"#))
        #expect(message?.hasPrefix("alerts[1] has the wrong type; expected ") == true, "\(message ?? "decoded")")
        #expect(message == "alerts[1] has the wrong type; expected an object")
    }

    @Test func fingerprintOfTheWrongType() {
        let alert = #"{"status":"firing","labels":{"alertname":"A"},"fingerprint":12}"#
        #expect(Self.error(Self.notification(alerts: "[" + alert + "]"))
            == "alerts[0].fingerprint has the wrong type; expected a string")
    }

    @Test func truncatedAlertsOfTheWrongType() {
        let body = #"{"version":"4","status":"firing","alerts":[],"truncatedAlerts":"many"}"#
        #expect(Self.error(body) == "truncatedAlerts has the wrong type; expected a number")
    }

    @Test func tooManyAlerts() throws {
        let one = Self.alertJSON()
        let atLimit = Self.notification(alerts: "[" + Array(repeating: one, count: 1000).joined(separator: ",") + "]")
        #expect(try Self.decode(atLimit).alerts.count == 1000)
        let over = Self.notification(alerts: "[" + Array(repeating: one, count: 1001).joined(separator: ",") + "]")
        let message = Self.error(over)
        #expect(message?.hasPrefix("1001 alerts in one notification; at most 1000") == true, "\(message ?? "decoded")")
    }

    @Test(arguments: ["", "not json", "{", #"{"version":"4""#, "\u{FF}\u{FE}"])
    func notJSON(body: String) {
        let message = Self.error(body)
        #expect(message != nil)
        #expect(message?.hasPrefix("the body") == true, "\(message ?? "decoded")")
    }

    @Test func invalidUTF8() {
        do {
            _ = try AlertNotification.decode([0x7B, 0xFF, 0xFE, 0x7D])
            Issue.record("invalid UTF-8 decoded")
        } catch {
            #expect(error.description.hasPrefix("the body"))
        }
    }

    @Test(arguments: ["[]", "\"text\"", "42", "null"])
    func topLevelNotAnObject(body: String) {
        let message = Self.error(body)
        #expect(message?.hasPrefix("the body") == true, "\(message ?? "decoded")")
        #expect(message?.hasSuffix("expected an object") == true, "\(message ?? "decoded")")
    }
}
