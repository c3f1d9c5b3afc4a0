import Foundation
import PGWarden
import Testing

/// The PostgreSQL server and pgwarden binary that scripts/test.sh provides. A missing one is a
/// test failure with a message saying how to run the suite, never a skip.
struct TestEnvironment {
    let host: String
    let port: Int
    let socketDir: String
    let clusterScript: String
    let workDir: String
    let binary: String

    static func load() throws -> TestEnvironment {
        let env = ProcessInfo.processInfo.environment
        func required(_ name: String) throws -> String {
            guard let value = env[name], !value.isEmpty else {
                Issue.record("\(name) is not set: run the integration tests through `make test`, which starts PostgreSQL")
                throw SetupError("\(name) missing")
            }
            return value
        }
        return TestEnvironment(
            host: try required("PGWARDEN_TEST_PGHOST"),
            port: Int(try required("PGWARDEN_TEST_PGPORT"))!,
            socketDir: try required("PGWARDEN_TEST_SOCKET_DIR"),
            clusterScript: try required("PGWARDEN_TEST_CLUSTER_SCRIPT"),
            workDir: try required("PGWARDEN_TEST_WORKDIR"),
            binary: try required("PGWARDEN_BIN"))
    }

    /// A DSN over TCP with password authentication.
    func dsn(user: String = "postgres", password: String = "postgres", database: String = "postgres") -> String {
        "host=\(host) port=\(port) user=\(libpqQuote(user)) password=\(libpqQuote(password)) dbname=\(libpqQuote(database)) connect_timeout=5"
    }
}

/// A value quoted for a libpq key=value connection string.
func libpqQuote(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A short random suffix that keeps object names of concurrently running tests apart.
func uniqueSuffix() -> String {
    String(UInt32.random(in: 0..<UInt32.max), radix: 36)
}

/// Waits until `condition` holds, polling every 50 ms, for at most `timeout`; records a failure
/// naming `what` otherwise.
@discardableResult
func eventually(_ what: String, timeout: Duration = .seconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    Issue.record("timed out waiting for: \(what)")
    return false
}
