import Testing
@testable import PGWarden

/// Selection: matching in Swift, narrowing by alert labels, and the same conditions as bound SQL.
@Suite("Selection")
struct SelectionTests {
    static func row(pid: Int32 = 42, epoch: Double = 1_700_000_000.123456, datname: String = "shop",
                    usename: String = "app", application: String = "web", client: String = "10.1.2.3",
                    state: String = "active", stateAge: Double = 100, xactAge: Double? = 100,
                    blocking: Bool = false, waiter: BlockedSession = BlockedSession(datname: "shop", usename: "waiter")) -> SessionRow {
        SessionRow(pid: pid, backendStartMicros: Int64((epoch * 1_000_000).rounded()), backendStartEpoch: epoch, datname: datname,
                   usename: usename, applicationName: application, clientAddr: client, state: state,
                   stateAge: stateAge, transactionAge: xactAge, blocked: blocking ? [waiter] : [])
    }

    static func cidr(_ text: String) -> CIDR {
        guard let c = CIDR(text) else { fatalError("bad CIDR in test: \(text)") }
        return c
    }

    // MARK: - matches

    @Test func emptyCriteriaMatchEverything() {
        let s = Selection(criteria: SessionCriteria())
        #expect(s.matches(Self.row()))
        #expect(s.matches(Self.row(client: "", state: "idle", stateAge: 0, xactAge: nil)))
    }

