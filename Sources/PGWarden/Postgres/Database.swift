import Synchronization

/// How pgwarden connects to one PostgreSQL server.
public struct ConnectionSettings: Sendable {
    /// libpq key=value string or URI; nil lets libpq's own defaults apply.
    public var dsn: String?
    /// `statement_timeout` set on pgwarden's session.
    public var statementTimeout: Duration
    /// `lock_timeout` set on pgwarden's session.
    public var lockTimeout: Duration
    /// Longest wait to establish a connection.
    public var connectTimeout: Duration
    /// Longest wait for a query's answer on the client side (a little over the statement timeout).
    public var queryTimeout: Duration
    /// `application_name` unless the DSN sets its own.
    public var applicationName: String
    /// Whether a new connection first warms its backend's heap (see `Database.heapWarmUpSQL`):
    /// for connections kept open for many statements (`serve`), not for one-shot commands.
    public var warmsBackendHeap: Bool
    /// A file holding the password, read on every connection (a target's `password_file`).
    public var passwordFile: String?
    /// Connect to this database instead of the DSN's (its other settings stay): ROLLBACK
    /// PREPARED must run in the prepared transaction's database.
    public var database: String? = nil

    public init(dsn: String?, statementTimeout: Duration = .seconds(5), lockTimeout: Duration = .seconds(1),
                connectTimeout: Duration = .seconds(3), applicationName: String = "pgwarden",
                warmsBackendHeap: Bool = false) {
        self.dsn = dsn
        self.statementTimeout = statementTimeout
        self.lockTimeout = lockTimeout
        self.connectTimeout = connectTimeout
        self.queryTimeout = statementTimeout + .seconds(1)
        self.applicationName = applicationName
        self.warmsBackendHeap = warmsBackendHeap
    }
}

/// One PostgreSQL server that pgwarden watches: its connection settings and one persistent
/// connection, opened lazily, reconnected when lost, used by one caller at a time.
public final class Database: Sendable {
    public let settings: ConnectionSettings
    /// Where this database's backend pid is registered while connected.
    public let ownBackends: OwnBackends
    private let connection = Mutex<PGConnection?>(nil)
    /// The fleet's cap on open connections, when there is one.
    let budget: ConnectionBudget?
    /// Set when the database's target left the fleet: it never connects again.
    private let retired = Mutex(false)
    /// Set while the connection holds session state that must not be lost to an eviction (the
    /// alert claims of a fleet target's action connection).
    private let pinned = Mutex(false)

    public init(settings: ConnectionSettings, ownBackends: OwnBackends = OwnBackends(), budget: ConnectionBudget? = nil) {
        self.settings = settings
        self.ownBackends = ownBackends
        self.budget = budget
    }

    /// Runs `body` with a healthy connection, connecting first if needed. A connection-level
    /// failure drops the connection so that the next call reconnects.
    /// A connection that was idle and turns out dead (the server restarted in between) is
    /// replaced and `body` runs once more on the new one; a fresh connection is not retried.
    /// With `retryingStale` false it is not run again either: for a statement with effects (the
    /// kill statement), where a connection lost mid-way leaves unknown what the first run did.
    /// `retryAllowed`, when given, is asked too before a stale retry: a body that sends several
    /// statements says through it whether one with effects was sent already.
    public func withConnection<R: Sendable>(retryingStale: Bool = true, retryAllowed: (() -> Bool)? = nil,
                                            _ body: (PGConnection) throws -> R) throws -> R {
        try connection.withLock { current -> R in
            var reused = current != nil
            var attempted = false
            while true {
                if current == nil || current?.isHealthy == false {
                    if current != nil { budget?.release(self) }
                    current = nil
                    ownBackends.set(nil, for: ObjectIdentifier(self))
                    reused = false
                    if retired.withLock({ $0 }) {
                        var error = PostgresError(.connectionFailed, message: "this target left the config file at a reload; nothing is sent to it")
                        error.whileConnecting = true
                        throw error
                    }
                    let opened: PGConnection
                    var admitted = false
                    do {
                        try budget?.admit(self)
                        admitted = true
                        opened = try connect()
                        // Registered before its first statement: from the moment the backend
                        // exists, the kill path never selects it.
                        ownBackends.set(opened.backendPID, for: ObjectIdentifier(self))
                        try configure(opened)
                    } catch var error as PostgresError {
                        if admitted { budget?.release(self) }
                        ownBackends.set(nil, for: ObjectIdentifier(self))
                        // Only when `body` never ran: after a stale retry, the first run was sent.
                        error.whileConnecting = !attempted
                        throw error
                    }
                    current = opened
                }
                budget?.touch(self)
                do {
                    attempted = true
                    return try body(current!)
                } catch let error as PostgresError where error.isConnectionLevel {
                    current = nil
                    budget?.release(self)
                    ownBackends.set(nil, for: ObjectIdentifier(self))
                    if reused && retryingStale && error.kind == .connectionLost && (retryAllowed?() ?? true) {
                        reused = false
                        continue
                    }
                    throw error
                }
            }
        }
    }

    /// Runs `sql` (one or several statements) in one round trip; see `withConnection` for
    /// `retryingStale`.
    public func execute(_ sql: String, params: [String?]? = nil, retryingStale: Bool = true) throws -> [QueryResult] {
        try withConnection(retryingStale: retryingStale) { try $0.execute(sql, params: params, timeout: settings.queryTimeout) }
    }

    /// Runs the statement `sql`, prepared under `name` once per connection (its parse and plan
    /// are not paid again on every call).
    public func executePrepared(name: String, sql: String, params: [String?]) throws -> [QueryResult] {
        try withConnection { try $0.executePrepared(name: name, sql: sql, params: params, timeout: settings.queryTimeout) }
    }

