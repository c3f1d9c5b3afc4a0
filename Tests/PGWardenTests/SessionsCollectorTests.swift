import Testing
@testable import PGWarden

@Suite("SessionsCollector")
struct SessionsCollectorTests: CollectorSuite {
    let collector = SessionsCollector()
    static let columns = ["datname", "usename", "state", "sessions", "state_age", "xact_age"]

    /// The six states a client backend can be in, as pg_stat_activity spells them.
    static let pgStates: Set<String> = [
        "active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled",
    ]

    @Test func familyNamesAndTypes() {
        let got = families([])
        #expect(got.map(\.name) == ["pg_sessions", "pg_session_state_age_max_seconds", "pg_session_transaction_age_max_seconds"])
        #expect(got.allSatisfy { $0.type == .gauge })
        #expect(got.allSatisfy { $0.samples.isEmpty }, "no sessions, no pairs, no samples")
    }

    @Test func knownStatesAreExactlyPostgresStates() {
        #expect(Set(SessionsCollector.knownStates) == Self.pgStates)
        #expect(SessionsCollector.knownStates.count == 6)
    }

    @Test func zeroFillsAllSixStatesPerPair() {
        let got = families([
            ["app", "alice", "active", "2", "3.5", "10.25"],
            ["app", "alice", "idle", "5", "120", nil],
            ["reports", "bob", "idle in transaction", "1", "42", "50"],
        ])
        let sessions = family(got, "pg_sessions")
        // Two (datname, usename) pairs × six states.
        #expect(sessions?.samples.count == 12)
        for state in Self.pgStates {
            let alice = value(sessions, ["datname": "app", "usename": "alice", "state": state])
            let bob = value(sessions, ["datname": "reports", "usename": "bob", "state": state])
            #expect(alice == (state == "active" ? 2 : state == "idle" ? 5 : 0), "alice \(state)")
            #expect(bob == (state == "idle in transaction" ? 1 : 0), "bob \(state)")
        }
        // No cross-product: pairs that have no sessions at all are not invented.
        #expect(samples(sessions, ["datname": "app", "usename": "bob", "state": "idle"]).isEmpty)
        #expect(samples(sessions, ["datname": "reports", "usename": "alice", "state": "idle"]).isEmpty)
    }

    /// Roles café (NFC) and café (NFD) are two roles to PostgreSQL: two series, never one that
    /// hides the other's sessions (Swift's String equality would merge them).
    @Test func namesThatDifferInBytesStayApart() {
        let got = families([
            ["app", "caf\u{E9}", "idle", "1", "1", nil],
            ["app", "cafe\u{301}", "idle", "3", "1", nil],
        ])
        let sessions = family(got, "pg_sessions")!
        let idle = sessions.samples.filter { labelDict($0)["state"] == "idle" }
        #expect(idle.count == 2)
        #expect(Set(idle.map { Array(labelDict($0)["usename"]!.utf8) }) == [Array("caf\u{E9}".utf8), Array("cafe\u{301}".utf8)])
        #expect(idle.map(\.value).sorted() == [1, 3])
    }

