extension PolicyLoader {
    /// Keys that select sessions, which a rollback_prepared rule does not have.
    static let sessionOnlyKeys = [
        "states", "min_state_age", "min_transaction_age", "min_backend_age", "roles", "exclude_roles",
        "application_names", "exclude_application_names", "client_addresses", "exclude_client_addresses",
        "only_blocking", "max_sessions_per_alert", "max_sessions_per_minute",
    ]
    /// Keys of rollback_prepared rules only.
    static let preparedOnlyKeys = [
        "min_prepared_age", "owners", "exclude_owners", "gid_patterns", "exclude_gid_patterns",
        "max_transactions_per_alert", "max_transactions_per_minute",
    ]
    /// The key a rollback_prepared rule has instead of a session rule's, for the hint.
    static let preparedCounterpart = [
        "roles": "owners", "exclude_roles": "exclude_owners", "min_state_age": "min_prepared_age",
        "min_transaction_age": "min_prepared_age", "min_backend_age": "min_prepared_age",
        "max_sessions_per_alert": "max_transactions_per_alert", "max_sessions_per_minute": "max_transactions_per_minute",
    ]

    /// Refuses the keys that do not apply to a rule of `action`: a key that would be ignored is
    /// a misunderstanding of what the rule does.
    static func checkKeysApply(_ fields: PolicyFields, action: KillAction) throws(PolicyError) {
        if action == .rollbackPrepared {
            for key in sessionOnlyKeys + ["grace_period"] {
                guard let node = fields.node(key) else { continue }
                let instead = preparedCounterpart[key].map { " (it has \($0) instead)" } ?? ""
                throw fields.error(key, node, "does not apply to action rollback_prepared, which selects prepared transactions, "
                    + "not sessions\(instead); remove it")
            }
        } else {
            for key in preparedOnlyKeys {
                guard let node = fields.node(key) else { continue }
                throw fields.error(key, node, "only applies to action rollback_prepared (this rule's action is "
                    + "\(action.rawValue)); remove it")
            }
        }
    }

    /// The selection keys of a rollback_prepared rule. `min_prepared_age` is required and more
    /// than 0: a prepared transaction is young while its transaction manager is still committing it.
    static func parsePreparedCriteria(_ fields: PolicyFields) throws(PolicyError) -> PreparedCriteria {
        var criteria = PreparedCriteria()
        _ = try fields.required("min_prepared_age", "min_prepared_age: how long ago a transaction must have been prepared "
            + "(e.g. 30m), so that one a transaction manager is still committing is never rolled back")
        guard let age = try fields.age("min_prepared_age"), age > .zero else {
            throw fields.error("min_prepared_age", fields.node("min_prepared_age"), "must be more than 0")
        }
        criteria.minPreparedAge = age
        criteria.databases = try fields.nameFilter("databases")
        criteria.owners = try fields.nameFilter("owners")
        criteria.gidPatterns = try patterns(fields, "gid_patterns", includes: true)
        criteria.excludeGidPatterns = try patterns(fields, "exclude_gid_patterns")
        criteria.allowSuperuser = try fields.bool("allow_superuser") ?? false
        return criteria
    }

    /// A list of gid patterns (non-empty when `includes`), each checked by `GlobPattern.parse`.
    static func patterns(_ fields: PolicyFields, _ key: String, includes: Bool = false) throws(PolicyError) -> [GlobPattern] {
        try fields.parsedList(key, includes: includes, GlobPattern.parse) { text, problem in
            "\(AlertAddress.shown(text)) is not a gid pattern: it \(problem.message)"
        }
    }

    /// The warning for a rollback_prepared rule that names no database, owner or gid pattern and
    /// requires no label: an alert without datname or owner reaches every prepared transaction.
    static func preparedWarning(_ index: Int, _ rule: Rule) -> String? {
        let c = rule.prepared
        guard c.databases.include.isEmpty, c.owners.include.isEmpty, c.gidPatterns.isEmpty, rule.requireLabels.isEmpty else {
            return nil
        }
        return "rules[\(index)] (\(rule.name)): its own filters name no database, owner or gid pattern, and it requires no "
            + "label: an alert without datname or owner acts on the prepared transactions of every database and owner; "
            + "add require_labels (e.g. [datname, owner])"
    }
}
