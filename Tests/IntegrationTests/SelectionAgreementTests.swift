import Foundation
@testable import PGWarden
import Testing
import TestSupport

/// `Selection` is evaluated twice: in Swift on listed rows (to plan and report) and as SQL inside
/// the kill statement (to re-check at kill time). This property test runs both over generated
/// sessions and criteria, the SQL on the real server over a VALUES table shaped like
/// pg_stat_activity, and requires the same sessions from both. The generator leans on the values
/// where the two could part: names equal to Swift but not to the server (NFC and NFD), quotes,
/// commas and backslashes in names, empty names (NULL in the view), IPv4-mapped client addresses,
/// ages exactly at a minimum. The seed is fixed, so a failure repeats.
@Suite("Selection: Swift and SQL pick the same sessions")
struct SelectionAgreementTests {
    typealias Generator = SeededGenerator

    static let names = ["app", "App", "caf\u{E9}", "cafe\u{301}", "", "a,b", "\"q\"", "x\\y", "{a}", "pgwarden"]
    static let addresses = ["10.1.2.3", "10.200.0.1", "192.168.1.5", "::1", "fd00::5", "::ffff:10.1.2.3", "::ffff:192.168.1.5", ""]
    static let ranges = ["10.0.0.0/8", "10.1.2.3", "::1/128", "fd00::/8", "192.168.0.0/16", "::ffff:10.0.0.0/104", "0.0.0.0/0"]
    static let ages: [Double] = [0, 10, 49, 50, 51, 300]

    static func pick<T>(_ items: [T], _ g: inout Generator) -> T { items[Int(g.next() % UInt64(items.count))] }
    static func some<T>(_ items: [T], _ g: inout Generator, max: Int = 2) -> [T] {
        (0..<Int(g.next() % UInt64(max + 1))).map { _ in pick(items, &g) }
    }
    static func maybe<T>(_ g: inout Generator, _ value: (inout Generator) -> T) -> T? {
        g.next() % 3 == 0 ? value(&g) : nil
    }

    /// Each filter is present one time in three, so that selections keep some sessions.
    static func criteria(_ g: inout Generator) -> SessionCriteria {
        func list<T>(_ items: [T], _ g: inout Generator) -> [T] { maybe(&g) { some(items, &$0, max: 3) } ?? [] }
        return SessionCriteria(
            states: list(SessionState.all, &g),
            minStateAge: maybe(&g) { .seconds(pick([10, 50, 51], &$0)) },
            minTransactionAge: maybe(&g) { .seconds(pick([10, 50], &$0)) },
            minBackendAge: maybe(&g) { .seconds(pick([10, 50, 51], &$0)) },
            databases: NameFilter(include: list(names, &g), exclude: list(names, &g)),
            roles: NameFilter(include: list(names, &g), exclude: list(names, &g)),
            applicationNames: NameFilter(include: list(names, &g), exclude: list(names, &g)),
            clientAddresses: list(ranges, &g).compactMap(CIDR.init),
            excludeClientAddresses: list(ranges, &g).compactMap(CIDR.init))
    }

    static func row(_ pid: Int32, _ g: inout Generator) -> SessionRow {
        SessionRow(pid: pid, datname: pick(names, &g), usename: pick(names, &g), applicationName: pick(names, &g),
                   clientAddr: pick(addresses, &g), state: pick(SessionState.all, &g), stateAge: pick(ages, &g),
                   transactionAge: maybe(&g) { pick(ages, &$0) }, backendAge: pick(ages, &g))
    }

    /// The ids of `rows` that `selection`'s SQL keeps, evaluated by the server. Names that are
    /// empty in Swift are NULL here, as pg_stat_activity shows a missing database or role.
    static func sqlSelects(_ selection: Selection, rows: [SessionRow], on db: TestSession) throws -> [Int32] {
        var params = SQLParameters()
        let conditions = selection.sqlConditions(&params)
        func text(_ value: String) -> String { value.isEmpty ? "NULL::text" : "\(params.bind(value))::text" }
        let values = rows.map { r in
            "(\(r.pid)::int, \(params.bind(r.state))::text, now() - make_interval(secs => \(params.bind(String(r.stateAge)))::float8), "
                + (r.transactionAge.map { "now() - make_interval(secs => \(params.bind(String($0)))::float8)" } ?? "NULL::timestamptz")
                + ", \(text(r.datname)), \(text(r.usename)), \(params.bind(r.applicationName))::text, "
                + (r.clientAddr.isEmpty ? "NULL::inet" : "\(params.bind(r.clientAddr))::inet")
                + ", now() - make_interval(secs => \(params.bind(String(r.backendAge)))::float8))"
        }
        let sql = "SELECT a.pid FROM (VALUES " + values.joined(separator: ", ")
            + ") AS a(pid, state, state_change, xact_start, datname, usename, application_name, client_addr, backend_start) WHERE "
            + (conditions.isEmpty ? "true" : conditions.joined(separator: " AND ")) + " ORDER BY a.pid"
        return try db.run(sql, params.values).map { Int32($0[0]!)! }
    }

    @Test func swiftAndSQLAgreeOnGeneratedSessions() throws {
        let env = try TestEnvironment.load()
        let db = try TestSession(dsn: env.dsn())
        var g = Generator(seed: 20_261_202)
        var kept = 0, total = 0
        for round in 0..<300 {
            let rows = (1...12).map { Self.row(Int32($0), &g) }
            let criteria = Self.criteria(&g)
            // An alert label one time in nine: each narrows to about one name in ten.
            let datname = Self.maybe(&g) { Self.maybe(&$0) { Self.pick(Self.names, &$0) } } ?? nil
            let usename = Self.maybe(&g) { Self.maybe(&$0) { Self.pick(Self.names, &$0) } } ?? nil
            let applicationName = Self.maybe(&g) { Self.maybe(&$0) { Self.pick(Self.names, &$0) } } ?? nil
            let selection = Selection(criteria: criteria, datname: datname, usename: usename, applicationName: applicationName)
            let swift = rows.filter(selection.matches).map(\.pid)
            let sql = try Self.sqlSelects(selection, rows: rows, on: db)
            #expect(swift == sql, "round \(round): \(selection)\nrows: \(rows.map { ($0.pid, $0.datname, $0.usename, $0.applicationName, $0.clientAddr, $0.state, $0.stateAge, $0.transactionAge as Any, $0.backendAge) })")
            if swift != sql { break }
            kept += swift.count
            total += rows.count
        }
        // The generator must exercise both sides of the conditions, not select nothing every time.
        #expect(kept > 50 && kept < total - 50, "kept \(kept) of \(total)")
    }

    /// The cases the generator is built around, written out.
    @Test func namesAreComparedAsBytesOnBothSides() throws {
        let env = try TestEnvironment.load()
        let db = try TestSession(dsn: env.dsn())
        let nfc = SessionRow(pid: 1, usename: "caf\u{E9}", state: "idle")
        let nfd = SessionRow(pid: 2, usename: "cafe\u{301}", state: "idle")
        for selection in [Selection(criteria: SessionCriteria(roles: NameFilter(include: ["caf\u{E9}"]))),
                          Selection(criteria: SessionCriteria(), usename: "caf\u{E9}"),
                          Selection(criteria: SessionCriteria(roles: NameFilter(exclude: ["cafe\u{301}"])))] {
            #expect([nfc, nfd].filter(selection.matches).map(\.pid) == [1])
            #expect(try Self.sqlSelects(selection, rows: [nfc, nfd], on: db) == [1])
        }
    }
}
