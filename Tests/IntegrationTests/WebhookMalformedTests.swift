import Foundation
import PGWarden
import Testing

/// The Alertmanager payload builders (Support/WebhookSupport.swift).
private typealias J = AlertmanagerJSON

/// Malformed, unauthenticated, oversized or mistyped webhook requests each get the exact status
/// of the contract (200 processed, 400 malformed, 401 credentials, 405 not POST, 413 too large,
/// 415 not JSON, 503 database unreachable) and kill nothing. Every request is valid in every
/// respect but the one under test, and that valid remainder is a firing CanaryAlert that would
/// terminate the canary session, so a request that slipped through would show.
@Suite("Webhook: malformed requests")
struct WebhookMalformedTests {
    @Test(arguments: WebhookCase.all)
    func eachRequestGetsItsExactStatusAndKillsNothing(_ c: WebhookCase) throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let w = try WebhookFixture(fx)
        defer { w.stop() }

        let response = w.exchange(c.make(w.target))
        c.check(response)
        #expect(try HTTP.get(port: w.pgw.port, "/healthz").status == 200, "pgwarden still answers after: \(c.name)")
        #expect(w.pgw.process.isRunning)
        try w.expectCanaryUntouched(c.name)
        let m = try w.pgw.scrape()
        #expect(m.all("pgwarden_actions_total").isEmpty, "no action recorded: \(m.all("pgwarden_actions_total"))")
        expectWebhookRequestCount(m, code: c.status, 1)
        let total = m.all("pgwarden_webhook_requests_total").reduce(0) { $0 + $1.value }
        #expect(total <= 1, "one request counted at most: \(m.all("pgwarden_webhook_requests_total"))")

