import Foundation
import PGWarden
import Testing

/// A rule's scope that depends on an alert label: an alert that lacks it, or carries it empty,
/// acts on nothing (outcome "missing labels"), where it used to select every role's sessions.
@Suite("Required labels against a real server")
struct RequiredLabelsTests {
    @Test func anAlertWithoutTheLabelItsRuleRequiresActsOnNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let target = try fx.createRole(), bystander = try fx.createRole()
        let a = try fx.connect(role: target, database: db), b = try fx.connect(role: bystander, database: db)
        let hook = try HookFixture(fx, policy: """
            rules:
              - name: nologin
                match: {alertname: NologinSessions}
                action: terminate
                databases: [\(db)]
                require_labels: [usename]
            """)
        for labels in [["alertname": "NologinSessions"], ["alertname": "NologinSessions", "usename": ""]] {
            let (status, json) = try hook.notify([HookFixture.alert(labels)])
            #expect(status == 200)
            #expect(HookFixture.outcome(json) == "missing labels", "\(json)")
            #expect(HookFixture.sessions(json).isEmpty)
        }
        #expect(try fx.state(of: a.pid) == "idle" && fx.state(of: b.pid) == "idle")
        #expect(try hook.pgw.scrape().value("pgwarden_webhook_alerts_total", ["outcome": "missing labels"]) == 2)
        #expect(hook.pgw.log.contains("usename that rule nologin requires"))
        let (_, json) = try hook.notify([HookFixture.alert(["alertname": "NologinSessions", "usename": target])])
        #expect(HookFixture.results(json) == [a.pid: "success"])
        #expect(a.wasTerminated())
        #expect(try fx.state(of: b.pid) == "idle")
    }
}
