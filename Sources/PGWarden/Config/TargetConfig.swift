/// One PostgreSQL server of the fleet, as the `targets:` list of `--config.file` names it.
public struct TargetConfig: Sendable, Equatable {
    /// The target's identity: `/probe?target=NAME`, the alerts' target label, `--target NAME`.
    public var name: String
    /// libpq connection string or URI.
    public var dsn: String
    /// A file holding the password, read again on every connection (rotation needs no reload).
    public var passwordFile: String?
    /// Labels for service discovery (`/targets`) and rules' `target_labels`.
    public var labels: [String: String]

    public init(name: String, dsn: String, passwordFile: String? = nil, labels: [String: String] = [:]) {
        self.name = name
        self.dsn = dsn
        self.passwordFile = passwordFile
        self.labels = labels
    }

    /// Longest target name accepted.
    public static let maxNameBytes = 128
    /// Most targets one file may list.
    public static let maxTargets = 10_000

    /// Why `name` cannot be a target name, or nil when it can: 1 to 128 ASCII letters, digits and
    /// `.` `_` `-` `:`, starting with a letter or digit. A name travels as a label value, a URL
    /// parameter and a command-line argument, and is compared byte for byte: an ASCII-only name
    /// has no look-alike spelling (no NFC/NFD pair, no invisible character, no homoglyph).
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maxNameBytes { return "is longer than \(maxNameBytes) bytes" }
        if let bad = name.unicodeScalars.first(where: { !isNameScalar($0) }) {
            return "contains \(TargetIdentity.codePoint(bad)) (\(JSONText.quote(String(bad)))); a target name is ASCII letters, "
                + "digits, '.', '_', '-' and ':' only, so no two names can look alike"
        }
        if let first = name.unicodeScalars.first, [".", "_", "-", ":"].contains(first) {
            return "must start with a letter or digit"
        }
        return nil
    }

    static func isNameScalar(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-" || s == ":"
    }

    /// Why a target's DSN does not name exactly one server, or nil when it does: a target is one
    /// server, and its scrape and action connections (and every replica's) must all reach that
    /// one. Without host, hostaddr or service, libpq would follow PGHOST or the local socket of
    /// wherever pgwarden runs; with several hosts, each connection could land on another.
    static func endpointProblem(_ values: [String: String]) -> String? {
        let host = values["host"] ?? "", hostaddr = values["hostaddr"] ?? "", service = values["service"] ?? ""
        if host.isEmpty && hostaddr.isEmpty && service.isEmpty {
            return "names no server: give host= (or hostaddr=, or service=) in the DSN, so the target does not depend on "
                + "PGHOST or on where pgwarden runs"
        }
        if host.contains(",") || hostaddr.contains(",") || (values["port"] ?? "").contains(",") {
            return "lists several hosts; a target is one server (its scrapes, actions and replicas must all reach the same one): "
                + "make one target per host"
        }
        return nil
    }

    /// Label names a target may not set: Prometheus reserves `__` names, and `instance` and `job`
    /// are set by the scrape configuration (the relabelling sets `instance` to the target's name).
    static func labelNameProblem(_ name: String) -> String? {
        if !PolicyLoader.isLabelName(name) { return "is not a label name (letters, digits and _, not starting with a digit)" }
        if name.hasPrefix("__") { return "starts with __, which Prometheus reserves" }
        if name == "instance" || name == "job" { return "is set by Prometheus (job) or by the relabelling (instance); remove it" }
        return nil
    }
}

extension PolicyLoader {
    /// Keys allowed in a target.
    static let targetKeys = ["name", "dsn", "password_file", "labels"]

