import Dispatch
import Logging
import PGWarden

/// Selectors shared by `sessions`, `cancel` and `terminate`.
struct SelectorOptions {
    static let flags: [FlagSpec] = [
        .repeatable("database", "name", help: "Only sessions in this database."),
        .repeatable("exclude-database", "name", help: "Never sessions in this database."),
        .repeatable("role", "name", help: "Only sessions of this role."),
        .repeatable("exclude-role", "name", help: "Never sessions of this role."),
        .repeatable("application-name", "name", help: "Only sessions with this application_name."),
        .repeatable("exclude-application-name", "name", help: "Never sessions with this application_name."),
        .repeatable("state", "state", help: "Only sessions in this state, e.g. 'idle in transaction'."),
        .value("min-state-age", "duration", help: "Only sessions in their state at least this long, e.g. 10m."),
        .value("min-transaction-age", "duration", help: "Only sessions whose transaction is at least this old."),
        .value("min-backend-age", "duration", help: "Only sessions connected at least this long, e.g. 1h (old pooled connections)."),
        .repeatable("client-address", "cidr", help: "Only sessions from this address range, e.g. 10.0.0.0/8."),
        .repeatable("exclude-client-address", "cidr", help: "Never sessions from this address range."),
        .value("pid", "pid", help: "Only the backend with this pid."),
        .toggle("only-blocking", help: "Only sessions that block other sessions."),
        .toggle("include-superusers", help: "Also superusers' sessions (needs a superuser connection)."),
        .repeatable("protect-role", "name", help: "Never touch this role's sessions."),
    ]

    var databases: [String]
    var excludeDatabases: [String]
    var roles: [String]
    var excludeRoles: [String]
    var applicationNames: [String]
    var excludeApplicationNames: [String]
    var states: [String]
    var minStateAge: String?
    var minTransactionAge: String?
    var minBackendAge: String?
    var clientAddresses: [String]
    var excludeClientAddresses: [String]
    var pid: Int32?
    var onlyBlocking: Bool
    var includeSuperusers: Bool
    var protectedRoles: [String]

    init(_ flags: ParsedFlags) throws(UsageError) {
        databases = flags.values("database")
        excludeDatabases = flags.values("exclude-database")
        roles = flags.values("role")
        excludeRoles = flags.values("exclude-role")
        applicationNames = flags.values("application-name")
        excludeApplicationNames = flags.values("exclude-application-name")
        states = flags.values("state")
        minStateAge = flags.value("min-state-age")
        minTransactionAge = flags.value("min-transaction-age")
        minBackendAge = flags.value("min-backend-age")
        clientAddresses = flags.values("client-address")
        excludeClientAddresses = flags.values("exclude-client-address")
        pid = try flags.integer("pid", as: Int32.self)
        onlyBlocking = flags.isSet("only-blocking")
        includeSuperusers = flags.isSet("include-superusers")
        protectedRoles = flags.values("protect-role")
        for state in states where !Self.states.contains(state) {
            throw UsageError("--state '\(state)' is not a session state; use one of: \(Self.states.joined(separator: ", ")).")
        }
        for (flag, value) in [("--min-state-age", minStateAge), ("--min-transaction-age", minTransactionAge),
                              ("--min-backend-age", minBackendAge)] {
            if let value { _ = try Self.age(flag, value) }
        }
        for cidr in clientAddresses + excludeClientAddresses {
            if case let .failure(problem) = CIDR.parse(cidr) { throw UsageError("client address \(problem)") }
        }
    }

    static let states = SessionState.all

    /// An age flag's value (`parseAge`), or a usage error naming the flag.
    static func age(_ flag: String, _ value: String) throws(UsageError) -> Duration {
        switch parseAge(value) {
        case .success(let age): return age
        case .failure(.notDuration): throw UsageError("\(flag) '\(value)' is not a duration; write it like 30s, 10m or 1h.")
        case .failure(.tooLong): throw UsageError("\(flag) '\(value)' is longer than 87600h (10 years), the longest age accepted.")
        }
    }