        // The control: the same server does terminate the canary on the valid notification, so
        // the request above killed nothing because it was refused, not because nothing could die.
        let control = try w.send(.valid(w.target))
        #expect(control.status == 200 && control.body.contains(#""outcome":"acted""#), "control: \(control.body)")
        try eventually("the control notification ends the canary") { try !fx.exists(w.canary.pid) }
    }

    /// The whole table against one server in turn: afterwards the canary is still idle in its
    /// transaction, no action was taken, and the request counter holds one per case and code.
    @Test func oneServerAnswersTheWholeTableInTurn() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let w = try WebhookFixture(fx)
        defer { w.stop() }

        for c in WebhookCase.all {
            c.check(w.exchange(c.make(w.target)))
        }
        #expect(try HTTP.get(port: w.pgw.port, "/healthz").status == 200)
        #expect(w.pgw.process.isRunning)
        try w.expectCanaryUntouched("all \(WebhookCase.all.count) cases")
        try w.canary.run("SELECT 1")  // the connection itself is alive
        try w.expectCanaryUntouched("a statement in the canary's transaction")

        let m = try w.pgw.scrape()
        #expect(m.all("pgwarden_actions_total", ["result": "success"]).isEmpty)
        #expect(m.all("pgwarden_actions_total").isEmpty, "no action recorded: \(m.all("pgwarden_actions_total"))")
        let expected = Dictionary(grouping: WebhookCase.all, by: \.status).mapValues(\.count)
        for (code, count) in expected.sorted(by: { $0.key < $1.key }) {
            expectWebhookRequestCount(m, code: code, count)
        }
        for sample in m.all("pgwarden_webhook_requests_total") {
            #expect(expected[Int(sample.labels["code"] ?? "") ?? 0] != nil, "unexpected code counted: \(sample)")
        }

        let control = try w.send(.valid(w.target))
        #expect(control.status == 200 && control.body.contains(#""outcome":"acted""#), "control: \(control.body)")
        try eventually("the control notification ends the canary") { try !fx.exists(w.canary.pid) }
        let after = try w.pgw.scrape()
        #expect(after.value("pgwarden_actions_total", ["rule": "canary-terminate", "action": "terminate", "result": "success"]) == 1)
    }

    /// With the database unreachable a valid matching notification gets 503 (Alertmanager
    /// retries it); what needs no database is answered as usual.
    @Test func unreachableDatabaseAnswers503ButMalformedStill400() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let w = try WebhookFixture(fx, dsn: "host=127.0.0.1 port=1 user=postgres password=postgres dbname=postgres connect_timeout=2")
        defer { w.stop() }
        let t = w.target

        let started = ContinuousClock.now
        let valid = try w.send(.valid(t))
        #expect(valid.status == 503, "\(valid.body)")
        #expect(valid.body.contains("database"), "\(valid.body)")
        #expect(started.duration(to: .now) < .seconds(5), "answered within the webhook deadline")

        var malformed = WebhookRequest.valid(t)
        malformed.body = Array(J.notification(t, ["version": J.q("3")]).utf8)
        let bad = try w.send(malformed)
        #expect(bad.status == 400, "\(bad.body)")
        #expect(bad.body.contains("version"), "\(bad.body)")
        var truncated = WebhookRequest.valid(t)
        truncated.body = Array(truncated.body.prefix(truncated.body.count / 2))
        #expect(try w.send(truncated).status == 400)
        var anonymous = WebhookRequest.valid(t)
        anonymous.set("Authorization", nil)
        #expect(try w.send(anonymous).status == 401)
        var notMatching = WebhookRequest.valid(t)
        notMatching.body = Array(J.notMatching(t).utf8)
        let nothing = try w.send(notMatching)
        #expect(nothing.status == 200 && nothing.body.contains("nothing matched"), "\(nothing.body)")
        #expect(try w.send(.valid(t)).status == 503, "still 503 on the retry")

        try w.expectCanaryUntouched("the outage")
        let m = try w.pgw.scrape()
        #expect(m.value("pg_up") == 0)
        #expect(m.value("pgwarden_webhook_requests_total", ["code": "503"]) == 2)
        #expect(m.value("pgwarden_webhook_requests_total", ["code": "400"]) == 2)
        #expect(m.value("pgwarden_webhook_requests_total", ["code": "401"]) == 1)
        #expect(m.value("pgwarden_webhook_requests_total", ["code": "200"]) == 1)
        #expect(m.all("pgwarden_actions_total", ["result": "success"]).isEmpty)
        #expect(w.pgw.log.contains("could not reach the database"))
    }

    /// A 400 says what is wrong in the payload's own terms, including the JSON type expected.
    @Test func wrongTypeMessagesNameTheJSONTypeExpected() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let w = try WebhookFixture(fx)
        defer { w.stop() }
        let t = w.target
        let cases: [(body: String, correct: String, wanted: String)] = [
            (J.notification(t, ["alerts": "{}"]), "alerts has the wrong type; expected an array", ""),
            (J.notification(t, ["version": "4"]), "version has the wrong type; expected a string", ""),
            ("null", "", "the body is null; expected an object"),
            ("[]", "", "the body has the wrong type; expected an object"),
            (J.notification(t, ["alerts": "[1,2]"]), "", "alerts[0] has the wrong type; expected an object"),
            (J.notification(t, ["alerts": "[" + J.alert(t, ["labels": "[]"]) + "]"]), "",
             "alerts[0].labels has the wrong type; expected an object"),
        ]
        for c in cases {
            var request = WebhookRequest.valid(t)
            request.body = Array(c.body.utf8)
            let response = try w.send(request)
            #expect(response.status == 400, "\(c.body.prefix(80)): \(response.body)")
            let expected = c.correct.isEmpty ? c.wanted : c.correct
            #expect(response.body.contains(expected), "\(response.body)")
        }
        try w.expectCanaryUntouched("the wrong types")
    }

    /// JSON exchanged between systems must be UTF-8 (RFC 8259 §8.1); a body in UTF-16 or
    /// UTF-32 is not the notification Alertmanager sends and must not be acted on.
    @Test(arguments: [("UTF-16 with BOM", String.Encoding.utf16), ("UTF-16LE without BOM", .utf16LittleEndian),
                      ("UTF-32BE without BOM", .utf32BigEndian)])
    func bodyNotInUTF8IsRejected(_ name: String, _ encoding: String.Encoding) throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let w = try WebhookFixture(fx)
        defer { w.stop() }
        var request = WebhookRequest.valid(w.target)
        request.body = Array(J.notification(w.target).data(using: encoding)!)
        let response = try w.send(request)
        #expect(response.status == 400, "\(name): \(response.body)")
        #expect(response.body.contains("UTF-8"))
        try w.expectCanaryUntouched(name)
    }
}

