import CLibPQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection. Owns its `PGconn` and frees it in `deinit`.
///
/// Every wait (connect, send, receive) runs against a deadline through `poll(2)` on the
/// connection's socket, so a server that hangs or a network that drops packets never blocks
/// the caller longer than asked.
/// `@unchecked Sendable`: a `PGconn` is not safe for concurrent use, and this class does no
/// locking itself; every instance is owned by a `Database`, which only touches it under its mutex.
public final class PGConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    /// `server_version_num` as reported during the start-up handshake, e.g. 150020.
    public let serverVersion: Int
    /// The backend pid serving this connection (pgwarden's own session).
    public let backendPID: Int32
    /// Names of the statements prepared on this connection.
    private var prepared: Set<String> = []
    /// Unique in this process: tells a new connection (a new session) from the one before it.
    public let serial: UInt64
    private static let opened = Atomic<UInt64>(0)

    private init(conn: OpaquePointer) {
        self.conn = conn
        self.serial = Self.opened.add(1, ordering: .relaxed).newValue
        self.serverVersion = Int(PQserverVersion(conn))
        self.backendPID = PQbackendPID(conn)
    }

    deinit { PQfinish(conn) }

    /// Opens a connection. `dsn` (key=value or URI) is expanded by libpq; with nil, libpq's
    /// defaults apply (PGHOST, PGUSER, service file, .pgpass). `settings` are keyword overrides
    /// placed before the DSN, so that the DSN's own values win over them.
    public static func connect(dsn: String?, defaults: [(String, String)], overrides: [(String, String)],
                               timeout: Duration) throws -> PGConnection {
        let deadline = ContinuousClock.now + timeout
        // The DSN is checked on its own first: libpq's message about a malformed one may quote it
        // (a password among it), so it is not passed on. What fails after that is a connection
        // failure, and libpq's message says why.
        let password = try dsn.flatMap(checkedPassword)
        var pairs = defaults
        if let dsn { pairs.append(("dbname", dsn)) }
        pairs.append(contentsOf: overrides)
        let conn: OpaquePointer? = withCStringArray(pairs.map(\.0)) { keys in
            withCStringArray(pairs.map(\.1)) { values in
                PQconnectStartParams(keys, values, 1)
            }
        }
        guard let conn else { throw PostgresError(.connectionFailed, message: "libpq could not allocate a connection") }
        if PQstatus(conn) == CONNECTION_BAD {
            // Failing at once: an option libpq refuses (sslmode=bogus, from the DSN or a PG*
            // variable), or a connection that cannot even start (no socket file in the
            // directory of a Unix-domain host: the server is not running there).
            let message = scrubbed(String(cString: PQerrorMessage(conn)), password)
            PQfinish(conn)
            throw PostgresError(.connectionFailed, sqlState: sqlStateFromStartupMessage(message), message: message)
        }
        var state = PGRES_POLLING_WRITING
        while true {
            switch state {
            case PGRES_POLLING_OK:
                return PGConnection(conn: conn)
            case PGRES_POLLING_FAILED:
                let message = String(cString: PQerrorMessage(conn))
                PQfinish(conn)
                throw PostgresError(.connectionFailed, sqlState: sqlStateFromStartupMessage(message), message: message)
            case PGRES_POLLING_READING, PGRES_POLLING_WRITING:
                let events = Int16(state == PGRES_POLLING_READING ? POLLIN : POLLOUT)
                if !waitForSocket(PQsocket(conn), events: events, deadline: deadline) {
                    PQfinish(conn)
                    throw PostgresError(.timeout, message: "no answer from the server within \(timeout) while connecting")
                }
            default:
                break
            }
            state = PQconnectPoll(conn)
        }
    }

    /// Why libpq cannot parse `dsn`, or nil when it can (a DSN that is neither key=value nor a URI
    /// is a database name, as libpq reads it). libpq's own message is not returned: it may quote
    /// the DSN, password included.
    public static func dsnProblem(_ dsn: String) -> String? {
        do {
            _ = try checkedPassword(dsn)
            return nil
        } catch {
            return "libpq cannot parse it; check its key=value or URI syntax (quotes, spaces around =, a % escape)"
        }
    }

    /// The keywords the DSN sets (host, port, dbname, …), as libpq parses it; nil when libpq
    /// cannot parse it. A DSN that is neither key=value nor a URI is a database name.
    public static func dsnValues(_ dsn: String) -> [String: String]? {
        guard dsn.contains("=") || dsn.hasPrefix("postgresql://") || dsn.hasPrefix("postgres://") else { return ["dbname": dsn] }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(dsn, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return values
    }

    /// The DSN's password, if any, after checking that libpq can parse the DSN. A DSN that is
    /// neither key=value nor a URI is a database name, as libpq reads it, and is not checked.
    static func checkedPassword(_ dsn: String) throws -> String? {
        guard dsn.contains("=") || dsn.hasPrefix("postgresql://") || dsn.hasPrefix("postgres://") else { return nil }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(dsn, &error) else {
            if let error { PQfreemem(error) }
            throw PostgresError(.connectionFailed,
                                message: "the connection string (--dsn or DATA_SOURCE_NAME) is malformed; check its key=value or URI syntax")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val { return String(cString: value) }
            option += 1
        }
        return nil
    }

    /// `message` with every occurrence of `password` replaced (libpq's connection messages do
    /// not quote it; this makes sure).
    static func scrubbed(_ message: String, _ password: String?) -> String {
        guard let password, !password.isEmpty else { return message }
        return message.replacing(password, with: "***")
    }

    /// True while libpq considers the connection usable.
    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    /// Sends `sql` once and returns one `QueryResult` per statement. With `params`, `sql` must be a
    /// single statement and values travel separately (PQsendQueryParams); without, `sql` may hold
    /// several statements separated by semicolons, all answered in one round trip.
    public func execute(_ sql: String, params: [String?]? = nil, timeout: Duration) throws -> [QueryResult] {
        let deadline = ContinuousClock.now + timeout
        let sent: Int32
        if let params {
            sent = withOptionalCStringArray(params) { values in
                PQsendQueryParams(conn, sql, Int32(params.count), nil, values, nil, nil, 0)
            }
        } else {
            sent = PQsendQuery(conn, sql)
        }
        guard sent == 1 else { throw connectionError(.connectionLost) }
        return try awaitResults(deadline: deadline, timeout: timeout)
    }

    /// Runs a statement prepared under `name` on first use (parsed and planned once per
    /// connection, not on every call), with `params` as its text parameters.
    public func executePrepared(name: String, sql: String, params: [String?] = [], timeout: Duration) throws -> [QueryResult] {
        let deadline = ContinuousClock.now + timeout
        if !prepared.contains(name) {
            guard PQsendPrepare(conn, name, sql, Int32(params.count), nil) == 1 else { throw connectionError(.connectionLost) }
            _ = try awaitResults(deadline: deadline, timeout: timeout)
            prepared.insert(name)
        }
        let sent = withOptionalCStringArray(params) { values in
            PQsendQueryPrepared(conn, name, Int32(params.count), values, nil, nil, 0)
        }
        guard sent == 1 else { throw connectionError(.connectionLost) }
        do {
            return try awaitResults(deadline: deadline, timeout: timeout)
        } catch let error as PostgresError where error.sqlState == "26000" && prepared.contains(name) {
            // The server forgot the statement (DISCARD ALL, a pooler switching backends): prepare it again.
            prepared.remove(name)
            return try executePrepared(name: name, sql: sql, params: params, timeout: ContinuousClock.now.duration(to: deadline))
        }
    }

    /// `text` as an SQL string literal, quoted by libpq for this connection's client encoding and
    /// `standard_conforming_strings` (PQescapeLiteral), for the few statements that take a
    /// literal and no parameter (`ROLLBACK PREPARED 'gid'`). Text that holds a NUL, or that libpq
    /// finds invalid in the encoding, is refused: it could not be the text meant.
    public func escapeLiteral(_ text: String) throws -> String {
        let length = text.utf8.count
        guard !text.utf8.contains(0) else {
            throw PostgresError(.queryFailed, message: "a text with a NUL character cannot be written as an SQL literal")
        }
        guard let escaped = PQescapeLiteral(conn, text, length) else {
            throw PostgresError(.queryFailed, message: "libpq could not quote a literal: \(String(cString: PQerrorMessage(conn)))")
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    /// Waits for the answers to what was sent and copies them out, one per statement.
    private func awaitResults(deadline: ContinuousClock.Instant, timeout: Duration) throws -> [QueryResult] {
        while PQisBusy(conn) == 1 {
            guard waitForSocket(PQsocket(conn), events: Int16(POLLIN), deadline: deadline) else {
                cancelRunningQuery()
                throw PostgresError(.timeout, message: "no answer from the server within \(timeout)")
            }
            guard PQconsumeInput(conn) == 1 else { throw connectionError(.connectionLost) }
        }
        var results: [QueryResult] = []
        var firstError: PostgresError?
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                results.append(copyResult(result))
            default:
                if firstError == nil { firstError = resultError(result) }
            }
        }
        if let firstError { throw firstError }
        if !isHealthy { throw connectionError(.connectionLost) }
        return results
    }

    /// Asks the server to cancel what this connection runs, then discards pending results.
    private func cancelRunningQuery() {
        if let cancel = PQgetCancel(conn) {
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, Int32(buffer.count))
            PQfreeCancel(cancel)
        }
    }

    private func connectionError(_ kind: PostgresError.Kind) -> PostgresError {
        PostgresError(kind, message: String(cString: PQerrorMessage(conn)))
    }

    private func resultError(_ result: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        let message = primary ?? String(cString: PQresultErrorMessage(result))
        let lost = PQstatus(conn) != CONNECTION_OK || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true
        return PostgresError(lost ? .connectionLost : .queryFailed, sqlState: state, message: message)
    }

    private func copyResult(_ result: OpaquePointer) -> QueryResult {
        let nrows = Int(PQntuples(result))
        let ncols = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(ncols)
        for c in 0..<ncols { columns.append(String(cString: PQfname(result, Int32(c)))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(nrows)
        for r in 0..<nrows {
            var row: [String?] = []
            row.reserveCapacity(ncols)
            for c in 0..<ncols {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            rows.append(row)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return QueryResult(columns: columns, rows: rows, affectedRows: affected)
    }
}

/// Waits until `fd` is ready for `events` or the deadline passes; false on timeout or a bad socket.
func waitForSocket(_ fd: Int32, events: Int16, deadline: ContinuousClock.Instant) -> Bool {
    guard fd >= 0 else { return false }
    while true {
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return false }
        let (seconds, attoseconds) = remaining.components
        let ms = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let rc = poll(&pfd, 1, ms)
        if rc > 0 { return true }
        if rc < 0 && errno != EINTR { return false }
    }
}

/// libpq reports start-up failures as text only; recognise the SQLSTATEs operators act on.
func sqlStateFromStartupMessage(_ message: String) -> String? {
    if message.contains("password authentication failed") { return "28P01" }
    if message.contains("does not exist") && message.contains("database \"") { return "3D000" }
    if message.contains("does not exist") && message.contains("role \"") { return "28000" }
    if message.contains("too many connections") || message.contains("too many clients")
        || message.contains("remaining connection slots") { return "53300" }
    if message.contains("not permitted to log in") { return "28000" }
    return nil
}

/// Lends a NULL-terminated `const char *const *` built from `strings` for the duration of `body`.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Like `withCStringArray`, with nil elements passed as NULL (SQL NULL parameters).
func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
