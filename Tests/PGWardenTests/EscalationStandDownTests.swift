import Logging
import Testing
@testable import PGWarden

/// Escalations stand down when their alert resolves: which resolved alert is "their" alert, the
/// pending gauge, and a resolved notification with nothing pending (no database involved: the
/// handler's database does not exist, so anything that reached it would answer 503).
@Suite("Escalations standing down")
struct EscalationStandDownTests {
    static let firing = AlertRef(alertname: "LongQuery", fingerprint: "4d1c", labels: ["alertname": "LongQuery", "datname": "shop"])

    @Test(arguments: [
        (AlertRef(alertname: "LongQuery", fingerprint: "4d1c", labels: ["alertname": "LongQuery", "datname": "shop"]), true),
        (AlertRef(alertname: "LongQuery", fingerprint: "", labels: ["alertname": "LongQuery", "datname": "shop"]), true),
        (AlertRef(alertname: "LongQuery", fingerprint: "other", labels: ["alertname": "LongQuery", "datname": "shop"]), true),
        (AlertRef(alertname: "LongQuery", fingerprint: "4d1c", labels: ["alertname": "LongQuery", "datname": "other"]), true),
        (AlertRef(alertname: "LongQuery", fingerprint: "other", labels: ["alertname": "LongQuery", "datname": "billing"]), false),
        (AlertRef(alertname: "LongQuery", fingerprint: "", labels: ["alertname": "LongQuery"]), false),
        (AlertRef(alertname: "LongQuery", fingerprint: "", labels: ["alertname": "LongQuery", "datname": "sho\u{301}p"]), false),
        (AlertRef(alertname: "LongQuery", fingerprint: "4D1C", labels: ["alertname": "LongQuery", "datname": "x"]), false),
    ])
    func resolvedAlertIsTheFiringOne(resolved: AlertRef, expected: Bool) {
        #expect(PendingEscalations.sameAlert(Self.firing, resolved) == expected)
    }

    /// The command line's escalations (no labels) are never stood down by a notification.
    @Test func commandLineEscalationsAreNoAlertsOf() {
        let manual = AlertRef(alertname: "", fingerprint: "")
        #expect(!PendingEscalations.sameAlert(manual, AlertRef(alertname: "", fingerprint: "")))
        #expect(!PendingEscalations.sameAlert(manual, Self.firing))
    }

    @Test func pendingSessionsAreCountedByRuleAndTakenOutOnce() {
        let pending = PendingEscalations()
        let rule = Rule(name: "long-query", match: AlertMatch(alertname: "LongQuery"), action: .cancelThenTerminate)
        let a = pending.add(PendingEscalation(rule: rule, alert: Self.firing, cancelled: [SessionRow(pid: 1), SessionRow(pid: 2)]))
        let other = AlertRef(alertname: "LongQuery", fingerprint: "9", labels: ["alertname": "LongQuery", "datname": "b"])
        _ = pending.add(PendingEscalation(rule: rule, alert: other, cancelled: [SessionRow(pid: 3)]))
        #expect(pending.counts() == ["long-query": 3])
        let stood = pending.removeAll(answering: Self.firing)
        #expect(stood.map { $0.cancelled.map(\.pid) } == [[1, 2]])
        #expect(pending.remove(a) == nil, "stood down: its timer finds nothing to do")
        #expect(pending.counts() == ["long-query": 1])
        #expect(pending.removeAll(answering: Self.firing).isEmpty)
    }

    @Test func gaugeShowsPolicyEscalationsAtZero() throws {
        let log = ActionLog(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        log.declareEscalationRules(["long-query", "other"])
        log.setPendingEscalations(["long-query": 2, "removed-by-reload": 1])
        let gauge = try #require(family(log.families(), "pgwarden_escalations_pending"))
        #expect(gauge.type == .gauge)
        #expect(value(gauge, ["rule": "long-query"]) == 2)
        #expect(value(gauge, ["rule": "other"]) == 0)
        #expect(value(gauge, ["rule": "removed-by-reload"]) == 1, "still waiting after a reload removed its rule")
        log.setPendingEscalations([:])
        log.declareEscalationRules([])
        #expect(family(log.families(), "pgwarden_escalations_pending")?.samples.isEmpty == true)
    }

    /// A resolved alert with nothing pending: outcome resolved, no records, no database touched.
    @Test func resolvedWithNothingPendingDoesNothing() throws {
        let h = try WebhookHandlerTests.handler()
        let response = h.handleNotification(WebhookHandlerTests.request([
            WebhookHandlerTests.alert(["alertname": "X", "datname": "shop"], fingerprint: "f", status: "resolved"),
        ]))
        #expect(response.status == 200)
        #expect(WebhookHandlerTests.outcomes(response).map(\.outcome) == ["resolved"])
        #expect(h.log.recent(limit: 10).isEmpty)
        #expect(value(family(h.log.families(), "pgwarden_escalations_pending"), ["rule": "x"]) == nil,
                "rule x terminates: not an escalation")
    }
}
