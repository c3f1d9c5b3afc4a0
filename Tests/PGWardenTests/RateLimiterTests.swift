import Testing
@testable import PGWarden

/// RateLimiter: a per-rule sliding window, driven by explicit instants.
@Suite("RateLimiter")
struct RateLimiterTests {
    @Test func freshRuleHasTheWholeLimit() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0) == 5)
        #expect(limiter.remaining(rule: "r", limit: 0, now: t0) == 0)
    }

    @Test func recordedActionsCountWithinTheWindow() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        limiter.record(rule: "r", count: 3, now: t0)
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0) == 2)
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0 + .seconds(30)) == 2)
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0 + .milliseconds(59_999)) == 2)
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0 + .milliseconds(60_001)) == 5)
    }

    @Test func windowSlides() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        limiter.record(rule: "r", count: 2, now: t0)
        limiter.record(rule: "r", count: 3, now: t0 + .seconds(40))
        #expect(limiter.remaining(rule: "r", limit: 10, now: t0 + .seconds(45)) == 5)
        // At t0+70 the first two are older than 60 s; the three from t0+40 still count.
        #expect(limiter.remaining(rule: "r", limit: 10, now: t0 + .seconds(70)) == 7)
        #expect(limiter.remaining(rule: "r", limit: 10, now: t0 + .seconds(101)) == 10)
    }

    @Test func neverNegative() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        limiter.record(rule: "r", count: 8, now: t0)
        #expect(limiter.remaining(rule: "r", limit: 5, now: t0 + .seconds(1)) == 0)
        // A lower limit after a policy reload applies at once.
        #expect(limiter.remaining(rule: "r", limit: 8, now: t0 + .seconds(1)) == 0)
        #expect(limiter.remaining(rule: "r", limit: 9, now: t0 + .seconds(1)) == 1)
    }

    @Test func rulesAreIndependent() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        limiter.record(rule: "a", count: 4, now: t0)
        #expect(limiter.remaining(rule: "a", limit: 5, now: t0) == 1)
        #expect(limiter.remaining(rule: "b", limit: 5, now: t0) == 5)
        #expect(limiter.remaining(rule: "A", limit: 5, now: t0) == 5)
    }

    @Test(arguments: [0, -1, -100])
    func nonPositiveCountsRecordNothing(count: Int) {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        limiter.record(rule: "r", count: count, now: t0)
        #expect(limiter.remaining(rule: "r", limit: 3, now: t0) == 3)
    }

    @Test func customWindow() {
        let limiter = RateLimiter(window: .seconds(10))
        let t0 = ContinuousClock.now
        limiter.record(rule: "r", count: 1, now: t0)
        #expect(limiter.remaining(rule: "r", limit: 2, now: t0 + .seconds(9)) == 1)
        #expect(limiter.remaining(rule: "r", limit: 2, now: t0 + .seconds(11)) == 2)
    }

    /// Checking the remaining budget does not itself use any of it.
    @Test func remainingDoesNotRecord() {
        let limiter = RateLimiter()
        let t0 = ContinuousClock.now
        for _ in 0..<10 { _ = limiter.remaining(rule: "r", limit: 2, now: t0) }
        #expect(limiter.remaining(rule: "r", limit: 2, now: t0) == 2)
    }
}
