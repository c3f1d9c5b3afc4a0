#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A policy file that cannot be used, with the line and key path of the problem when known.
public struct PolicyError: Error, CustomStringConvertible, Equatable {
    /// The file path (or `<input>`) the policy came from.
    public var source: String
    /// 1-based line of the problem, when known.
    public var line: Int?
    /// Key path of the problem, such as `rules[0].max_sessions_per_alert`, when known.
    public var key: String?
    /// What is wrong and, where it helps, what to write instead.
    public var message: String

    /// Creates an error; see the properties.
    public init(source: String, line: Int? = nil, key: String? = nil, message: String) {
        self.source = source
        self.line = line
        self.key = key
        self.message = message
    }

    /// `pgwarden.yml:12: rules[0].max_sessions_per_alert: must be a whole number >= 1, got "ten"`.
    public var description: String {
        var text = source
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}

/// Reads and validates the policy file (see examples/pgwarden.yml). Strict: unknown keys,
/// wrong types and values that would be ignored are errors, never silently accepted.
public enum PolicyLoader {
    /// Keys allowed at the top of the file.
    static let topLevelKeys = ["protected_roles", "dry_run", "rules", "targets"]
    /// Keys allowed in a rule.
    static let ruleKeys = [
        "name", "match", "action", "grace_period", "states", "min_state_age", "min_transaction_age",
        "databases", "exclude_databases", "roles", "exclude_roles", "application_names", "exclude_application_names",
        "client_addresses", "exclude_client_addresses", "only_blocking", "allow_superuser",
        "max_sessions_per_alert", "max_sessions_per_minute", "dry_run", "require_labels", "targets", "target_labels",
        "min_backend_age", "min_prepared_age", "owners", "exclude_owners", "gid_patterns", "exclude_gid_patterns",
        "max_transactions_per_alert", "max_transactions_per_minute",
    ]
    /// Keys allowed in a rule's `match`.
    static let matchKeys = ["alertname", "labels"]
    /// The states pg_stat_activity reports.
    static let sessionStates = SessionState.all
    /// Longest grace period accepted for cancel_then_terminate.
    static let maxGracePeriod: Duration = .seconds(600)

    /// Reads and parses the policy file at `path` (its rules are required).
    public static func load(path: String) throws(PolicyError) -> Policy {
        try parse(readFile(path), source: path)
    }

    /// Parses and validates a policy written in YAML; `source` names it in errors. The file must
    /// hold rules (a targets-only file is a `ConfigFile`, not a policy).
    public static func parse(_ yaml: String, source: String = "<input>") throws(PolicyError) -> Policy {
        let config = try parseConfig(yaml, source: source)
        guard config.hasRules else {
            throw PolicyError(source: source, key: "rules", message: "no rules: add a rules list (see examples/pgwarden.yml)")
        }
        return config.policy
    }

    /// Reads and parses `--config.file`: its targets, its rules, or both.
    public static func loadConfig(path: String) throws(PolicyError) -> ConfigFile {
        try parseConfig(readFile(path), source: path)
    }

    /// Parses and validates a config file: `targets` (fleet mode), `rules` (the webhook's
    /// policy), or both; at least one of them.
    public static func parseConfig(_ yaml: String, source: String = "<input>") throws(PolicyError) -> ConfigFile {
        let document: YAMLNode?
        do {
            document = try YAMLReader.parse(yaml)
        } catch {
            throw syntaxError(error, source: source)
        }
        guard let root = document, !root.isNull else {
            throw PolicyError(source: source, key: "rules",
                              message: "no rules: the policy is empty; add a rules list (see examples/pgwarden.yml)")
        }
        let top = try PolicyFields(root, path: "", source: source, allowed: topLevelKeys)
        var config = ConfigFile()
        if let targetsNode = top.node("targets") {
            config.targets = try parseTargets(targetsNode, top: top, source: source)
        }
        config.policy.protectedRoles = try top.strings("protected_roles") ?? []
        config.policy.dryRun = try top.bool("dry_run") ?? false
        guard let rulesNode = top.node("rules") else {
            if !config.targets.isEmpty {
                for key in ["protected_roles", "dry_run"] where top.node(key) != nil {
                    throw top.error(key, top.node(key), "only applies to rules, and this file has none; add rules or remove \(key)")
                }
                return config
            }
            throw top.error("rules", nil, "no rules: add a rules list (see examples/pgwarden.yml)")
        }
        guard case let .sequence(ruleNodes) = rulesNode.content else {
            throw top.error("rules", rulesNode, "must be a non-empty list of rules, got \(PolicyFields.describe(rulesNode))")
        }
        guard !ruleNodes.isEmpty else { throw top.error("rules", rulesNode, "no rules: the list is empty") }
        var namesSeen: [String: Int] = [:]
        for (index, node) in ruleNodes.enumerated() {
            let rule = try parseRule(node, path: "rules[\(index)]", source: source)
            if let first = namesSeen[rule.name] {
                throw PolicyError(source: source, line: node["name"]?.line, key: "rules[\(index)].name",
                                  message: "\"\(rule.name)\" is already the name of rules[\(first)]; rule names must be unique")
            }
            namesSeen[rule.name] = index
            config.policy.rules.append(rule)
        }
        try checkRuleTargets(config.policy, ruleNodes: ruleNodes, targets: config.targets, source: source)
        return config
    }

