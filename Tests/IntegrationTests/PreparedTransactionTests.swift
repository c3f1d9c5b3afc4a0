import Foundation
import PGWarden
import Testing
import TestSupport

/// rollback_prepared against real prepared transactions: gids that are hard to quote, the
/// identity re-check (a gid finished or reused between listing and rollback), the webhook within
/// its policy, a least-privilege role acting as the owner, and an unreachable database.
/// Prepared transactions are cluster-wide: every test scopes itself to databases of its own.
@Suite("Prepared transactions against a real server")
struct PreparedTransactionTests {
    /// Gids a quoting mistake would break or confuse, each prepared, listed and rolled back alone.
    static let trickyGIDs = [
        "o'brien", "''; ROLLBACK PREPARED 'x", "back\\slash", "E'\\x41'", "ends with backslash\\", "$$dollar$$",
        "tx-caf\u{E9}-\u{30C7}\u{30FC}\u{30BF}-\u{1F418}", "line\nbreak\ttab\u{1B}[31m", "%_*?[]",
        String(repeating: "g", count: 199), String(repeating: "\u{E9}", count: 99) + "x",
    ]

    @Test func trickyGIDsAreListedAndRolledBackExactly() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let scene = try PreparedScene(fx)
        // Two gids that are the same text to Swift's String ==, and two that are not the same bytes.
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        for gid in Self.trickyGIDs + [nfc, nfd] { try fx.prepare(gid, role: scene.role, database: scene.db) }
        #expect(try fx.preparedCount(scene.db) == Self.trickyGIDs.count + 2)
        for gid in Self.trickyGIDs + [nfc] {
            let target = try #require(try scene.listed(gid), "listed: \(gid.debugDescription)")
            #expect(target.owner == scene.role)
            #expect(scene.rollBack(target) == .rolledBack, "\(gid.debugDescription)")
            #expect(try !fx.isPrepared(gid), "\(gid.debugDescription) is gone")
        }
        #expect(try fx.isPrepared(nfd), "the other normalization form is another gid, left alone")
        #expect(try fx.preparedCount(scene.db) == 1)
        // The longest gid PostgreSQL takes is 199 bytes: 200 is refused by PREPARE TRANSACTION itself.
        let s = try fx.connect(role: scene.role, database: scene.db)
        try s.run("BEGIN")
        #expect(s.fail("PREPARE TRANSACTION " + sqlLiteral(String(repeating: "g", count: 200))) != nil)
    }

    /// A database name that looks like connection options is only a name to the rollback's
    /// connection (libpq expands only the first dbname; the override comes after the DSN's).
    @Test func aDatabaseNameIsNeverReadAsConnectionOptions() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let scene = try PreparedScene(fx, databasePrefix: "pgw db='x' host=/nonexistent dbname=postgres")
        #expect(scene.rollBack(try scene.prepareListed("odd-db")) == .rolledBack)
        #expect(try !fx.isPrepared("odd-db"))
    }

    /// The identity race: between the listing and the rollback, the transaction is rolled back
    /// and a new one prepared under the same gid. The old plan must leave the new one alone.
    @Test func aGIDReusedAfterTheListingIsNotRolledBack() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let scene = try PreparedScene(fx)
        let stale = try scene.prepareListed("reused")
        try fx.finish("reused", database: scene.db)
        try fx.prepare("reused", role: scene.role, database: scene.db)
        let fresh = try #require(try fx.preparedIn(scene.db)["reused"])
        #expect(fresh.xid != stale.transaction)
        #expect(scene.rollBack(stale) == .gone)
        #expect(try fx.preparedIn(scene.db)["reused"]?.xid == fresh.xid, "the new transaction under the same gid is untouched")
        // The fresh listing addresses the new transaction, which it then rolls back.
        #expect(scene.rollBack(try #require(try scene.listed("reused"))) == .rolledBack)
        #expect(try !fx.isPrepared("reused"))
    }

    /// Committed by someone else after the listing: gone, and nothing else happens.
    @Test func aTransactionCommittedAfterTheListingIsGone() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let scene = try PreparedScene(fx)
        let target = try scene.prepareListed("committed-elsewhere")
        try fx.finish("committed-elsewhere", database: scene.db, commit: true)
        #expect(scene.rollBack(target) == .gone)
    }

    /// The re-check judges the age by the server's clock: a transaction younger than the
    /// selection allows is never rolled back, whatever the listed row says.
    @Test func aYoungTransactionIsNeverRolledBack() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let scene = try PreparedScene(fx)
        var target = try scene.prepareListed("young")
        target.age = 7200  // a listing that claims it is old
        let hourOld = PreparedSelection(criteria: PreparedCriteria(minPreparedAge: .seconds(3600)))
        #expect(hourOld.matches(target))
        #expect(scene.rollBack(target, selection: hourOld) == .gone)
        #expect(try fx.isPrepared("young"))
        // Protection and the superuser rule are re-checked there too.
        #expect(scene.rollBack(target, protectedRoles: [scene.role]) == .gone)
        try fx.prepare("superuser's", role: "postgres", database: scene.db)
        let su = try #require(try scene.listed("superuser's"))
        #expect(su.isSuperuser)
        #expect(scene.rollBack(su) == .gone)
        #expect(scene.rollBack(su, selection: PreparedSelection(criteria: PreparedCriteria(allowSuperuser: true))) == .rolledBack)
        #expect(try fx.isPrepared("young"))
    }

    static func preparedRule(db: String, extra: String = "") -> String {
        """
        rules:
          - name: forgotten
            match: {alertname: PreparedTooOld}
            action: rollback_prepared
            min_prepared_age: 1s
            databases: [\(db)]
            exclude_gid_patterns: ["keep-*"]
            require_labels: [datname, owner]
        \(extra)
        """
    }

    /// Sends a firing PreparedTooOld alert with `labels` to `hook`.
    static func tooOld(_ hook: HookFixture, _ labels: [String: String]) throws -> (Int, [String: Any]) {
        try hook.notify([HookFixture.alert(labels.merging(["alertname": "PreparedTooOld"]) { _, new in new })])
    }

    /// The transaction records of a webhook response's first alert, by gid.
    static func results(_ json: [String: Any]) -> [String: String] {
        let alerts = json["alerts"] as? [[String: Any]] ?? []
        var out: [String: String] = [:]
        for t in alerts.first?["transactions"] as? [[String: Any]] ?? [] {
            if let gid = t["gid"] as? String, let result = t["result"] as? String { out[gid] = result }
        }
        return out
    }

    @Test func webhookRollsBackForgottenTransactionsWithinItsPolicy() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_app"), other = try fx.createRole("pgw_other"), prot = try fx.createRole("pgw_prot")
        for (gid, role) in [("app-1", app), ("app-2", app), ("keep-1", app), ("other-1", other), ("prot-1", prot), ("su-1", "postgres")] {
            try fx.prepare(gid, role: role, database: db)
        }
        Thread.sleep(forTimeInterval: 1.2)
        try fx.prepare("app-young", role: app, database: db)
        let hook = try HookFixture(fx, policy: "protected_roles: [\(prot)]\n"
            + Self.preparedRule(db: db, extra: "    max_transactions_per_alert: 1"))
        func notify(owner: String, datname: String = db) throws -> (Int, [String: Any]) {
            try Self.tooOld(hook, ["datname": datname, "owner": owner])
        }
        var (status, json) = try notify(owner: app)
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "acted")
        #expect(Self.results(json) == ["app-1": "success", "app-2": "capped"], "oldest first; keep-* excluded; app-young too young")
        #expect(try !fx.isPrepared("app-1") && fx.isPrepared("app-2") && fx.isPrepared("keep-1") && fx.isPrepared("app-young"))
        (status, json) = try notify(owner: prot)
        #expect(Self.results(json) == ["prot-1": "protected"])
        (status, json) = try notify(owner: "postgres")
        #expect(Self.results(json) == ["su-1": "protected"], "a superuser's, unless allow_superuser")
        (status, json) = try notify(owner: app, datname: "postgres")
        #expect(HookFixture.outcome(json) == "no matching transactions")
        (status, json) = try Self.tooOld(hook, ["datname": db])
        #expect(HookFixture.outcome(json) == "missing labels")
        #expect(try fx.isPrepared("other-1") && fx.isPrepared("prot-1") && fx.isPrepared("su-1"))
        let m = try hook.pgw.scrape()
        #expect(m.value("pgwarden_actions_total", ["rule": "forgotten", "action": "rollback_prepared", "result": "success"]) == 1)
        #expect(m.value("pgwarden_actions_total", ["rule": "forgotten", "action": "rollback_prepared", "result": "capped"]) == 1)
        #expect(m.value("pgwarden_actions_total", ["rule": "forgotten", "action": "rollback_prepared", "result": "protected"]) == 2)
        #expect(m.value("pgwarden_webhook_alerts_total", ["outcome": "no matching transactions"]) == 1)
        #expect(hook.pgw.log.contains("msg=\"prepared transaction acted on\""))
        #expect(hook.pgw.log.contains("gid=app-1"))
        // Every rollback connection was pgwarden's own while it lasted, and none is left open.
        try eventually("pgwarden holds its two connections only") {
            try fx.admin.run("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgwarden' AND datname = $1", [db])
                .first?[0] == "0"
        }
    }

    @Test func dryRunRollsBackNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole()
        try fx.prepare("dry-1", role: app, database: db)
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: Self.preparedRule(db: db, extra: "    dry_run: true"))
        let (status, json) = try Self.tooOld(hook, ["datname": db, "owner": app])
        #expect(status == 200)
        #expect(HookFixture.outcome(json) == "dry run")
        #expect(Self.results(json) == ["dry-1": "dry_run"])
        #expect(try fx.isPrepared("dry-1"))
    }

    /// pgwarden as a least-privilege role: it rolls back the transactions of a role it is a member
    /// of (ROLLBACK PREPARED as that role, through SET ROLE), and reports the others as
    /// not permitted instead of failing.
    @Test func aMemberOfTheOwnerRollsBackAsTheOwner() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole("pgw_app"), stranger = try fx.createRole("pgw_stranger"), warden = try fx.createRole("pgw_warden")
        try fx.admin.run("GRANT \(quoteIdent(app)) TO \(quoteIdent(warden))")
        try fx.prepare("mine", role: warden, database: db)
        try fx.prepare("app's", role: app, database: db)
        try fx.prepare("stranger's", role: stranger, database: db)
        Thread.sleep(forTimeInterval: 1.2)
        let hook = try HookFixture(fx, policy: Self.preparedRule(db: db).replacingOccurrences(of: "require_labels: [datname, owner]",
                                                                                               with: "require_labels: [datname]"),
                                   dsn: fx.env.dsn(user: warden, password: "pw", database: db))
        let (status, json) = try Self.tooOld(hook, ["datname": db])
        #expect(status == 200)
        #expect(Self.results(json) == ["mine": "success", "app's": "success", "stranger's": "not_permitted"], "\(json)")
        #expect(try !fx.isPrepared("mine") && !fx.isPrepared("app's") && fx.isPrepared("stranger's"))
        let records = (json["alerts"] as? [[String: Any]])?.first?["transactions"] as? [[String: Any]] ?? []
        #expect(records.first { $0["gid"] as? String == "stranger's" }?["guard"] as? String == "rollback_permission")
    }

    /// A transaction in a database pgwarden cannot connect to is an error; the others go on.
    @Test func anUnreachableDatabaseIsAnErrorForItsTransactionsOnly() throws {
        let fx = try AdminFixture()
        defer {
            for db in fx.databases { _ = try? fx.admin.run("ALTER DATABASE \(quoteIdent(db)) ALLOW_CONNECTIONS true") }
            fx.cleanUp()
        }
        let open = try fx.createDatabase(), closed = try fx.createDatabase()
        let app = try fx.createRole()
        try fx.prepare("in-open", role: app, database: open)
        try fx.prepare("in-closed", role: app, database: closed)
        Thread.sleep(forTimeInterval: 1.2)
        try fx.admin.run("ALTER DATABASE \(quoteIdent(closed)) ALLOW_CONNECTIONS false")
        let policy = Self.preparedRule(db: open).replacingOccurrences(of: "databases: [\(open)]", with: "databases: [\(open), \(closed)]")
            .replacingOccurrences(of: "require_labels: [datname, owner]", with: "require_labels: [owner]")
        let hook = try HookFixture(fx, policy: policy)
        let (status, json) = try Self.tooOld(hook, ["owner": app])
        #expect(status == 200)
        #expect(Self.results(json) == ["in-open": "success", "in-closed": "error"], "\(json)")
        #expect(try fx.isPrepared("in-closed"))
        #expect(hook.pgw.log.contains("prepared transaction not rolled back: its database could not be reached"))
    }

    @Test func manualCommandsListAndRollBack() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let app = try fx.createRole()
        try fx.prepare("cli-1", role: app, database: db)
        try fx.prepare("cli-2 o'brien", role: app, database: db)
        try fx.prepare("evil\u{1B}[2J", role: app, database: db)
        try fx.prepare("keep", role: app, database: db)
        let listing = try runPGWarden(fx.env, ["prepared", "--dsn", fx.env.dsn(), "--database", db])
        #expect(listing.status == 0, "\(listing.output)")
        #expect(listing.output.contains("cli-1") && listing.output.contains("cli-2 o'brien"))
        #expect(listing.output.contains("evil\\u{1B}[2J") && !listing.output.contains("\u{1B}"), "no escape reaches the terminal")
        #expect(listing.output.contains("4 prepared transaction(s)"))
        let json = try runPGWarden(fx.env, ["prepared", "--dsn", fx.env.dsn(), "--database", db, "--gid-pattern", "cli-?*",
                                            "--output", "json"], separateStandardError: true)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(document["count"] as? Int == 2)
        let items = document["prepared_transactions"] as? [[String: Any]] ?? []
        #expect(Set(items.compactMap { $0["gid"] as? String }) == ["cli-1", "cli-2 o'brien"])
        #expect(items.allSatisfy { $0["owner"] as? String == app && $0["datname"] as? String == db && $0["can_rollback"] as? Bool == true })

        let dry = try runPGWarden(fx.env, ["rollback-prepared", "--dsn", fx.env.dsn(), "--database", db, "--gid-pattern", "cli-*",
                                           "--dry-run"])
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("dry run: 2 prepared transaction(s) would be rolled back"), "\(dry.output)")
        #expect(try fx.isPrepared("cli-1") && fx.isPrepared("cli-2 o'brien"))
        let real = try runPGWarden(fx.env, ["rollback-prepared", "--dsn", fx.env.dsn(), "--database", db, "--gid-pattern", "cli-*"])
        #expect(real.status == 0, "\(real.output)")
        #expect(real.output.contains("2 prepared transaction(s) rolled back, 0 left alone"), "\(real.output)")
        #expect(try !fx.isPrepared("cli-1") && !fx.isPrepared("cli-2 o'brien") && fx.isPrepared("keep") && fx.isPrepared("evil\u{1B}[2J"))
        let young = try runPGWarden(fx.env, ["rollback-prepared", "--dsn", fx.env.dsn(), "--database", db, "--min-prepared-age", "1h"])
        #expect(young.status == 0)
        #expect(young.output.contains("0 prepared transaction(s) rolled back"), "\(young.output)")
        #expect(try fx.isPrepared("keep"))
    }

    @Test func manualCommandsRefuseBadSelectors() throws {
        let env = try TestEnvironment.load()
        let cases: [([String], String)] = [
            (["rollback-prepared"], "--all"),
            (["rollback-prepared", "--exclude-owner", "x"], "--all"),
            (["rollback-prepared", "--gid-pattern", "tm-[0-9]"], "has [ without a \\ before it"),
            (["prepared", "--gid-pattern", ""], "is empty"),
            (["prepared", "--min-prepared-age", "87601h"], "longer than 87600h"),
            (["rollback-prepared", "--min-prepared-age", "-1s"], "is not a duration"),
            (["rollback-prepared", "--database", "x", "--limit", "0"], "--limit must be at least 1"),
            (["terminate", "--min-backend-age", "1.5h"], "is not a duration"),
            (["sessions", "--min-backend-age", "99999999999h"], "longer than 87600h"),
            (["cancel", "--min-state-age", "NaN"], "is not a duration"),
        ]
        for (args, message) in cases {
            let (status, output) = try runPGWarden(env, args + ["--dsn", env.dsn()])
            #expect(status == 2, "\(args): \(output)")
            #expect(output.contains(message), "\(args): \(output)")
        }
    }

    /// GlobPattern in Swift and its LIKE form on the server select the same gids, over gids and
    /// patterns built from the characters where the two could part.
    @Test func globAndLikeAgree() throws {
        let env = try TestEnvironment.load()
        let db = try TestSession(dsn: env.dsn())
        let pieces = ["a", "b", "%", "_", "\\", "'", "\u{E9}", "e\u{301}", "\u{1F418}", " ", "*", "?", "[", "]"]
        var g = SeededGenerator(seed: 15_2026)
        func pick(_ items: [String]) -> String { items[Int(g.next() % UInt64(items.count))] }
        var gids = Set<String>()
        while gids.count < 60 { gids.insert((0..<Int(1 + g.next() % 5)).map { _ in pick(pieces) }.joined()) }
        let gidList = gids.sorted()
        var patterns: [GlobPattern] = []
        while patterns.count < 120 {
            let text = (0..<Int(1 + g.next() % 4)).map { _ in
                pick(["*", "?", "a", "b", "%", "_", "\\\\", "\\*", "\\?", "\\[", "'", "\u{E9}", "e\u{301}", "\u{1F418}"])
            }.joined()
            if let pattern = GlobPattern(text) { patterns.append(pattern) }
        }
        var matched = 0
        for pattern in patterns {
            let swift = gidList.filter(pattern.matches)
            let sql = try db.run("SELECT g FROM unnest($1::text[]) AS g WHERE g LIKE $2", [arrayLiteralForTest(gidList), pattern.likePattern])
                .compactMap { $0[0] }
            #expect(Set(swift.map { Array($0.utf8) }) == Set(sql.map { Array($0.utf8) }), "\(pattern.text) -> \(pattern.likePattern)")
            matched += swift.count
        }
        #expect(matched > 50, "the patterns select something")
    }
}

/// `{"a","b\"c"}`, written by the test.
func arrayLiteralForTest(_ items: [String]) -> String {
    "{" + items.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        .joined(separator: ",") + "}"
}
