/// The sessions one action may touch: a rule's criteria narrowed by an alert's labels (or the
/// command line's selectors). For an only_blocking rule, the alert's datname, usename and
/// application_name describe the blocked sessions (the alert's subject), so they narrow the
/// waiters, while the rule's own filters still apply to the blocker itself. Evaluated twice with the same meaning: in Swift on listed rows
/// (to plan and report) and in SQL inside the kill statement (to re-check at kill time).
public struct Selection: Sendable, Equatable {
    public var criteria: SessionCriteria
    /// Equalities from the alert: datname, usename, application_name.
    public var datname: String?
    public var usename: String?
    public var applicationName: String?
    /// A pid-addressed alert: the pid and its backend_start (Unix seconds) must both match.
    public var pid: Int32?
    public var backendStartEpoch: Double?
    /// Set when the alert addresses a pid but its pid or backend_start is unusable: nothing matches.
    public var unusableReason: String?

    public init(criteria: SessionCriteria, datname: String? = nil, usename: String? = nil,
                applicationName: String? = nil, pid: Int32? = nil, backendStartEpoch: Double? = nil) {
        self.criteria = criteria
        self.datname = datname
        self.usename = usename
        self.applicationName = applicationName
        self.pid = pid
        self.backendStartEpoch = backendStartEpoch
    }

    /// A rule's criteria narrowed by an alert's labels. Labels can only narrow, never widen. A
    /// `pid` label makes the alert address one backend; it must come with the `backend_start` that
    /// backend had, both read strictly (`AlertAddress`), or nothing is selected. `now` is this
    /// host's clock in Unix seconds (a backend_start more than a day past it is implausible).
    public static func narrowing(_ criteria: SessionCriteria, by labels: [String: String],
                                 now: Double = unixTime()) -> Selection {
        var selection = Selection(criteria: criteria, datname: labels["datname"], usename: labels["usename"],
                                  applicationName: labels["application_name"])
        guard let pidText = labels["pid"] else { return selection }
        guard let pid = AlertAddress.pid(pidText) else {
            selection.unusableReason = "the alert's pid label \(AlertAddress.shown(pidText)) is not a process id "
                + "(a plain decimal number from 1 to 2147483647, without sign, blanks or leading zeros); nothing is done"
            return selection
        }
        selection.pid = pid
        guard let startText = labels["backend_start"] else {
            selection.unusableReason = "the alert addresses pid \(pid) without a backend_start label in Unix seconds; "
                + "without it a reused pid could be hit, so nothing is done"
            return selection
        }
        switch AlertAddress.backendStart(startText, now: now) {
        case .success(let start):
            selection.backendStartEpoch = start
        case .failure(.notDecimal):
            selection.unusableReason = "the alert's backend_start label \(AlertAddress.shown(startText)) is not Unix seconds "
                + "in plain decimal digits (like 1700000000.123456; no sign, exponent, blanks, NaN or infinity); "
                + "without a usable backend_start a reused pid \(pid) could be hit, so nothing is done"
        case .failure(.implausible):
            selection.unusableReason = "the alert's backend_start label \(AlertAddress.shown(startText)) is not a time a running "
                + "backend can have started at (before 2000-01-01, or more than a day past this host's clock); "
                + "without a usable backend_start a reused pid \(pid) could be hit, so nothing is done"
        }
        return selection
    }

    /// Whether `row` meets every condition (guards such as protection are the planner's).
    public func matches(_ row: SessionRow) -> Bool {
        if unusableReason != nil { return false }
        let c = criteria
        if !c.states.isEmpty && !c.states.containsExactly(row.state) { return false }
        if let min = c.minStateAge, row.stateAge < min.seconds { return false }
        if let min = c.minTransactionAge {
            guard let age = row.transactionAge, age >= min.seconds else { return false }
        }
        if let min = c.minBackendAge, !(row.backendAge >= min.seconds) { return false }
        if !c.databases.allows(row.datname) || !c.roles.allows(row.usename)
            || !c.applicationNames.allows(row.applicationName) { return false }
        if !c.clientAddresses.isEmpty && !c.clientAddresses.contains(where: { $0.contains(row.clientAddr) }) { return false }
        if c.excludeClientAddresses.contains(where: { $0.contains(row.clientAddr) }) { return false }
        if c.onlyBlocking {
            let blocksSubject = row.blocked.contains { waiter in
                (datname.map { Self.sameName(waiter.datname, $0) } ?? true) && (usename.map { Self.sameName(waiter.usename, $0) } ?? true)
                    && (applicationName.map { waiter.applicationName.isExactly($0) } ?? true)
            }
            if !blocksSubject { return false }
        } else {
            if let datname, !Self.sameName(row.datname, datname) { return false }
            if let usename, !Self.sameName(row.usename, usename) { return false }
            if let applicationName, !row.applicationName.isExactly(applicationName) { return false }
        }
        if let pid, row.pid != pid { return false }
        // Written so that a NaN on either side fails the guard (every comparison with NaN is false).
        if let start = backendStartEpoch, !(abs(row.backendStartEpoch - start) <= 0.0000015) { return false }
        return true
    }

