import Dispatch
import Synchronization

extension WebhookHandler {
    /// Fleet mode: the alerts of a notification are handled target by target, the targets side by
    /// side (at most `maxParallelTargets` at once), so that a target that is down, hanging or
    /// locked by a replica holds up only its own alerts. Every alert is tried; when one failed
    /// in a way Alertmanager should retry, the answer is 503 after all of them, and the alerts
    /// that were handled are remembered for `RetryMemory.window` so the retry does not act on
    /// them a second time (outcome `duplicate`).
    func handleFleet(_ notification: AlertNotification, policy: Policy, start: ContinuousClock.Instant) -> HTTPResponse {
        guard case .fleet(_, let label) = routing else { return .error(500, "not in fleet mode") }
        var summaries = [String?](repeating: nil, count: notification.alerts.count)
        var byTarget: [String: [Int]] = [:]
        var order: [String] = []
        var seen = SeenAlerts()
        for (index, alert) in notification.alerts.enumerated() {
            if let earlier = seen.earlier(alert, index: index) {
                summaries[index] = summary(alert, .duplicate, reason: SeenAlerts.reason(earlier))
                continue
            }
            if alert.status == "firing", retryMemory.handledBefore(alert, label: label) {
                summaries[index] = summary(alert, .duplicate, reason: RetryMemory.reason)
                continue
            }
            let key = alert.labels[label] ?? ""
            if byTarget[key] == nil { order.append(key) }
            byTarget[key, default: []].append(index)
        }
        struct Failure: Error, Sendable { var status: Int; var message: String }
        let outcomes = Mutex<[Int: Result<String, Failure>]>([:])
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: Self.maxParallelTargets)
        let alerts = notification.alerts
        for key in order {
            let indices = byTarget[key]!
            group.enter()
            slots.wait()
            DispatchQueue.global().async { [self] in
                defer { slots.signal(); group.leave() }
                for index in indices {
                    let result: Result<String, Failure>
                    if start.duration(to: .now) >= deadline {
                        result = .failure(Failure(status: 503, message: "the response deadline passed before this alert was handled"))
                    } else {
                        do {
                            result = .success(try handle(alerts[index], policy: policy))
                        } catch let error as PostgresError where error.isConnectionLevel {
                            logger.error("webhook could not reach a target", metadata: ["target": "\(key)", "error": "\(error)"])
                            result = .failure(Failure(status: 503, message: "target \(JSONText.quote(key)) cannot be reached (\(error.kind.rawValue))"))
                        } catch let error as PostgresError where error.sqlState == "55P03" {
                            logger.warning("webhook waited too long for the action lock: another pgwarden is acting on this server",
                                           metadata: ["target": "\(key)", "error": "\(error)"])
                            result = .failure(Failure(status: 503, message: "another pgwarden is acting on target \(JSONText.quote(key)) "
                                + "(its action lock was held past --db.lock-timeout)"))
                        } catch {
                            logger.error("webhook action failed", metadata: ["target": "\(key)", "error": "\(error)"])
                            result = .failure(Failure(status: 500, message: "the action on target \(JSONText.quote(key)) failed: \(error)"))
                        }
                    }
                    outcomes.withLock { $0[index] = result }
                }
            }
        }
        group.wait()
        var failures: [Failure] = []
        var handled: [AlertNotification.Alert] = []
        for (index, result) in outcomes.withLock({ $0 }) {
            switch result {
            case .success(let text):
                summaries[index] = text
                if alerts[index].status == "firing" { handled.append(alerts[index]) }
            case .failure(let failure): failures.append(failure)
            }
        }
        guard failures.isEmpty else {
            retryMemory.remember(handled, label: label)
            let status = failures.contains { $0.status == 503 } ? 503 : 500
            let others = failures.count > 1 ? " (and \(failures.count - 1) more)" : ""
            return .error(status, "\(failures[0].message)\(others); \(handled.count) other alert(s) were handled and will not be "
                + "acted on again when Alertmanager retries")
        }
        return HTTPResponse(status: 200, contentType: "application/json",
                            text: "{\"status\":\"processed\",\"alerts\":[" + summaries.compactMap { $0 }.joined(separator: ",") + "]}\n")
    }

    /// Targets handled at once for one notification.
    static let maxParallelTargets = 16
}

/// Fleet mode: the firing alerts a notification handled before another alert of it failed
/// (so the notification was answered 503), kept for a while so that Alertmanager's retry does
/// not act on them twice.
final class RetryMemory: Sendable {
    static let window: Duration = .seconds(600)
    static let reason = "handled in an earlier delivery of this notification that failed for another alert; "
        + "not acted on twice"
    private let handled = Mutex<[String: ContinuousClock.Instant]>([:])

    static func key(_ alert: AlertNotification.Alert, label: String) -> String {
        let target = alert.labels[label] ?? ""
        let id = alert.fingerprint.flatMap { $0.isEmpty ? nil : $0 }
            ?? alert.labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0)=\(alert.labels[$0]!)" }.joined(separator: "\u{0}")
        return target + "\u{0}" + id + "\u{0}" + (alert.startsAt ?? "")
    }

    func remember(_ alerts: [AlertNotification.Alert], label: String) {
        let now = ContinuousClock.now
        handled.withLock { h in
            h = h.filter { now - $0.value < Self.window }
            for alert in alerts { h[Self.key(alert, label: label)] = now }
        }
    }

    func handledBefore(_ alert: AlertNotification.Alert, label: String) -> Bool {
        let now = ContinuousClock.now
        return handled.withLock { h in
            guard let at = h[Self.key(alert, label: label)] else { return false }
            return now - at < Self.window
        }
    }
}
