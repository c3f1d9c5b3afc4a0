import Logging
import PGWarden

#if canImport(Glibc)
import Glibc
#endif

/// A subcommand as the command line sees it: its flags, and how to run once they are parsed.
protocol Subcommand: Sendable {
    static var spec: CommandSpec { get }
    /// Reads and checks the flags; a UsageError says which flag is wrong and how to write it.
    init(_ flags: ParsedFlags) throws(UsageError)
    /// Runs; a RuntimeError (exit status 1) says what failed and what to do.
    func run() throws
}

/// The root command: the exporter runs when no subcommand is named.
public enum PGWardenCommand {
    static let subcommands: [any Subcommand.Type] = [Serve.self, Sessions.self, Cancel.self, Terminate.self,
                                                                Prepared.self, RollbackPrepared.self]

    static let root = CommandSpec(
        name: "pgwarden",
        abstract: "PostgreSQL session exporter and guarded kill hooks.",
        discussion: "With no subcommand, pgwarden serves /metrics with the flags below (the serve subcommand). "
            + "'pgwarden <subcommand> --help' shows a subcommand's flags.",
        flags: Serve.spec.flags)

    /// Runs the command line (without the program name) and returns the exit status: 0, 1 when
    /// running failed, 2 when the command line is wrong.
    public static func main(_ arguments: [String]) -> Int32 {
        var words = arguments[...]
        var command: any Subcommand.Type = Serve.self
        var named = false
        if words.first == "help" {
            guard let topic = words.dropFirst().first else { return printHelp(root) }
            guard let subcommand = subcommand(named: topic) else { return noSubcommand(topic) }
            return printHelp(subcommand.spec)
        }
        if let first = words.first, !first.hasPrefix("-") {
            guard let subcommand = subcommand(named: first) else { return noSubcommand(first, note: " (serve when none is named)") }
            command = subcommand
            named = true
            words = words.dropFirst()
        }
        do {
            let flags = try FlagParser.parse(words, spec: command.spec)
            if flags.helpRequested {
                return printHelp(named ? command.spec : root)
            }
            if flags.versionRequested {
                print(BuildInfo.versionText)
                return 0
            }
            try command.init(flags).run()
            return 0
        } catch let error as UsageError {
            return usageError(error, help: command.spec.name)
        } catch {
            Stderr.write("pgwarden: \(error)\n")
            return 1
        }
    }

    /// The subcommand `word` names, if any.
    static func subcommand(named word: String) -> (any Subcommand.Type)? {
        subcommands.first { name(of: $0) == word }
    }

    /// The usage error for a word that names no subcommand.
    static func noSubcommand(_ word: String, note: String = "") -> Int32 {
        usageError(UsageError("no subcommand '\(word)'; subcommands: \(subcommands.map(name(of:)).joined(separator: ", "))\(note)."),
                   help: root.name)
    }

    /// The word that names a subcommand: the last word of its spec's name.
    static func name(of command: any Subcommand.Type) -> String {
        String(command.spec.name.split(separator: " ").last ?? "")
    }

    /// Prints the help of `spec` (the root's lists the subcommands) and returns exit status 0.
    static func printHelp(_ spec: CommandSpec) -> Int32 {
        let listed = spec.name == root.name ? subcommands.map { (name: name(of: $0), abstract: $0.spec.abstract) } : []
        print(FlagParser.help(spec, subcommands: listed), terminator: "")
        return 0
    }

    /// Prints a usage error with a pointer to `help`'s --help, and returns exit status 2.
    static func usageError(_ error: UsageError, help: String) -> Int32 {
        Stderr.write("pgwarden: error: \(error.description)\nSee '\(help) --help' for the flags.\n")
        return 2
    }
}

/// A failure after the arguments were accepted: printed as is, exit status 1.
struct RuntimeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What `body` returns; an error it throws becomes the command's, as a RuntimeError.
func runtime<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw RuntimeError("\(error)") }
}

/// Options every subcommand that talks to PostgreSQL shares.
struct ConnectionOptions {
    static let flags: [FlagSpec] = [
        .value("dsn", "dsn", help: "libpq connection string or URI (default: $DATA_SOURCE_NAME, else libpq's PG* environment, service file and .pgpass)."),
        .value("db.statement-timeout", "duration", help: "statement_timeout for pgwarden's session.", default: "5s"),
        .value("db.lock-timeout", "duration", help: "lock_timeout for pgwarden's session.", default: "1s"),
        .value("db.connect-timeout", "duration", help: "Longest wait to connect to PostgreSQL.", default: "3s"),
    ]

    var dsn: String?
    var statementTimeout: Duration
    var lockTimeout: Duration
    var connectTimeout: Duration

    init(_ flags: ParsedFlags) throws(UsageError) {
        dsn = flags.value("dsn")
        func duration(_ name: String) throws(UsageError) -> Duration {
            let value = flags.value(name) ?? ""
            guard let d = parseDuration(value), d > .zero else {
                throw UsageError("--\(name) '\(value)' is not a duration; write it like 500ms, 5s or 1m.")
            }
            return d
        }
        statementTimeout = try duration("db.statement-timeout")
        lockTimeout = try duration("db.lock-timeout")
        connectTimeout = try duration("db.connect-timeout")
    }

    /// Logs a warning when --dsn itself carries a password: a command line is visible to every
    /// user of the host (`ps`, /proc/PID/cmdline), unlike the environment or a passfile.
    func warnIfPasswordOnCommandLine(_ logger: Logger) {
        guard let dsn, PGConnection.carriesPassword(dsn: dsn) else { return }
        logger.warning("""
            --dsn carries a password, which other users of this host can read in the process list (ps); \
            put it in a passfile (~/.pgpass, or passfile= in the DSN) or PGPASSWORD, or pass the DSN in DATA_SOURCE_NAME
            """)
    }

    /// The connection settings these options describe; the DSN falls back to $DATA_SOURCE_NAME.
    /// `warmsBackendHeap`: serve's --db.warm-backend-heap (see `Database.heapWarmUpSQL`).
    func settings(environment: [String: String], warmsBackendHeap: Bool = false) -> ConnectionSettings {
        let dsn = self.dsn ?? environment["DATA_SOURCE_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        return ConnectionSettings(dsn: dsn, statementTimeout: statementTimeout, lockTimeout: lockTimeout,
                                  connectTimeout: connectTimeout, warmsBackendHeap: warmsBackendHeap)
    }
}

/// Logging options shared by every subcommand.
struct LoggingOptions {
    static let flags: [FlagSpec] = [
        .value("log.level", "level", help: "Only log messages of this level or above: debug, info, warn, error.", default: "info"),
        .value("log.format", "format", help: "Log line format: logfmt or json.", default: "logfmt"),
    ]

    var level: String
    var format: String

    init(_ flags: ParsedFlags) throws(UsageError) {
        level = flags.value("log.level") ?? "info"
        format = flags.value("log.format") ?? "logfmt"
        guard ["debug", "info", "warn", "error"].contains(level) else {
            throw UsageError("--log.level '\(level)' is not one of debug, info, warn, error.")
        }
        guard LogFormat(rawValue: format) != nil else {
            throw UsageError("--log.format '\(format)' is not one of logfmt, json.")
        }
    }
}

/// Writes straight to standard error (unbuffered, so it is never lost at exit).
enum Stderr {
    static func write(_ text: String) {
        text.utf8CString.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
