import Foundation
import PGWarden
import Testing

/// The heap warm-up on `serve`'s connections: the backend stops faulting fresh pages in on every
/// statement (measured on the backend process itself, which runs on this machine).
@Suite("Backend heap warm-up against a real server")
struct BackendHeapTests {
    /// Minor page faults of a local process so far (field 10 of /proc/PID/stat).
    static func minorFaults(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = try #require(stat.split(separator: ")").last).split(separator: " ")
        return try #require(Int(fields[7]))
    }

    /// The block asked for follows max_connections and track_activity_query_size: twice
    /// max_connections + 100 slots of the query size + 1 kB, 4 to 31 MiB. On a cluster of its
    /// own whose query size is not a whole number of kB (current_setting prints "1500B").
    @Test func warmUpSizeFollowsTheServerSettings() throws {
        let env = try TestEnvironment.load()
        let dir = "\(env.workDir)/heap-\(uniqueSuffix())"
        let port = try shell("\(env.clusterScript) start '\(dir)' 0 'track_activity_query_size = 1500' 'max_connections = 700'")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? shell("\(env.clusterScript) stop '\(dir)'") }
        let conn = try PGConnection.connect(dsn: "host=\(dir)/socket port=\(port) user=postgres dbname=postgres",
                                            defaults: [], overrides: [], timeout: .seconds(10))
        #expect(try conn.execute("SELECT current_setting('track_activity_query_size')", timeout: .seconds(10))
            .last?.rows.first?[0] == "1500B")
        // 2 x 800 slots x 2524 B = 3943 KiB, raised to the 4 MiB floor.
        let got = try conn.execute(Database.heapWarmUpSQL, timeout: .seconds(10))
        #expect(got.last?.rows.first?[0] == String(4096 * 1024))

        // Other settings, put in the statement's place: the size grows with them, up to 31 MiB.
        let querySize = "(SELECT setting::int8 FROM pg_settings WHERE name = 'track_activity_query_size')"
        #expect(Database.heapWarmUpSQL.contains(querySize))
        for (connections, size, kib) in [(2200, 1024, 9200), (1500, 4096, 16000), (5000, 4096, 31744)] {
            let sql = Database.heapWarmUpSQL
                .replacingOccurrences(of: "current_setting('max_connections')", with: "'\(connections)'")
                .replacingOccurrences(of: querySize, with: "\(size)")
            let sized = try conn.execute(sql, timeout: .seconds(10))
            #expect(sized.last?.rows.first?[0] == String(kib * 1024), "\(connections) connections, \(size) B")
        }
    }

    /// A warmed connection's backend keeps its heap between statements; an unwarmed one hands
    /// it back to the kernel after each statement and faults it in again on the next. The
    /// statement stands for a scrape at 2000 sessions (bench/: about 770 faults per scrape
    /// unwarmed, none warmed): a few MB of heap in many blocks, all freed at its end.
    @Test func warmedBackendStopsFaultingItsHeapInPerStatement() throws {
        let env = try TestEnvironment.load()
        let statement = "SELECT count(*) FROM (SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g ORDER BY g DESC) s"
        func faultsPerStatement(warmed: Bool) throws -> Double {
            let database = Database(settings: ConnectionSettings(dsn: env.dsn(), warmsBackendHeap: warmed))
            defer { database.disconnect() }
            for _ in 0..<2 { _ = try database.execute(statement) }
            let pid = try database.withConnection { $0.backendPID }
            let before = try Self.minorFaults(pid)
            let runs = 10
            for _ in 0..<runs { #expect(try database.execute(statement).last?.rows.first?[0] == "20000") }
            return Double(try Self.minorFaults(pid) - before) / Double(runs)
        }
        let cold = try faultsPerStatement(warmed: false)
        let warm = try faultsPerStatement(warmed: true)
        #expect(cold >= 200, "an unwarmed backend faults its heap in on every statement (\(cold) faults per statement)")
        #expect(warm * 20 <= cold, "warmed: \(warm) faults per statement, unwarmed: \(cold)")
    }
}
