import ArgumentParser
import Dispatch
import Logging
import PGWarden

/// Selectors shared by `sessions`, `cancel` and `terminate`.
struct SelectorOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: "Only sessions in this database (repeatable).")
    var databases: [String] = []
    @Option(name: .customLong("exclude-database"), help: "Never sessions in this database (repeatable).")
    var excludeDatabases: [String] = []
    @Option(name: .customLong("role"), help: "Only sessions of this role (repeatable).")
    var roles: [String] = []
    @Option(name: .customLong("exclude-role"), help: "Never sessions of this role (repeatable).")
    var excludeRoles: [String] = []
    @Option(name: .customLong("application-name"), help: "Only sessions with this application_name (repeatable).")
    var applicationNames: [String] = []
    @Option(name: .customLong("exclude-application-name"), help: "Never sessions with this application_name (repeatable).")
    var excludeApplicationNames: [String] = []
    @Option(name: .customLong("state"), help: "Only sessions in this state, e.g. 'idle in transaction' (repeatable).")
    var states: [String] = []
    @Option(name: .customLong("min-state-age"), help: "Only sessions in their state at least this long, e.g. 10m.")
    var minStateAge: String?
    @Option(name: .customLong("min-transaction-age"), help: "Only sessions whose transaction is at least this old.")
    var minTransactionAge: String?
    @Option(name: .customLong("client-address"), help: "Only sessions from this address range, e.g. 10.0.0.0/8 (repeatable).")
    var clientAddresses: [String] = []
    @Option(name: .customLong("exclude-client-address"), help: "Never sessions from this address range (repeatable).")
    var excludeClientAddresses: [String] = []
    @Option(name: .customLong("pid"), help: "Only the backend with this pid.")
    var pid: Int32?
    @Flag(name: .customLong("only-blocking"), help: "Only sessions that block other sessions.")
    var onlyBlocking = false
    @Flag(name: .customLong("include-superusers"), help: "Also superusers' sessions (needs a superuser connection).")
    var includeSuperusers = false
    @Option(name: .customLong("protect-role"), help: "Never touch this role's sessions (repeatable).")
    var protectedRoles: [String] = []

    static let states = ["active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled"]

    func validate() throws {
        for state in states where !Self.states.contains(state) {
            throw ValidationError("--state '\(state)' is not a session state; use one of: \(Self.states.joined(separator: ", ")).")
        }
        for (flag, value) in [("--min-state-age", minStateAge), ("--min-transaction-age", minTransactionAge)] {
            if let value, parseDuration(value) == nil {
                throw ValidationError("\(flag) '\(value)' is not a duration; write it like 30s, 10m or 1h.")
            }
        }
        for cidr in clientAddresses + excludeClientAddresses where CIDR(cidr) == nil {
            throw ValidationError("'\(cidr)' is not an address range; write it like 10.0.0.0/8 or ::1/128.")
        }
    }

    /// True when no selector narrows the sessions (only exclusions or nothing at all).
    var selectsEverything: Bool {
        databases.isEmpty && roles.isEmpty && applicationNames.isEmpty && states.isEmpty && minStateAge == nil
            && minTransactionAge == nil && clientAddresses.isEmpty && pid == nil && !onlyBlocking
    }

    var selection: Selection {
        let criteria = SessionCriteria(
            states: states, minStateAge: minStateAge.flatMap(parseDuration),
            minTransactionAge: minTransactionAge.flatMap(parseDuration),
            databases: NameFilter(include: databases, exclude: excludeDatabases),
            roles: NameFilter(include: roles, exclude: excludeRoles),
            applicationNames: NameFilter(include: applicationNames, exclude: excludeApplicationNames),
            clientAddresses: clientAddresses.compactMap(CIDR.init), excludeClientAddresses: excludeClientAddresses.compactMap(CIDR.init),
            onlyBlocking: onlyBlocking, allowSuperuser: includeSuperusers)
        return Selection(criteria: criteria, pid: pid)
    }
}

/// `pgwarden sessions`: lists the client sessions the selectors pick.
struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List client sessions (pgwarden's own excluded).")

    @OptionGroup var selectors: SelectorOptions
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let killer = Killer(database: Database(settings: connection.settings(environment: environment())))
        let selection = selectors.selection
        let rows: [SessionRow]
        do { rows = try killer.listSessions().filter(selection.matches) } catch { throw RuntimeError("\(error)") }
        var notes: [Int32: String] = [:]
        for row in rows {
            if selectors.protectedRoles.contains(row.usename) { notes[row.pid] = "protected" }
            else if row.isSuperuser && !selectors.includeSuperusers { notes[row.pid] = "superuser (skipped unless --include-superusers)" }
            else if !row.canSignal { notes[row.pid] = "not permitted for this role" }
            else if row.isBlocking { notes[row.pid] = "blocking others" }
        }
        print(SessionTable.render(sessions: rows.sorted { $0.stateAge > $1.stateAge }, notes: notes), terminator: "")
        print("\(rows.count) session(s)")
    }
}

/// `pgwarden cancel` / `pgwarden terminate`: the guarded action by hand.
struct ManualAction: ParsableArguments {
    @OptionGroup var selectors: SelectorOptions
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .customLong("dry-run"), help: "Show what would be done; signal nothing.")
    var dryRun = false
    @Flag(name: .customLong("all"), help: "Allow acting on every client session when no selector narrows them.")
    var all = false
    @Option(name: .customLong("limit"), help: "Act on at most this many sessions (oldest in their state first).")
    var limit: Int?

    func validate() throws {
        if selectors.selectsEverything && !all {
            throw ValidationError("no selector given: this would act on every client session. Narrow it (--database, --role, "
                + "--state, --min-state-age, --pid …) or pass --all to mean it.")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
    }

    func run(_ action: KillAction) throws {
        let killer = Killer(database: Database(settings: connection.settings(environment: environment())))
        let runner = ActionRunner(killer: killer, log: ActionLog(logger: Logger(label: "pgwarden.audit")), logger: Logger(label: "pgwarden"))
        let rule = Rule(name: "manual", match: AlertMatch(alertname: ""), action: action, sessions: selectors.selection.criteria,
                        maxSessionsPerAlert: limit ?? Int.max, maxSessionsPerMinute: Int.max)
        let records: [ActionRecord]
        do {
            records = try runner.run(rule: rule, selection: selectors.selection, protectedRoles: selectors.protectedRoles,
                                     dryRun: dryRun, alert: AlertRef(alertname: "", fingerprint: ""))
        } catch {
            throw RuntimeError("\(error)")
        }
        print(SessionTable.render(records: records), terminator: "")
        let done = records.filter { $0.result == "success" }.count
        print(dryRun ? "dry run: \(records.filter { $0.result == "dry_run" }.count) session(s) would be signalled"
                     : "\(done) session(s) signalled, \(records.count - done) left alone")
        if records.contains(where: { $0.result == "error" }) { throw ExitCode(1) }
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel the running query of the selected sessions (pg_cancel_backend).")
    @OptionGroup var options: ManualAction
    func run() throws {
        bootstrapLogging(level: "warn", format: "logfmt")
        try options.run(.cancel)
    }
}

struct Terminate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Terminate the selected sessions (pg_terminate_backend).")
    @OptionGroup var options: ManualAction
    func run() throws {
        bootstrapLogging(level: "warn", format: "logfmt")
        try options.run(.terminate)
    }
}
