import Foundation
import PGWarden
import Testing

/// What a webhook request is addressed to: the running pgwarden's credentials, the names of the
/// canary's role and database (used in the alert labels), and the canary's pid and
/// backend_start in Unix seconds (for pid-addressed alerts).
struct WebhookTarget: Sendable {
    var token: String
    var role: String
    var database: String
    var pid: Int32
    var backendStart: String
}

/// One HTTP request to the webhook, framed by hand so any part of it can be wrong.
struct WebhookRequest: Sendable {
    var method = "POST"
    var path = "/webhook"
    var headers: [(String, String)]
    var body: [UInt8]
    /// Announced Content-Length; nil: the body's length (none at all for a body-less non-POST).
    var contentLength: Int?
    /// Send the body with Transfer-Encoding: chunked (in 64 KiB chunks) and no Content-Length.
    var chunked = false

    /// The request every case starts from: a valid, authenticated notification whose alert
    /// would terminate the canary.
    static func valid(_ t: WebhookTarget) -> WebhookRequest {
        WebhookRequest(headers: [("Authorization", "Bearer \(t.token)"), ("Content-Type", "application/json")],
                       body: Array(AlertmanagerJSON.notification(t).utf8))
    }

    /// Replaces (or, with nil, removes) a header, by case-insensitive name.
    mutating func set(_ name: String, _ value: String?) {
        headers.removeAll { $0.0.lowercased() == name.lowercased() }
        if let value { headers.append((name, value)) }
    }

    func bytes() -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            var out = Array(head.utf8)
            var offset = 0
            while offset < body.count {
                let piece = body[offset..<min(offset + 65536, body.count)]
                out += Array("\(String(piece.count, radix: 16))\r\n".utf8) + piece + Array("\r\n".utf8)
                offset += piece.count
            }
            return out + Array("0\r\n\r\n".utf8)
        }
        if let length = contentLength ?? (body.isEmpty && method != "POST" && method != "PUT" ? nil : body.count) {
            head += "Content-Length: \(length)\r\n"
        }
        return Array((head + "\r\n").utf8) + body
    }
}

/// Alertmanager webhook payloads (version 4) as JSON text, assembled from raw JSON fragments so
/// that any field can be replaced by something wrong or left out.
enum AlertmanagerJSON {
    /// A JSON string literal.
    static func q(_ text: String) -> String { JSONText.quote(text) }

