import Foundation
import Synchronization
import Testing
@testable import PGWarden

@Suite("SingleFlight")
struct SingleFlightTests {
    final class Recorder: Sendable {
        let runs = Mutex(0)
        let results = Mutex<[(value: Int, shared: Bool)]>([])
    }

    @Test func concurrentCallersShareOneRun() {
        let flight = SingleFlight<Int>()
        let recorder = Recorder()
        let callers = 8
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for _ in 0..<callers {
            done.enter()
            let thread = Thread {
                ready.signal()
                go.wait()
                let (value, shared) = flight.run {
                    // Slow enough that every other caller arrives while this run is in flight.
                    let run = recorder.runs.withLock { $0 += 1; return $0 }
                    Thread.sleep(forTimeInterval: 0.4)
                    return run * 100
                }
                recorder.results.withLock { $0.append((value, shared)) }
                done.leave()
            }
            thread.start()
        }
        for _ in 0..<callers { ready.wait() }
        for _ in 0..<callers { go.signal() }
        #expect(done.wait(timeout: .now() + 30) == .success, "callers must not hang")

        let runs = recorder.runs.withLock { $0 }
        let results = recorder.results.withLock { $0 }
        #expect(results.count == callers, "every caller gets a value")
        #expect(runs >= 1)
        #expect(runs < callers, "the body ran \(runs) times for \(callers) callers")
        // Each run has exactly one owner; everybody else shared.
        #expect(results.filter { !$0.shared }.count == runs)
        // Every value returned is one some run produced.
        let produced = Set((1...runs).map { $0 * 100 })
        #expect(results.allSatisfy { produced.contains($0.value) })
    }

    @Test func sequentialCallsEachRunTheBody() {
        // Nothing is cached once a run has finished: a later caller gets a fresh result.
        let flight = SingleFlight<Int>()
        var calls = 0
        let first = flight.run { calls += 1; return calls }
        let second = flight.run { calls += 1; return calls }
        #expect(first.0 == 1 && !first.shared)
        #expect(second.0 == 2 && !second.shared)
        #expect(calls == 2)
    }

    @Test func callerArrivingDuringARunGetsThatRunsValue() {
        let flight = SingleFlight<String>()
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let ownerDone = DispatchSemaphore(value: 0)
        let ownerResult = Mutex<(String, Bool)?>(nil)
        Thread {
            let result = flight.run {
                started.signal()
                release.wait()
                return "from owner"
            }
            ownerResult.withLock { $0 = (result.0, result.shared) }
            ownerDone.signal()
        }.start()
        started.wait()
        // The owner is inside its body now; release it shortly after this caller starts waiting.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { release.signal() }
        let (value, shared) = flight.run { "from joiner" }
        #expect(value == "from owner")
        #expect(shared)
        #expect(ownerDone.wait(timeout: .now() + 10) == .success)
        #expect(ownerResult.withLock { $0?.0 } == "from owner")
        #expect(ownerResult.withLock { $0?.1 } == false)
    }
}
