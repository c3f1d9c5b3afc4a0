import Synchronization

/// What the kill statement did to one target.
public enum SignalOutcome: Sendable, Equatable {
    /// The backend still matched and PostgreSQL delivered the signal (it exits at its next
    /// interrupt check, within milliseconds for an idle or running backend).
    case signalled
    /// It no longer matched at kill time (finished, changed state, exited, or its pid now
    /// belongs to a different backend), so it was left alone.
    case gone
    /// It matched but the signal failed or the backend did not exit in time.
    case failed
}

/// Lists sessions and sends guarded signals over one `Database` (its own connection, apart from
/// the scrapes').
public final class Killer: Sendable {
    public let database: Database
    /// Whether listed sessions carry the start of their query text (--audit.query-text).
    public let readsQueryText: Bool

    /// Whether actions take the server's action lock (`exclusively`): fleet mode, where replicas
    /// of one pgwarden may act on the same server.
    public let coordinatesReplicas: Bool

    public init(database: Database, readsQueryText: Bool = false, coordinatesReplicas: Bool = false) {
        self.database = database
        self.readsQueryText = readsQueryText
        self.coordinatesReplicas = coordinatesReplicas
    }

    /// Every client backend except pgwarden's own, each marked protected when its role is one of
    /// `protectedRoles` or a member of one.
    public func listSessions(protectedRoles: [String] = []) throws -> [SessionRow] {
        try database.withConnection { try listSessions(on: $0, protectedRoles: protectedRoles) }
    }

    /// `listSessions` on a connection the caller holds (inside `exclusively`).
    func listSessions(on connection: PGConnection, protectedRoles: [String]) throws -> [SessionRow] {
        let params = [database.ownBackends.arrayLiteral, arrayLiteral(protectedRoles)]
        let result = try connection.executePrepared(
            name: "pgwarden_sessions", sql: SessionRow.listSQL(serverVersion: connection.serverVersion, queryText: readsQueryText),
            params: params, timeout: database.settings.queryTimeout)
        return SessionRow.rows(from: result.last ?? QueryResult(columns: [], rows: []))
    }

    /// The advisory lock every pgwarden takes on a server before it lists, plans and signals
    /// there: (1885828964, 0), the two-key form, 1885828964 being "pgwd" in ASCII. Replicas acting
    /// on the same server (through the same database) take turns, so each lists what the other
    /// left. It waits at most lock_timeout (--db.lock-timeout).
    public static let actionLockKey: (Int32, Int32) = (0x7067_7764, 0)
    /// First key of the alert claims (see `ActionRunner.claim`): "pgwm".
    public static let claimLockKey: Int32 = 0x7067_776D

    /// Runs `body` on one connection, which (when `coordinatesReplicas`) holds the action lock
    /// from before the first statement to after the last: replicas never interleave their lists and signals on this server. A
    /// stale kept connection is replaced once, unless `body` already sent a kill statement (it
    /// calls `effectsSent`). The lock is released at the end, or by the server when the
    /// connection is lost.
    func exclusively<R: Sendable>(_ body: (PGConnection, _ effectsSent: () -> Void) throws -> R) throws -> R {
        let sent = Mutex(false)
        guard coordinatesReplicas else {
            return try database.withConnection(retryAllowed: { !sent.withLock { $0 } }) { connection in
                try body(connection) { sent.withLock { $0 = true } }
            }
        }
        let unlocked = Mutex(true)
        defer {
            // A lock that could not be released (its statement timed out) must not outlive the
            // action: the connection goes, and the server releases the lock with it.
            if !unlocked.withLock({ $0 }) { database.disconnect() }
        }
        return try database.withConnection(retryAllowed: { !sent.withLock { $0 } }) { connection in
            let timeout = database.settings.queryTimeout
            let key = Self.actionLockKey
            do {
                _ = try connection.executePrepared(name: "pgwarden_lock", sql: "SELECT pg_advisory_lock($1::int4, $2::int4)",
                                                   params: [String(key.0), String(key.1)], timeout: timeout)
            } catch var error as PostgresError where error.sqlState == "57014" {
                // statement_timeout ended the wait (a lock_timeout at or above it, or 0): the same
                // situation as lock_not_available, and answered the same way.
                error.sqlState = "55P03"
                throw error
            }
            unlocked.withLock { $0 = false }
            defer {
                if (try? unlock(connection)) != nil { unlocked.withLock { $0 = true } }
            }
            return try body(connection) { sent.withLock { $0 = true } }
        }
    }