    /// `{defaults}` with overrides applied in place: a fragment replaces, nil removes, a new key is appended.
    static func object(_ defaults: [(String, String)], _ overrides: KeyValuePairs<String, String?>) -> String {
        var fields = defaults
        for (key, value) in overrides {
            if let index = fields.firstIndex(where: { $0.0 == key }) {
                if let value { fields[index].1 = value } else { fields.remove(at: index) }
            } else if let value {
                fields.append((key, value))
            }
        }
        return "{" + fields.map { "\(q($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The labels of an alert addressed to the canary's role and database.
    static func labels(_ t: WebhookTarget, alertname: String = "CanaryAlert", _ overrides: KeyValuePairs<String, String?> = [:]) -> String {
        object([("alertname", q(alertname)), ("datname", q(t.database)), ("usename", q(t.role)),
                ("severity", q("critical")), ("pgwarden", q("remediate"))], overrides)
    }

    /// One alert as Alertmanager sends it (firing CanaryAlert unless overridden).
    static func alert(_ t: WebhookTarget, _ overrides: KeyValuePairs<String, String?> = [:]) -> String {
        object([("status", q("firing")), ("labels", labels(t)),
                ("annotations", #"{"summary":"the canary sits idle in a transaction"}"#),
                ("startsAt", q("2026-01-01T00:00:00.000Z")), ("endsAt", q("0001-01-01T00:00:00Z")),
                ("generatorURL", q("http://prometheus:9090/graph?g0.expr=up")), ("fingerprint", q("c0ffee0123456789"))],
               overrides)
    }

    /// A whole notification (version "4", firing, one CanaryAlert unless overridden).
    static func notification(_ t: WebhookTarget, _ overrides: KeyValuePairs<String, String?> = [:]) -> String {
        object([("receiver", q("pgwarden")), ("status", q("firing")), ("alerts", "[" + alert(t) + "]"),
                ("groupLabels", #"{"alertname":"CanaryAlert"}"#), ("commonLabels", labels(t)),
                ("commonAnnotations", "{}"), ("externalURL", q("http://alertmanager:9093")),
                ("version", q("4")), ("groupKey", q("{}:{alertname=\"CanaryAlert\"}")), ("truncatedAlerts", "0")],
               overrides)
    }

    /// A valid notification whose one alert (SomethingElse) no rule of the test policy matches.
    static func notMatching(_ t: WebhookTarget) -> String {
        notification(t, ["alerts": "[" + alert(t, ["labels": labels(t, alertname: "SomethingElse")]) + "]"])
    }
}

/// A database, a login role, a canary session of that role idle in a transaction, a policy whose
/// one rule would terminate it on a firing CanaryAlert, a token file, and pgwarden serving the
/// webhook with them. Objects are created through `fx` (its cleanUp drops them); call `stop()`.
final class WebhookFixture: @unchecked Sendable {
    // @unchecked: used from one test's thread only.
    let fx: AdminFixture
    let database: String
    let role: String
    let canary: TestSession
    let canaryTransactionStart: String
    let target: WebhookTarget
    /// pgwarden with the canary policy and a bearer token.
    let hook: HookFixture

    /// `dsn`: the database pgwarden talks to (default: the test server as the superuser).
    init(_ fx: AdminFixture, dsn: String? = nil, extraArguments: [String] = []) throws {
        self.fx = fx
        database = try fx.createDatabase("pgw_wh")
        role = try fx.createRole("pgw_wh")
        canary = try fx.connect(role: role, database: database)
        try canary.run("BEGIN; SELECT 1")
        let admin = fx
        let pid = canary.pid
        try eventually("the canary is idle in transaction") { try admin.state(of: pid) == "idle in transaction" }
        let row = try fx.admin.run("SELECT xact_start::text, EXTRACT(EPOCH FROM backend_start)::text FROM pg_stat_activity WHERE pid = $1",
                                   [String(pid)]).first
        canaryTransactionStart = row?[0] ?? ""
        let backendStart = row?[1] ?? ""
        hook = try HookFixture(fx, policy: """
            protected_roles: [postgres]
            rules:
              - name: canary-terminate
                match:
                  alertname: CanaryAlert
                action: terminate
                states: ["idle in transaction"]
                roles: [\(AlertmanagerJSON.q(role))]
                databases: [\(AlertmanagerJSON.q(database))]

            """, dsn: dsn, extraArguments: extraArguments)
        target = WebhookTarget(token: hook.token, role: role, database: database, pid: pid, backendStart: backendStart)
    }

    /// The pgwarden process serving the webhook, and its policy and token files.
    var pgw: PGWardenProcess { hook.pgw }
    var policyPath: String { hook.policyPath }
    var tokenPath: String { hook.tokenPath }

    /// Stops pgwarden and removes the token and policy files (its log stays, like every test's).
    func stop() {
        pgw.stop()
        try? FileManager.default.removeItem(atPath: tokenPath)
        try? FileManager.default.removeItem(atPath: policyPath)
    }

    func send(_ request: WebhookRequest) throws -> RawResponse {
        try HTTP.raw(port: pgw.port, request.bytes())
    }

    /// Like `send`, but a connection closed without a response is status 0 with the error as body.
    func exchange(_ request: WebhookRequest) -> RawResponse {
        do { return try send(request) } catch {
            return RawResponse(status: 0, headers: [:], body: "no response: \(error)")
        }
    }

    /// Records an issue unless the canary is still there, idle in the very transaction it opened.
    func expectCanaryUntouched(_ context: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let row = try fx.admin.run("SELECT state, xact_start::text FROM pg_stat_activity WHERE pid = $1", [String(canary.pid)]).first
        #expect(row?[0] == "idle in transaction", "canary state after \(context)", sourceLocation: sourceLocation)
        #expect(row?[1] == canaryTransactionStart, "canary transaction after \(context)", sourceLocation: sourceLocation)
    }
}
