import Foundation
import Testing
@testable import PGWarden

/// One policy of the corpus, and what the loader made of it when the corpus was recorded.
struct PolicyCorpusEntry: Codable, Sendable, CustomTestStringConvertible {
    var yaml: String
    var expect: String
    var testDescription: String { String(yaml.prefix(60)) }
}

/// What the loader makes of a policy text, in a form that can be compared and stored.
enum PolicyOutcome {
    /// `ok …` with every field of the policy, or `error …` with the line and key path
    /// (`syntax` for YAML that cannot be read at all).
    static func of(_ yaml: String) -> String {
        do {
            return "ok " + describe(try PolicyLoader.parse(yaml))
        } catch {
            if error.key == nil && error.message.hasPrefix("invalid YAML") { return "error syntax" }
            return "error line=\(error.line.map(String.init) ?? "-") key=\(error.key ?? "-")"
        }
    }

    static func describe(_ policy: Policy) -> String {
        var parts = ["protected=\(policy.protectedRoles)", "dry_run=\(policy.dryRun)"]
        for rule in policy.rules {
            let s = rule.sessions
            parts.append("rule{name=\(rule.name) alert=\(rule.match.alertname) labels=\(rule.match.labels.sorted { $0.key < $1.key })"
                + " action=\(rule.action.rawValue) grace=\(rule.gracePeriod) states=\(s.states)"
                + " min_state_age=\(s.minStateAge.map { "\($0)" } ?? "-") min_tx_age=\(s.minTransactionAge.map { "\($0)" } ?? "-")"
                + " db=\(s.databases.include)/\(s.databases.exclude) roles=\(s.roles.include)/\(s.roles.exclude)"
                + " apps=\(s.applicationNames.include)/\(s.applicationNames.exclude)"
                + " addrs=\(s.clientAddresses.map(\.description))/\(s.excludeClientAddresses.map(\.description))"
                + " only_blocking=\(s.onlyBlocking) allow_superuser=\(s.allowSuperuser)"
                + " caps=\(rule.maxSessionsPerAlert)/\(rule.maxSessionsPerMinute) dry_run=\(rule.dryRun)}")
        }
        return parts.joined(separator: " ")
    }
}

/// The differential test of the YAML reader: every policy the test suites and examples/ gave the
/// loader (72 texts from a full `make test`, random names made fixed, plus examples/pgwarden.yml)
/// was recorded with what the hand-written reader made of it, before libyaml replaced it. Each must
/// load to the same policy now, or be refused at the same line and key (YAML that could not be read
/// at all must still be refused, at whatever position libyaml names).
@Suite("Policy corpus: libyaml reads every recorded policy as the old reader did")
struct PolicyCorpusTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let entries: [PolicyCorpusEntry] = {
        let data = (try? Data(contentsOf: fixtures.appendingPathComponent("policy-corpus.json"))) ?? Data()
        return (try? JSONDecoder().decode([PolicyCorpusEntry].self, from: data)) ?? []
    }()

    @Test func corpusIsThere() {
        #expect(Self.entries.count >= 70)
        #expect(Self.entries.contains { $0.expect.hasPrefix("ok") } && Self.entries.contains { $0.expect.hasPrefix("error") })
    }

    @Test(arguments: entries)
    func sameOutcome(_ entry: PolicyCorpusEntry) {
        let now = PolicyOutcome.of(entry.yaml)
        if entry.expect == "error syntax" {
            // libyaml may read further before refusing (an unclosed quote runs on to the next quote);
            // the loader must still refuse the policy.
            #expect(now.hasPrefix("error"), "\(now)")
        } else {
            #expect(now == entry.expect)
        }
    }

    /// The example policy as it is today loads as it did when the corpus was recorded: the
    /// recorded rules unchanged, in the same order; rules added after them (the rollback_prepared
    /// rule of issue 15) are not part of the record.
    @Test func examplePolicyUnchanged() throws {
        let example = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/pgwarden.yml")
        let text = try String(contentsOf: example, encoding: .utf8)
        let recorded = try #require(Self.entries.first)
        let now = PolicyOutcome.of(text)
        #expect(now.hasPrefix(recorded.expect + " rule{"), "\(now)")
    }
}
