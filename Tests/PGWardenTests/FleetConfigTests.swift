import Logging
import Testing
@testable import PGWarden

#if canImport(Glibc)
import Glibc
#endif

/// A fleet config that must be refused: the policy loader's cases, written for targets.
typealias BadFleetConfig = BadPolicy

extension BadPolicy {
    init(label: String, yaml: String, line: Int?, key: String?, _ message: String) {
        self.init(label: label, yaml: yaml, line: line, key: key, message: message)
    }

    /// One target (name on line 2, dsn on line 3) followed by `extra` from line 4.
    static func target(_ label: String, name: String = "db1", dsn: String = "host=db1 dbname=postgres", _ extra: String = "",
                       line: Int?, key: String?, _ message: String) -> BadPolicy {
        BadPolicy(label: label, yaml: "targets:\n  - name: \(name)\n    dsn: \(dsn)\n" + extra, line: line, key: key, message: message)
    }
}

@Suite("Fleet config")
struct FleetConfigTests {
    static let fleet = """
        targets:
          - name: db1
            dsn: "host=db1.example port=5432 dbname=postgres user=pgwarden"
            labels: {cluster: main, env: prod}
          - name: db2.example:5432
            dsn: postgresql://pgwarden@db2/postgres
          - name: "10.0.0.7"
            dsn: host=10.0.0.7
            labels: {env: staging}
        rules:
          - name: prod-idle
            match: {alertname: Idle}
            action: terminate
            databases: [app]
            targets: [db1, db2.example:5432]
          - name: staging
            match: {alertname: Idle}
            action: cancel
            databases: [app]
            target_labels: {env: staging}
        """

    @Test func targetsAndRulesLoadTogether() throws {
        let config = try PolicyLoader.parseConfig(Self.fleet)
        #expect(config.targets.map(\.name) == ["db1", "db2.example:5432", "10.0.0.7"])
        #expect(config.targets[0].labels == ["cluster": "main", "env": "prod"])
        #expect(config.targets[1].dsn == "postgresql://pgwarden@db2/postgres")
        #expect(config.policy.rules.map(\.targets) == [["db1", "db2.example:5432"], []])
        #expect(config.policy.rules[1].targetLabels == ["env": "staging"])
        #expect(config.hasRules)
    }

    @Test func aFileMayHoldOnlyTargets() throws {
        let config = try PolicyLoader.parseConfig("targets:\n  - {name: db1, dsn: host=db1}\n")
        #expect(config.targets.count == 1)
        #expect(!config.hasRules)
        // ... but the webhook's policy (PolicyLoader.parse) needs rules.
        #expect(throws: PolicyError.self) { try PolicyLoader.parse("targets:\n  - {name: db1, dsn: host=db1}\n") }
    }