    /// A database or role name equal to an alert's label, byte for byte. An empty label matches
    /// nothing: in pg_stat_activity an empty datname or usename is NULL, which equals nothing.
    static func sameName(_ name: String, _ label: String) -> Bool { !label.isEmpty && name.isExactly(label) }

    /// client_addr with IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) unwrapped to IPv4, as
    /// `CIDR.contains` treats them (inet's <<= never matches across address families).
    static let clientAddressSQL = "CASE WHEN family(a.client_addr) = 6 AND host(a.client_addr) LIKE '::ffff:%.%' "
        + "THEN substr(host(a.client_addr), 8)::inet ELSE a.client_addr END"

    /// The same conditions as SQL over `pg_stat_activity a LEFT JOIN pg_roles r`, binding values
    /// through `params` (never interpolated).
    func sqlConditions(_ params: inout SQLParameters) -> [String] {
        if unusableReason != nil { return ["false"] }
        let c = criteria
        var sql: [String] = []
        if !c.states.isEmpty { sql.append("a.state = ANY(\(params.textArray(c.states)))") }
        params.minAge("a.state_change", c.minStateAge, into: &sql)
        params.minAge("a.xact_start", c.minTransactionAge, into: &sql)
        params.minAge("a.backend_start", c.minBackendAge, into: &sql)
        params.nameFilter("a.datname::text", c.databases, into: &sql)
        params.nameFilter("a.usename::text", c.roles, into: &sql)
        params.nameFilter("a.application_name", c.applicationNames, into: &sql)
        if !c.clientAddresses.isEmpty {
            sql.append("COALESCE(\(Self.clientAddressSQL) <<= ANY(\(params.array(c.clientAddresses.map(\.description), type: "inet"))), false)")
        }
        if !c.excludeClientAddresses.isEmpty {
            sql.append("NOT COALESCE(\(Self.clientAddressSQL) <<= ANY(\(params.array(c.excludeClientAddresses.map(\.description), type: "inet"))), false)")
        }
        // The alert's equalities: on the session itself, or for only_blocking on the waiters.
        let subject = c.onlyBlocking ? "w" : "a"
        var equalities: [String] = []
        if let datname { equalities.append("\(subject).datname::text = \(params.bind(datname))") }
        if let usename { equalities.append("\(subject).usename::text = \(params.bind(usename))") }
        if let applicationName { equalities.append("\(subject).application_name = \(params.bind(applicationName))") }
        if c.onlyBlocking {
            sql.append("a.pid IN (SELECT unnest(pg_blocking_pids(w.pid)) FROM pg_stat_activity w WHERE "
                + (["w.wait_event_type = 'Lock'"] + equalities).joined(separator: " AND ") + ")")
        } else {
            sql += equalities
        }
        return sql
    }
}

/// Positional parameters of one statement: `bind` returns `$n`.
struct SQLParameters {
    private(set) var values: [String?] = []

    mutating func bind(_ value: String?) -> String {
        values.append(value)
        return "$\(values.count)"
    }

    mutating func textArray(_ items: [String]) -> String { array(items, type: "text") }

    /// `column` at least `min` ago by the server's clock, appended to `sql` (nothing without `min`).
    mutating func minAge(_ column: String, _ min: Duration?, into sql: inout [String]) {
        guard let min else { return }
        sql.append("now() - \(column) >= make_interval(secs => \(bind(String(min.seconds)))::float8)")
    }

    /// `filter`'s include and exclude lists over `column` (NULL read as ''), appended to `sql`.
    mutating func nameFilter(_ column: String, _ filter: NameFilter, into sql: inout [String]) {
        if !filter.include.isEmpty { sql.append("COALESCE(\(column), '') = ANY(\(textArray(filter.include)))") }
        if !filter.exclude.isEmpty { sql.append("NOT (COALESCE(\(column), '') = ANY(\(textArray(filter.exclude))))") }
    }

    /// An array parameter as a PostgreSQL array literal with every element quoted.
    mutating func array(_ items: [String], type: String) -> String {
        "\(bind(arrayLiteral(items)))::\(type)[]"
    }
}

/// `{"a","b\\"c"}`: every element double-quoted, quotes and backslashes escaped.
func arrayLiteral(_ items: [String]) -> String {
    var out = "{"
    for (index, item) in items.enumerated() {
        if index > 0 { out += "," }
        out += "\""
        for scalar in item.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        out += "\""
    }
    return out + "}"
}
