import Testing
@testable import PGWardenCLI
@testable import PGWarden

/// `pgwarden serve`'s options: tuning that changes the monitored server's behaviour is opt-in.
@Suite("Serve options")
struct ServeOptionsTests {
    static func serve(_ words: [String]) throws -> Serve {
        try Serve(FlagParser.parse(words, spec: Serve.spec))
    }

    @Test func backendHeapWarmUpIsOffUnlessAskedFor() throws {
        let plain = try Self.serve(["--dsn", "host=db"])
        #expect(!plain.warmBackendHeap)
        #expect(!plain.connection.settings(environment: [:], warmsBackendHeap: plain.warmBackendHeap).warmsBackendHeap)
        let warmed = try Self.serve(["--dsn", "host=db", "--db.warm-backend-heap"])
        #expect(warmed.connection.settings(environment: [:], warmsBackendHeap: warmed.warmBackendHeap).warmsBackendHeap)
        #expect(throws: UsageError.self) { try Self.serve(["--db.warm-backend-heap=yes"]) }
    }

    /// The manual commands never warm: they run a few statements and exit.
    @Test func manualCommandsHaveNoWarmUpFlag() {
        #expect(!Sessions.spec.flags.contains { $0.name == "db.warm-backend-heap" })
        #expect(Serve.spec.flags.contains { $0.name == "db.warm-backend-heap" })
    }
}
