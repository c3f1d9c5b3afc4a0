import Testing
@testable import PGWarden

@Suite("RoleSettingsCollector")
struct RoleSettingsCollectorTests: CollectorSuite {
    let collector = RoleSettingsCollector()
    static let columns = ["datname", "usename", "setting", "value"]

    @Test func overridesPerDatabaseAndRole() {
        let got = families([
            ["", "batch", "idle_in_transaction_session_timeout", "0"],
            ["shop", "", "statement_timeout", "30s"],
            ["shop", "app", "lock_timeout", "1500"],
            ["", "app", "transaction_timeout", "1h"],
        ])
        #expect(got.map(\.name) == ["pg_role_setting_seconds"])
        let f = got[0]
        #expect(f.type == .gauge)
        #expect(value(f, ["datname": "", "usename": "batch", "setting": "idle_in_transaction_session_timeout"]) == 0)
        #expect(value(f, ["datname": "shop", "usename": "", "setting": "statement_timeout"]) == 30)
        #expect(value(f, ["datname": "shop", "usename": "app", "setting": "lock_timeout"]) == 1.5)
        #expect(value(f, ["datname": "", "usename": "app", "setting": "transaction_timeout"]) == 3600)
        #expect(f.samples.allSatisfy { labelNames($0) == ["datname", "usename", "setting"] })
    }

    @Test func unreadableValuesAreLeftOut() {
        let got = families([
            ["", "a", "statement_timeout", "soon"],
            ["", "b", "statement_timeout", ""],
            ["", "c", "statement_timeout", nil],
            ["", "d", "statement_timeout", "5 s"],
        ])
        #expect(got[0].samples.count == 1)
        #expect(value(got[0], ["datname": "", "usename": "d", "setting": "statement_timeout"]) == 5)
    }

    /// Values as SET stores them, read the way the server's parse_int reads a millisecond setting.
    @Test(arguments: [
        ("0", 0.0), ("5000", 5.0), ("1", 0.001), ("30s", 30.0), ("30 s", 30.0), ("  2min  ", 120.0),
        ("1h", 3600.0), ("1d", 86400.0), ("250ms", 0.25), ("1500us", 0.002), ("499us", 0.0), ("500us", 0.0),
        ("1501us", 0.002), ("1.5min", 90.0), ("1.0001min", 60.0), ("1.5", 0.002), ("2.5", 0.002), ("0.5s", 0.5),
        (".5s", 0.5), ("5.s", 5.0), ("1e3", 1.0), ("1E3ms", 1.0), ("2.5e1s", 25.0), ("+10s", 10.0), ("-0", 0.0),
        ("0x10", 0.016), ("0X1f s", 31.0), ("0x1.8", 0.002), ("0x1.8p1s", 3.0), ("0x1e", 0.03), ("010", 0.008), ("00", 0.0), ("010.5s", 10.5), ("2147483647", 2147483.647),
        ("\t7s\n", 7.0),
    ] as [(String, Double)])
    func readsWhatTheServerAccepts(text: String, seconds: Double) {
        #expect(RoleSettingsCollector.seconds(fromSettingValue: text) == seconds, "\(text.debugDescription)")
    }

    @Test(arguments: [
        "", " ", "soon", "-1", "-5s", "5 sec", "5S", "5m", "5 s x", "1e", "1e+", "1.2.3", ".", "+", "- 5", "0x", "0xg",
        "08", "0x1p3", "0x.8", "2147483648", "1e10", "25000d", "inf", "nan", "NaN", "infinity", "5\u{0}s", "5\u{0}", "５s",
        "5\u{00A0}s", "1_000",
    ])
    func refusesWhatTheServerWouldRefuse(text: String) {
        #expect(RoleSettingsCollector.seconds(fromSettingValue: text) == nil, "\(text.debugDescription)")
    }

    @Test func rowsSurviveTheScrapeStatement() throws {
        #expect(collector.columns(options: .init()) == Self.columns)
        let got = try familiesThroughScrape(collector, [["my db", "rôle \"x\"", "statement_timeout", "0"]])
        #expect(value(got[0], ["datname": "my db", "usename": "rôle \"x\"", "setting": "statement_timeout"]) == 0)
    }

    // MARK: SQL

    @Test(arguments: CollectorSQLTests.supportedVersions + [139999, 169999, 180000])
    func sqlBranchesListTheVersionsSettings(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        for name in ["idle_in_transaction_session_timeout", "statement_timeout", "lock_timeout"] {
            #expect(sql.contains("'\(name)'"), "\(name) on \(version)")
        }
        #expect(sql.contains("'idle_session_timeout'") == (version >= 140000))
        #expect(sql.contains("'transaction_timeout'") == (version >= 170000))
        #expect(readsOnlySharedCTEs(sql))
        #expect(sql.contains("FROM pg_db_role_setting, unnest(setconfig) AS c"))
        #expect(sql.contains("LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole"))
        #expect(arrayElements(sql).first == ["COALESCE(d.datname::text, '')", "COALESCE(r.rolname::text, '')", "s.name", "s.value"])
    }

    @Test func sqlBranchesPerVersion() {
        let v12 = collector.sql(serverVersion: 120000, options: .init())
        #expect(collector.sql(serverVersion: 130000, options: .init()) == v12)
        #expect(v12.hasSuffix("WHERE s.name IN ('idle_in_transaction_session_timeout', 'statement_timeout', 'lock_timeout') AND (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL) ORDER BY 1"))
        #expect(v12.contains("AND (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL)"),
                "an entry of a vanished database or role never poses as the 'every' row")
        let v14 = collector.sql(serverVersion: 140000, options: .init())
        #expect(collector.sql(serverVersion: 160000, options: .init()) == v14)
        #expect(v14.hasSuffix("WHERE s.name IN ('idle_in_transaction_session_timeout', 'idle_session_timeout', 'statement_timeout', 'lock_timeout') AND (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL) ORDER BY 1"))
        let v17 = collector.sql(serverVersion: 170000, options: .init())
        #expect(v17.hasSuffix("WHERE s.name IN ('idle_in_transaction_session_timeout', 'idle_session_timeout', 'statement_timeout', 'transaction_timeout', 'lock_timeout') AND (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL) ORDER BY 1"))
    }
}