    /// True when no selector narrows the sessions (only exclusions or nothing at all).
    var selectsEverything: Bool {
        databases.isEmpty && roles.isEmpty && applicationNames.isEmpty && states.isEmpty && minStateAge == nil
            && minTransactionAge == nil && minBackendAge == nil && clientAddresses.isEmpty && pid == nil && !onlyBlocking
    }

    var selection: Selection {
        let criteria = SessionCriteria(
            states: states, minStateAge: minStateAge.flatMap(parseDuration),
            minTransactionAge: minTransactionAge.flatMap(parseDuration), minBackendAge: minBackendAge.flatMap(parseDuration),
            databases: NameFilter(include: databases, exclude: excludeDatabases),
            roles: NameFilter(include: roles, exclude: excludeRoles),
            applicationNames: NameFilter(include: applicationNames, exclude: excludeApplicationNames),
            clientAddresses: clientAddresses.compactMap(CIDR.init), excludeClientAddresses: excludeClientAddresses.compactMap(CIDR.init),
            onlyBlocking: onlyBlocking, allowSuperuser: includeSuperusers)
        return Selection(criteria: criteria, pid: pid)
    }
}

/// `--config.file` and `--target`: a target of the fleet by name, instead of --dsn.
struct TargetChoice {
    static let flags: [FlagSpec] = [
        .value("config.file", "file", help: "Config file whose targets list names the server (with --target)."),
        .value("target", "name", help: "Act on this target of --config.file (instead of --dsn)."),
    ]

    var configFile: String?
    var target: String?

    init(_ flags: ParsedFlags) throws(UsageError) {
        configFile = flags.value("config.file")
        target = flags.value("target")
        if target != nil && configFile == nil {
            throw UsageError("--target names a target of --config.file; give the file too.")
        }
        if configFile != nil && target == nil {
            throw UsageError("--config.file is read here for its targets; name one with --target.")
        }
        if target != nil && flags.value("dsn") != nil {
            throw UsageError("--dsn and --target both name the server; give one.")
        }
    }

    /// `settings` pointed at the chosen target (unchanged without --target).
    func apply(_ settings: ConnectionSettings) throws -> ConnectionSettings {
        guard let configFile, let name = target else { return settings }
        let config: ConfigFile
        do { config = try PolicyLoader.loadConfig(path: configFile) } catch { throw RuntimeError("\(error)") }
        guard let chosen = config.targets.first(where: { $0.name.isExactly(name) }) else {
            let names = config.targets.map(\.name)
            if names.isEmpty { throw RuntimeError("\(configFile) lists no targets; use --dsn") }
            let shown = names.prefix(20).joined(separator: ", ") + (names.count > 20 ? ", …" : "")
            throw RuntimeError("--target \(JSONText.quote(name)) is not a target of \(configFile); its targets: \(shown)")
        }
        var settings = settings
        settings.dsn = chosen.dsn
        settings.passwordFile = chosen.passwordFile
        return settings
    }
}

/// The server a manual command works on: `--dsn` (and the `--db.*` flags) or a target of the
/// fleet (`--config.file` and `--target`).
struct ServerChoice {
    static let flags = ConnectionOptions.flags + TargetChoice.flags

    var connection: ConnectionOptions
    var choice: TargetChoice

    init(_ flags: ParsedFlags) throws(UsageError) {
        connection = try ConnectionOptions(flags)
        choice = try TargetChoice(flags)
    }

    /// The target's name, with `--target`.
    var target: String? { choice.target }

    /// Warns about a password on the command line, and returns a Killer for the chosen server;
    /// on a fleet target it takes the target's action lock, as the fleet's replicas do.
    func killer(_ logger: Logger) throws -> Killer {
        connection.warnIfPasswordOnCommandLine(logger)
        return Killer(database: Database(settings: try choice.apply(connection.settings(environment: environment()))),
                      coordinatesReplicas: choice.target != nil)
    }

