/// The prepared transactions one action may roll back: a rule's criteria narrowed by an alert's
/// `datname` and `owner` labels (those of `pg_prepared_transaction_age_max_seconds`), or the
/// command line's selectors. Evaluated twice with the same meaning: in Swift on listed rows (to
/// plan and report) and in SQL in the rollback's re-check, on the transaction's own database.
public struct PreparedSelection: Sendable, Equatable {
    public var criteria: PreparedCriteria
    /// Equalities from the alert.
    public var datname: String?
    public var owner: String?

    public init(criteria: PreparedCriteria, datname: String? = nil, owner: String? = nil) {
        self.criteria = criteria
        self.datname = datname
        self.owner = owner
    }

    /// A rule's criteria narrowed by an alert's labels (only narrowed, never widened). Other
    /// labels, `usename` included, select nothing here: a prepared transaction has an owner, not
    /// a session user.
    public static func narrowing(_ criteria: PreparedCriteria, by labels: [String: String]) -> PreparedSelection {
        PreparedSelection(criteria: criteria, datname: labels["datname"], owner: labels["owner"])
    }

    /// Whether `row` meets every condition (protection and permission are the planner's).
    public func matches(_ row: PreparedTransaction) -> Bool {
        let c = criteria
        if let min = c.minPreparedAge, !(row.age >= min.seconds) { return false }
        if !c.databases.allows(row.datname) || !c.owners.allows(row.owner) { return false }
        if !c.allowsGID(row.gid) { return false }
        if let datname, !Selection.sameName(row.datname, datname) { return false }
        if let owner, !Selection.sameName(row.owner, owner) { return false }
        return true
    }

    /// The same conditions as SQL over `pg_prepared_xacts p`, values bound through `params`.
    func sqlConditions(_ params: inout SQLParameters) -> [String] {
        let c = criteria
        var sql: [String] = []
        params.minAge("p.prepared", c.minPreparedAge, into: &sql)
        params.nameFilter("p.database::text", c.databases, into: &sql)
        params.nameFilter("p.owner::text", c.owners, into: &sql)
        if !c.gidPatterns.isEmpty { sql.append("p.gid LIKE ANY(\(params.textArray(c.gidPatterns.map(\.likePattern))))") }
        if !c.excludeGidPatterns.isEmpty {
            sql.append("NOT (p.gid LIKE ANY(\(params.textArray(c.excludeGidPatterns.map(\.likePattern)))))")
        }
        if let datname { sql.append("p.database::text = \(params.bind(datname))") }
        if let owner { sql.append("p.owner::text = \(params.bind(owner))") }
        return sql
    }
}

/// One planned prepared transaction: the row as listed, the decision and, for a skip, the guard.
public struct PlannedTransaction: Sendable, Equatable {
    public var transaction: PreparedTransaction
    public var decision: Decision
    public var refusedBy: Guard?
}

/// The pure planner of `rollback_prepared`: from a rule, its selection, the listed transactions
/// and the remaining budget to a plan. The rollback re-checks every condition on the server.
public enum PreparedPlanner {
    /// Plans `rows`: matching transactions oldest first; protected owners, superusers' (unless
    /// allowed) and those pgwarden's role may not finish are skipped; at most
    /// `min(rule.maxSessionsPerAlert, budget)` are rolled back, the rest are capped.
    public static func plan(rule: Rule, selection: PreparedSelection, protectedRoles: [String],
                            rows: [PreparedTransaction], budget: Int) -> [PlannedTransaction] {
        let matching = rows.filter(selection.matches).sorted {
            $0.preparedMicros != $1.preparedMicros ? $0.preparedMicros < $1.preparedMicros
                : $0.gid.utf8.lexicographicallyPrecedes($1.gid.utf8)
        }
        return Planner.decide(matching, rule: rule, budget: budget, caps: (.perAlertTransactionCap, .perMinuteTransactionCap)) { row in
            if row.isProtected || protectedRoles.containsExactly(row.owner) { return (.protected, .protectedRole) }
            if row.isSuperuser && !selection.criteria.allowSuperuser { return (.protected, .superuser) }
            return row.canRollBack ? nil : (.notPermitted, .rollbackPermission)
        } act: { _ in
            .rollbackPrepared
        }.map { PlannedTransaction(transaction: $0.row, decision: $0.decision, refusedBy: $0.refusedBy) }
    }
}
