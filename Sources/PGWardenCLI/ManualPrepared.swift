import Logging
import PGWarden

/// Selectors shared by `prepared` and `rollback-prepared`.
struct PreparedSelectorOptions: ManualSelectors {
    static let flags: [FlagSpec] = [
        .repeatable("database", "name", help: "Only transactions of this database."),
        .repeatable("exclude-database", "name", help: "Never transactions of this database."),
        .repeatable("owner", "name", help: "Only transactions prepared by this role."),
        .repeatable("exclude-owner", "name", help: "Never transactions prepared by this role."),
        .repeatable("gid-pattern", "glob",
                    help: "Only transactions whose gid matches: * any run of characters, ? one character, \\ before *, ?, \\, [, ] or a space for itself; the rest literal."),
        .repeatable("exclude-gid-pattern", "glob", help: "Never transactions whose gid matches (as --gid-pattern)."),
        .value("min-prepared-age", "duration", help: "Only transactions prepared at least this long ago, e.g. 30m."),
        .toggle("include-superusers", help: "Also superusers' transactions (needs a superuser connection)."),
        .repeatable("protect-role", "name", help: "Never touch this role's transactions."),
    ]

    var criteria: PreparedCriteria
    var protectedRoles: [String]
    /// Whether some selector narrows (exclusions do not).
    var narrows: Bool

    init(_ flags: ParsedFlags) throws(UsageError) {
        func patterns(_ flag: String) throws(UsageError) -> [GlobPattern] {
            var result: [GlobPattern] = []
            for text in flags.values(flag) {
                switch GlobPattern.parse(text) {
                case .success(let pattern): result.append(pattern)
                case .failure(let problem): throw UsageError("--\(flag) \(JSONText.quote(text)) \(problem.message).")
                }
            }
            return result
        }
        var minAge: Duration?
        if let text = flags.value("min-prepared-age") { minAge = try SelectorOptions.age("--min-prepared-age", text) }
        criteria = PreparedCriteria(
            minPreparedAge: minAge,
            databases: NameFilter(include: flags.values("database"), exclude: flags.values("exclude-database")),
            owners: NameFilter(include: flags.values("owner"), exclude: flags.values("exclude-owner")),
            gidPatterns: try patterns("gid-pattern"), excludeGidPatterns: try patterns("exclude-gid-pattern"),
            allowSuperuser: flags.isSet("include-superusers"))
        protectedRoles = flags.values("protect-role")
        narrows = minAge != nil || !criteria.databases.include.isEmpty || !criteria.owners.include.isEmpty
            || !criteria.gidPatterns.isEmpty
    }

    var selection: PreparedSelection { PreparedSelection(criteria: criteria) }

    /// Why each transaction would be skipped, as the NOTE column says it.
    func notes(_ rows: [PreparedTransaction]) -> [String] {
        rows.map { t in
            if t.isProtected { return "protected" }
            if t.isSuperuser && !criteria.allowSuperuser { return "superuser (skipped unless --include-superusers)" }
            if !t.canRollBack { return "not permitted for this role" }
            return t.viaRole ? "as its owner (SET ROLE)" : ""
        }
    }
}

/// `pgwarden prepared`: lists the prepared transactions the selectors pick.
struct Prepared: Subcommand {
    static let spec = CommandSpec(name: "pgwarden prepared", abstract: "List prepared transactions (pg_prepared_xacts), oldest first.",
                                  flags: ManualInputs<PreparedSelectorOptions>.flags + [OutputFormat.flag])

    var inputs: ManualInputs<PreparedSelectorOptions>

    init(_ flags: ParsedFlags) throws(UsageError) { inputs = try ManualInputs(flags) }

    func run() throws {
        let (selectors, output) = (inputs.selectors, inputs.output)
        let killer = try inputs.server.killer(bootstrapLogging(level: "warn", format: "logfmt"))
        let selection = selectors.selection
        let rows = try runtime { try killer.listPrepared(protectedRoles: selectors.protectedRoles).filter(selection.matches) }
        switch output {
        case .json: print(PreparedOutput.json(rows, notes: selectors.notes(rows)))
        case .table:
            print(PreparedOutput.table(rows, notes: selectors.notes(rows)), terminator: "")
            print("\(rows.count) prepared transaction(s)")
        }
    }
}

/// `pgwarden rollback-prepared`: ROLLBACK PREPARED on the selected transactions, with the
/// re-check and guards of a rollback_prepared rule.
struct RollbackPrepared: Subcommand {
    static let spec = CommandSpec(
        name: "pgwarden rollback-prepared",
        abstract: "Roll back the selected prepared transactions (ROLLBACK PREPARED, in each one's database).",
        flags: ManualInputs<PreparedSelectorOptions>.flags + ManualActing.flags(
            dryRun: "Show what would be rolled back; roll back nothing.",
            all: "Allow acting on every prepared transaction when no selector narrows them.",
            limit: "Roll back at most this many transactions (oldest first)."))

    var inputs: ManualInputs<PreparedSelectorOptions>
    var acting: ManualActing

    init(_ flags: ParsedFlags) throws(UsageError) {
        inputs = try ManualInputs(flags)
        acting = try ManualActing(flags, narrows: inputs.selectors.narrows, refusal:
            "no selector given: this would roll back every prepared transaction. Narrow it (--database, "
                + "--owner, --gid-pattern, --min-prepared-age …) or pass --all to mean it.")
    }

    func run() throws {
        bootstrapLogging(level: "warn", format: "logfmt")
        let (selectors, output) = (inputs.selectors, inputs.output)
        let runner = try inputs.server.runner(Logger(label: "pgwarden"))
        var rule = acting.rule(.rollbackPrepared)
        rule.prepared = selectors.criteria
        let records = try runtime {
            try runner.runPrepared(rule: rule, selection: selectors.selection, protectedRoles: selectors.protectedRoles,
                                   dryRun: acting.dryRun, alert: ManualActing.noAlert)
        }
        try acting.report(records, output: output, json: PreparedOutput.json(records: records, dryRun: acting.dryRun),
                          table: PreparedOutput.table(records: records), noun: "prepared transaction(s)", done: "rolled back",
                          hint: " and the log")
    }
}