    /// An action runner for a manual command on the chosen server.
    func runner(_ logger: Logger) throws -> ActionRunner {
        ActionRunner(killer: try killer(logger), log: ActionLog(logger: Logger(label: "pgwarden.audit")),
                     logger: Logger(label: "pgwarden"), target: choice.target)
    }
}

/// The selector flags of a manual command (sessions or prepared transactions).
protocol ManualSelectors: Sendable {
    static var flags: [FlagSpec] { get }
    init(_ flags: ParsedFlags) throws(UsageError)
}

extension SelectorOptions: ManualSelectors {}

/// What every manual command reads from its flags: its selectors, the server and `--output`.
struct ManualInputs<Selectors: ManualSelectors> {
    static var flags: [FlagSpec] { Selectors.flags + ServerChoice.flags }

    var selectors: Selectors
    var server: ServerChoice
    var output: OutputFormat

    init(_ flags: ParsedFlags) throws(UsageError) {
        output = try OutputFormat(flags)
        selectors = try Selectors(flags)
        server = try ServerChoice(flags)
    }
}

/// `--output table|json` of the manual commands.
enum OutputFormat: String {
    case table, json

    static let flag = FlagSpec.value("output", "format",
                                     help: "table (for people) or json (one document, the field names of /actions).", default: "table")

    init(_ flags: ParsedFlags) throws(UsageError) {
        let text = flags.value("output") ?? "table"
        guard let format = OutputFormat(rawValue: text) else {
            throw UsageError("--output '\(text)' is not a format; use table or json.")
        }
        self = format
    }
}

/// `pgwarden sessions`: lists the client sessions the selectors pick.
struct Sessions: Subcommand {
    static let spec = CommandSpec(name: "pgwarden sessions", abstract: "List client sessions (pgwarden's own excluded).",
                                  flags: ManualInputs<SelectorOptions>.flags + [OutputFormat.flag])

    var inputs: ManualInputs<SelectorOptions>

    init(_ flags: ParsedFlags) throws(UsageError) { inputs = try ManualInputs(flags) }

    func run() throws {
        let (selectors, output) = (inputs.selectors, inputs.output)
        let killer = try inputs.server.killer(bootstrapLogging(level: "warn", format: "logfmt"))
        let selection = selectors.selection
        let rows = try runtime { try killer.listSessions(protectedRoles: selectors.protectedRoles).filter(selection.matches) }
        var notes: [Int32: String] = [:]
        for row in rows {
            if row.isProtected { notes[row.pid] = "protected" }
            else if row.isSuperuser && !selectors.includeSuperusers { notes[row.pid] = "superuser (skipped unless --include-superusers)" }
            else if !row.canSignal { notes[row.pid] = "not permitted for this role" }
            else if row.isBlocking { notes[row.pid] = "blocking others" }
        }
        let sorted = rows.sorted { $0.stateAge > $1.stateAge }
        switch output {
        case .json: print(SessionJSON.sessions(sorted, notes: notes))
        case .table:
            print(SessionTable.render(sessions: sorted, notes: notes), terminator: "")
            print("\(rows.count) session(s)")
        }
    }
}

/// `--dry-run`, `--all`, `--limit` and `--output` of a command that acts (cancel, terminate,
/// rollback-prepared): their checks, the manual rule they make and the report of its records.
struct ManualActing {
    /// The four flags, their help naming what the command acts on.
    static func flags(dryRun: String, all: String, limit: String) -> [FlagSpec] {
        [.toggle("dry-run", help: dryRun), .toggle("all", help: all), .value("limit", "count", help: limit), OutputFormat.flag]
    }

    var dryRun: Bool
    var limit: Int?

    /// Refuses, with `refusal`, to act on everything (`narrows` false) without --all.
    init(_ flags: ParsedFlags, narrows: Bool, refusal: String) throws(UsageError) {
        dryRun = flags.isSet("dry-run")
        limit = try flags.integer("limit")
        if !narrows && !flags.isSet("all") { throw UsageError(refusal) }
        if let limit, limit < 1 { throw UsageError("--limit must be at least 1.") }
    }

