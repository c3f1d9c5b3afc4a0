import Testing
@testable import PGWarden

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A policy that must be refused, and where the error must point.
struct BadPolicy: Sendable, CustomTestStringConvertible {
    let label: String
    let yaml: String
    let line: Int?
    let key: String?
    /// Text the error message must contain.
    let message: String
    var testDescription: String { label }

    /// A one-rule policy (name, match, action on lines 2-4) followed by `extra` from line 5.
    static func rule(_ label: String, _ extra: String, line: Int? = 5, key: String?, _ message: String,
                     action: String = "terminate") -> BadPolicy {
        let yaml = """
            rules:
              - name: r
                match: {alertname: A}
                action: \(action)
            \(extra)
            """
        return BadPolicy(label: label, yaml: yaml, line: line, key: key, message: message)
    }

    /// A one-rule rollback_prepared policy with `min_prepared_age: 1h` on line 5, then `extra`
    /// from line 6.
    static func prepared(_ label: String, _ extra: String, line: Int? = 6, key: String?, _ message: String) -> BadPolicy {
        rule(label, "    min_prepared_age: 1h\n" + extra, line: line, key: key, message, action: "rollback_prepared")
    }

    /// Expects the loader to refuse `yaml`, naming the file, line and key, and saying `message`.
    func expectRefused() {
        #expect {
            try PolicyLoader.parse(yaml, source: "pgwarden.yml")
        } throws: { error in
            guard let error = error as? PolicyError else { return false }
            #expect(error.source == "pgwarden.yml")
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            return true
        }
    }
}

@Suite("PolicyLoader")
struct PolicyLoaderTests {
    static let full = """
        # every key
        protected_roles: [postgres, replicator, 123]
        dry_run: true
        rules:
          - name: everything
            match:
              alertname: PostgresLongRunningQuery
              labels: {severity: warning, team: "db"}
            action: cancel_then_terminate
            grace_period: 1m30s
            states: [active, "idle in transaction"]
            min_state_age: 5m
            min_transaction_age: 500ms
            databases: [app, 42]
            exclude_databases: [postgres]
            roles: [app_rw]
            exclude_roles: [batch]
            application_names: [api]
            exclude_application_names: [pg_dump, pgwarden]
            client_addresses:
              - 10.0.0.0/8
              - fd00::/8
              - 192.168.1.10
            exclude_client_addresses: [10.1.0.0/16]
            only_blocking: true
            allow_superuser: True
            max_sessions_per_alert: 3
            max_sessions_per_minute: 30
            dry_run: false
          - name: defaults
            match: {alertname: PostgresIdleInTransactionTooLong}
            action: terminate
        """