    @Test(arguments: [("active", true), ("idle", false), ("idle in transaction", true), ("Active", false)])
    func states(state: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(states: ["active", "idle in transaction"]))
        #expect(s.matches(Self.row(state: state)) == expected)
    }

    @Test(arguments: [(29.9, false), (30.0, true), (31.0, true), (0.0, false)])
    func minStateAge(age: Double, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(minStateAge: .seconds(30)))
        #expect(s.matches(Self.row(stateAge: age)) == expected)
    }

    @Test(arguments: [(nil, false), (59.5, false), (60.0, true), (3600.0, true)] as [(Double?, Bool)])
    func minTransactionAge(age: Double?, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(minTransactionAge: .seconds(60)))
        #expect(s.matches(Self.row(xactAge: age)) == expected)
    }

    @Test(arguments: [(3599.9, false), (3600.0, true), (90000.0, true), (0.0, false), (Double.nan, false)])
    func minBackendAge(age: Double, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(minBackendAge: .seconds(3600)))
        var row = Self.row()
        row.backendAge = age
        #expect(s.matches(row) == expected)
        var params = SQLParameters()
        #expect(s.sqlConditions(&params) == ["now() - a.backend_start >= make_interval(secs => $1::float8)"])
        #expect(params.values == ["3600.0"])
    }

    /// Without a transaction age criterion a session outside a transaction still matches.
    @Test func nilTransactionAgeMatchesWithoutCriterion() {
        #expect(Selection(criteria: SessionCriteria(minStateAge: .seconds(1))).matches(Self.row(xactAge: nil)))
    }

    @Test(arguments: [("shop", true), ("billing", true), ("postgres", false), ("other", false)])
    func databaseFilter(datname: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(databases: NameFilter(include: ["shop", "billing", "postgres"],
                                                                          exclude: ["postgres"])))
        #expect(s.matches(Self.row(datname: datname)) == expected)
    }

    @Test(arguments: [("app", true), ("batch", false), ("", true)])
    func roleExcludeOnly(usename: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(roles: NameFilter(exclude: ["batch"])))
        #expect(s.matches(Self.row(usename: usename)) == expected)
    }

    @Test(arguments: [("app", true), ("batch", false)])
    func roleInclude(usename: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(roles: NameFilter(include: ["app"])))
        #expect(s.matches(Self.row(usename: usename)) == expected)
    }

    @Test(arguments: [("web", true), ("psql", false), ("", false), ("worker", false)])
    func applicationFilter(application: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(applicationNames: NameFilter(include: ["web", "worker"],
                                                                                 exclude: ["worker"])))
        #expect(s.matches(Self.row(application: application)) == expected)
    }

    @Test(arguments: [("10.1.2.3", true), ("10.255.0.1", true), ("192.168.1.5", false), ("", false),
                      ("::ffff:10.1.2.3", true), ("fd00::1", true), ("2001:db8::1", false)])
    func clientAddressInclude(client: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(clientAddresses: [Self.cidr("10.0.0.0/8"), Self.cidr("fd00::/8")]))
        #expect(s.matches(Self.row(client: client)) == expected)
    }

    /// Excluding ranges leaves Unix-socket sessions ('' client address) selectable.
    @Test(arguments: [("10.1.2.3", false), ("192.168.1.5", true), ("", true), ("::ffff:10.9.9.9", false)])
    func clientAddressExclude(client: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(excludeClientAddresses: [Self.cidr("10.0.0.0/8")]))
        #expect(s.matches(Self.row(client: client)) == expected)
    }

    @Test(arguments: [("10.1.2.3", true), ("10.9.0.1", false), ("172.16.0.1", false), ("", false)])
    func clientAddressIncludeAndExclude(client: String, expected: Bool) {
        let s = Selection(criteria: SessionCriteria(clientAddresses: [Self.cidr("10.0.0.0/8")],
                                                    excludeClientAddresses: [Self.cidr("10.9.0.0/16")]))
        #expect(s.matches(Self.row(client: client)) == expected)
    }

    @Test func onlyBlocking() {
        let s = Selection(criteria: SessionCriteria(onlyBlocking: true))
        #expect(s.matches(Self.row(blocking: true)))
        #expect(!s.matches(Self.row(blocking: false)))
        #expect(Selection(criteria: SessionCriteria()).matches(Self.row(blocking: false)))
    }

    /// For only_blocking, the alert's labels name the blocked sessions (the alert's subject):
    /// a blocker of another role is selected when it blocks a session with those labels.
    @Test func onlyBlockingNarrowsByTheWaiters() {
        let c = SessionCriteria(onlyBlocking: true)
        let blocker = Self.row(usename: "batch", blocking: true, waiter: BlockedSession(datname: "shop", usename: "app", applicationName: "web"))
        #expect(Selection(criteria: c, datname: "shop", usename: "app").matches(blocker))
        #expect(Selection(criteria: c, usename: "app", applicationName: "web").matches(blocker))
        #expect(!Selection(criteria: c, usename: "batch").matches(blocker), "the blocker's own role is not the alert's subject")
        #expect(!Selection(criteria: c, datname: "other").matches(blocker))
        // The rule's own filters still apply to the blocker.
        let batchOnly = SessionCriteria(roles: NameFilter(include: ["app"]), onlyBlocking: true)
        #expect(!Selection(criteria: batchOnly, usename: "app").matches(blocker))
    }

    @Test func onlyBlockingEqualitiesAreOnTheWaitersInSQL() {
        var params = SQLParameters()
        let sql = Selection(criteria: SessionCriteria(onlyBlocking: true), datname: "shop", usename: "app")
            .sqlConditions(&params).joined(separator: " AND ")
        #expect(sql.contains("w.wait_event_type = 'Lock' AND w.datname::text = $1 AND w.usename::text = $2"))
        #expect(!sql.contains("a.usename::text ="))
        #expect(params.values == ["shop", "app"])
    }

    @Test func alertEqualities() {
        let c = SessionCriteria()
        #expect(Selection(criteria: c, datname: "shop").matches(Self.row(datname: "shop")))
        #expect(!Selection(criteria: c, datname: "shop").matches(Self.row(datname: "shop2")))
        #expect(Selection(criteria: c, usename: "app").matches(Self.row(usename: "app")))
        #expect(!Selection(criteria: c, usename: "app").matches(Self.row(usename: "App")))
        #expect(Selection(criteria: c, applicationName: "web").matches(Self.row(application: "web")))
        #expect(!Selection(criteria: c, applicationName: "web").matches(Self.row(application: "")))
        // An empty-string equality is an equality, not "any".
        #expect(!Selection(criteria: c, applicationName: "").matches(Self.row(application: "web")))
        #expect(Selection(criteria: c, applicationName: "").matches(Self.row(application: "")))
    }

    @Test(arguments: [
        (Int32(42), 0.0, true), (42, 0.000001, true), (42, -0.000001, true), (42, 0.00001, false),
        (42, -0.001, false), (42, 1.0, false), (43, 0.0, false),
    ])
    func pidAndBackendStart(pid: Int32, offset: Double, expected: Bool) {
        let epoch = 1_700_000_000.123456
        let s = Selection(criteria: SessionCriteria(), pid: 42, backendStartEpoch: epoch)
        #expect(s.matches(Self.row(pid: pid, epoch: epoch + offset)) == expected)
    }

    @Test func everyCriterionAtOnce() {
        let c = SessionCriteria(states: ["active"], minStateAge: .seconds(10), minTransactionAge: .seconds(10),
                                databases: NameFilter(include: ["shop"]), roles: NameFilter(include: ["app"]),
                                applicationNames: NameFilter(include: ["web"]), clientAddresses: [Self.cidr("10.0.0.0/8")],
                                onlyBlocking: true)
        let s = Selection(criteria: c)
        let good = Self.row(blocking: true)
        #expect(s.matches(good))
        var bad = good; bad.state = "idle"; #expect(!s.matches(bad))
        bad = good; bad.stateAge = 1; #expect(!s.matches(bad))
        bad = good; bad.transactionAge = nil; #expect(!s.matches(bad))
        bad = good; bad.datname = "x"; #expect(!s.matches(bad))
        bad = good; bad.usename = "x"; #expect(!s.matches(bad))
        bad = good; bad.applicationName = "x"; #expect(!s.matches(bad))
        bad = good; bad.clientAddr = ""; #expect(!s.matches(bad))
        bad = good; bad.blocked = []; #expect(!s.matches(bad))
    }

    // MARK: - narrowing

    @Test func narrowingTakesAlertLabels() {
        let s = Selection.narrowing(SessionCriteria(), by: [
            "alertname": "X", "severity": "page", "datname": "shop", "usename": "app", "application_name": "web",
            "pid": "42", "backend_start": "1700000000.123456",
        ])
        #expect(s.unusableReason == nil)
        #expect(s.datname == "shop" && s.usename == "app" && s.applicationName == "web")
        #expect(s.pid == 42)
        #expect(s.backendStartEpoch == 1_700_000_000.123456)
        #expect(s.matches(Self.row()))
        #expect(!s.matches(Self.row(pid: 43)))
    }

    @Test func unrelatedLabelsDoNotNarrow() {
        let s = Selection.narrowing(SessionCriteria(), by: ["alertname": "X", "instance": "db1:5432", "job": "pg"])
        #expect(s == Selection(criteria: SessionCriteria()))
        #expect(s.matches(Self.row()))
    }

    /// A rule restricted to role A answering an alert about role B selects nothing: labels only narrow.
    @Test func labelsOnlyNarrow() {
        let criteria = SessionCriteria(roles: NameFilter(include: ["a"]))
        let s = Selection.narrowing(criteria, by: ["alertname": "X", "usename": "b"])
        #expect(s.criteria == criteria)
        #expect(!s.matches(Self.row(usename: "a")))
        #expect(!s.matches(Self.row(usename: "b")))
        // The same for databases and states: an alert label cannot reach past the rule.
        let db = Selection.narrowing(SessionCriteria(databases: NameFilter(exclude: ["secret"])),
                                     by: ["datname": "secret"])
        #expect(!db.matches(Self.row(datname: "secret")))
        let st = Selection.narrowing(SessionCriteria(states: ["idle in transaction"]), by: ["usename": "app"])
        #expect(!st.matches(Self.row(usename: "app", state: "active")))
    }

    @Test func pidWithoutBackendStartIsUnusable() {
        let s = Selection.narrowing(SessionCriteria(), by: ["alertname": "X", "pid": "42"])
        let reason = s.unusableReason
        #expect(reason != nil)
        #expect(reason?.contains("backend_start") == true)
        #expect(!s.matches(Self.row(pid: 42)))
        #expect(!s.matches(Self.row(pid: 7)))
    }

    @Test(arguments: ["abc", "", "42.0", "-", "99999999999", " 42"])
    func nonNumericPidIsUnusable(pid: String) {
        let s = Selection.narrowing(SessionCriteria(), by: ["pid": pid, "backend_start": "1700000000.123456"])
        #expect(s.unusableReason != nil)
        #expect(s.pid == nil)
        #expect(!s.matches(Self.row()))
    }

    @Test(arguments: ["2023-11-14 22:13:20.123456+00", "", "soon", "1700000000,5"])
    func nonNumericBackendStartIsUnusable(start: String) {
        let s = Selection.narrowing(SessionCriteria(), by: ["pid": "42", "backend_start": start])
        #expect(s.unusableReason != nil)
        #expect(!s.matches(Self.row()))
    }

    /// backend_start without pid is not an address; it does not disable the selection.
    @Test func backendStartAloneIsIgnored() {
        let s = Selection.narrowing(SessionCriteria(), by: ["backend_start": "1"])
        #expect(s.unusableReason == nil)
        #expect(s.backendStartEpoch == nil)
        #expect(s.matches(Self.row()))
    }

    // MARK: - SQL

    /// Every `$n` placeholder in `sql`.
    static func placeholders(_ sql: String) -> Set<Int> {
        var out = Set<Int>()
        var chars = sql[...]
        while let i = chars.firstIndex(of: "$") {
            chars = chars[chars.index(after: i)...]
            let digits = chars.prefix { $0.isASCII && $0.isNumber }
            if let n = Int(digits) { out.insert(n) }
        }
        return out
    }

    @Test func emptyCriteriaHaveNoConditions() {
        var params = SQLParameters()
        #expect(Selection(criteria: SessionCriteria()).sqlConditions(&params).isEmpty)
        #expect(params.values.isEmpty)
    }

    @Test func unusableSelectionIsFalse() {
        var params = SQLParameters()
        let s = Selection.narrowing(SessionCriteria(states: ["active"], roles: NameFilter(include: ["x"])),
                                    by: ["pid": "nope"])
        #expect(s.sqlConditions(&params) == ["false"])
        #expect(params.values.isEmpty)
    }

    @Test(arguments: ["o'brien", "\"; DROP TABLE users; --", "'); SELECT pg_terminate_backend(1); --", "a\\b"])
    func valuesAreBoundNeverInterpolated(name: String) {
        let c = SessionCriteria(databases: NameFilter(include: [name]), roles: NameFilter(include: [name], exclude: [name + "x"]),
                                applicationNames: NameFilter(exclude: [name]))
        let s = Selection(criteria: c, datname: name, usename: name, applicationName: name)
        var params = SQLParameters()
        let sql = s.sqlConditions(&params).joined(separator: " AND ")
        #expect(!sql.contains(name))
        #expect(!sql.contains("brien") && !sql.contains("DROP") && !sql.contains("SELECT pg_terminate"))
        // The scalar equalities carry the value verbatim; the filters as quoted array literals.
        #expect(params.values.filter { $0 == name }.count == 3)
        #expect(params.values.contains(arrayLiteral([name])))
        #expect(params.values.contains(arrayLiteral([name + "x"])))
        #expect(Self.placeholders(sql) == Set(1...params.values.count))
    }

    @Test func conditionsBindInOrderWithTypes() {
        let c = SessionCriteria(states: ["active", "idle in transaction"], minStateAge: .seconds(30),
                                minTransactionAge: .milliseconds(1500), roles: NameFilter(include: ["app"]),
                                clientAddresses: [Self.cidr("10.0.0.0/8")],
                                excludeClientAddresses: [Self.cidr("10.9.0.0/16"), Self.cidr("fd00::/8")],
                                onlyBlocking: true)
        let s = Selection(criteria: c, usename: "app")
        var params = SQLParameters()
        _ = params.bind("before")  // numbering continues from what is already bound
        let conditions = s.sqlConditions(&params)
        let sql = conditions.joined(separator: " AND ")
        #expect(conditions.count == 7, "for only_blocking the alert's role goes inside the blocking subquery")
        #expect(sql.contains("a.state = ANY($2::text[])"))
        #expect(params.values[1] == #"{"active","idle in transaction"}"#)
        #expect(params.values[2].flatMap(Double.init) == 30)
        #expect(params.values[3].flatMap(Double.init) == 1.5)
        #expect(sql.contains("make_interval(secs => $3::float8)") && sql.contains("make_interval(secs => $4::float8)"))
        #expect(sql.contains("a.state_change") && sql.contains("a.xact_start"))
        #expect(sql.contains("::inet[]"))
        #expect(params.values.contains(#"{"10.0.0.0/8"}"#))
        #expect(params.values.contains(#"{"10.9.0.0/16","fd00::/8"}"#))
        #expect(sql.contains("pg_blocking_pids"))
        #expect(sql.contains("w.usename::text = $\(params.values.count)"), "only_blocking: the alert's role is the waiter's")
        #expect(params.values.last == "app")
        #expect(Self.placeholders(sql) == Set(2...params.values.count))
    }

    /// A Unix-socket session (NULL client_addr) must not slip past an include list nor be caught by an exclude list.
    @Test func clientAddressSQLHandlesNull() {
        var params = SQLParameters()
        let include = Selection(criteria: SessionCriteria(clientAddresses: [Self.cidr("10.0.0.0/8")])).sqlConditions(&params)
        #expect(include.count == 1)
        #expect(include[0].hasPrefix("COALESCE(") && include[0].hasSuffix(", false)"))
        let exclude = Selection(criteria: SessionCriteria(excludeClientAddresses: [Self.cidr("10.0.0.0/8")])).sqlConditions(&params)
        #expect(exclude.count == 1)
        #expect(exclude[0].hasPrefix("NOT COALESCE(") && exclude[0].hasSuffix(", false)"))
    }

    // MARK: - SQLParameters and arrayLiteral

    @Test func bindNumbersFromOne() {
        var params = SQLParameters()
        #expect(params.bind("a") == "$1")
        #expect(params.bind(nil) == "$2")
        #expect(params.textArray(["x"]) == "$3::text[]")
        #expect(params.array(["1", "2"], type: "int4") == "$4::int4[]")
        #expect(params.values == ["a", nil, #"{"x"}"#, #"{"1","2"}"#])
    }

    @Test(arguments: [
        ([], "{}"),
        ([""], #"{""}"#),
        (["a"], #"{"a"}"#),
        (["a", "b"], #"{"a","b"}"#),
        (["o'brien"], #"{"o'brien"}"#),
        (["say \"hi\""], #"{"say \"hi\""}"#),
        (["C:\\x"], #"{"C:\\x"}"#),
        (["NULL", "a,b", "{c}"], #"{"NULL","a,b","{c}"}"#),
    ] as [([String], String)])
    func arrayLiteralEscapes(items: [String], expected: String) {
        #expect(arrayLiteral(items) == expected)
    }

    /// PostgreSQL's array input rules for double-quoted elements: a backslash escapes the next character.
    static func parseArrayLiteral(_ text: String) -> [String]? {
        var chars = Array(text)[...]
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = chars.dropFirst().dropLast()
        var items: [String] = []
        while !chars.isEmpty {
            guard chars.first == "\"" else { return nil }
            chars = chars.dropFirst()
            var item = ""
            var closed = false
            while let c = chars.first {
                chars = chars.dropFirst()
                if c == "\\" {
                    guard let next = chars.first else { return nil }
                    item.append(next)
                    chars = chars.dropFirst()
                } else if c == "\"" {
                    closed = true
                    break
                } else {
                    item.append(c)
                }
            }
            guard closed else { return nil }
            items.append(item)
            if chars.first == "," { chars = chars.dropFirst(); guard !chars.isEmpty else { return nil } }
            else if !chars.isEmpty { return nil }
        }
        return items
    }

    @Test(arguments: [
        ["plain"], ["\\", "\"", "\\\"", "\"\\"], ["trailing\\"], ["a\"},{\"b"], ["NULL", "", " spaced "],
        ["データ", "emoji 🐘", "tab\there", "nl\nhere"],
    ])
    func arrayLiteralRoundTrips(items: [String]) {
        #expect(Self.parseArrayLiteral(arrayLiteral(items)) == items)
    }
}
