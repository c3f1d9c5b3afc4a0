import ArgumentParser
import PGWarden

/// The root command: the exporter runs when no subcommand is named.
struct PGWardenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgwarden",
        abstract: "PostgreSQL session exporter and guarded kill hooks.",
        discussion: "With no subcommand, pgwarden serves /metrics (see 'pgwarden serve --help').",
        version: PGWardenVersion.current,
        subcommands: [Serve.self, Sessions.self, Cancel.self, Terminate.self],
        defaultSubcommand: Serve.self)
}

/// A failure after the arguments were accepted: printed as is, exit status 1.
struct RuntimeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Options every subcommand that talks to PostgreSQL shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("dsn"),
            help: "libpq connection string or URI (default: $DATA_SOURCE_NAME, else libpq's PG* environment, service file and .pgpass).")
    var dsn: String?

    @Option(name: .customLong("db.statement-timeout"), help: "statement_timeout for pgwarden's session.")
    var statementTimeout: String = "5s"

    @Option(name: .customLong("db.lock-timeout"), help: "lock_timeout for pgwarden's session.")
    var lockTimeout: String = "1s"

    @Option(name: .customLong("db.connect-timeout"), help: "Longest wait to connect to PostgreSQL.")
    var connectTimeout: String = "3s"

    func validate() throws {
        for (flag, value) in [("--db.statement-timeout", statementTimeout), ("--db.lock-timeout", lockTimeout),
                              ("--db.connect-timeout", connectTimeout)] {
            guard let d = parseDuration(value), d > .zero else {
                throw ValidationError("\(flag) '\(value)' is not a duration; write it like 500ms, 5s or 1m.")
            }
        }
    }

    /// The connection settings these options describe; the DSN falls back to $DATA_SOURCE_NAME.
    func settings(environment: [String: String]) -> ConnectionSettings {
        let dsn = self.dsn ?? environment["DATA_SOURCE_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        return ConnectionSettings(dsn: dsn, statementTimeout: parseDuration(statementTimeout)!,
                                  lockTimeout: parseDuration(lockTimeout)!,
                                  connectTimeout: parseDuration(connectTimeout)!)
    }
}

/// Logging options shared by every subcommand.
struct LoggingOptions: ParsableArguments {

    @Option(name: .customLong("log.level"), help: "Only log messages of this level or above: debug, info, warn, error.")
    var level: String = "info"

    @Option(name: .customLong("log.format"), help: "Log line format: logfmt or json.")
    var format: String = "logfmt"

    func validate() throws {
        guard ["debug", "info", "warn", "error"].contains(level) else {
            throw ValidationError("--log.level '\(level)' is not one of debug, info, warn, error.")
        }
        guard LogFormat(rawValue: format) != nil else {
            throw ValidationError("--log.format '\(format)' is not one of logfmt, json.")
        }
    }
}
