import Foundation
import Logging
import Synchronization
import Testing
@testable import PGWarden

/// WebhookHandler on the paths that need no database: repeated alerts, alerts about another
/// target, revoked credentials and credentials compared as bytes. Its database does not exist,
/// so an alert that wrongly reached the kill path would answer 503, not 200.
@Suite("WebhookHandler without a database")
struct WebhookHandlerTests {
    /// A rule for X; Y, Z and W match none.
    static let policy = """
        rules:
          - name: x
            match: {alertname: X}
            action: terminate
            states: ["idle in transaction"]
        """

    /// Secret re-reads under a test's control: a token, or an error.
    final class Secrets: Sendable {
        let current = Mutex<String?>("t1")
        func load() throws -> WebhookAuth {
            guard let token = current.withLock({ $0 }) else { throw ConfigError("--webhook.token-file /x: the file is empty; put the secret in it") }
            return WebhookAuth(bearerToken: token)
        }
    }

    static func handler(target: TargetIdentity? = nil, secrets: Secrets? = nil,
                        auth: WebhookAuth = WebhookAuth(bearerToken: "t1")) throws -> WebhookHandler {
        let scratch = try SecretFileTests.Scratch()
        let path = try scratch.file("policy.yml", Array(policy.utf8))
        let logger = Logger(label: "test")
        let database = Database(settings: ConnectionSettings(dsn: "host=/nonexistent/pgwarden-test dbname=x",
                                                             connectTimeout: .milliseconds(100)))
        let runner = ActionRunner(killer: Killer(database: database), log: ActionLog(logger: logger), logger: logger)
        var load: (@Sendable () throws -> WebhookAuth)?
        if let secrets { load = { try secrets.load() } }
        return WebhookHandler(policies: try PolicyStore(path: path), runner: runner, auth: auth,
                              loadCredentials: load, logger: logger, target: target)
    }