    @Test func labelOrderAndPairOrdering() {
        let got = families([
            ["zeta", "u", "idle", "1", "1", nil],
            ["alpha", "u2", "idle", "1", "1", nil],
            ["alpha", "u1", "idle", "1", "1", nil],
        ])
        let sessions = family(got, "pg_sessions")!
        #expect(sessions.samples.allSatisfy { labelNames($0) == ["datname", "usename", "state"] })
        // Pairs sorted by datname then usename; within a pair the known states in their fixed order.
        let pairs = sessions.samples.map { "\(labelDict($0)["datname"]!)/\(labelDict($0)["usename"]!)" }
        #expect(pairs == Array(repeating: "alpha/u1", count: 6) + Array(repeating: "alpha/u2", count: 6)
            + Array(repeating: "zeta/u", count: 6))
        #expect(sessions.samples.prefix(6).map { labelDict($0)["state"]! } == SessionsCollector.knownStates)
    }

    @Test func unknownStatePassesThroughAfterKnownStates() {
        let got = families([
            ["app", "alice", "unknown", "3", nil, nil],
            ["app", "alice", "active", "1", "0.5", "0.5"],
        ])
        let sessions = family(got, "pg_sessions")!
        #expect(sessions.samples.count == 7)
        #expect(value(sessions, ["datname": "app", "usename": "alice", "state": "unknown"]) == 3)
        #expect(labelDict(sessions.samples.last!)["state"] == "unknown")
        #expect(value(sessions, ["datname": "app", "usename": "alice", "state": "idle"]) == 0)
    }

    @Test func ageSamplesOnlyForPresentRowsWithNonNullAges() {
        let got = families([
            ["app", "alice", "active", "2", "3.5", "10.25"],
            ["app", "alice", "idle", "5", "120", nil],
            ["app", "alice", "disabled", "1", nil, nil],
        ])
        let stateAge = family(got, "pg_session_state_age_max_seconds")
        let xactAge = family(got, "pg_session_transaction_age_max_seconds")
        let base = ["datname": "app", "usename": "alice"]
        #expect(value(stateAge, base.merging(["state": "active"]) { $1 }) == 3.5)
        #expect(value(stateAge, base.merging(["state": "idle"]) { $1 }) == 120)
        #expect(value(xactAge, base.merging(["state": "active"]) { $1 }) == 10.25)
        // NULL xact_start (idle sessions have no transaction) gives no sample, not 0.
        #expect(samples(xactAge, base.merging(["state": "idle"]) { $1 }).isEmpty)
        #expect(samples(stateAge, base.merging(["state": "disabled"]) { $1 }).isEmpty)
        // Zero-filled states have no age at all.
        #expect(stateAge?.samples.count == 2)
        #expect(xactAge?.samples.count == 1)
    }

    @Test(arguments: ["-0.002", "-5", "-1e-06"])
    func negativeAgesClampToZero(age: String) {
        // Clock skew between now() and state_change can make the difference slightly negative.
        let got = families([["app", "alice", "idle in transaction", "1", age, age]])
        let labels = ["datname": "app", "usename": "alice", "state": "idle in transaction"]
        #expect(value(family(got, "pg_session_state_age_max_seconds"), labels) == 0)
        #expect(value(family(got, "pg_session_transaction_age_max_seconds"), labels) == 0)
    }

    @Test func emptyDatnameAndUsenameAreKeptAsEmptyLabels() {
        // The SQL COALESCEs NULL datname/usename to ''; such sessions must still be counted.
        let got = families([["", "", "active", "4", "1", "1"]])
        #expect(value(family(got, "pg_sessions"), ["datname": "", "usename": "", "state": "active"]) == 4)
    }

    @Test func noApplicationNameLabelByDefault() {
        let got = families([["app", "alice", "active", "1", "1", "1"]])
        for f in got {
            #expect(f.samples.allSatisfy { labelDict($0)["application_name"] == nil }, "\(f.name)")
        }
    }

    @Test func applicationNameLabelWhenOptedIn() {
        let options = CollectorOptions(includeApplicationName: true)
        let result = QueryResult(
            columns: collector.columns(options: options),
            rows: [
                ["app", "alice", "active", "web", "2", "1", "1"],
                ["app", "alice", "active", "worker", "3", "9", nil],
                ["app", "alice", "idle", "", "1", "60", nil],
            ])
        let got = collector.families(from: result, options: options)
        let sessions = family(got, "pg_sessions")!
        // Three (datname, usename, application_name) groups × six states.
        #expect(sessions.samples.count == 18)
        #expect(sessions.samples.allSatisfy { labelNames($0) == ["datname", "usename", "application_name", "state"] })
        let web = ["datname": "app", "usename": "alice", "application_name": "web", "state": "active"]
        let worker = web.merging(["application_name": "worker"]) { $1 }
        #expect(value(sessions, web) == 2)
        #expect(value(sessions, worker) == 3)
        #expect(value(sessions, web.merging(["application_name": "", "state": "idle"]) { $1 }) == 1)
        #expect(value(sessions, web.merging(["application_name": "", "state": "active"]) { $1 }) == 0)
        #expect(value(family(got, "pg_session_state_age_max_seconds"), worker) == 9)
    }

    @Test func columnsAreWhatFamiliesRead() {
        #expect(collector.columns(options: .init()) == Self.columns)
        // application_name, when opted in, comes right after the grouping columns.
        #expect(collector.columns(options: CollectorOptions(includeApplicationName: true))
            == ["datname", "usename", "state", "application_name", "sessions", "state_age", "xact_age"])
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        // NULL ages travel as NULL elements; states with spaces and empty names are quoted.
        let got = try familiesThroughScrape(collector, [
            ["app", "alice", "idle in transaction", "2", "42.5", "60"],
            ["app", "alice", "idle", "1", "3", nil],
            ["", "", "active", "1", "0.1", "0.1"],
        ])
        let labels = ["datname": "app", "usename": "alice", "state": "idle in transaction"]
        #expect(value(family(got, "pg_sessions"), labels) == 2)
        #expect(value(family(got, "pg_session_state_age_max_seconds"), labels) == 42.5)
        #expect(value(family(got, "pg_session_transaction_age_max_seconds"), labels) == 60)
        #expect(samples(family(got, "pg_session_transaction_age_max_seconds"),
                        labels.merging(["state": "idle"]) { $1 }).isEmpty)
        #expect(value(family(got, "pg_sessions"), ["datname": "", "usename": "", "state": "active"]) == 1)
    }

    @Test func rowsWithApplicationNameSurviveTheScrapeStatement() throws {
        let options = CollectorOptions(includeApplicationName: true)
        let got = try familiesThroughScrape(collector, [
            ["app", "alice", "active", "psql, v16", "2", "1", "1"],
            ["app", "alice", "active", "NULL", "1", "1", "1"],
        ], options: options)
        let labels = ["datname": "app", "usename": "alice", "state": "active"]
        #expect(value(family(got, "pg_sessions"), labels.merging(["application_name": "psql, v16"]) { $1 }) == 2)
        #expect(value(family(got, "pg_sessions"), labels.merging(["application_name": "NULL"]) { $1 }) == 1)
    }

    // MARK: SQL

    @Test(arguments: [100000, 130000, 140000, 170000])
    func sqlReadsClientBackendsFromTheSharedCTE(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        // pgwarden's own backends are left out in ScrapeStatement; the branch keeps client backends.
        #expect(sql.contains("FROM grouped WHERE backend_type = 'client backend'"))
        #expect(!sql.contains("FROM activity"))
        #expect(readsOnlySharedCTEs(sql))
        #expect(!sql.contains(";"))
    }

    @Test func sqlGroupsByApplicationNameOnlyWhenOptedIn() {
        let off = collector.sql(serverVersion: 160000, options: .init())
        let on = collector.sql(serverVersion: 160000, options: CollectorOptions(includeApplicationName: true))
        #expect(off.hasSuffix("GROUP BY datname, usename, state"))
        #expect(!off.contains("GROUP BY application_name"))
        #expect(!arrayElements(off)[0].contains("application_name"))
        #expect(on.hasSuffix("GROUP BY application_name, datname, usename, state"))
        #expect(arrayElements(on)[0].contains("application_name"))
        // NULLs are COALESCEd (in ScrapeStatement's grouped CTE) so that such sessions group
        // and label as ''; application_name is only grouped by when opted in.
        let plain = ScrapeStatement(collectors: [collector], serverVersion: 160000, options: .init()).sql
        let labelled = ScrapeStatement(collectors: [collector], serverVersion: 160000,
                                       options: CollectorOptions(includeApplicationName: true)).sql
        for sql in [plain, labelled] {
            #expect(sql.contains("COALESCE(d.datname::text, '') AS datname"))
            #expect(sql.contains("COALESCE(r.rolname::text, '') AS usename"))
        }
        #expect(plain.contains("''::text AS application_name"))
        #expect(labelled.contains("COALESCE(application_name, '') AS application_name"))
    }

    @Test func sqlArrayFollowsColumns() {
        for options in [CollectorOptions(), CollectorOptions(includeApplicationName: true)] {
            let arrays = arrayElements(collector.sql(serverVersion: 160000, options: options))
            let columns = collector.columns(options: options)
            #expect(arrays.count == 1)
            guard let elements = arrays.first, elements.count == columns.count else {
                Issue.record("ARRAY \(arrays) does not match \(columns)")
                continue
            }
            for (element, column) in zip(elements, columns) {
                switch column {
                case "sessions": #expect(element == "sum(n)::text")
                // The oldest timestamp per group first, one age per group (not one per row).
                case "state_age": #expect(element == "date_part('epoch', now() - min(state_change))::text")
                case "xact_age": #expect(element == "date_part('epoch', now() - min(xact_start))::text")
                default: #expect(element == column, "grouping column \(column)")
                }
            }
        }
    }
}
