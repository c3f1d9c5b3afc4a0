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
        let started = Atomic<Int>(0)
        let ran = Atomic<Int>(0)
        let accepted = Atomic<Int>(0)
    }

    @Test func aFullQueueRefusesAndEveryAcceptedJobRuns() {
        let pool = WorkerPool(name: "test", threads: 2, capacity: 3)
        let gate = Gate()
        func submit() -> Bool {
            pool.submit({
                gate.started.add(1, ordering: .relaxed)
                while !gate.open.load(ordering: .acquiring) { sched_yield() }
                gate.ran.add(1, ordering: .relaxed)
            }, accepted: { gate.accepted.add(1, ordering: .relaxed) })
        }
        // Both threads take a job and hold it; only then is the queue filled, so what is
        // accepted does not depend on when the threads start.
        var results = [submit(), submit()]
        while gate.started.load(ordering: .relaxed) < 2 { sched_yield() }
        for _ in 0..<8 { results.append(submit()) }
        // Two jobs held by the threads, three waiting: the rest refused.
        let accepted = results.filter { $0 }.count
        #expect(results == [true, true, true, true, true, false, false, false, false, false])
        #expect(results.last == false, "the queue refuses once full")
        #expect(gate.accepted.load(ordering: .relaxed) == accepted, "accepted runs exactly for queued jobs")
        gate.open.store(true, ordering: .releasing)
        pool.stop()
        #expect(gate.ran.load(ordering: .relaxed) == accepted)
        let refused = !pool.submit({})
        #expect(refused, "a stopped pool takes nothing")
    }
}