    @Test func fullPolicyParsesExactly() throws {
        let everything = Rule(
            name: "everything",
            match: AlertMatch(alertname: "PostgresLongRunningQuery", labels: ["severity": "warning", "team": "db"]),
            action: .cancelThenTerminate,
            gracePeriod: .seconds(90),
            sessions: SessionCriteria(
                states: ["active", "idle in transaction"],
                minStateAge: .seconds(300),
                minTransactionAge: .milliseconds(500),
                databases: NameFilter(include: ["app", "42"], exclude: ["postgres"]),
                roles: NameFilter(include: ["app_rw"], exclude: ["batch"]),
                applicationNames: NameFilter(include: ["api"], exclude: ["pg_dump", "pgwarden"]),
                clientAddresses: [try #require(CIDR("10.0.0.0/8")), try #require(CIDR("fd00::/8")),
                                  try #require(CIDR("192.168.1.10/32"))],
                excludeClientAddresses: [try #require(CIDR("10.1.0.0/16"))],
                onlyBlocking: true,
                allowSuperuser: true),
            maxSessionsPerAlert: 3,
            maxSessionsPerMinute: 30,
            dryRun: false)
        let defaults = Rule(name: "defaults", match: AlertMatch(alertname: "PostgresIdleInTransactionTooLong"),
                            action: .terminate)
        let expected = Policy(protectedRoles: ["postgres", "replicator", "123"], dryRun: true,
                              rules: [everything, defaults])
        let policy = try PolicyLoader.parse(Self.full)
        #expect(policy.rules.first == everything)
        #expect(policy == expected)
    }

    @Test func defaultsApply() throws {
        let policy = try PolicyLoader.parse("rules: [{name: a, match: {alertname: A}, action: cancel}]")
        #expect(policy.protectedRoles.isEmpty)
        #expect(policy.dryRun == false)
        let rule = try #require(policy.rules.first)
        #expect(rule.gracePeriod == Rule.defaultGracePeriod)
        #expect(rule.maxSessionsPerAlert == Rule.defaultMaxSessionsPerAlert)
        #expect(rule.maxSessionsPerMinute == Rule.defaultMaxSessionsPerMinute)
        #expect(rule.dryRun == false)
        #expect(rule.sessions == SessionCriteria())
        #expect(rule.match.labels.isEmpty)
    }

    @Test func graceEmptyExcludesAndAliases() throws {
        let policy = try PolicyLoader.parse("""
            protected_roles: []
            rules:
              - {name: a, match: {alertname: A}, action: cancel_then_terminate, grace_period: 10m, exclude_roles: []}
              - name: b
                match: {alertname: B}
                action: cancel
                exclude_application_names: &tools [pg_dump, pgwarden]
              - name: c
                match: {alertname: C}
                action: cancel
                exclude_application_names: *tools
            """)
        #expect(policy.rules[0].gracePeriod == .seconds(600))
        #expect(policy.rules[0].sessions == SessionCriteria())
        #expect(policy.rules[2].sessions.applicationNames.exclude == ["pg_dump", "pgwarden"])
    }

    static let badPolicies: [BadPolicy] = [
        .rule("int as word", "    max_sessions_per_alert: ten", key: "rules[0].max_sessions_per_alert",
              "must be a whole number >= 1, got \"ten\""),
        .rule("int zero", "    max_sessions_per_alert: 0", key: "rules[0].max_sessions_per_alert", ">= 1, got \"0\""),
        .rule("int float", "    max_sessions_per_minute: 1.5", key: "rules[0].max_sessions_per_minute", "whole number"),
        .rule("int quoted", "    max_sessions_per_minute: \"5\"", key: "rules[0].max_sessions_per_minute",
              "whole number >= 1, got \"5\" (quoted, so text: remove the quotes)"),
        .rule("bool yes", "    dry_run: yes", key: "rules[0].dry_run", "yes/no/on/off are not accepted"),
        .rule("bool quoted", "    only_blocking: 'true'", key: "rules[0].only_blocking", "must be true or false, got \"true\" (quoted"),
        .rule("bool list", "    allow_superuser: [true]", key: "rules[0].allow_superuser", "got a list"),
        .rule("unknown action", "", line: 4, key: "rules[0].action",
              "must be one of cancel, terminate, cancel_then_terminate, rollback_prepared, got \"kill\"", action: "kill"),
        .rule("unknown rule key", "    max_session_per_alert: 3", key: "rules[0].max_session_per_alert",
              "unknown key; did you mean max_sessions_per_alert? allowed keys: name, match, action"),
        BadPolicy(label: "unknown match key", yaml: "rules:\n  - name: a\n    action: cancel\n    match:\n      alertnme: A\n",
                  line: 5, key: "rules[0].match.alertnme", message: "did you mean alertname? allowed keys: alertname, labels"),
        .rule("state unknown", "    states: [idle, waiting]", key: "rules[0].states[1]",
              "\"idle in transaction (aborted)\", \"fastpath function call\", \"disabled\", got \"waiting\""),
        .rule("state not a list", "    states: idle", key: "rules[0].states", "must be a list"),
        .rule("state list of lists", "    states:\n      - [idle]", line: 6, key: "rules[0].states[0]",
              "must be a single value, got a list"),
        .rule("duration words", "    min_state_age: 10 minutes", key: "rules[0].min_state_age",
              "write it like 500ms, 30s, 10m"),
        .rule("duration number", "    min_transaction_age: 600", key: "rules[0].min_transaction_age", "got \"600\""),
        .rule("grace on terminate", "    grace_period: 30s", key: "rules[0].grace_period",
              "only applies to action cancel_then_terminate (this rule's action is terminate)"),
        .rule("grace too long", "    grace_period: 11m", key: "rules[0].grace_period", "at most 10m",
              action: "cancel_then_terminate"),
        .rule("grace zero", "    grace_period: 0s", key: "rules[0].grace_period", "more than 0",
              action: "cancel_then_terminate"),
        .rule("require_labels empty", "    require_labels: []", key: "rules[0].require_labels", "is empty"),
        .rule("require_labels scalar", "    require_labels: usename", key: "rules[0].require_labels", "must be a list"),
        .rule("require_labels dash", "    require_labels: [data-name]", key: "rules[0].require_labels[0]", "is not a label name"),
        .rule("require_labels digit", "    require_labels: [1st]", key: "rules[0].require_labels[0]", "is not a label name"),
        .rule("require_labels unicode", "    require_labels: [us\u{0435}name]", key: "rules[0].require_labels[0]", "is not a label name"),
        .rule("cidr prefix", "    client_addresses: [10.0.0.0/33]", key: "rules[0].client_addresses[0]",
              "the prefix must be a number from 0 to 32"),
        .rule("cidr not an address", "    client_addresses: [10.0.0.256/8]", key: "rules[0].client_addresses[0]",
              "like 10.0.0.0/8"),
        .rule("cidr host bits", "    exclude_client_addresses: [10.1.2.3/8]", key: "rules[0].exclude_client_addresses[0]",
              "has bits set right of its /8 prefix; write the network, 10.0.0.0/8"),
        .rule("cidr scalar", "    exclude_client_addresses: 10.0.0.0/8", key: "rules[0].exclude_client_addresses",
              "must be a list"),
        .rule("empty include list", "    roles: []", key: "rules[0].roles", "is empty, which would mean any"),
        .rule("empty states", "    states: []", key: "rules[0].states", "is empty, which would mean any"),
        .rule("empty client addresses", "    client_addresses: []", key: "rules[0].client_addresses", "would mean any"),
        .rule("merge key", "    <<: {roles: [a]}", key: "rules[0].<<", "unknown key"),
        .rule("list empty value", "    exclude_roles:", key: "rules[0].exclude_roles", "must be a list, like [a, b], got nothing"),
        .rule("empty list item", "    roles: [app, \"\"]", key: "rules[0].roles[1]", "must not be empty"),
        BadPolicy(label: "labels alertname", yaml: "rules:\n  - name: a\n    action: cancel\n    match:\n      alertname: A\n      labels: {alertname: B}\n",
                  line: 6, key: "rules[0].match.labels", message: "must not contain alertname"),
        .rule("duplicate key", "    max_sessions_per_alert: 1\n    max_sessions_per_alert: 2",
              key: "max_sessions_per_alert", "more than once"),
        BadPolicy(label: "missing name", yaml: "rules:\n  - match: {alertname: A}\n    action: cancel\n",
                  line: 2, key: "rules[0].name", message: "required key is missing"),
        BadPolicy(label: "missing action", yaml: "rules:\n  - name: a\n    match: {alertname: A}\n",
                  line: 2, key: "rules[0].action", message: "cancel, terminate, cancel_then_terminate"),
        BadPolicy(label: "missing match", yaml: "rules:\n  - name: a\n    action: cancel\n",
                  line: 2, key: "rules[0].match", message: "required key is missing"),
        BadPolicy(label: "missing alertname", yaml: "rules:\n  - name: a\n    action: cancel\n    match:\n      labels: {a: b}\n",
                  line: 5, key: "rules[0].match.alertname", message: "required key is missing"),
        BadPolicy(label: "label value list", yaml: "rules:\n  - name: a\n    action: cancel\n    match:\n      alertname: A\n      labels: {severity: [x]}\n",
                  line: 6, key: "rules[0].match.labels.severity", message: "must be a single value"),
        BadPolicy(label: "duplicate names",
                  yaml: "rules:\n  - {name: a, match: {alertname: A}, action: cancel}\n  - name: a\n    match: {alertname: B}\n    action: cancel\n",
                  line: 3, key: "rules[1].name", message: "already the name of rules[0]"),
        BadPolicy(label: "empty rules", yaml: "dry_run: true\nrules: []\n", line: 2, key: "rules", message: "no rules"),
        BadPolicy(label: "rules missing", yaml: "dry_run: true\n", line: 1, key: "rules", message: "no rules: add a rules list"),
        BadPolicy(label: "rules mapping", yaml: "rules:\n  name: a\n", line: 2, key: "rules", message: "must be a non-empty list"),
        BadPolicy(label: "rule scalar", yaml: "rules:\n  - idle\n", line: 2, key: "rules[0]", message: "must be a mapping"),
        BadPolicy(label: "empty file", yaml: "", line: nil, key: "rules", message: "no rules"),
        BadPolicy(label: "comments only", yaml: "# nothing yet\n", line: nil, key: "rules", message: "no rules"),
        BadPolicy(label: "unknown top key", yaml: "dry_run: false\nrule: []\n", line: 2, key: "rule",
                  message: "unknown key; did you mean rules? allowed keys: protected_roles, dry_run, rules"),
        BadPolicy(label: "top-level list", yaml: "- a\n- b\n", line: 1, key: nil, message: "must be a mapping"),
        BadPolicy(label: "protected scalar", yaml: "protected_roles: postgres\n", line: 1, key: "protected_roles",
                  message: "must be a list"),
        BadPolicy(label: "global dry_run no", yaml: "dry_run: no\n", line: 1, key: "dry_run", message: "true or false"),
        BadPolicy(label: "syntax: unclosed flow", yaml: "dry_run: false\nrules:\n  - {name: a, match: [\n", line: 4,
                  key: nil, message: "invalid YAML"),
        BadPolicy(label: "syntax: bad indent", yaml: "rules:\n  - name: a\n   action: x\n", line: 3, key: nil,
                  message: "invalid YAML"),
        BadPolicy(label: "syntax: tab", yaml: "rules:\n\t- name: a\n", line: 2, key: nil, message: "invalid YAML"),
        // An unclosed quote must not swallow the keys below it (here rule r's roles and the
        // start of rule r2), which would leave one rule without its limits. libyaml reads the
        // quote on to the next one; no value of a policy may span lines, so the loader refuses it.
        BadPolicy(label: "unclosed quote swallowing keys",
                  yaml: "rules:\n  - name: \"r\n    match: {alertname: A}\n    action: terminate\n    roles: [app]\n"
                      + "  - name: r2\"\n    match: {alertname: B}\n    action: cancel\n",
                  line: 2, key: "rules[0].name", message: "is written over several lines; a quote may be left open"),
        // Names: a missing comma or `- ` folds two names into one that matches nobody, which
        // would widen an exclude or protected list; blanks and control characters likewise.
        .rule("names folded in flow", "    exclude_roles: [postgres\n      admin]", key: "rules[0].exclude_roles[0]",
              "is written over several lines; a quote may be left open, or a comma or `- ` missing"),
        .rule("names folded in block", "    roles:\n      - app\n        reporting", line: 6, key: "rules[0].roles[0]",
              "is written over several lines"),
        BadPolicy(label: "protected folded", yaml: "protected_roles: [postgres\n  admin]\nrules:\n  - name: r\n    match: {alertname: A}\n    action: cancel\n",
                  line: 1, key: "protected_roles[0]", message: "is written over several lines"),
        .rule("name with blank", "    exclude_roles: [\" admin\"]", key: "rules[0].exclude_roles[0]",
              "\" admin\" starts or ends with a blank, so it would match no name"),
        .rule("name with control", "    databases: [\"app\\x00x\"]", key: "rules[0].databases[0]", "contains U+0000, a control"),
        .rule("name with tab", "    application_names: [\"a\\tb\"]", key: "rules[0].application_names[0]", "contains U+0009, a control"),
        .rule("name with NEL", "    roles: [\"a\\x85b\"]", key: "rules[0].roles[0]", "contains U+0085"),
        .rule("name with line separator", "    roles: [\"a\\u2028b\"]", key: "rules[0].roles[0]", "contains U+2028"),
        .rule("name with paragraph separator", "    exclude_roles: [\"a\\u2029b\"]", key: "rules[0].exclude_roles[0]", "contains U+2029"),
        .rule("name with zero-width space", "    databases: [\"app\\u200B\"]", key: "rules[0].databases[0]", "contains U+200B"),
        .rule("name with byte order mark", "    roles: [\"\\uFEFFapp\"]", key: "rules[0].roles[0]", "contains U+FEFF"),
        .rule("name with bidi override", "    roles: [\"ad\\u202Emin\"]", key: "rules[0].roles[0]", "contains U+202E"),
    ]

    /// U+2028, U+2029 and U+0085 are line breaks to libyaml, PyYAML and editors: the key after one
    /// is a key (it was part of a comment to the hand-written reader), and a list item after one
    /// is an item of its own (it was merged into the one before).
    @Test func unicodeLineBreaksBreakLinesAsInEveryYAMLTool() throws {
        for separator in ["\u{2028}", "\u{2029}", "\u{85}"] {
            let policy = try PolicyLoader.parse(
                "rules:\n  - name: r\n    match: {alertname: A}\n    action: cancel\n    # note\(separator)    roles: [app]\n")
            #expect(policy.rules[0].sessions.roles.include == ["app"], "separator U+\(String(separator.unicodeScalars.first!.value, radix: 16))")
            let protected = try PolicyLoader.parse(
                "protected_roles:\n  - admin\(separator)  - postgres\nrules: [{name: r, match: {alertname: A}, action: cancel}]\n")
            #expect(protected.protectedRoles == ["admin", "postgres"])
        }
    }

    @Test(arguments: badPolicies)
    func invalidPolicyNamesLineAndKey(_ bad: BadPolicy) {
        bad.expectRefused()
    }

    @Test func errorDescription() {
        #expect(throws: PolicyError(source: "<input>", line: 5, key: "rules[0].max_sessions_per_alert",
                                    message: "must be a whole number >= 1, got \"ten\"")) {
            try PolicyLoader.parse(Self.badPolicies[0].yaml)
        }
        let error = PolicyError(source: "pgwarden.yml", line: 12, key: "rules[0].max_sessions_per_alert",
                                message: "must be a whole number >= 1, got \"ten\"")
        #expect(error.description == "pgwarden.yml:12: rules[0].max_sessions_per_alert: must be a whole number >= 1, got \"ten\"")
        #expect(PolicyError(source: "p.yml", message: "m").description == "p.yml: m")
        #expect(PolicyError(source: "p.yml", line: 3, message: "m").description == "p.yml:3: m")
    }

