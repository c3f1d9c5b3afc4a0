import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PGWarden

/// The HTTP server's worker pool: bounded queue, every accepted job runs, stop drains.
@Suite("Worker pool")
struct WorkerPoolTests {
    final class Gate: Sendable {
        let open = Atomic<Bool>(false)
        let ran = Atomic<Int>(0)
        let accepted = Atomic<Int>(0)
    }

    @Test func aFullQueueRefusesAndEveryAcceptedJobRuns() {
        let pool = WorkerPool(name: "test", threads: 2, capacity: 3)
        let gate = Gate()
        var results: [Bool] = []
        for _ in 0..<10 {
            results.append(pool.submit({
                while !gate.open.load(ordering: .acquiring) { sched_yield() }
                gate.ran.add(1, ordering: .relaxed)
            }, accepted: { gate.accepted.add(1, ordering: .relaxed) }))
        }
        // Two threads can each hold one job while three wait: at most five accepted, at least three.
        let accepted = results.filter { $0 }.count
        #expect(accepted >= 3 && accepted <= 5)
        #expect(results.last == false, "the queue refuses once full")
        #expect(gate.accepted.load(ordering: .relaxed) == accepted, "accepted runs exactly for queued jobs")
        gate.open.store(true, ordering: .releasing)
        pool.stop()
        #expect(gate.ran.load(ordering: .relaxed) == accepted)
        let refused = !pool.submit({})
        #expect(refused, "a stopped pool takes nothing")
    }
}
