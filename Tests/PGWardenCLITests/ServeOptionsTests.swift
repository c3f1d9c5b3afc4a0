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

    /// Labels that multiply the series are opt-in, each on its own.
    @Test func waitEventLabelIsOffUnlessAskedFor() throws {
        let plain = try Self.serve(["--dsn", "host=db"])
        #expect(!plain.waitEventLabel && !plain.applicationNameLabel)
        let labelled = try Self.serve(["--collector.wait-event"])
        #expect(labelled.waitEventLabel)
        #expect(!labelled.applicationNameLabel)
        #expect(throws: UsageError.self) { try Self.serve(["--collector.wait-event=yes"]) }
        #expect(!Sessions.spec.flags.contains { $0.name == "collector.wait-event" })
    }

    /// The manual commands never warm: they run a few statements and exit.
    @Test func manualCommandsHaveNoWarmUpFlag() {
        #expect(!Sessions.spec.flags.contains { $0.name == "db.warm-backend-heap" })
        #expect(Serve.spec.flags.contains { $0.name == "db.warm-backend-heap" })
    }

    /// --target.name is checked at start-up; --webhook.target-label defaults to instance and
    /// means nothing without --target.name.
    @Test func targetIdentityFlags() throws {
        #expect(try Self.serve([]).webhook.target == nil)
        #expect(try Self.serve(["--target.name", "db1"]).webhook.target == TargetIdentity(name: "db1", label: "instance"))
        #expect(try Self.serve(["--target.name", "db1:9187", "--webhook.target-label", "server"]).webhook.target
            == TargetIdentity(name: "db1:9187", label: "server"))
        // Whether the label routes depends on the config file: checked once it is read.
        let labelOnly = try Self.serve(["--webhook.target-label", "server"])
        #expect(throws: UsageError("--webhook.target-label only has an effect with --target.name (or targets in --config.file); give both or neither.")) {
            try labelOnly.webhook.check(ConfigFile())
        }
        try labelOnly.webhook.check(ConfigFile(targets: [TargetConfig(name: "db1", dsn: "host=db1")]))
        #expect(throws: UsageError.self) { try Self.serve(["--webhook.target-label", "in-stance"]) }
        #expect(throws: UsageError("--target.name is empty; give the name this server's alerts carry in their instance label.")) {
            try Self.serve(["--target.name", ""])
        }
        #expect(throws: UsageError.self) { try Self.serve(["--target.name", "db 1"]) }
        #expect(throws: UsageError.self) { try Self.serve(["--target.name", "db1\u{2028}"]) }
        #expect(throws: UsageError.self) { try Self.serve(["--target.name", "db1", "--webhook.target-label", "in-stance"]) }
    }
}
