/// One prepared transaction (`pg_prepared_xacts`) as the rollback path sees it: identity,
/// labels, age and what the guards need.
public struct PreparedTransaction: Sendable, Equatable {
    /// The global transaction identifier given to PREPARE TRANSACTION: arbitrary text, at most
    /// 199 bytes, chosen by whoever prepared it.
    public var gid: String
    /// The transaction's xid, as text.
    public var transaction: String
    /// `prepared` in microseconds since the Unix epoch (`preparedMicrosSQL`). With the gid and
    /// the xid it is the transaction's identity: a gid used again by a new transaction has
    /// another xid and another prepared time.
    public var preparedMicros: Int64
    /// The transaction's database.
    public var datname: String
    /// The role that prepared it ('' when that role no longer exists).
    public var owner: String
    /// Seconds since it was prepared, by the server's clock.
    public var age: Double
    /// The owner is a superuser.
    public var isSuperuser: Bool
    /// The owner is one of the protected roles or a member of one.
    public var isProtected: Bool
    /// pgwarden's role may roll it back: a superuser, the owner itself, or a role that may
    /// `SET ROLE` to the owner (`viaRole`).
    public var canRollBack: Bool
    /// The rollback must `SET ROLE` to the owner first (pgwarden's role is neither a superuser
    /// nor the owner, but may act as the owner).
    public var viaRole: Bool

    public init(gid: String, transaction: String = "0", preparedMicros: Int64 = 0, datname: String = "", owner: String = "",
                age: Double = 0, isSuperuser: Bool = false, isProtected: Bool = false, canRollBack: Bool = true,
                viaRole: Bool = false) {
        self.gid = gid
        self.transaction = transaction
        self.preparedMicros = preparedMicros
        self.datname = datname
        self.owner = owner
        self.age = age
        self.isSuperuser = isSuperuser
        self.isProtected = isProtected
        self.canRollBack = canRollBack
        self.viaRole = viaRole
    }

    /// `prepared` as Unix seconds.
    public var preparedEpoch: Double { Double(preparedMicros) / 1_000_000 }

    /// `prepared` as an RFC 3339 UTC time with milliseconds.
    public var preparedText: String {
        formatRFC3339(seconds: Int(preparedMicros / 1_000_000), milliseconds: Int(preparedMicros % 1_000_000 / 1000))
    }

    /// A `prepared` column as whole microseconds since the Unix epoch (int8), the one expression
    /// for it in the listing and in the rollback's re-check.
    static func preparedMicrosSQL(_ column: String) -> String {
        "(extract(epoch FROM \(column)) * 1000000)::int8"
    }

    /// Whether the owner of `p` (its role `r`, NULL when dropped) is one of `roles` (a text[]
    /// expression) or a member of one, directly or through other groups.
    static func protectedSQL(_ roles: String) -> String {
        "(COALESCE(p.owner::text, '') = ANY(\(roles)) OR EXISTS (SELECT 1 FROM pg_roles pr "
            + "WHERE pr.rolname = ANY(\(roles)) AND pg_has_role(r.oid, pr.oid, 'MEMBER')))"
    }

    /// Whether the connected role is a superuser.
    static let superuserSQL = "COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)"

    /// Whether the connected role may act as owner `r` with SET ROLE: membership with the SET
    /// option on 16+, any membership before.
    static func setRoleSQL(serverVersion: Int) -> String {
        "(r.oid IS NOT NULL AND pg_has_role(current_user, r.oid, '\(serverVersion >= 160000 ? "SET" : "MEMBER")'))"
    }

    /// Whether the connected role may finish `p`: ROLLBACK PREPARED requires a superuser or the
    /// role that prepared it, which a member may become with SET ROLE.
    static func canRollBackSQL(serverVersion: Int) -> String {
        "(\(superuserSQL) OR p.owner = current_user OR \(setRoleSQL(serverVersion: serverVersion)))"
    }

    /// Every prepared transaction of the cluster, oldest first, with the guard columns ($1: the
    /// protected roles).
    static func listSQL(serverVersion: Int) -> String {
        """
        SELECT p.gid, p.transaction::text, \(preparedMicrosSQL("p.prepared")), COALESCE(p.database::text, ''), \
        COALESCE(p.owner::text, ''), GREATEST(0, \(ageSeconds("p.prepared")))::text, COALESCE(r.rolsuper, false), \
        \(protectedSQL("$1::text[]")), \(canRollBackSQL(serverVersion: serverVersion)), \
        NOT (\(superuserSQL) OR p.owner = current_user) \
        FROM pg_prepared_xacts p LEFT JOIN pg_roles r ON r.rolname = p.owner ORDER BY p.prepared, p.gid
        """
    }

    /// Rows of `listSQL`.
    static func rows(from result: QueryResult) -> [PreparedTransaction] {
        result.rows.map { r in
            PreparedTransaction(gid: r.text(0), transaction: r.text(1), preparedMicros: Int64(r.text(2)) ?? 0,
                                datname: r.text(3), owner: r.text(4), age: r.double(5), isSuperuser: r.bool(6),
                                isProtected: r.bool(7), canRollBack: r.bool(8), viaRole: r.bool(8) && r.bool(9))
        }
    }
}

/// A prepared transaction's identity: gid (as bytes), xid and prepared time.
struct PreparedIdentity: Hashable {
    var gid: [UInt8]
    var transaction: String
    var prepared: Int64
    init(_ t: PreparedTransaction) { (gid, transaction, prepared) = (Array(t.gid.utf8), t.transaction, t.preparedMicros) }
}
