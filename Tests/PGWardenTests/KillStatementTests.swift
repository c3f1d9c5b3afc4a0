import Testing
@testable import PGWarden

/// Killer.statement: the guarded kill statement re-checks identity, selection and every guard.
@Suite("Killer.statement")
struct KillStatementTests {
    static let targets = [
        SessionRow(pid: 4242, backendStartMicros: 1_714_557_600_123_456, usename: "app"),
        SessionRow(pid: 17, backendStartMicros: 1_714_554_000_000_000, usename: "app"),
        SessionRow(pid: 900, backendStartMicros: 1_714_514_399_999_999, usename: "batch"),
    ]

    static func statement(_ action: KillAction = .cancel, selection: Selection = Selection(criteria: SessionCriteria()),
                          protected: [String] = ["postgres", "replicator"], own: [Int32] = [11, 12],
                          targets: [SessionRow] = Self.targets) -> (sql: String, params: [String?]) {
        let (sql, params) = Killer.statement(action, targets: targets, selection: selection, protectedRoles: protected,
                                             ownBackends: own)
        return (sql, params)
    }

    /// Every `$n` placeholder in `sql`.
    static func placeholders(_ sql: String) -> Set<Int> {
        var out = Set<Int>()
        var rest = sql[...]
        while let i = rest.firstIndex(of: "$") {
            rest = rest[rest.index(after: i)...]
            if let n = Int(rest.prefix { $0.isASCII && $0.isNumber }) { out.insert(n) }
        }
        return out
    }

    @Test func guardsArePresent() {
        let (sql, params) = Self.statement()
        #expect(sql.contains("a.backend_type = 'client backend'"))
        #expect(sql.contains("a.pid <> pg_backend_pid()"))
        #expect(sql.contains("a.pid <> ALL($3::int4[])"))
        #expect(params[2] == #"{"11","12"}"#)
        #expect(sql.contains("NOT (COALESCE(a.usename::text, '') = ANY($4::text[]) OR EXISTS (SELECT 1 FROM pg_roles pr "
            + "WHERE pr.rolname = ANY($4::text[]) AND pg_has_role(a.usesysid, pr.oid, 'MEMBER')))"))
        #expect(params[3] == #"{"postgres","replicator"}"#)
        #expect(sql.contains(SessionRow.canSignalSQL))
        #expect(sql.contains("CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN true"))
        #expect(sql.contains("pg_signal_backend"))
        #expect(sql.contains("NOT COALESCE(r.rolsuper, false)"))
        #expect(sql.contains("LEFT JOIN pg_roles r ON r.oid = a.usesysid"))
    }

    @Test func identityIsPidAndBackendStart() {
        let (sql, params) = Self.statement()
        #expect(sql.contains("unnest($1::int4[], $2::int8[])"))
        #expect(sql.contains("t.backend_start = (extract(epoch FROM a.backend_start) * 1000000)::int8"))
        #expect(sql.contains("JOIN target t ON t.pid = a.pid AND t.backend_start = (extract(epoch FROM a.backend_start)"))
        #expect(!sql.contains("timestamptz"), "backend_start never travels as timestamp text")
        #expect(params[0] == #"{"4242","17","900"}"#)
        #expect(params[1] == #"{"1714557600123456","1714554000000000","1714514399999999"}"#)
        // Every target is reported back (LEFT JOIN), signalled or not.
        #expect(sql.contains("FROM target t LEFT JOIN ok ON ok.pid = t.pid"))
        #expect(sql.contains("CASE WHEN ok.pid IS NOT NULL THEN"))
    }

    @Test func paramsFollowTargetOrder() {
        let reversed = Array(Self.targets.reversed())
        let (_, params) = Self.statement(targets: reversed)
        #expect(params[0] == arrayLiteral(reversed.map { String($0.pid) }))
        #expect(params[1] == #"{"1714514399999999","1714554000000000","1714557600123456"}"#)
        #expect(params[0] == #"{"900","17","4242"}"#)
    }

    @Test func superuserGuardOnlyWhenNotAllowed() {
        let allowed = Selection(criteria: SessionCriteria(allowSuperuser: true))
        let (sql, _) = Self.statement(selection: allowed)
        #expect(!sql.contains("NOT COALESCE(r.rolsuper, false)"))
        // The permission guard stays: a non-superuser pgwarden still cannot signal a superuser's backend.
        #expect(sql.contains(SessionRow.canSignalSQL))
        let (guarded, _) = Self.statement(selection: Selection(criteria: SessionCriteria(allowSuperuser: false)))
        #expect(guarded.contains("NOT COALESCE(r.rolsuper, false)"))
    }

    @Test func cancelCallsCancel() {
        let (sql, _) = Self.statement(.cancel)
        #expect(sql.contains("pg_cancel_backend(t.pid)"))
        #expect(!sql.contains("pg_terminate_backend"))
    }

    /// Plain pg_terminate_backend on every version: the (pid, timeout) form of 14+ polls every
    /// 100 ms per backend, one after another.
    @Test func terminateSendsThePlainSignal() {
        let (sql, _) = Self.statement(.terminate)
        #expect(sql.contains("THEN pg_terminate_backend(t.pid) END"))
        #expect(!sql.contains("pg_cancel_backend"))
        #expect(occurrences(of: "pg_terminate_backend(", in: sql) == 1)
    }

    @Test func selectionConditionsAreBoundAfterFixedParams() {
        let c = SessionCriteria(states: ["idle in transaction"], roles: NameFilter(include: ["o'brien"]))
        let selection = Selection(criteria: c, usename: "\"; DROP TABLE t; --")
        let (sql, params) = Self.statement(.terminate, selection: selection)
        #expect(params.count == 7)
        #expect(sql.contains("a.state = ANY($5::text[])"))
        #expect(params[4] == #"{"idle in transaction"}"#)
        #expect(params[5] == #"{"o'brien"}"#)
        #expect(sql.contains("a.usename::text = $7"))
        #expect(params[6] == "\"; DROP TABLE t; --")
        #expect(!sql.contains("o'brien") && !sql.contains("DROP"))
        #expect(Self.placeholders(sql) == Set(1...params.count))
    }

    @Test func noValueIsInterpolated() {
        let sneaky = [SessionRow(pid: 1, backendStartMicros: 1_700_000_000_000_123)]
        let (sql, params) = Self.statement(.terminate, protected: ["ad'min"], own: [99], targets: sneaky)
        #expect(!sql.contains("ad'min") && !sql.contains("99") && !sql.contains("1700000000000123"))
        #expect(params[1] == arrayLiteral(["1700000000000123"]))
        #expect(params[3] == arrayLiteral(["ad'min"]))
        #expect(Self.placeholders(sql) == Set(1...params.count))
    }

    /// No own backends and no protected roles still bind (empty) arrays so the guards stay well-formed.
    @Test func emptyListsBindEmptyArrays() {
        let (sql, params) = Self.statement(protected: [], own: [])
        #expect(params.count == 4)
        #expect(params[2] == "{}" && params[3] == "{}")
        #expect(sql.contains("<> ALL($3::int4[])"))
    }

    @Test func unusableSelectionSignalsNothing() {
        let selection = Selection.narrowing(SessionCriteria(), by: ["pid": "17"])
        let (sql, _) = Self.statement(.terminate, selection: selection)
        #expect(sql.contains(" AND false"))
    }
}
