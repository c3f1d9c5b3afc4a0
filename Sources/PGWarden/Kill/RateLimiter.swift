import Synchronization

/// Counts actions per rule over a sliding 60-second window.
public final class RateLimiter: Sendable {
    private let window: Duration
    private let events = Mutex<[String: [ContinuousClock.Instant]]>([:])

    public init(window: Duration = .seconds(60)) {
        self.window = window
    }

    /// How many more actions `rule` may take now under `limit`.
    public func remaining(rule: String, limit: Int, now: ContinuousClock.Instant = .now) -> Int {
        events.withLock { all in
            let recent = (all[rule] ?? []).filter { now - $0 < window }
            all[rule] = recent
            return max(0, limit - recent.count)
        }
    }

    /// Records `count` actions by `rule`.
    public func record(rule: String, count: Int, now: ContinuousClock.Instant = .now) {
        guard count > 0 else { return }
        events.withLock { $0[rule, default: []].append(contentsOf: repeatElement(now, count: count)) }
    }
}