/// pgwarden_webhook_requests_total{code} == count, whoever answered (router, server or handler).
func expectWebhookRequestCount(_ m: Metrics, code: Int, _ count: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    let value = m.value("pgwarden_webhook_requests_total", ["code": String(code)])
    #expect(value == Double(count), "requests counted with code \(code)", sourceLocation: sourceLocation)
}

/// One named request and the status it must get.
struct WebhookCase: Sendable, CustomTestStringConvertible {
    var name: String
    var status: Int
    /// Text the response body must contain (it says what is wrong).
    var mentions: String?
    var make: @Sendable (WebhookTarget) -> WebhookRequest

    var testDescription: String { "\(status): \(name)" }

    func check(_ response: RawResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let checks = {
            #expect(response.status == status, "\(name): got \(response.status) \(response.body)", sourceLocation: sourceLocation)
            if let mentions {
                #expect(response.body.contains(mentions), "\(name): body \(response.body)", sourceLocation: sourceLocation)
            }
            switch status {
            case 401:
                #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true, "\(name)", sourceLocation: sourceLocation)
            case 405:
                #expect(response.headers["allow"] == "POST", "\(name)", sourceLocation: sourceLocation)
            default:
                break
            }
        }
        checks()
    }

    /// The valid request, changed in one respect.
    static func request(_ name: String, _ status: Int, mentions: String? = nil,
                        _ change: @escaping @Sendable (inout WebhookRequest, WebhookTarget) -> Void) -> WebhookCase {
        WebhookCase(name: name, status: status, mentions: mentions) { t in
            var request = WebhookRequest.valid(t)
            change(&request, t)
            return request
        }
    }

    /// The valid request with another body.
    static func body(_ name: String, _ status: Int = 400, mentions: String? = nil,
                     _ body: @escaping @Sendable (WebhookTarget) -> [UInt8]) -> WebhookCase {
        request(name, status, mentions: mentions) { request, t in request.body = body(t) }
    }

    /// The valid request with another body, given as text.
    static func text(_ name: String, _ status: Int = 400, mentions: String? = nil,
                     _ text: @escaping @Sendable (WebhookTarget) -> String) -> WebhookCase {
        body(name, status, mentions: mentions) { Array(text($0).utf8) }
    }

    /// The valid notification with `bytes` in place of its summary annotation's text.
    static func summaryBytes(_ t: WebhookTarget, _ bytes: [UInt8]) -> [UInt8] {
        let text = J.notification(t)
        let marker = "the canary sits idle in a transaction"
        let range = text.range(of: marker)!
        return Array(text[..<range.lowerBound].utf8) + bytes + Array(text[range.upperBound...].utf8)
    }

    /// The valid notification, its one alert addressed to the canary by these pid and
    /// backend_start labels (the canary's own pid and backend_start when nil).
    static func addressed(_ t: WebhookTarget, pid: String? = nil, backendStart: String? = nil) -> String {
        J.notification(t, ["alerts": "[" + J.alert(t, ["labels": J.labels(t, ["pid": J.q(pid ?? String(t.pid)),
                                                                             "backend_start": J.q(backendStart ?? t.backendStart)])]) + "]"])
    }

    /// The valid notification, its one alert with these label overrides.
    static func labelled(_ t: WebhookTarget, alertname: String = "CanaryAlert", _ overrides: KeyValuePairs<String, String?>) -> String {
        J.notification(t, ["alerts": "[" + J.alert(t, ["labels": J.labels(t, alertname: alertname, overrides)]) + "]"])
    }

    /// Alerts: the valid CanaryAlert first, then `second`: a notification rejected as a whole.
    static func afterValidAlert(_ t: WebhookTarget, _ second: String) -> String {
        J.notification(t, ["alerts": "[" + J.alert(t) + "," + second + "]"])
    }

    static let oneMiB = 1 << 20
    static let notJSON = "not valid JSON"
    static let notUTF8 = "not UTF-8 text"