    /// The rule of a manual `action`: no alert, capped by --limit alone.
    func rule(_ action: KillAction, sessions: SessionCriteria = SessionCriteria()) -> Rule {
        Rule(name: "manual", match: AlertMatch(alertname: ""), action: action, sessions: sessions,
             maxSessionsPerAlert: limit ?? Int.max, maxSessionsPerMinute: Int.max)
    }

    /// The alert a manual action reports in its records: none.
    static let noAlert = AlertRef(alertname: "", fingerprint: "")

    /// Prints `records` (`json` or `table` and a count of `noun` that were `done` or would be),
    /// then fails when one could not be, `hint` added to where the message points.
    func report(_ records: [ActionRecord], output: OutputFormat, json: String, table: String, noun: String, done: String,
                hint: String = "") throws {
        switch output {
        case .json: print(json)
        case .table:
            print(table, terminator: "")
            let succeeded = records.filter { $0.result == .success }.count
            print(dryRun ? "dry run: \(records.filter { $0.result == .dryRun }.count) \(noun) would be \(done)"
                         : "\(succeeded) \(noun) \(done), \(records.count - succeeded) left alone")
        }
        let errors = records.filter { $0.result == .error }.count
        if errors > 0 { throw RuntimeError("\(errors) \(noun) could not be \(done); see the result column above\(hint).") }
    }
}

/// `pgwarden cancel` / `pgwarden terminate`: the guarded action by hand.
struct ManualAction {
    static let flags: [FlagSpec] = ManualInputs<SelectorOptions>.flags + ManualActing.flags(
        dryRun: "Show what would be done; signal nothing.",
        all: "Allow acting on every client session when no selector narrows them.",
        limit: "Act on at most this many sessions (oldest in their state first).")

    var inputs: ManualInputs<SelectorOptions>
    var acting: ManualActing

    init(_ flags: ParsedFlags) throws(UsageError) {
        inputs = try ManualInputs(flags)
        acting = try ManualActing(flags, narrows: !inputs.selectors.selectsEverything, refusal:
            "no selector given: this would act on every client session. Narrow it (--database, --role, "
                + "--state, --min-state-age, --pid …) or pass --all to mean it.")
    }

    func run(_ action: KillAction) throws {
        let (selectors, output) = (inputs.selectors, inputs.output)
        let runner = try inputs.server.runner(Logger(label: "pgwarden"))
        let rule = acting.rule(action, sessions: selectors.selection.criteria)
        let records = try runtime {
            try runner.run(rule: rule, selection: selectors.selection, protectedRoles: selectors.protectedRoles,
                           dryRun: acting.dryRun, alert: ManualActing.noAlert)
        }
        try acting.report(records, output: output, json: SessionJSON.actions(records, dryRun: acting.dryRun),
                          table: SessionTable.render(records: records), noun: "session(s)", done: "signalled")
    }
}

/// `pgwarden cancel`: pg_cancel_backend on the selected sessions, with the guards of the webhook.
struct Cancel: Subcommand {
    static let spec = CommandSpec(name: "pgwarden cancel",
                                  abstract: "Cancel the running query of the selected sessions (pg_cancel_backend).",
                                  flags: ManualAction.flags)
    var options: ManualAction
    init(_ flags: ParsedFlags) throws(UsageError) { options = try ManualAction(flags) }
    func run() throws {
        bootstrapLogging(level: "warn", format: "logfmt")
        try options.run(.cancel)
    }
}

/// `pgwarden terminate`: pg_terminate_backend on the selected sessions, with the guards of the webhook.
struct Terminate: Subcommand {
    static let spec = CommandSpec(name: "pgwarden terminate", abstract: "Terminate the selected sessions (pg_terminate_backend).",
                                  flags: ManualAction.flags)
    var options: ManualAction
    init(_ flags: ParsedFlags) throws(UsageError) { options = try ManualAction(flags) }
    func run() throws {
        bootstrapLogging(level: "warn", format: "logfmt")
        try options.run(.terminate)
    }
}
