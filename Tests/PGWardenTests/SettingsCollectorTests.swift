import Testing
@testable import PGWarden

@Suite("SettingsCollector")
struct SettingsCollectorTests: CollectorSuite {
    let collector = SettingsCollector()
    static let columns = ["name", "value", "unit"]

    /// What `SELECT name, reset_val, unit FROM pg_settings` gives on a PostgreSQL 16 server.
    static let pg16Rows: [[String?]] = [
        ["idle_in_transaction_session_timeout", "60000", "ms"],
        ["idle_session_timeout", "0", "ms"],
        ["max_connections", "100", ""],
        ["reserved_connections", "2", ""],
        ["statement_timeout", "30500", "ms"],
        ["superuser_reserved_connections", "3", ""],
    ]

    @Test func pg16SettingsBecomeGaugesInSeconds() {
        let got = families(Self.pg16Rows)
        #expect(got.map(\.name) == [
            "pg_max_connections", "pg_superuser_reserved_connections", "pg_reserved_connections",
            "pg_setting_idle_in_transaction_session_timeout_seconds", "pg_setting_idle_session_timeout_seconds",
            "pg_setting_statement_timeout_seconds",
        ])
        #expect(got.allSatisfy { $0.type == .gauge && $0.samples.count == 1 && $0.samples[0].labels.isEmpty })
        #expect(value(family(got, "pg_max_connections"), [:]) == 100)
        #expect(value(family(got, "pg_superuser_reserved_connections"), [:]) == 3)
        #expect(value(family(got, "pg_reserved_connections"), [:]) == 2)
        #expect(value(family(got, "pg_setting_idle_in_transaction_session_timeout_seconds"), [:]) == 60)
        #expect(value(family(got, "pg_setting_idle_session_timeout_seconds"), [:]) == 0)
        #expect(value(family(got, "pg_setting_statement_timeout_seconds"), [:]) == 30.5)
    }

    @Test func settingsMissingFromOlderServersAreAbsent() {
        // A PostgreSQL 13 server has neither idle_session_timeout nor reserved_connections.
        let rows = Self.pg16Rows.filter { $0[0] != "idle_session_timeout" && $0[0] != "reserved_connections" }
        let got = families(rows)
        #expect(got.count == 4)
        #expect(family(got, "pg_reserved_connections") == nil)
        #expect(family(got, "pg_setting_idle_session_timeout_seconds") == nil)
        #expect(family(got, "pg_max_connections") != nil)
    }

    @Test func unrelatedSettingsAreIgnored() {
        let got = families([["work_mem", "4096", "kB"], ["max_connections", "250", ""]])
        #expect(got.map(\.name) == ["pg_max_connections"])
        #expect(value(got.first, [:]) == 250)
    }

    @Test(arguments: [
        (1500.0, "ms", 1.5),
        (0.0, "ms", 0.0),
        (5.0, "s", 5.0),
        (2.0, "min", 120.0),
        (3.0, "h", 10800.0),
        (1.0, "d", 86400.0),
        (100.0, "", 100.0),
    ])
    func unitConversion(value: Double, unit: String, seconds: Double) {
        #expect(SettingsCollector.seconds(value, unit: unit) == seconds)
    }

    @Test(arguments: [("ms", "90000", 90.0), ("s", "90", 90.0), ("min", "2", 120.0)])
    func unitConversionThroughFamilies(unit: String, raw: String, seconds: Double) {
        let got = families([["statement_timeout", raw, unit]])
        #expect(value(family(got, "pg_setting_statement_timeout_seconds"), [:]) == seconds)
    }

    // MARK: SQL

    static func inList(_ sql: String, _ name: String) -> Bool { sql.contains("'\(name)'") }

    @Test(arguments: [90600, 100000, 130000, 139999, 140000, 150004, 159999, 160000, 170002, 180000])
    func sqlIsVersionGated(version: Int) {
        let sql = collector.sql(serverVersion: version, options: .init())
        for name in ["max_connections", "superuser_reserved_connections", "idle_in_transaction_session_timeout",
                     "statement_timeout"] {
            #expect(Self.inList(sql, name), "\(name) on \(version)")
        }
        // Quoted, so that 'superuser_reserved_connections' does not count as 'reserved_connections'.
        #expect(Self.inList(sql, "idle_session_timeout") == (version >= 140000))
        #expect(Self.inList(sql, "reserved_connections") == (version >= 160000))
        #expect(Self.inList(sql, "transaction_timeout") == (version >= 170000))
    }

    @Test func transactionTimeoutJoinsTheSettingGaugesOn17() {
        let got = families(Self.pg16Rows + [["transaction_timeout", "120000", "ms"]])
        #expect(got.last?.name == "pg_setting_transaction_timeout_seconds")
        #expect(value(family(got, "pg_setting_transaction_timeout_seconds"), [:]) == 120)
        #expect(family(families(Self.pg16Rows), "pg_setting_transaction_timeout_seconds") == nil, "absent before 17")
    }

    @Test func sqlReadsConfiguredValueNotSessionValue() {
        // pgwarden SETs its own statement_timeout; reset_val is what other sessions get.
        let sql = collector.sql(serverVersion: 160000, options: .init())
        #expect(sql.contains("FROM pg_settings WHERE name IN ("))
        #expect(arrayElements(sql) == [["name", "reset_val", "COALESCE(unit, '')"]])
        #expect(!sql.contains(";"))
    }

    @Test func columnsAreWhatFamiliesRead() throws {
        #expect(collector.columns(options: .init()) == Self.columns)
        // Unitless settings arrive with an empty (quoted) unit element.
        let got = try familiesThroughScrape(collector, [["max_connections", "100", ""], ["statement_timeout", "1500", "ms"]])
        #expect(value(family(got, "pg_max_connections"), [:]) == 100)
        #expect(value(family(got, "pg_setting_statement_timeout_seconds"), [:]) == 1.5)
    }
}