    static let all: [WebhookCase] = [
        // 401: credentials.
        request("no Authorization header", 401, mentions: "credentials") { r, _ in r.set("Authorization", nil) },
        request("wrong bearer token", 401) { r, _ in r.set("Authorization", "Bearer wrong-token") },
        request("Bearer with an empty token", 401) { r, _ in r.set("Authorization", "Bearer ") },
        request("basic auth when only a bearer token is configured", 401) { r, t in
            r.set("Authorization", "Basic " + Data("pgwarden:\(t.token)".utf8).base64EncodedString())
        },
        request("token in another case", 401) { r, t in r.set("Authorization", "Bearer \(t.token.uppercased())") },
        request("token with an extra character", 401) { r, t in r.set("Authorization", "Bearer \(t.token)x") },
        request("token missing its last character", 401) { r, t in r.set("Authorization", "Bearer \(t.token.dropLast())") },
        request("token under another scheme", 401) { r, t in r.set("Authorization", "Token \(t.token)") },
        request("token without a scheme", 401) { r, t in r.set("Authorization", t.token) },
        request("token in the query string instead of the header", 401) { r, t in
            r.set("Authorization", nil)
            r.path = "/webhook?token=\(t.token)"
        },
        // 405: not POST.
        request("GET /webhook", 405, mentions: "POST") { r, _ in r.method = "GET"; r.body = [] },
        request("HEAD /webhook", 405) { r, _ in r.method = "HEAD"; r.body = [] },
        request("DELETE /webhook", 405, mentions: "POST") { r, _ in r.method = "DELETE"; r.body = [] },
        request("PUT /webhook with the notification", 405, mentions: "POST") { r, _ in
            r.method = "PUT"
        },
        // 415: not JSON.
        request("Content-Type text/plain", 415, mentions: "application/json") { r, _ in r.set("Content-Type", "text/plain") },
        request("no Content-Type", 415, mentions: "application/json") { r, _ in r.set("Content-Type", nil) },
        request("Content-Type application/x-www-form-urlencoded", 415) { r, _ in
            r.set("Content-Type", "application/x-www-form-urlencoded")
        },
        request("Content-Type that only starts with application/json", 415) { r, _ in r.set("Content-Type", "application/jsonx") },
        // 413: over --webhook.max-body-bytes (1 MiB by default); the body is the valid notification padded with spaces.
        request("Content-Length of 2 MiB", 413, mentions: "over the limit") { r, _ in
            r.body += [UInt8](repeating: 0x20, count: 2 * oneMiB - r.body.count)
        },
        request("Content-Length one byte over 1 MiB", 413, mentions: "over the limit") { r, _ in
            r.body += [UInt8](repeating: 0x20, count: oneMiB + 1 - r.body.count)
        },
        request("chunked body over 1 MiB", 413, mentions: "over the limit") { r, _ in
            r.body += [UInt8](repeating: 0x20, count: oneMiB + 65536 - r.body.count)
            r.chunked = true
        },
        // 400: not JSON at all.
        text("empty body", mentions: "empty") { _ in "" },
        text("truncated JSON", mentions: notJSON) { t in String(J.notification(t).dropLast(40)) },
        text("trailing garbage after the notification", mentions: notJSON) { t in J.notification(t) + " xyz" },
        text("two notifications back to back", mentions: notJSON) { t in J.notification(t) + J.notification(t) },
        text("single-quoted strings (JSON5)", mentions: notJSON) { t in J.notification(t).replacingOccurrences(of: "\"", with: "'") },
        text("a // comment before the notification", mentions: notJSON) { t in "// from alertmanager\n" + J.notification(t) },
        body("invalid UTF-8 inside a string", mentions: notUTF8) { t in summaryBytes(t, [0x62, 0xC3, 0x28, 0xFF, 0x64]) },
        body("overlong UTF-8 encoding inside a string", mentions: notUTF8) { t in summaryBytes(t, [0xC0, 0xAF]) },
        body("UTF-8-encoded surrogate inside a string", mentions: notUTF8) { t in summaryBytes(t, [0xED, 0xA0, 0x80]) },
        text("lone surrogate escape inside a string", mentions: notJSON) { t in
            J.notification(t, ["commonAnnotations": #"{"summary":"\ud800"}"#])
        },
        body("NUL byte inside a string", mentions: notUTF8) { t in summaryBytes(t, [0x61, 0x00, 0x62]) },
        body("NUL byte after the notification", mentions: notUTF8) { t in Array(J.notification(t).utf8) + [0] },
        body("UTF-16 byte order mark before UTF-8 JSON", mentions: notUTF8) { t in [0xFF, 0xFE] + Array(J.notification(t).utf8) },
        text("100000 nested arrays inside an unknown field", mentions: notJSON) { t in
            J.notification(t, ["x": String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)])
        },
        // 400: JSON, but not a notification.
        text("null", mentions: "null") { _ in "null" },
        text("an array", mentions: "the body") { _ in "[]" },
        text("a string", mentions: "the body") { _ in #""string""# },
        text("{} (no version)", mentions: "version is missing") { _ in "{}" },
        text("version \"3\"", mentions: #"version is "3""#) { t in J.notification(t, ["version": J.q("3")]) },
        text("version 4 as a number", mentions: "version") { t in J.notification(t, ["version": "4"]) },
        text("version null", mentions: "version is null") { t in J.notification(t, ["version": "null"]) },
        text("status \"exploded\"", mentions: #"status is "exploded""#) { t in J.notification(t, ["status": J.q("exploded")]) },
        text("no status", mentions: "status is missing") { t in J.notification(t, ["status": nil]) },
        text("no alerts", mentions: "alerts is missing") { t in J.notification(t, ["alerts": nil]) },
        text("alerts not an array", mentions: "alerts has the wrong type") { t in J.notification(t, ["alerts": J.alert(t)]) },
        text("alerts [1,2]", mentions: "alerts[0]") { t in J.notification(t, ["alerts": "[1,2]"]) },
        text("truncatedAlerts a string", mentions: "truncatedAlerts") { t in J.notification(t, ["truncatedAlerts": J.q("many")]) },
        text("truncatedAlerts 1.5") { t in J.notification(t, ["truncatedAlerts": "1.5"]) },
        text("alert labels not an object", mentions: "alerts[1].labels") { t in
            afterValidAlert(t, J.alert(t, ["labels": #"["alertname","CanaryAlert"]"#]))
        },
        text("alert label with a number value", mentions: "alerts[1].labels.team") { t in
            afterValidAlert(t, J.alert(t, ["labels": J.labels(t, ["team": "7"])]))
        },
        text("alert without status", mentions: "alerts[1].status is missing") { t in afterValidAlert(t, J.alert(t, ["status": nil])) },
        text("alert status \"pending\"", mentions: "alerts[1].status") { t in afterValidAlert(t, J.alert(t, ["status": J.q("pending")])) },
        text("alert without labels", mentions: "alerts[1].labels is missing") { t in afterValidAlert(t, J.alert(t, ["labels": nil])) },
        text("alert without alertname", mentions: "alerts[1].labels has no alertname") { t in
            afterValidAlert(t, J.alert(t, ["labels": J.labels(t, ["alertname": nil])]))
        },
        // 400: JSON a lenient parser takes, and a kill tool must not guess about.
        text("alertname given twice in one alert's labels", mentions: #"has the key "alertname" twice"#) { t in
            afterValidAlert(t, J.alert(t, ["labels": #"{"alertname":"OtherAlert","# + String(J.labels(t).dropFirst())]))
        },
        text("trailing comma in an alert's labels", mentions: notJSON) { t in
            afterValidAlert(t, J.alert(t, ["labels": String(J.labels(t).dropLast()) + ",}"]))
        },
        text("65 nested arrays inside an unknown field", mentions: "more than 64 nested") { t in
            J.notification(t, ["x": String(repeating: "[", count: 65) + String(repeating: "]", count: 65)])
        },
        text("alert with alertname \"\"", mentions: "alerts[1].labels has no alertname") { t in
            afterValidAlert(t, J.alert(t, ["labels": J.labels(t, alertname: "")]))
        },
        text("1001 alerts", mentions: "at most 1000") { t in
            J.notification(t, ["alerts": "[" + Array(repeating: J.alert(t), count: 1001).joined(separator: ",") + "]"])
        },
        // 400: a NUL in a label (a C string for libpq ends there), named by its path.
        text("NUL at the end of the datname label", mentions: "alerts[0].labels.datname contains a NUL character") { t in
            labelled(t, ["datname": #""# + "\"" + t.database + #"\u0000""#])
        },
        text("NUL inside the usename label", mentions: "alerts[0].labels.usename contains a NUL character") { t in
            labelled(t, ["usename": "\"" + t.role + #"\u0000x""#])
        },
        text("NUL in a label name", mentions: #"alerts[0].labels has the label name "dat\u0000name""#) { t in
            labelled(t, ["dat\u{0}name": J.q(t.database)])
        },
        text("NUL in the alertname of a second alert", mentions: "alerts[1].labels.alertname contains a NUL character") { t in
            afterValidAlert(t, J.alert(t, ["labels": J.labels(t, alertname: "CanaryAlert\u{0}")]))
        },
        // 200: valid notifications that must not kill.
        // A pid-addressed alert whose pid or backend_start is not a plain decimal number, or not
        // a plausible start: NaN passed the old pid-reuse guard, and Int32 read "+pid" and "0pid".
        text("backend_start NaN for the canary's pid", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "NaN") },
        text("backend_start -nan for the canary's pid", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "-nan") },
        text("backend_start inf for the canary's pid", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "inf") },
        text("backend_start 1e308 for the canary's pid", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "1e308") },
        text("backend_start 0x1p3 for the canary's pid", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "0x1p3") },
        text("backend_start in the far future", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, backendStart: "9999999999") },
        text("canary's backend_start with a leading blank", 200, mentions: #""outcome":"not addressable""#) { t in
            addressed(t, backendStart: " " + t.backendStart)
        },
        text("canary's pid with a plus sign", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, pid: "+\(t.pid)") },
        text("canary's pid with a leading zero", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, pid: "0\(t.pid)") },
        text("canary's pid with a trailing blank", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, pid: "\(t.pid) ") },
        text("pid NaN", 200, mentions: #""outcome":"not addressable""#) { t in addressed(t, pid: "NaN") },
        // Unicode line and paragraph separators are text like any other: they spell no name.
        text("U+2028 after the datname label", 200, mentions: #""outcome":"no matching sessions""#) { t in
            labelled(t, ["datname": J.q(t.database + "\u{2028}")])
        },
        text("U+2029 inside the usename label", 200, mentions: #""outcome":"no matching sessions""#) { t in
            labelled(t, ["usename": "\"" + t.role + #"\u2029""#])
        },
        text("U+2028 in the alertname", 200, mentions: #""outcome":"nothing matched""#) { t in
            labelled(t, alertname: "CanaryAlert\u{2028}", [:])
        },
        text("U+2028 in a label name", 200, mentions: #""outcome":"no matching sessions""#) { t in
            labelled(t, ["datname": nil, "usename": nil, "dat\u{2028}name": J.q(t.database), "application_name": J.q("none")])
        },
        // The firing alert after a resolved copy of itself (same fingerprint, then same labels
        // under another fingerprint): a copy is handled once, as its first occurrence said.
        text("the firing CanaryAlert after a resolved copy", 200, mentions: #""outcome":"duplicate""#) { t in
            J.notification(t, ["alerts": "[" + J.alert(t, ["status": J.q("resolved")]) + "," + J.alert(t) + "]"])
        },
        text("the firing CanaryAlert after a resolved copy under another fingerprint", 200, mentions: #""outcome":"duplicate""#) { t in
            J.notification(t, ["alerts": "[" + J.alert(t, ["status": J.q("resolved"), "fingerprint": J.q("another")]) + ","
                + J.alert(t) + "]"])
        },
        text("valid, but its alert matches no rule", 200, mentions: #""outcome":"nothing matched""#) { t in
            J.notMatching(t)
        },
        text("CanaryAlert resolved", 200, mentions: #""outcome":"resolved""#) { t in
            J.notification(t, ["status": J.q("resolved"), "alerts": "[" + J.alert(t, ["status": J.q("resolved")]) + "]"])
        },
        text("firing, with no alerts", 200, mentions: #""alerts":[]"#) { t in J.notification(t, ["alerts": "[]"]) },
        request("exactly 1 MiB, its alert matching no rule", 200, mentions: "nothing matched") { r, t in
            r.body = Array(J.notMatching(t).utf8)
            r.body += [UInt8](repeating: 0x20, count: oneMiB - r.body.count)
        },
    ]
}
