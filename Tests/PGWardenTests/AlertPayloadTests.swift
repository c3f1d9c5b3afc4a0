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
        #expect(message == "alerts[0].labels has the wrong type; expected an object of strings")
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

    @Test(arguments: [
        ("", "the body is empty; send an Alertmanager webhook notification (JSON)"),
        ("not json", "the body is not valid JSON: unexpected 'o' at byte 1; expected 'null'"),
        ("{", "the body is not valid JSON: unexpected end at byte 1; expected a string key"),
        (#"{"version":"4""#, "the body is not valid JSON: unexpected end at byte 14; expected ',' or '}'"),
        ("\u{FF}\u{FE}", "the body is not valid JSON: unexpected 'ÿ' at byte 0; expected a value"),
    ])
    func notJSON(body: String, expected: String) {
        #expect(Self.error(body) == expected)
    }

    @Test func invalidUTF8() {
        do {
            _ = try AlertNotification.decode([0x7B, 0xFF, 0xFE, 0x7D])
            Issue.record("invalid UTF-8 decoded")
        } catch {
            #expect(error.description.hasPrefix("the body"))
            #expect(error.description == "the body is not UTF-8 text (at byte 1); send the notification as UTF-8 JSON")
        }
        #expect(Self.error("{\"version\":\"4\u{0}\"}") == "the body is not UTF-8 text (at byte 13); send the notification as UTF-8 JSON")
    }

    @Test(arguments: ["[]", "\"text\"", "42", "null"])
    func topLevelNotAnObject(body: String) {
        let message = Self.error(body)
        #expect(message?.hasPrefix("the body") == true, "\(message ?? "decoded")")
        #expect(message?.hasSuffix("expected an object") == true, "\(message ?? "decoded")")
    }

    // MARK: - Read by JSONReader: strict JSON, exact integers, no repeated keys

    @Test(arguments: [
        (#"{"version":null,"status":"firing","alerts":[]}"#, "version is null; expected a string"),
        (#"{"version":"4","status":"firing","alerts":[null]}"#, "alerts[0] is null; expected an object"),
        (#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":null}]}"#,
         "alerts[0].labels is null; expected an object of strings"),
        (#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","pid":null}}]}"#,
         "alerts[0].labels.pid is null; expected a string"),
        (#"{"version":"4","status":"firing","alerts":[],"groupLabels":["a"]}"#, "groupLabels has the wrong type; expected an object of strings"),
        (#"{"version":"4","status":"firing","alerts":[],"commonAnnotations":{"summary":{}}}"#,
         "commonAnnotations.summary has the wrong type; expected a string"),
    ])
    func nullAndWrongTypeMessages(body: String, expected: String) {
        #expect(Self.error(body) == expected)
    }

    @Test func optionalFieldsMayBeNull() throws {
        let alert = #"{"status":"firing","labels":{"alertname":"A"},"annotations":null,"startsAt":null,"endsAt":null,"generatorURL":null,"fingerprint":null}"#
        let body = #"{"version":"4","status":"firing","receiver":null,"groupKey":null,"truncatedAlerts":null,"groupLabels":null,"#
            + #""commonLabels":null,"commonAnnotations":null,"externalURL":null,"alerts":["# + alert + "]}"
        let n = try Self.decode(body)
        #expect(n.receiver == nil && n.groupKey == nil && n.truncatedAlerts == nil && n.groupLabels == nil)
        #expect(n.commonLabels == nil && n.commonAnnotations == nil && n.externalURL == nil)
        let a = try #require(n.alerts.first)
        #expect(a.annotations == nil && a.startsAt == nil && a.endsAt == nil && a.generatorURL == nil && a.fingerprint == nil)
    }

    @Test func stringsAreUnescaped() throws {
        let labels = #"{"alertname":"A\"B\\C\/\u00e9\ud83d\udc18\n","datname":"データ"}"#
        let n = try Self.decode(Self.notification(alerts: "[" + Self.alertJSON(labels) + "]"))
        #expect(n.alerts[0].labels["alertname"] == "A\"B\\C/é🐘\n")
        #expect(n.alerts[0].labels["datname"] == "データ")
    }

    /// truncatedAlerts: any JSON spelling of a whole number; the value is checked exactly.
    @Test(arguments: [("0", 0), ("7", 7), ("1.0", 1), ("1e2", 100), ("1E+2", 100), ("100e-2", 1), ("-0", 0), ("-3", -3),
                      ("9223372036854775807", Int.max)])
    func truncatedAlertsWholeNumbers(literal: String, expected: Int) throws {
        let body = #"{"version":"4","status":"firing","alerts":[],"truncatedAlerts":\#(literal)}"#
        #expect(try Self.decode(body).truncatedAlerts == expected)
    }

    @Test(arguments: [
        ("1.5", "truncatedAlerts is 1.5; expected a whole number (a 64-bit integer)"),
        ("1e-400", "truncatedAlerts is 1e-400; expected a whole number (a 64-bit integer)"),
        ("1.0000000000000000001", "truncatedAlerts is 1.0000000000000000001; expected a whole number (a 64-bit integer)"),
        ("9223372036854775808", "truncatedAlerts is 9223372036854775808; expected a whole number (a 64-bit integer)"),
        ("1" + String(repeating: "0", count: 60),
         "truncatedAlerts is 1" + String(repeating: "0", count: 39) + "…; expected a whole number (a 64-bit integer)"),
    ])
    func truncatedAlertsNotAWholeNumber(literal: String, expected: String) {
        let body = #"{"version":"4","status":"firing","alerts":[],"truncatedAlerts":\#(literal)}"#
        #expect(Self.error(body) == expected)
    }

    /// A kill tool must not guess which of two values counts: a repeated key is refused, also
    /// in fields pgwarden does not read.
    @Test(arguments: [
        (#"{"version":"4","status":"firing","alerts":[],"version":"4"}"#, "the body", "version", 45),
        (#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A","alertname":"B"}}]}"#,
         "alerts[0].labels", "alertname", 88),
        (#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"x":{"y":[{"k":1,"k":1}]}}]}"#,
         "alerts[0].x.y[0]", "k", 106),
    ])
    func repeatedKeysAreRefused(body: String, path: String, key: String, offset: Int) {
        #expect(Self.error(body) == "\(path) has the key \"\(key)\" twice (again at byte \(offset)); "
            + "a notification must not repeat a key, pgwarden does not guess which one counts")
    }

    /// Unknown fields are ignored but must be JSON (JSONDecoder let bad strings and numbers in
    /// fields it skipped through, and tolerated trailing commas).
    @Test(arguments: [
        (#","x":"\'"}"#, #"the body is not valid JSON: invalid escape at byte 50: '\' followed by ''' (JSON knows \" \\ \/ \b \f \n \r \t \uXXXX)"#),
        (#","x":"\udc00"}"#, #"the body is not valid JSON: unpaired surrogate \uDC00 at byte 50 (a low surrogate without a high one before it)"#),
        (#","x":01}"#, "the body is not valid JSON: a number with a leading zero at byte 49"),
        (#","x":1.5.2}"#, "the body is not valid JSON: unexpected '.' at byte 52; expected ',' or '}'"),
        (",}", "the body is not valid JSON: a comma before '}' at byte 45 (JSON allows no trailing comma)"),
        (#","x":[1,]}"#, "the body is not valid JSON: a comma before ']' at byte 52 (JSON allows no trailing comma)"),
    ])
    func unknownFieldsMustBeJSON(ending: String, expected: String) {
        #expect(Self.error(Self.notification(alerts: "[]").dropLast() + ending) == expected)
    }

    @Test func nestingDeeperThan64IsRefused() throws {
        let deep = { (depth: Int) in
            Self.notification(alerts: "[]").dropLast() + #","x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        }
        #expect(try Self.decode(deep(63)).alerts.isEmpty)
        #expect(Self.error(deep(64)) == "the body is not valid JSON: more than 64 nested arrays and objects at byte 112")
    }

    /// A UTF-8 byte order mark before the notification is ignored (RFC 8259 §8.1 allows it, and
    /// JSONDecoder did so).
    @Test func byteOrderMarkIsIgnored() throws {
        let body = [0xEF, 0xBB, 0xBF] + Array(Self.notification(alerts: "[" + Self.alertJSON() + "]").utf8)
        #expect(try AlertNotification.decode(body).alerts.count == 1)
    }

    /// A NUL in a label name or value (as the escape \u0000; a raw NUL byte is refused as not
    /// UTF-8 text) is refused with the label's path: it would end the text early in libpq.
    @Test(arguments: [
        (#"{"alertname":"A","datname":"shop\u0000x"}"#, #"alerts[1].labels.datname contains a NUL character (\u0000)"#),
        (#"{"alertname":"A","usename":"\u0000"}"#, #"alerts[1].labels.usename contains a NUL character (\u0000)"#),
        (#"{"alertname":"A\u0000"}"#, #"alerts[1].labels.alertname contains a NUL character (\u0000)"#),
        (#"{"alertname":"A","dat\u0000name":"shop"}"#, #"alerts[1].labels has the label name "dat\u0000name", which contains a NUL character"#),
        (#"{"alertname":"A","\u0000":""}"#, #"alerts[1].labels has the label name "\u0000", which contains a NUL character"#),
        (#"{"alertname":"A","b":"\u0000","a":"\u0000"}"#, #"alerts[1].labels.a contains a NUL character"#),
    ])
    func nulInALabelIsRefused(labels: String, message: String) {
        let alerts = "[" + Self.alertJSON() + "," + Self.alertJSON(labels) + "]"
        let error = Self.error(Self.notification(alerts: alerts))
        #expect(error?.hasPrefix(message) == true, "\(error ?? "decoded")")
    }

    /// NUL elsewhere (annotations, the fingerprint) and other control or separator characters
    /// in labels are text like any other: they select nothing they do not spell.
    @Test func otherCharactersInLabelsAreKept() throws {
        let alerts = "[" + Self.alertJSON(#"{"alertname":"A","datname":"shop\u2028x","usename":"a\u0001"}"#) + ","
            + #"{"status":"firing","labels":{"alertname":"B"},"annotations":{"s":"\u0000"},"fingerprint":"f\u0000"}"# + "]"
        let n = try Self.decode(Self.notification(alerts: alerts))
        #expect(n.alerts[0].labels["datname"] == "shop\u{2028}x")
        #expect(n.alerts[0].labels["usename"] == "a\u{1}")
        #expect(n.alerts[1].fingerprint == "f\u{0}")
    }
}
