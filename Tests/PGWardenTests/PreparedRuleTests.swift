import Testing
@testable import PGWarden

/// rollback_prepared rules: the loader (keys, requirements, refusals), the selection in Swift
/// and its SQL, the planner and the rollback's re-check statement.
@Suite("rollback_prepared rules")
struct PreparedRuleTests {
    static let rule = """
        protected_roles: [postgres]
        rules:
          - name: forgotten
            match: {alertname: PostgresPreparedTransactionTooOld}
            action: rollback_prepared
            min_prepared_age: 30m
            databases: [shop]
            exclude_databases: [postgres]
            owners: [app]
            exclude_owners: [batch]
            gid_patterns: ["app-*", "tm-?-\\\\*"]
            exclude_gid_patterns: ["app-keep-*"]
            allow_superuser: true
            max_transactions_per_alert: 2
            max_transactions_per_minute: 7
            dry_run: true
            require_labels: [datname, owner]
        """

    @Test func everyKeyParses() throws {
        let policy = try PolicyLoader.parse(Self.rule)
        let rule = try #require(policy.rules.first)
        #expect(rule.action == .rollbackPrepared)
        let c = rule.prepared
        #expect(c.minPreparedAge == .seconds(1800))
        #expect(c.databases == NameFilter(include: ["shop"], exclude: ["postgres"]))
        #expect(c.owners == NameFilter(include: ["app"], exclude: ["batch"]))
        #expect(c.gidPatterns.map(\.text) == ["app-*", "tm-?-\\*"])
        #expect(c.excludeGidPatterns.map(\.text) == ["app-keep-*"])
        #expect(c.allowSuperuser)
        #expect(rule.maxSessionsPerAlert == 2 && rule.maxSessionsPerMinute == 7)
        #expect(rule.dryRun && rule.requireLabels == ["datname", "owner"])
        #expect(rule.sessions == SessionCriteria(), "a prepared rule selects no sessions")
        #expect(PolicyLoader.warnings(policy).isEmpty)
    }

