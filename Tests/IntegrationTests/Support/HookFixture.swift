import Foundation
import PGWarden
import Testing

/// A pgwarden with a policy and a bearer token, plus the admin fixture that owns the test's
/// database and roles.
final class HookFixture: @unchecked Sendable {
    // @unchecked: used from one test's thread only.
    let fx: AdminFixture
    let token = "token-\(uniqueSuffix())"
    let policyPath: String
    let tokenPath: String
    var pgw: PGWardenProcess!

    init(_ fx: AdminFixture, policy: String, dsn: String? = nil, extraArguments: [String] = []) throws {
        self.fx = fx
        policyPath = "\(fx.env.workDir)/policy-\(uniqueSuffix()).yml"
        tokenPath = "\(fx.env.workDir)/token-\(uniqueSuffix())"
        try policy.write(toFile: policyPath, atomically: true, encoding: .utf8)
        try (token + "\n").write(toFile: tokenPath, atomically: true, encoding: .utf8)
        pgw = try PGWardenProcess(fx.env, arguments: ["--dsn", dsn ?? fx.env.dsn(), "--config.file", policyPath,
                                                      "--webhook.token-file", tokenPath] + extraArguments)
    }

    /// Posts a notification with these alerts and returns status and parsed JSON.
    func notify(_ alerts: [[String: Any]], status: String = "firing") throws -> (Int, [String: Any]) {
        let payload: [String: Any] = [
            "version": "4", "status": status, "receiver": "pgwarden", "groupKey": "{}:{}", "truncatedAlerts": 0,
            "groupLabels": [:] as [String: String], "commonLabels": [:] as [String: String],
            "commonAnnotations": [:] as [String: String], "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
        ]
        let body = try JSONSerialization.data(withJSONObject: payload)
        let response = try HTTP.request(port: pgw.port, method: "POST", path: "/webhook",
                                        headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                        body: Array(body))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
        return (response.status, json)
    }

    /// One firing alert with these labels.
    static func alert(_ labels: [String: String], status: String = "firing", fingerprint: String = uniqueSuffix()) -> [String: Any] {
        ["status": status, "labels": labels, "annotations": ["summary": "test"] as [String: String],
         "startsAt": "2026-11-21T19:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": fingerprint]
    }

    /// The session records of the first alert in a webhook response.
    static func sessions(_ json: [String: Any], alert index: Int = 0) -> [[String: Any]] {
        let alerts = json["alerts"] as? [[String: Any]] ?? []
        guard index < alerts.count else { return [] }
        return alerts[index]["sessions"] as? [[String: Any]] ?? []
    }

    static func outcome(_ json: [String: Any], alert index: Int = 0) -> String? {
        let alerts = json["alerts"] as? [[String: Any]] ?? []
        return index < alerts.count ? alerts[index]["outcome"] as? String : nil
    }

    /// result per pid from a webhook response.
    static func results(_ json: [String: Any]) -> [Int32: String] {
        var out: [Int32: String] = [:]
        for s in sessions(json) {
            if let pid = s["pid"] as? Int, let result = s["result"] as? String { out[Int32(pid)] = result }
        }
        return out
    }

    deinit { pgw?.stop() }
}

extension TestSession {
    /// Puts the session idle in a transaction.
    func idleInTransaction() throws {
        try run("BEGIN; SELECT 1")
    }

    /// True when the server ended this session (the next statement fails).
    func wasTerminated() -> Bool {
        fail("SELECT 1") != nil
    }
}