    @Test func neitherTargetsNorRulesIsRefused() {
        #expect(throws: PolicyError(source: "<input>", line: 1, key: "rules", message: "no rules: add a rules list (see examples/pgwarden.yml)")) {
            try PolicyLoader.parseConfig("protected_roles: [postgres]\n")
        }
    }

    /// The first rule whose alert match fits and whose target scope includes the target answers.
    @Test func ruleScopeByTargetNameAndLabels() throws {
        let config = try PolicyLoader.parseConfig(Self.fleet)
        let policy = config.policy
        let labels = ["alertname": "Idle"]
        #expect(policy.rule(for: labels, target: config.targets[0])?.name == "prod-idle")
        #expect(policy.rule(for: labels, target: config.targets[1])?.name == "prod-idle")
        #expect(policy.rule(for: labels, target: config.targets[2])?.name == "staging")
        let unlabelled = TargetConfig(name: "db9", dsn: "host=db9")
        #expect(policy.rule(for: labels, target: unlabelled) == nil)
        // Byte for byte: a label value in another case or normal form is another value.
        let other = TargetConfig(name: "x", dsn: "host=x", labels: ["env": "Staging"])
        #expect(policy.rule(for: labels, target: other) == nil)
        // Without a target (--dsn mode) the scope is not consulted.
        #expect(policy.rule(for: labels)?.name == "prod-idle")
    }

    static let bad: [BadFleetConfig] = [
        // (what, the name as written in YAML, what the error says)
        ("empty name", "\"\"", "must not be empty"), ("space in name", "\"db 1\"", "contains U+0020"),
        ("zero-width space", "\"db1\\u200B\"", "contains U+200B"), ("cyrillic look-alike", "\"d\\u0431\"", "contains U+0431"),
        ("NUL", "\"db\\0\"", "contains U+0000"), ("line separator", "\"db\\u2028\"", "contains U+2028"),
        ("leading dash", "-db1", "must start with a letter or digit"), ("slash", "db/1", "contains U+002F"),
        ("too long", String(repeating: "a", count: 129), "longer than 128 bytes"), ("name is a list", "[a, b]", "must be a single value"),
    ].map { BadPolicy.target($0.0, name: $0.1, line: 2, key: "targets[0].name", $0.2) } + [
        // (what, the DSN as written in YAML, what the error says)
        ("no dsn", "", "must not be empty"), ("NUL in dsn", "\"host=db1\\0x\"", "contains NUL"),
        ("malformed dsn", "\"host='db1\"", "libpq cannot parse it"),
        ("malformed URI", "\"postgresql://db1/x?sslmode\"", "libpq cannot parse it"),
        ("no host", "\"dbname=postgres user=pgwarden\"", "names no server"), ("a bare database name", "postgres", "names no server"),
        ("several hosts", "\"host=db1,db2 dbname=postgres\"", "lists several hosts"),
        ("several hosts in a URI", "\"postgresql://db1:5432,db2:5432/postgres\"", "lists several hosts"),
    ].map { BadPolicy.target($0.0, dsn: $0.1, line: 3, key: "targets[0].dsn", $0.2) } + [
        .target("unknown key", "    passwd_file: /x\n", line: 4, key: "targets[0].passwd_file", "did you mean password_file?"),
        .target("password file missing", "    password_file: /nonexistent/pw\n", line: 4, key: "targets[0].password_file", "cannot read the file"),
        .target("reserved label", "    labels: {__meta_x: y}\n", line: 4, key: "targets[0].labels", "starts with __"),
        .target("instance label", "    labels: {instance: y}\n", line: 4, key: "targets[0].labels", "is set by Prometheus"),
        .target("bad label name", "    labels: {\"a-b\": y}\n", line: 4, key: "targets[0].labels", "is not a label name"),
        .target("empty label value", "    labels: {env: \"\"}\n", line: 4, key: "targets[0].labels.env", "must not be empty"),
        .target("control in label value", "    labels: {env: \"a\\tb\"}\n", line: 4, key: "targets[0].labels", "contains U+0009"),
        .target("duplicate name", "  - name: db1\n    dsn: host=other\n", line: 4, key: "targets[1].name",
                "\"db1\" is already the name of targets[0]"),
        BadFleetConfig(label: "targets not a list", yaml: "targets: {name: db1}\n", line: 1, key: "targets", "must be a list of targets"),
        BadFleetConfig(label: "empty targets", yaml: "targets: []\n", line: 1, key: "targets", "is empty"),
        BadFleetConfig(label: "protected_roles without rules", yaml: "targets:\n  - {name: a, dsn: host=a}\nprotected_roles: [x]\n",
                       line: 3, key: "protected_roles", "only applies to rules"),
        BadFleetConfig(label: "rule names an unknown target", yaml: """
            targets:
              - {name: db1, dsn: host=db1}
            rules:
              - name: r
                match: {alertname: A}
                action: cancel
                databases: [x]
                targets: [db2]
            """, line: 8, key: "rules[0].targets[0]", "\"db2\" is not one of the targets of this file; did you mean db1?"),
        BadFleetConfig(label: "rule with targets in a --dsn file", yaml: """
            rules:
              - name: r
                match: {alertname: A}
                action: cancel
                databases: [x]
                target_labels: {env: prod}
            """, line: 6, key: "rules[0].target_labels", "this file lists no targets"),
        BadFleetConfig(label: "empty rule targets", yaml: """
            targets:
              - {name: db1, dsn: host=db1}
            rules:
              - {name: r, match: {alertname: A}, action: cancel, databases: [x], targets: []}
            """, line: 4, key: "rules[0].targets", "is empty, which would mean any"),
        BadFleetConfig(label: "bad target_labels key", yaml: """
            targets:
              - {name: db1, dsn: host=db1}
            rules:
              - {name: r, match: {alertname: A}, action: cancel, databases: [x], target_labels: {"1x": y}}
            """, line: 4, key: "rules[0].target_labels", "is not a label name"),
    ]

    @Test(arguments: bad) func badConfigsAreRefusedWithLineAndKey(_ bad: BadFleetConfig) {
        do {
            _ = try PolicyLoader.parseConfig(bad.yaml)
            Issue.record("accepted: \(bad.yaml)")
        } catch {
            #expect(error.line == bad.line, "\(error)")
            #expect(error.key == bad.key, "\(error)")
            #expect(error.message.contains(bad.message), "\(error)")
        }
    }

    /// A password in the DSN is never echoed in the error about a malformed one.
    @Test func aMalformedDSNIsReportedWithoutItsPassword() {
        let yaml = "targets:\n  - name: db1\n    dsn: \"host=db1 password=hunter2 port='5432\"\n"
        do {
            _ = try PolicyLoader.parseConfig(yaml)
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func passwordFileAndADSNPasswordAreNotBothAccepted() throws {
        let path = "/tmp/pgwarden-unit-pw-\(getpid())"
        _ = FileDescriptorWriter.write(path, "secret\n")
        defer { unlink(path) }
        let ok = try PolicyLoader.parseConfig("targets:\n  - {name: db1, dsn: host=db1, password_file: \(path)}\n")
        #expect(ok.targets[0].passwordFile == path)
        do {
            _ = try PolicyLoader.parseConfig("targets:\n  - {name: db1, dsn: host=db1 password=x, password_file: \(path)}\n")
            Issue.record("accepted")
        } catch {
            #expect(error.key == "targets[0].password_file")
            #expect(error.message.contains("the dsn carries a password too"))
        }
    }

    @Test func targetLabelsThatFitNoTargetAreWarnedAbout() throws {
        let config = try PolicyLoader.parseConfig("""
            targets:
              - {name: db1, dsn: host=db1, labels: {env: prod}}
            rules:
              - {name: r, match: {alertname: A}, action: cancel, databases: [x], target_labels: {env: prd}}
            """)
        #expect(PolicyLoader.targetWarnings(config).count == 1)
        #expect(PolicyLoader.targetWarnings(config)[0].contains("fit none of the targets"))
    }

    @Test func tooManyTargetsAreRefused() {
        let yaml = "targets:\n" + (0...TargetConfig.maxTargets).map { "  - {name: t\($0), dsn: host=t}\n" }.joined()
        do {
            _ = try PolicyLoader.parseConfig(yaml)
            Issue.record("accepted")
        } catch {
            #expect(error.key == "targets")
            #expect(error.message.contains("at most \(TargetConfig.maxTargets)"))
        }
    }

    // MARK: - Fleet routes (no database: the requests are refused before any scrape)

    static func fleet(_ names: [String], labels: [String: String] = [:]) -> Fleet {
        let logger = Logger(label: "test")
        return Fleet(targets: names.map { TargetConfig(name: $0, dsn: "host=/nonexistent", labels: labels) },
                     budget: ConnectionBudget(limit: 10)) { config in
            FleetTarget(config: config,
                        scraper: Scraper(database: Database(settings: ConnectionSettings(dsn: config.dsn)), version: "test",
                                         logger: logger, includesProcessFamilies: false),
                        runner: nil)
        }
    }

    @Test func serviceDiscoveryListsEveryTargetWithItsLabels() {
        let fleet = Self.fleet(["db1", "db2"], labels: ["z": "1", "a": "q\"uote"])
        #expect(fleet.serviceDiscovery()
            == "[{\"targets\":[\"db1\"],\"labels\":{\"a\":\"q\\\"uote\",\"z\":\"1\"}},{\"targets\":[\"db2\"],\"labels\":{\"a\":\"q\\\"uote\",\"z\":\"1\"}}]\n")
        #expect(Self.fleet([]).serviceDiscovery() == "[]\n")
    }

    @Test func probeRequestsThatNameNoKnownTargetAre400() {
        let fleet = Self.fleet(["db1"])
        func probe(_ items: [String: String], repeated: Set<String> = []) -> HTTPResponse {
            var request = HTTPRequest(method: "GET", path: "/probe", queryItems: items)
            request.repeatedQueryKeys = repeated
            return fleet.probe(request)
        }
        #expect(probe([:]).status == 400)
        #expect(probe(["target": ""]).status == 400)
        #expect(probe(["target": "db1\0"]).status == 400)
        #expect(probe(["target": "DB1"]).status == 400)
        #expect(probe(["target": "db1"], repeated: ["target"]).status == 400)
        let huge = probe(["target": String(repeating: "x", count: 100_000)])
        #expect(huge.status == 400)
        #expect(huge.body.count < 1000, "the echoed name is cut short")
        #expect(String(decoding: probe(["target": "db9"]).body, as: UTF8.self).contains("unknown target \"db9\""))
    }

    @Test func reloadKeepsUnchangedTargetsAndReplacesChangedOnes() {
        let fleet = Self.fleet(["db1", "db2"])
        let db1 = fleet.target(named: "db1")
        let db2 = fleet.target(named: "db2")
        fleet.update([TargetConfig(name: "db1", dsn: "host=/nonexistent"), TargetConfig(name: "db2", dsn: "host=/elsewhere"),
                      TargetConfig(name: "db3", dsn: "host=/nonexistent")], logger: Logger(label: "test"))
        #expect(fleet.targets.map(\.name) == ["db1", "db2", "db3"])
        #expect(fleet.target(named: "db1") === db1, "unchanged: the same connections and scrape state")
        #expect(fleet.target(named: "db2") !== db2, "its DSN changed: built anew")
        // A label change keeps the target's connections, claims and rate limits.
        let kept = fleet.target(named: "db1")!
        fleet.update([TargetConfig(name: "db1", dsn: "host=/nonexistent", labels: ["env": "prod"]),
                      TargetConfig(name: "db3", dsn: "host=/nonexistent")], logger: Logger(label: "test"))
        #expect(fleet.target(named: "db1")?.config.labels == ["env": "prod"])
        #expect(fleet.target(named: "db1")?.scraper === kept.scraper)
        fleet.update([TargetConfig(name: "db3", dsn: "host=/nonexistent")], logger: Logger(label: "test"))
        #expect(fleet.targets.map(\.name) == ["db3"])
        #expect(fleet.target(named: "db1") == nil)
    }

    /// Every replica computes the same claim key for an alert; without a fingerprint the labels
    /// decide, whatever their order.
    @Test func claimKeysAreStable() {
        let a = AlertRef(alertname: "A", fingerprint: "3f2a9c0e1b7d6a55")
        #expect(ActionRunner.claimKey(a) == ActionRunner.claimKey(AlertRef(alertname: "other", fingerprint: "3f2a9c0e1b7d6a55")))
        #expect(ActionRunner.claimKey(a) != ActionRunner.claimKey(AlertRef(alertname: "A", fingerprint: "3f2a9c0e1b7d6a56")))
        // FNV-1a of "a", as a signed 32-bit value: fixed, so replicas of different builds agree.
        #expect(ActionRunner.claimKey(AlertRef(alertname: "", fingerprint: "a")) == Int32(bitPattern: 0xE40C292C))
        var l1: [String: String] = [:]
        l1["alertname"] = "A"; l1["instance"] = "db1"
        var l2: [String: String] = [:]
        l2["instance"] = "db1"; l2["alertname"] = "A"
        #expect(ActionRunner.claimKey(AlertRef(alertname: "A", fingerprint: "", labels: l1))
            == ActionRunner.claimKey(AlertRef(alertname: "A", fingerprint: "", labels: l2)))
        #expect(ActionRunner.claimKey(AlertRef(alertname: "A", fingerprint: "", labels: ["a": "b\0c"]))
            != ActionRunner.claimKey(AlertRef(alertname: "A", fingerprint: "", labels: ["a\0b": "c"])))
    }
}

/// Writes a small file (unit tests have no Foundation).
enum FileDescriptorWriter {
    @discardableResult
    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) } == text.utf8.count
    }
}