    /// One rule, validated.
    static func parseRule(_ node: YAMLNode, path: String, source: String) throws(PolicyError) -> Rule {
        let fields = try PolicyFields(node, path: path, source: source, allowed: ruleKeys)
        let name = try fields.requiredString("name", "name: a unique name for the rule")
        let matchNode = try fields.required("match", "match: {alertname: ...} naming the alert this rule answers")
        let match = try PolicyFields(matchNode, path: fields.path("match"), source: source, allowed: matchKeys)
        let alertname = try match.requiredString("alertname", "alertname: the alert this rule answers")
        let labels = try match.stringMap("labels") ?? [:]
        if labels["alertname"] != nil {
            throw match.error("labels", match.node("labels"), "must not contain alertname; use match.alertname")
        }
        let actions = KillAction.allCases.map(\.rawValue).joined(separator: ", ")
        let actionText = try fields.requiredString("action", "action: one of \(actions)")
        guard let action = KillAction(rawValue: actionText) else {
            throw fields.error("action", fields.node("action"), "must be one of \(actions), got \"\(actionText)\"")
        }
        var rule = Rule(name: name, match: AlertMatch(alertname: alertname, labels: labels), action: action)
        try checkKeysApply(fields, action: action)
        if let grace = try fields.duration("grace_period") {
            let graceNode = fields.node("grace_period")
            guard action == .cancelThenTerminate else {
                throw fields.error("grace_period", graceNode,
                                   "only applies to action cancel_then_terminate (this rule's action is \(action.rawValue)); remove it")
            }
            guard grace > .zero, grace <= maxGracePeriod else {
                throw fields.error("grace_period", graceNode, "must be more than 0 and at most 10m, got \(PolicyFields.describe(graceNode!))")
            }
            rule.gracePeriod = grace
        }
        if action == .rollbackPrepared {
            rule.prepared = try parsePreparedCriteria(fields)
            rule.maxSessionsPerAlert = try fields.int("max_transactions_per_alert", minimum: 1) ?? Rule.defaultMaxTransactionsPerAlert
            rule.maxSessionsPerMinute = try fields.int("max_transactions_per_minute", minimum: 1) ?? Rule.defaultMaxTransactionsPerMinute
        } else {
            rule.sessions = try parseCriteria(fields)
            rule.maxSessionsPerAlert = try fields.int("max_sessions_per_alert", minimum: 1) ?? Rule.defaultMaxSessionsPerAlert
            rule.maxSessionsPerMinute = try fields.int("max_sessions_per_minute", minimum: 1) ?? Rule.defaultMaxSessionsPerMinute
        }
        rule.dryRun = try fields.bool("dry_run") ?? false
        rule.requireLabels = try fields.list("require_labels", includes: true) { (label, node, path) throws(PolicyError) in
            guard isLabelName(label) else {
                throw PolicyError(source: source, line: node.line, key: path,
                                  message: "\"\(label)\" is not a label name (letters, digits and _, not starting with a digit)")
            }
            return label
        } ?? []
        rule.targets = try fields.strings("targets", includes: true) ?? []
        rule.targetLabels = try fields.stringMap("target_labels") ?? [:]
        for key in rule.targetLabels.keys where !isLabelName(key) {
            throw fields.error("target_labels", fields.node("target_labels"),
                               "\(JSONText.quote(key)) is not a label name (letters, digits and _, not starting with a digit)")
        }
        return rule
    }