    @Test func defaults() throws {
        let policy = try PolicyLoader.parse("rules: [{name: p, match: {alertname: P}, action: rollback_prepared, min_prepared_age: 1h}]")
        let rule = try #require(policy.rules.first)
        #expect(rule.maxSessionsPerAlert == Rule.defaultMaxTransactionsPerAlert)
        #expect(rule.maxSessionsPerMinute == Rule.defaultMaxTransactionsPerMinute)
        #expect(rule.prepared == PreparedCriteria(minPreparedAge: .seconds(3600)))
        #expect(!rule.dryRun)
        let warnings = PolicyLoader.warnings(policy)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("name no database, owner or gid pattern") == true)
    }

    static let bad: [BadPolicy] = [
        .rule("no min_prepared_age", "    databases: [shop]", line: 2, key: "rules[0].min_prepared_age",
              "required key is missing: add min_prepared_age", action: "rollback_prepared"),
        .rule("zero min_prepared_age", "    min_prepared_age: 0s", key: "rules[0].min_prepared_age", "must be more than 0",
              action: "rollback_prepared"),
        .rule("huge min_prepared_age", "    min_prepared_age: 87601h", key: "rules[0].min_prepared_age",
              "longer than 87600h (10 years)", action: "rollback_prepared"),
        .rule("negative min_prepared_age", "    min_prepared_age: -1h", key: "rules[0].min_prepared_age",
              "must be a duration", action: "rollback_prepared"),
        .prepared("states on prepared", "    states: [idle]", key: "rules[0].states",
                  "does not apply to action rollback_prepared, which selects prepared transactions, not sessions; remove it"),
        .prepared("roles on prepared", "    roles: [app]", key: "rules[0].roles", "(it has owners instead)"),
        .prepared("session caps on prepared", "    max_sessions_per_alert: 3", key: "rules[0].max_sessions_per_alert",
                  "(it has max_transactions_per_alert instead)"),
        .prepared("grace on prepared", "    grace_period: 10s", key: "rules[0].grace_period", "does not apply to action rollback_prepared"),
        .rule("owners on terminate", "    owners: [app]", key: "rules[0].owners",
              "only applies to action rollback_prepared (this rule's action is terminate)"),
        .rule("min_prepared_age on cancel", "    min_prepared_age: 1h", key: "rules[0].min_prepared_age",
              "only applies to action rollback_prepared (this rule's action is cancel)", action: "cancel"),
        .prepared("gid class", "    gid_patterns: [\"tm-[0-9]\"]", key: "rules[0].gid_patterns[0]",
                  "\"tm-[0-9]\" is not a gid pattern: it has [ without a \\ before it"),
        .prepared("gid trailing backslash", "    exclude_gid_patterns: ['x\\']", key: "rules[0].exclude_gid_patterns[0]",
                  "ends with a lone \\"),
        .prepared("gid empty list", "    gid_patterns: []", key: "rules[0].gid_patterns", "is empty, which would mean any"),
        .prepared("gid invisible", "    gid_patterns: [\"a\\u200Bb\"]", key: "rules[0].gid_patterns[0]", "contains U+200B"),
        .prepared("owner blank", "    owners: [\" app\"]", key: "rules[0].owners[0]", "starts or ends with a blank"),
        // The age guards apply to every age key.
        .rule("min_backend_age huge", "    min_backend_age: 99999999999h", key: "rules[0].min_backend_age",
              "longer than 87600h (10 years)"),
        .rule("min_backend_age negative", "    min_backend_age: -5m", key: "rules[0].min_backend_age", "must be a duration"),
        .rule("min_backend_age fraction", "    min_backend_age: 1.5h", key: "rules[0].min_backend_age", "must be a duration"),
        .rule("min_backend_age nan", "    min_backend_age: .nan", key: "rules[0].min_backend_age", "must be a duration"),
        .rule("min_backend_age inf", "    min_backend_age: .inf", key: "rules[0].min_backend_age", "must be a duration"),
        .rule("min_backend_age exponent", "    min_backend_age: 1e9s", key: "rules[0].min_backend_age", "must be a duration"),
        .rule("min_backend_age list", "    min_backend_age: [1h]", key: "rules[0].min_backend_age", "got a list"),
        .rule("min_state_age huge", "    min_state_age: 1000000000000s", key: "rules[0].min_state_age", "longer than 87600h"),
        .rule("min_transaction_age huge", "    min_transaction_age: 87600h1s", key: "rules[0].min_transaction_age",
              "longer than 87600h"),
        .prepared("min_backend_age on prepared", "    min_backend_age: 1h", key: "rules[0].min_backend_age",
                  "(it has min_prepared_age instead)"),
    ]

    @Test(arguments: bad)
    func refused(_ bad: BadPolicy) {
        bad.expectRefused()
    }

    @Test func minBackendAgeParsesUpToTheLimit() throws {
        let policy = try PolicyLoader.parse("""
            rules:
              - {name: a, match: {alertname: A}, action: terminate, min_backend_age: 1h30m}
              - {name: b, match: {alertname: B}, action: terminate, min_backend_age: 87600h, min_state_age: 0s}
            """)
        #expect(policy.rules[0].sessions.minBackendAge == .seconds(5400))
        #expect(policy.rules[1].sessions.minBackendAge == maxSelectorAge)
        #expect(policy.rules[1].sessions.minStateAge == .zero, "0s still means any age for the session keys")
    }

    // MARK: - Selection

    static func tx(_ gid: String, age: Double = 4000, datname: String = "shop", owner: String = "app",
                   prepared: Int64 = 1_700_000_000_000_000, superuser: Bool = false, protected: Bool = false,
                   canRollBack: Bool = true) -> PreparedTransaction {
        PreparedTransaction(gid: gid, transaction: "1234", preparedMicros: prepared, datname: datname, owner: owner, age: age,
                            isSuperuser: superuser, isProtected: protected, canRollBack: canRollBack)
    }

    @Test func selectionMatches() throws {
        let rule = try #require(try PolicyLoader.parse(Self.rule).rules.first)
        let s = PreparedSelection(criteria: rule.prepared)
        #expect(s.matches(Self.tx("app-1")))
        #expect(!s.matches(Self.tx("app-1", age: 1799.9)), "younger than min_prepared_age")
        #expect(s.matches(Self.tx("app-1", age: 1800)))
        #expect(!s.matches(Self.tx("app-1", age: .nan)), "an unknown age never passes")
        #expect(!s.matches(Self.tx("app-keep-1")), "excluded pattern")
        #expect(s.matches(Self.tx("tm-x-*")) && !s.matches(Self.tx("tm-x-y")))
        #expect(!s.matches(Self.tx("other")))
        #expect(!s.matches(Self.tx("app-1", datname: "postgres")))
        #expect(!s.matches(Self.tx("app-1", owner: "batch")))
        // Alert labels narrow.
        let narrowed = PreparedSelection.narrowing(rule.prepared, by: ["alertname": "P", "datname": "shop", "owner": "app",
                                                                       "usename": "ignored"])
        #expect(narrowed.datname == "shop" && narrowed.owner == "app")
        #expect(narrowed.matches(Self.tx("app-1")))
        let other = PreparedSelection.narrowing(rule.prepared, by: ["datname": "billing"])
        #expect(!other.matches(Self.tx("app-1")))
        let empty = PreparedSelection.narrowing(PreparedCriteria(), by: ["owner": ""])
        #expect(!empty.matches(Self.tx("x", owner: "")), "an empty label matches nothing")
        let nfd = PreparedSelection.narrowing(PreparedCriteria(), by: ["owner": "cafe\u{301}"])
        #expect(!nfd.matches(Self.tx("x", owner: "caf\u{E9}")), "names byte for byte")
    }

    @Test func selectionSQLBindsEveryValue() throws {
        let rule = try #require(try PolicyLoader.parse(Self.rule).rules.first)
        var params = SQLParameters()
        let sql = PreparedSelection.narrowing(rule.prepared, by: ["datname": "shop'; DROP", "owner": "app"]).sqlConditions(&params)
        #expect(sql == [
            "now() - p.prepared >= make_interval(secs => $1::float8)",
            "COALESCE(p.database::text, '') = ANY($2::text[])", "NOT (COALESCE(p.database::text, '') = ANY($3::text[]))",
            "COALESCE(p.owner::text, '') = ANY($4::text[])", "NOT (COALESCE(p.owner::text, '') = ANY($5::text[]))",
            "p.gid LIKE ANY($6::text[])", "NOT (p.gid LIKE ANY($7::text[]))",
            "p.database::text = $8", "p.owner::text = $9",
        ])
        #expect(params.values == ["1800.0", #"{"shop"}"#, #"{"postgres"}"#, #"{"app"}"#, #"{"batch"}"#,
                                  #"{"app-%","tm-_-*"}"#, #"{"app-keep-%"}"#, "shop'; DROP", "app"])
    }

    // MARK: - Planner

    static func plan(_ rows: [PreparedTransaction], maxPerAlert: Int = 10, budget: Int = 100, allowSuperuser: Bool = false,
                     protected: [String] = []) -> [PlannedTransaction] {
        var rule = Rule(name: "p", match: AlertMatch(alertname: "P"), action: .rollbackPrepared, maxSessionsPerAlert: maxPerAlert)
        rule.prepared = PreparedCriteria(minPreparedAge: .seconds(60), allowSuperuser: allowSuperuser)
        return PreparedPlanner.plan(rule: rule, selection: PreparedSelection(criteria: rule.prepared), protectedRoles: protected,
                                    rows: rows, budget: budget)
    }

    @Test func plansOldestFirstWithGuardsAndCaps() {
        let rows = [
            Self.tx("c", prepared: 300), Self.tx("a", prepared: 100), Self.tx("young", age: 10, prepared: 50),
            Self.tx("b", prepared: 100), Self.tx("su", prepared: 10, superuser: true), Self.tx("prot", prepared: 20, protected: true),
            Self.tx("denied", prepared: 30, canRollBack: false), Self.tx("listed", owner: "keeper", prepared: 40),
            Self.tx("d", prepared: 400),
        ]
        let planned = Self.plan(rows, maxPerAlert: 2, protected: ["keeper"])
        #expect(planned.map(\.transaction.gid) == ["su", "prot", "denied", "listed", "a", "b", "c", "d"], "young is not selected")
        #expect(planned.map(\.decision) == [.skip(.protected), .skip(.protected), .skip(.notPermitted), .skip(.protected),
                                            .act(.rollbackPrepared), .act(.rollbackPrepared), .skip(.capped), .skip(.capped)])
        #expect(planned.map(\.refusedBy) == [.superuser, .protectedRole, .rollbackPermission, .protectedRole, nil, nil,
                                             .perAlertTransactionCap, .perAlertTransactionCap])
        let budgeted = Self.plan(rows, budget: 1, allowSuperuser: true)
        #expect(budgeted.first?.decision == .act(.rollbackPrepared), "a superuser's, when allowed")
        #expect(budgeted.filter { $0.decision == .act(.rollbackPrepared) }.count == 1)
        #expect(budgeted.last?.refusedBy == .perMinuteTransactionCap)
    }

    // MARK: - SQL

    @Test func listingBranchesOnTheServerVersion() {
        let v15 = PreparedTransaction.listSQL(serverVersion: 150_000)
        let v16 = PreparedTransaction.listSQL(serverVersion: 160_000)
        #expect(v15.contains("pg_has_role(current_user, r.oid, 'MEMBER')"))
        #expect(v16.contains("pg_has_role(current_user, r.oid, 'SET')"))
        #expect(v15.contains("FROM pg_prepared_xacts p LEFT JOIN pg_roles r ON r.rolname = p.owner ORDER BY p.prepared, p.gid"))
        #expect(v15.contains("(extract(epoch FROM p.prepared) * 1000000)::int8"))
        #expect(v15.contains("= ANY($1::text[])"))
    }

    @Test func recheckPinsIdentityDatabaseAndGuards() {
        let target = Self.tx("o'brien\\1", prepared: 1_714_557_600_123_456)
        let selection = PreparedSelection(criteria: PreparedCriteria(minPreparedAge: .seconds(60)), datname: "shop")
        let (sql, params) = Killer.preparedCheck(target, selection: selection, protectedRoles: ["postgres"], serverVersion: 150_000)
        #expect(sql.hasPrefix("SELECT 1 FROM pg_prepared_xacts p LEFT JOIN pg_roles r ON r.rolname = p.owner WHERE "))
        for condition in ["p.gid = $1", "p.transaction::text = $2", "(extract(epoch FROM p.prepared) * 1000000)::int8 = $3::int8",
                          "p.database = current_database()", "NOT (COALESCE(p.owner::text, '') = ANY($4::text[])",
                          "p.owner = current_user", "NOT COALESCE(r.rolsuper, false)",
                          "now() - p.prepared >= make_interval(secs => $5::float8)", "p.database::text = $6"] {
            #expect(sql.contains(condition), "\(condition)")
        }
        #expect(params == ["o'brien\\1", "1234", "1714557600123456", #"{"postgres"}"#, "60.0", "shop"])
        #expect(!sql.contains("o'brien"), "the gid is a parameter, never in the text")
        let allowed = Killer.preparedCheck(target, selection: PreparedSelection(criteria: PreparedCriteria(allowSuperuser: true)),
                                           protectedRoles: [], serverVersion: 160_000).0
        #expect(!allowed.contains("NOT COALESCE(r.rolsuper, false)"))
        #expect(allowed.contains("'SET'"))
    }

    @Test func recordJSONCarriesTheTransaction() {
        var t = Self.tx("tm-\"1\"\n", prepared: 1_714_557_600_123_456)
        t.transaction = "742"
        let rule = Rule(name: "p", match: AlertMatch(alertname: "P"), action: .rollbackPrepared)
        var record = ActionRecord(rule, AlertRef(alertname: "P", fingerprint: "f", labels: ["owner": "app"]), prepared: t, .success,
                                  dryRun: false)
        record.time = 1_714_557_700.25
        #expect(record.json == #"{"time":"2024-05-01T10:01:40.250Z","rule":"p","alertname":"P","fingerprint":"f","gid":"tm-\"1\"\n","#
            + #""transaction":"742","prepared":"2024-05-01T10:00:00.123Z","datname":"shop","owner":"app","prepared_age_seconds":4000,"#
            + #""action":"rollback_prepared","result":"success","dry_run":false}"#)
        #expect(record.auditLine.hasSuffix(#","labels":{"owner":"app"}}"#))
        record.result = .gone
        record.refusedBy = .killTimeRecheck
        #expect(record.json.hasSuffix(#""result":"gone","dry_run":false,"guard":"kill_time_recheck"}"#))
    }

    @Test func tableShowsInvisibleCharactersOfAGid() {
        #expect(PreparedOutput.visible("a\u{1B}[31mred") == "a\\u{1B}[31mred")
        #expect(PreparedOutput.visible("x\\y\u{202E}z") == "x\\\\y\\u{202E}z")
        #expect(PreparedOutput.visible("caf\u{E9}") == "caf\u{E9}")
        let table = PreparedOutput.table([Self.tx("evil\u{1B}]0;x\u{7}")], notes: ["protected"])
        #expect(!table.contains("\u{1B}") && !table.contains("\u{7}"))
        #expect(table.contains("evil\\u{1B}]0;x\\u{7}"))
    }
}