    private func unlock(_ connection: PGConnection) throws {
        let key = Self.actionLockKey
        _ = try connection.executePrepared(name: "pgwarden_unlock", sql: "SELECT pg_advisory_unlock($1::int4, $2::int4)",
                                           params: [String(key.0), String(key.1)], timeout: database.settings.queryTimeout)
    }

    /// Signals `targets` with `action` (cancel or terminate) in one statement that re-checks, at
    /// that moment, the identity (pid and backend_start), the selection, protection, the
    /// superuser rule and signal permission; a target failing any of them is not signalled.
    /// The statement is never sent twice: when it fails (a timeout, a lost connection), some
    /// targets may have been signalled already, and the caller reports them as unknown.
    public func signal(_ action: KillAction, targets: [SessionRow], selection: Selection,
                       protectedRoles: [String]) throws -> [Int32: SignalOutcome] {
        try database.withConnection(retryingStale: false) {
            try signal(on: $0, action, targets: targets, selection: selection, protectedRoles: protectedRoles)
        }
    }

    /// The same, on a connection the caller holds (inside `exclusively`).
    func signal(on connection: PGConnection, _ action: KillAction, targets: [SessionRow], selection: Selection,
                protectedRoles: [String]) throws -> [Int32: SignalOutcome] {
        guard !targets.isEmpty else { return [:] }
        let (sql, params) = Self.statement(action, targets: targets, selection: selection, protectedRoles: protectedRoles,
                                           ownBackends: database.ownBackends.all)
        let result = try connection.execute(sql, params: params, timeout: database.settings.queryTimeout).last
            ?? QueryResult(columns: [], rows: [])
        return Self.outcomes(result)
    }

    static func outcomes(_ result: QueryResult) -> [Int32: SignalOutcome] {
        var outcomes: [Int32: SignalOutcome] = [:]
        for row in result.rows {
            let pid = Int32(row.int(0))
            switch row[1] {
            case nil: outcomes[pid] = .gone
            case "t", "true": outcomes[pid] = .signalled
            default: outcomes[pid] = .failed
            }
        }
        return outcomes
    }

    /// The guarded kill statement and its parameters (pure; unit-tested).
    static func statement(_ action: KillAction, targets: [SessionRow], selection: Selection, protectedRoles: [String],
                          ownBackends: [Int32]) -> (String, [String?]) {
        precondition(action != .cancelThenTerminate, "escalations are signalled one step at a time")
        var params = SQLParameters()
        let pids = params.array(targets.map { String($0.pid) }, type: "int4")
        let starts = params.array(targets.map { String($0.backendStartMicros) }, type: "int8")
        var guards = [
            "a.backend_type = 'client backend'",
            "a.pid <> pg_backend_pid()",
            "a.pid <> ALL(\(params.array(ownBackends.map(String.init), type: "int4")))",
            "NOT \(SessionRow.protectedSQL(params.textArray(protectedRoles)))",
            "(\(SessionRow.canSignalSQL))",
        ]
        if !selection.criteria.allowSuperuser { guards.append("NOT COALESCE(r.rolsuper, false)") }
        guards += selection.sqlConditions(&params)
        // Plain pg_terminate_backend: the (pid, timeout) form of 14+ polls every 100 ms per call,
        // one backend after another, which makes 100 sessions take 10 s.
        let call = action == .cancel ? "pg_cancel_backend(t.pid)" : "pg_terminate_backend(t.pid)"
        let sql = """
            WITH target AS (SELECT * FROM unnest(\(pids), \(starts)) AS t(pid, backend_start)), \
            ok AS (SELECT a.pid FROM pg_stat_activity a JOIN target t ON t.pid = a.pid \
            AND t.backend_start = \(SessionRow.backendStartMicrosSQL("a.backend_start")) \
            LEFT JOIN pg_roles r ON r.oid = a.usesysid WHERE \(guards.joined(separator: " AND "))) \
            SELECT t.pid, CASE WHEN ok.pid IS NOT NULL THEN \(call) END FROM target t LEFT JOIN ok ON ok.pid = t.pid
            """
        return (sql, params.values)
    }
}