    /// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    public static func isLabelName(_ text: String) -> Bool {
        guard let first = text.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }
    }

    /// What a valid policy may still get wrong, for the log at load and reload: a rule whose own
    /// filters name no database, role, application or client address, requires no label, and so
    /// reaches every session its states allow when an alert lacks the labels that would narrow it.
    public static func warnings(_ policy: Policy) -> [String] {
        policy.rules.enumerated().compactMap { index, rule in
            if rule.action == .rollbackPrepared { return preparedWarning(index, rule) }
            let c = rule.sessions
            let narrow = !c.databases.include.isEmpty || !c.roles.include.isEmpty || !c.applicationNames.include.isEmpty
                || !c.clientAddresses.isEmpty
            guard !narrow, rule.requireLabels.isEmpty else { return nil }
            return "rules[\(index)] (\(rule.name)): its own filters name no database, role, application or client address, "
                + "and it requires no label: an alert without datname or usename acts on the sessions of every database "
                + "and role; add require_labels (e.g. [datname, usename])"
        }
    }

    /// Rules whose `target_labels` fit none of the file's targets: they can never act (a typo, or
    /// a rule meant for another shard's file).
    public static func targetWarnings(_ config: ConfigFile) -> [String] {
        guard !config.targets.isEmpty else { return [] }
        return config.policy.rules.enumerated().compactMap { index, rule in
            guard !rule.targetLabels.isEmpty, !config.targets.contains(where: rule.applies) else { return nil }
            return "rules[\(index)] (\(rule.name)): its target_labels fit none of the targets, so it never acts"
        }
    }

    /// The session selection keys of a rule.
    static func parseCriteria(_ fields: PolicyFields) throws(PolicyError) -> SessionCriteria {
        var criteria = SessionCriteria()
        criteria.states = try fields.list("states", includes: true) { (state, node, path) throws(PolicyError) in
            guard sessionStates.contains(state) else {
                let allowed = sessionStates.map { "\"\($0)\"" }.joined(separator: ", ")
                throw PolicyError(source: fields.source, line: node.line, key: path,
                                  message: "must be one of \(allowed), got \"\(state)\"")
            }
            return state
        } ?? []
        criteria.minStateAge = try fields.age("min_state_age")
        criteria.minTransactionAge = try fields.age("min_transaction_age")
        criteria.minBackendAge = try fields.age("min_backend_age")
        criteria.databases = try fields.nameFilter("databases")
        criteria.roles = try fields.nameFilter("roles")
        criteria.applicationNames = try fields.nameFilter("application_names")
        criteria.clientAddresses = try cidrs(fields, "client_addresses", includes: true)
        criteria.excludeClientAddresses = try cidrs(fields, "exclude_client_addresses")
        criteria.onlyBlocking = try fields.bool("only_blocking") ?? false
        criteria.allowSuperuser = try fields.bool("allow_superuser") ?? false
        return criteria
    }

    /// A list of CIDR ranges (non-empty when `includes`).
    static func cidrs(_ fields: PolicyFields, _ key: String, includes: Bool = false) throws(PolicyError) -> [CIDR] {
        try fields.parsedList(key, includes: includes, CIDR.parse) { _, problem in problem.description }
    }

    /// A YAML syntax error as a PolicyError at its line; a key written twice names the key.
    static func syntaxError(_ error: YAMLError, source: String) -> PolicyError {
        if let key = error.duplicateKey {
            return PolicyError(source: source, line: error.line, key: key,
                               message: "key appears more than once in the same mapping (first here); keep one")
        }
        return PolicyError(source: source, line: error.line, message: "invalid YAML: \(error.message)")
    }

    /// The whole file as UTF-8 text, or an error saying why it cannot be read and what to do.
    static func readFile(_ path: String) throws(PolicyError) -> String {
        let bytes: [UInt8]
        switch readWholeFile(path, limit: maxConfigFileBytes) {
        case .success(let read): bytes = read
        case .failure(let problem): throw fileError(path, problem)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError(source: path, message: "cannot read the policy file: it is not UTF-8 text")
        }
        return text
    }

    /// A file error named in plain words, with the remedy.
    static func fileError(_ path: String, _ problem: FileReadProblem) -> PolicyError {
        let remedy: String
        switch problem.errno {
        case ENOENT: remedy = "check --config.file (examples/pgwarden.yml is a starting point)"
        case EACCES: remedy = "make it readable by the user pgwarden runs as"
        default: remedy = "check --config.file"
        }
        return PolicyError(source: path, message: "cannot read the policy file: \(problem.reason); \(remedy)")
    }
}