    @Test func unreadableFiles() throws {
        let missing = "/nonexistent/pgwarden-policy.yml"
        #expect(throws: PolicyError.self) { try PolicyLoader.load(path: missing) }
        do {
            _ = try PolicyLoader.load(path: missing)
        } catch {
            #expect(error.source == missing)
            #expect(error.message.lowercased().contains("no such file"), "\(error)")
        }
        do {
            _ = try PolicyLoader.load(path: "/tmp")
            Issue.record("a directory must not load")
        } catch {
            #expect(error.message.contains("directory"), "\(error)")
        }
        #expect(PolicyLoader.fileError("x", Self.problem(EACCES)).message.lowercased().contains("permission denied"))

        let path = "/tmp/pgwarden-policy-test-\(getpid()).yml"
        defer { unlink(path) }
        let file = try #require(fopen(path, "wb"))
        let bytes: [UInt8] = Array("rules: [{name: \u{e9}".utf8) + [0xFF, 0xFE]
        fwrite(bytes, 1, bytes.count, file)
        fclose(file)
        #expect(throws: PolicyError(source: path, message: "cannot read the policy file: it is not UTF-8 text")) {
            try PolicyLoader.load(path: path)
        }
        if geteuid() != 0 {
            chmod(path, 0)
            #expect(throws: PolicyError(source: path, message: PolicyLoader.fileError(path, Self.problem(EACCES)).message)) {
                try PolicyLoader.load(path: path)
            }
        }
    }

    /// A read failure with errno `code`.
    static func problem(_ code: Int32) -> FileReadProblem {
        FileReadProblem(reason: String(cString: strerror(code)), errno: code)
    }

    /// The package root, from this file's path (Tests/PGWardenTests/PolicyLoaderTests.swift).
    static let packageRoot = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

    @Test func examplePolicyMatchesTheAlertRules() throws {
        let policy = try PolicyLoader.load(path: Self.packageRoot + "/examples/pgwarden.yml")
        let alerts = try PolicyLoader.readFile(Self.packageRoot + "/alerts/pgwarden.rules.yml")
        #expect(policy.rules.count == 6)
        #expect(policy.protectedRoles == ["postgres"])
        #expect(policy.dryRun == false)
        for rule in policy.rules {
            #expect(alerts.contains("alert: \(rule.match.alertname)\n"), "\(rule.name): no alert \(rule.match.alertname)")
            if rule.action == .rollbackPrepared { continue }
            #expect(rule.sessions.applicationNames.exclude.contains("pgwarden"), "\(rule.name)")
            #expect(!rule.sessions.allowSuperuser, "\(rule.name)")
        }
        let byName = Dictionary(uniqueKeysWithValues: policy.rules.map { ($0.name, $0) })
        let idle = try #require(byName["idle-in-transaction"])
        #expect(idle.action == .terminate && idle.sessions.minStateAge == .seconds(600) && idle.maxSessionsPerAlert == 10)
        let long = try #require(byName["long-running-query"])
        #expect(long.action == .cancelThenTerminate && long.gracePeriod == .seconds(30) && long.sessions.states == ["active"])
        let blockers = try #require(byName["idle-blockers"])
        #expect(blockers.sessions.onlyBlocking && blockers.sessions.minStateAge == .seconds(60))
        let overLimit = try #require(byName["role-over-connection-limit"])
        #expect(overLimit.sessions.states == ["idle"] && overLimit.maxSessionsPerAlert == 5)
        let nologin = try #require(byName["nologin-role-sessions"])
        #expect(nologin.dryRun && nologin.sessions.states.isEmpty)
        #expect(nologin.requireLabels == ["usename"] && overLimit.requireLabels == ["usename"])
        #expect([idle, long, blockers].allSatisfy { $0.requireLabels == ["datname", "usename"] })
        let prepared = try #require(byName["forgotten-prepared-transactions"])
        #expect(prepared.action == .rollbackPrepared && prepared.dryRun, "the prepared rule is shown in dry run")
        #expect(prepared.prepared.minPreparedAge == .seconds(1800) && !prepared.prepared.allowSuperuser)
        #expect(prepared.requireLabels == ["datname", "owner"] && prepared.maxSessionsPerAlert == 5)
        #expect(PolicyLoader.warnings(policy).isEmpty, "every example rule narrows itself or requires its labels")
    }

    @Test func requiredLabels() throws {
        let policy = try PolicyLoader.parse("rules: [{name: r, match: {alertname: A}, action: terminate, require_labels: [usename, datname]}]")
        let rule = policy.rules[0]
        #expect(rule.requireLabels == ["usename", "datname"])
        #expect(rule.missingLabels(["alertname": "A", "usename": "app", "datname": "shop"]).isEmpty)
        #expect(rule.missingLabels(["alertname": "A", "datname": "shop"]) == ["usename"])
        #expect(rule.missingLabels(["alertname": "A", "usename": "", "datname": "shop"]) == ["usename"], "empty counts as missing")
        #expect(rule.missingLabels([:]) == ["usename", "datname"])
        #expect(Rule(name: "n", match: AlertMatch(alertname: "A"), action: .cancel).missingLabels([:]).isEmpty)
    }

    /// A rule that reaches every database and role unless an alert narrows it, and requires no
    /// label, is valid but warned about; naming a database or role, or requiring labels, is not.
    @Test func broadRulesWithoutRequiredLabelsAreWarnedAbout() throws {
        let policy = try PolicyLoader.parse("""
            rules:
              - {name: broad, match: {alertname: A}, action: terminate, states: [idle]}
              - {name: required, match: {alertname: B}, action: terminate, require_labels: [usename]}
              - {name: named, match: {alertname: C}, action: terminate, roles: [app]}
              - {name: addressed, match: {alertname: D}, action: cancel, client_addresses: [10.0.0.0/8]}
            """)
        let warnings = PolicyLoader.warnings(policy)
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("rules[0] (broad): its own filters name no database, role") == true)
    }

    @Test func suggestions() {
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("abc", "") == 3)
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(PolicyFields.suggestion(for: "action", among: PolicyLoader.ruleKeys) == "action")
        #expect(PolicyFields.suggestion(for: "excludes_roles", among: PolicyLoader.ruleKeys) == "exclude_roles")
        #expect(PolicyFields.suggestion(for: "whatever", among: PolicyLoader.ruleKeys) == nil)
    }
}
