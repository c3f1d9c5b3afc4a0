/// One client session as the kill path sees it: identity, labels, ages and what guards need.
public struct SessionRow: Sendable, Equatable {
    public var pid: Int32
    /// backend_start in microseconds since the Unix epoch, as `backendStartMicrosSQL` computes it
    /// on the server; the kill statement compares the same expression (pid-reuse guard). A number,
    /// never timestamp text, so no DateStyle or TimeZone can change it between list and kill.
    public var backendStartMicros: Int64
    /// backend_start as Unix seconds (what a pid-addressed alert's backend_start label holds).
    public var backendStartEpoch: Double
    public var datname: String
    public var usename: String
    public var applicationName: String
    /// Client address; empty for Unix-socket sessions.
    public var clientAddr: String
    public var state: String
    /// Seconds in the current state.
    public var stateAge: Double
    /// Seconds since the transaction began; nil outside a transaction.
    public var transactionAge: Double?
    /// Seconds since the backend started (the connection's age).
    public var backendAge: Double = 0
    public var isSuperuser: Bool
    /// Its role is one of the protected roles or a member of one (see `protectedSQL`).
    public var isProtected: Bool
    /// pg_stat_activity.query_id (PostgreSQL 14+, with compute_query_id), for the audit file.
    public var queryID: String? = nil
    /// The start of the query text, only when the audit file asks for it.
    public var queryText: String? = nil
    /// Holds a lock some other session waits for.
    public var isBlocking: Bool { !blocked.isEmpty }
    /// The sessions waiting on this one's locks (database, role, application of each).
    public var blocked: [BlockedSession]
    /// pgwarden's own role may signal this backend (superuser, pg_signal_backend or same role).
    public var canSignal: Bool

    public init(pid: Int32, backendStartMicros: Int64 = 0, backendStartEpoch: Double? = nil, datname: String = "",
                usename: String = "", applicationName: String = "", clientAddr: String = "", state: String = "idle",
                stateAge: Double = 0, transactionAge: Double? = nil, isSuperuser: Bool = false, isProtected: Bool = false,
                queryID: String? = nil, queryText: String? = nil,
                blocked: [BlockedSession] = [], canSignal: Bool = true, backendAge: Double = 0) {
        self.pid = pid
        self.backendStartMicros = backendStartMicros
        self.backendStartEpoch = backendStartEpoch ?? Double(backendStartMicros) / 1_000_000
        self.datname = datname
        self.usename = usename
        self.applicationName = applicationName
        self.clientAddr = clientAddr
        self.state = state
        self.stateAge = stateAge
        self.transactionAge = transactionAge
        self.isSuperuser = isSuperuser
        self.isProtected = isProtected
        self.queryID = queryID
        self.queryText = queryText
        self.blocked = blocked
        self.canSignal = canSignal
        self.backendAge = backendAge
    }

    /// Longest query text kept for the audit file, in characters.
    public static let maxQueryText = 1024

    /// Every client backend except pgwarden's own ($1: the pids of its other connections), with
    /// the guard columns ($2: the protected roles), on a server of `version` (query_id exists
    /// from 14 on), with the start of the query text or not.
    static func listSQL(serverVersion version: Int, queryText: Bool) -> String {
        let queryID = version >= 140000 ? "a.query_id::text" : "NULL::text"
        let query = queryText ? "left(a.query, \(maxQueryText))" : "NULL::text"
        return """
        SELECT a.pid, \(backendStartMicrosSQL("a.backend_start")), COALESCE(a.datname::text, ''), \
        COALESCE(a.usename::text, ''), COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), ''), \
        COALESCE(a.state, ''), GREATEST(0, \(ageSeconds("a.state_change")))::text, \
        GREATEST(0, \(ageSeconds("a.xact_start")))::text, COALESCE(r.rolsuper, false), \
        b.datnames, b.usenames, b.apps, \(canSignalSQL), \(protectedSQL("$2::text[]")), \(queryID), \(query), \
        GREATEST(0, \(ageSeconds("a.backend_start")))::text \
        FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid LEFT JOIN (\
        SELECT blocker, array_agg(COALESCE(datname::text, '')) AS datnames, array_agg(COALESCE(usename::text, '')) AS usenames, \
        array_agg(COALESCE(application_name, '')) AS apps FROM (SELECT unnest(pg_blocking_pids(w.pid)) AS blocker, w.datname, \
        w.usename, w.application_name FROM pg_stat_activity w WHERE w.wait_event_type = 'Lock') AS waits \
        GROUP BY blocker) AS b ON b.blocker = a.pid \
        WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND a.pid <> ALL($1::int4[]) ORDER BY a.pid
        """
    }

    /// Whether backend `a`'s role is one of `roles` (a text[] expression) or a member of one,
    /// directly or through other groups: a DBA who protects a group means its members. Evaluated
    /// by the server when sessions are listed and again in the kill statement.
    static func protectedSQL(_ roles: String) -> String {
        "(COALESCE(a.usename::text, '') = ANY(\(roles)) OR EXISTS (SELECT 1 FROM pg_roles pr "
            + "WHERE pr.rolname = ANY(\(roles)) AND pg_has_role(a.usesysid, pr.oid, 'MEMBER')))"
    }

    /// A backend_start column as whole microseconds since the Unix epoch (int8): the one
    /// expression for it in the list and the kill statement, so both compute the same number.
    static func backendStartMicrosSQL(_ column: String) -> String {
        "(extract(epoch FROM \(column)) * 1000000)::int8"
    }

    /// Whether the connected role may signal backend `a` (owner `r`): superusers may signal all;
    /// others never a superuser's, and otherwise need pg_signal_backend or the backend's role.
    static let canSignalSQL = """
        CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN true \
        WHEN COALESCE(r.rolsuper, false) THEN false \
        ELSE pg_has_role(current_user, 'pg_signal_backend', 'USAGE') OR pg_has_role(current_user, a.usesysid, 'USAGE') END
        """

    /// Rows of `listSQL`.
    static func rows(from result: QueryResult) -> [SessionRow] {
        result.rows.map { r in
            let datnames = r[10].flatMap(parseTextArray) ?? [], usenames = r[11].flatMap(parseTextArray) ?? []
            let apps = r[12].flatMap(parseTextArray) ?? []
            let blocked = zip(datnames, zip(usenames, apps)).map {
                BlockedSession(datname: $0 ?? "", usename: $1.0 ?? "", applicationName: $1.1 ?? "")
            }
            return SessionRow(pid: Int32(r.int(0)), backendStartMicros: Int64(r.text(1)) ?? 0, datname: r.text(2),
                              usename: r.text(3), applicationName: r.text(4), clientAddr: r.text(5), state: r.text(6),
                              stateAge: r.double(7), transactionAge: r[8].flatMap(Double.init), isSuperuser: r.bool(9),
                              isProtected: r.bool(14), queryID: r.count > 15 ? r[15] : nil, queryText: r.count > 16 ? r[16] : nil,
                              blocked: blocked, canSignal: r.bool(13), backendAge: r.count > 17 ? r.double(17) : 0)
        }
    }
}

/// A session waiting on a lock another session holds: who it is.
public struct BlockedSession: Sendable, Equatable {
    public var datname: String
    public var usename: String
    public var applicationName: String

    public init(datname: String, usename: String, applicationName: String = "") {
        self.datname = datname
        self.usename = usename
        self.applicationName = applicationName
    }
}