    /// Closes the connection, if any (on shutdown, or to force a reconnect).
    public func disconnect() {
        // The budget's place and the own-backend entry go with the connection, under its lock:
        // a caller connecting right after must not lose its new place or pid to a late update.
        connection.withLock { current in
            if current != nil { budget?.release(self) }
            current = nil
            ownBackends.set(nil, for: ObjectIdentifier(self))
        }
    }

    /// Closes the connection and never connects again (the target left the fleet).
    public func retire() {
        retired.withLock { $0 = true }
        disconnect()
    }

    /// Keeps the connection from eviction while `value` holds (see `pinned`).
    func pin(_ value: Bool) {
        pinned.withLock { $0 = value }
    }

    /// Closes the connection if no caller is using it and nothing pins it; true when it closed
    /// one (the budget's eviction of the least recently used idle connection).
    func closeIfIdle() -> Bool {
        guard !pinned.withLock({ $0 }) else { return false }
        return connection.withLockIfAvailable { current -> Bool in
            guard current != nil else { return false }
            current = nil
            budget?.release(self)
            ownBackends.set(nil, for: ObjectIdentifier(self))
            return true
        } ?? false
    }

    private func connect() throws -> PGConnection {
        var dsn = settings.dsn
        var overrides = [("client_encoding", "UTF8")]
        if let database = settings.database {
            // libpq expands only the first dbname as a connection string; a later one is a plain
            // name. Without a DSN, the name goes in a quoted key=value string of its own, so no
            // database name is ever read as connection options.
            if dsn == nil { dsn = "dbname=" + Self.conninfoQuoted(database) } else { overrides.append(("dbname", database)) }
        }
        if let file = settings.passwordFile {
            do {
                overrides.append(("password", try readSecretFile(file, flag: "password_file")))
            } catch {
                throw PostgresError(.connectionFailed, message: "\(error)")
            }
        }
        return try PGConnection.connect(
            dsn: dsn,
            // TCP keepalives on the client side (the DSN may set its own): a server that vanished
            // without closing the connection is noticed in about a minute, not hours.
            defaults: [("application_name", settings.applicationName), ("keepalives_idle", "30"),
                       ("keepalives_interval", "10"), ("keepalives_count", "3")],
            overrides: overrides,
            timeout: settings.connectTimeout)
    }

    /// A value quoted for a libpq key=value string: in single quotes, `\` and `'` escaped.
    static func conninfoQuoted(_ value: String) -> String {
        "'" + value.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'"
    }

    /// The session settings pgwarden relies on, whatever the role, database or server set:
    /// its timeouts, TCP keepalives on its own backend (the server drops the session of a
    /// pgwarden that vanished within about a minute, with any advisory locks it held), and how
    /// dates and numbers are written (ISO dates in UTC, floats with every
    /// digit), so that no text pgwarden reads back depends on DateStyle, TimeZone or
    /// extra_float_digits. Only pgwarden's own session changes.
    static let sessionSettingsSQL = """
        SELECT set_config('statement_timeout', $1, false), set_config('lock_timeout', $2, false), \
        set_config('DateStyle', 'ISO, YMD', false), set_config('TimeZone', 'UTC', false), \
        set_config('IntervalStyle', 'postgres', false), set_config('extra_float_digits', '1', false), \
        set_config('tcp_keepalives_idle', '30', false), set_config('tcp_keepalives_interval', '10', false), \
        set_config('tcp_keepalives_count', '3', false)
        """

    /// Applies `sessionSettingsSQL` (and the heap warm-up when asked for) to a new connection.
    private func configure(_ conn: PGConnection) throws {
        _ = try conn.execute(
            Self.sessionSettingsSQL,
            params: [String(settings.statementTimeout.milliseconds), String(settings.lockTimeout.milliseconds)],
            timeout: settings.queryTimeout)
        if settings.warmsBackendHeap {
            // Only speed depends on it: a server that refuses (out of memory) keeps the connection.
            _ = try? conn.execute(Self.heapWarmUpSQL, timeout: settings.queryTimeout)
        }
    }

    /// Allocates and frees, once, a block larger than anything a scrape allocates at a time, so
    /// that the backend's allocator stops handing its heap back to the kernel after every statement.
    ///
    /// A scrape makes the backend copy every session's slot and query text (max_connections x
    /// track_activity_query_size bytes for the texts) and fill tuplestores: about 5 MB of heap
    /// in many blocks at 2000 sessions, all freed at the statement's end. glibc then trims the
    /// heap (its trim threshold is twice the largest block it has mapped and freed, 128 KiB at
    /// first), and the next scrape faults about 770 fresh zeroed pages in again: 3 to 4 ms of
    /// the server's CPU per scrape. Freeing one mapped block of S bytes raises glibc's mmap
    /// threshold to S and its trim threshold to 2 S (its dynamic thresholds, S up to 32 MiB on
    /// 64-bit), and the heap then stays. S is twice max_connections + 100 (background processes)
    /// slots of track_activity_query_size + 1 kB, at least 4 MiB and at most 31 MiB; it costs a
    /// few ms once per connection. A server with another allocator is unaffected either way.
    /// (The query size is read from pg_settings in bytes: current_setting prints a size that is
    /// not a whole number of kB as "1500B", which pg_size_bytes refuses.)
    public static let heapWarmUpSQL = """
        SELECT octet_length(repeat(repeat('x', 1024), LEAST(31744, GREATEST(4096, \
        (2 * (current_setting('max_connections')::int8 + 100) \
        * ((SELECT setting::int8 FROM pg_settings WHERE name = 'track_activity_query_size') + 1024) \
        / 1024)::int))))
        """
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