    /// The `targets:` list, validated: unique names, label-safe, DSNs that libpq can parse.
    static func parseTargets(_ node: YAMLNode, top: PolicyFields, source: String) throws(PolicyError) -> [TargetConfig] {
        guard case let .sequence(items) = node.content else {
            throw top.error("targets", node, "must be a list of targets ({name, dsn}), got \(PolicyFields.describe(node))")
        }
        guard !items.isEmpty else {
            throw top.error("targets", node, "is empty; list at least one target, or remove the key and use --dsn")
        }
        guard items.count <= TargetConfig.maxTargets else {
            throw top.error("targets", node, "lists \(items.count) targets; at most \(TargetConfig.maxTargets) are accepted in one file")
        }
        var targets: [TargetConfig] = []
        var seen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path = "targets[\(index)]"
            let fields = try PolicyFields(item, path: path, source: source, allowed: targetKeys)
            let name = try fields.requiredString("name", "name: the target's name, as its alerts' instance label carries it")
            if let problem = TargetConfig.nameProblem(name) {
                throw fields.error("name", fields.node("name"), "\(JSONText.quote(name)) \(problem)")
            }
            if let first = seen[name] {
                throw fields.error("name", fields.node("name"), "\"\(name)\" is already the name of targets[\(first)]; target names must be unique")
            }
            seen[name] = index
            let dsn = try fields.requiredString("dsn", "dsn: a libpq connection string, like \"host=db1 dbname=postgres user=pgwarden\"")
            if dsn.utf8.contains(0) {
                throw fields.error("dsn", fields.node("dsn"), "contains NUL, which a connection string cannot hold")
            }
            if let problem = PGConnection.dsnProblem(dsn) {
                throw fields.error("dsn", fields.node("dsn"), problem)
            }
            if let problem = TargetConfig.endpointProblem(PGConnection.dsnValues(dsn) ?? [:]) {
                throw fields.error("dsn", fields.node("dsn"), problem)
            }
            var target = TargetConfig(name: name, dsn: dsn)
            if let file = try fields.string("password_file") {
                do {
                    _ = try readSecretFile(file, flag: "password_file")
                } catch {
                    throw fields.error("password_file", fields.node("password_file"), "\(error)")
                }
                if (try? PGConnection.checkedPassword(dsn)) != nil {
                    throw fields.error("password_file", fields.node("password_file"),
                                       "the dsn carries a password too; keep one of them (password_file, so the config file holds no secret)")
                }
                target.passwordFile = file
            }
            let labels = try fields.stringMap("labels") ?? [:]
            for (key, value) in labels {
                if let problem = TargetConfig.labelNameProblem(key) {
                    throw fields.error("labels", fields.node("labels"), "\(JSONText.quote(key)) \(problem)")
                }
                if let bad = value.unicodeScalars.first(where: PolicyFields.isInvisible) {
                    throw fields.error("labels", fields.node("labels"),
                                       "the value of \(key) contains \(TargetIdentity.codePoint(bad)), a control, format or separator character")
                }
            }
            target.labels = labels
            targets.append(target)
        }
        return targets
    }

    /// Checks the rules' target scopes against the targets: every name in `targets` must be a
    /// target of the file; without targets in the file no rule may have a target scope.
    static func checkRuleTargets(_ policy: Policy, ruleNodes: [YAMLNode], targets: [TargetConfig],
                                 source: String) throws(PolicyError) {
        let names = targets.map(\.name)
        for (index, rule) in policy.rules.enumerated() {
            let node = ruleNodes[index]
            for key in ["targets", "target_labels"] where node[key] != nil {
                if targets.isEmpty {
                    throw PolicyError(source: source, line: node[key]?.line, key: "rules[\(index)].\(key)",
                                      message: "this file lists no targets; with --dsn pgwarden acts on one server, so a rule "
                                          + "cannot choose targets (add a targets list, or remove \(key))")
                }
            }
            for (position, name) in rule.targets.enumerated() where !names.contains(name) {
                let hint = PolicyFields.suggestion(for: name, among: names).map { "; did you mean \($0)?" } ?? ""
                throw PolicyError(source: source, line: node["targets"]?.line, key: "rules[\(index)].targets[\(position)]",
                                  message: "\(JSONText.quote(name)) is not one of the targets of this file\(hint)")
            }
        }
    }
}