    /// One alert: `{"status":…,"labels":{…},"fingerprint":…}` (no fingerprint when nil).
    static func alert(_ labels: [String: String], fingerprint: String? = nil, status: String = "firing") -> String {
        let pairs = labels.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote($0.value))" }
        return "{\"status\":\"\(status)\",\"labels\":{" + pairs.joined(separator: ",") + "}"
            + (fingerprint.map { ",\"fingerprint\":\(JSONText.quote($0))" } ?? "") + "}"
    }

    static func request(_ alerts: [String], authorization: [UInt8] = Array("Bearer t1".utf8)) -> HTTPRequest {
        let body = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[" + alerts.joined(separator: ",") + "]}"
        return HTTPRequest(method: "POST", path: "/webhook", headers: ["content-type": "application/json"],
                           headerBytes: ["content-type": Array("application/json".utf8), "authorization": authorization],
                           body: Array(body.utf8))
    }

    /// The outcome and reason of every alert of a 200 response.
    static func outcomes(_ response: HTTPResponse) -> [(outcome: String, reason: String?)] {
        let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (json?["alerts"] as? [[String: Any]] ?? []).map { ($0["outcome"] as? String ?? "?", $0["reason"] as? String) }
    }

    static func alertsCounted(_ handler: WebhookHandler, _ outcome: String) -> Double? {
        handler.log.families().first { $0.name == "pgwarden_webhook_alerts_total" }?
            .samples.first { $0.labels.contains { $0 == ("outcome", outcome) } }?.value
    }

    /// Copies, by fingerprint or by labels, are handled once; the copies get `duplicate`.
    @Test func repeatedAlertsAreHandledOnce() throws {
        let h = try Self.handler()
        let response = h.handleNotification(Self.request([
            Self.alert(["alertname": "Y", "datname": "a"], fingerprint: "f1"),
            Self.alert(["alertname": "Y", "datname": "a"], fingerprint: "f1"),      // same fingerprint and labels
            Self.alert(["alertname": "Y", "datname": "a"], fingerprint: "f2"),      // same labels, made-up fingerprint
            Self.alert(["alertname": "Z"], fingerprint: "f1"),                      // same fingerprint, other labels
            Self.alert(["alertname": "Y", "datname": "a"], fingerprint: ""),        // empty fingerprint: by labels
            Self.alert(["alertname": "Y", "datname": "a"], status: "resolved"),     // no fingerprint: by labels
            Self.alert(["alertname": "Y", "datname": "b"]),                         // another alert
            Self.alert(["alertname": "Y", "datname": "b"]),                         // its copy, no fingerprint
            Self.alert(["alertname": "Y", "datname": "a\u{301}"], fingerprint: "f3"), // labels differ as bytes only
        ]))
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        let outcomes = Self.outcomes(response)
        try #require(outcomes.count == 9)
        #expect(outcomes.map(\.outcome) == ["nothing matched", "duplicate", "duplicate", "duplicate", "duplicate", "duplicate",
                                            "nothing matched", "duplicate", "nothing matched"])
        #expect(outcomes[1].reason == "the same alert as alerts[0] of this notification (same fingerprint); an alert is handled once per notification")
        #expect(outcomes[2].reason?.contains("alerts[0] of this notification (same labels)") == true)
        #expect(outcomes[7].reason?.contains("alerts[6]") == true)
        #expect(Self.alertsCounted(h, "duplicate") == 6)
        #expect(Self.alertsCounted(h, "nothing matched") == 3)
    }

    /// The label set is the identity as bytes: canonically equivalent values are different alerts.
    @Test func seenAlertsCompareLabelsAsBytes() {
        var seen = SeenAlerts()
        let nfc = AlertNotification.Alert(status: "firing", labels: ["alertname": "X", "usename": "caf\u{E9}"])
        let nfd = AlertNotification.Alert(status: "firing", labels: ["alertname": "X", "usename": "cafe\u{301}"])
        #expect(seen.earlier(nfc, index: 0) == nil)
        #expect(seen.earlier(nfd, index: 1) == nil)
        #expect(seen.earlier(nfd, index: 2) == SeenAlerts.Earlier(index: 1, sameFingerprint: false))
    }

    /// With --target.name, a firing alert about another server, or about none, acts on nothing,
    /// even when a rule would answer it.
    @Test func alertsAboutAnotherTargetActOnNothing() throws {
        let h = try Self.handler(target: try TargetIdentity(name: "db1"))
        let response = h.handleNotification(Self.request([
            Self.alert(["alertname": "X", "instance": "db2"], fingerprint: "1"),
            Self.alert(["alertname": "X"], fingerprint: "2"),
            Self.alert(["alertname": "X", "instance": ""], fingerprint: "3"),
            Self.alert(["alertname": "X", "instance": "db1 "], fingerprint: "4"),
            Self.alert(["alertname": "X", "instance": "DB1"], fingerprint: "5"),
            Self.alert(["alertname": "X", "instance": "db3"], fingerprint: "6", status: "resolved"),
            Self.alert(["alertname": "Y", "instance": "db1"], fingerprint: "7"),
        ]))
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        let outcomes = Self.outcomes(response)
        try #require(outcomes.count == 7)
        #expect(outcomes.map(\.outcome) == ["other target", "other target", "other target", "other target", "other target",
                                            "resolved", "nothing matched"])
        #expect(outcomes[0].reason == #"its instance label is "db2"; this pgwarden acts only on alerts about "db1" (--target.name)"#)
        #expect(outcomes[1].reason?.hasPrefix("it has no instance label") == true)
        #expect(outcomes[2].reason?.hasPrefix("its instance label is empty") == true)
        #expect(Self.alertsCounted(h, "other target") == 5)
    }

    /// Names compare as bytes: the same name in another normalization form is another server.
    @Test func targetNameIsComparedAsBytes() throws {
        let target = try TargetIdentity(name: "caf\u{E9}:9187", label: "server")
        #expect(target.isAbout(["server": "caf\u{E9}:9187"]))
        #expect(!target.isAbout(["server": "cafe\u{301}:9187"]))
        #expect(!target.isAbout(["instance": "caf\u{E9}:9187"]))
    }

    /// A failed re-read revokes: 503 on the webhook and /actions, whatever the request carries,
    /// until a re-read succeeds; then only the new token works.
    @Test func failedSecretReReadRevokesTheCredentials() throws {
        let secrets = Secrets()
        let h = try Self.handler(secrets: secrets)
        let notification = [Self.alert(["alertname": "Y"])]
        #expect(h.handleNotification(Self.request(notification)).status == 200)
        secrets.current.withLock { $0 = nil }
        h.reload(logger: Logger(label: "test"))
        for token in ["t1", "t2", ""] {
            let response = h.handleNotification(Self.request(notification, authorization: Array("Bearer \(token)".utf8)))
            #expect(response.status == 503)
            #expect(String(decoding: response.body, as: UTF8.self).contains("credentials are unavailable"))
        }
        let actions = h.recentActions(HTTPRequest(method: "GET", path: "/actions", headers: ["authorization": "Bearer t1"]))
        #expect(actions.status == 503)
        secrets.current.withLock { $0 = "t2" }
        h.reload(logger: Logger(label: "test"))
        #expect(h.handleNotification(Self.request(notification, authorization: Array("Bearer t2".utf8))).status == 200)
        #expect(h.handleNotification(Self.request(notification)).status == 401)
    }

    /// The handler compares the Authorization header's bytes, not its decoded text.
    @Test func authorizationIsComparedAsSent() throws {
        let h = try Self.handler(auth: WebhookAuth(bearerToken: "t\u{FFFD}"))
        let notification = [Self.alert(["alertname": "Y"])]
        #expect(h.handleNotification(Self.request(notification, authorization: Array("Bearer t".utf8) + [0xFF])).status == 401)
        #expect(h.handleNotification(Self.request(notification, authorization: Array("Bearer t\u{FFFD}".utf8))).status == 200)
    }
}
