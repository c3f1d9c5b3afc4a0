import Foundation
import PGWarden
import Testing

/// A database that is down, refuses the password, or does not exist never crashes pgwarden;
/// scrapes answer with pg_up 0 and a log line saying why, and recover when it returns.
@Suite("Database outages")
struct OutageTests {
    @Test func databaseStoppedAndRestartedUnderARunningPgwarden() throws {
        let env = try TestEnvironment.load()
        let dir = "\(env.workDir)/outage-\(uniqueSuffix())"
        let port = try shell("\(env.clusterScript) start '\(dir)'").trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? shell("\(env.clusterScript) stop '\(dir)'") }
        let dsn = "host=127.0.0.1 port=\(port) user=postgres password=postgres dbname=postgres"
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", dsn, "--db.connect-timeout", "2s"])
        defer { pgw.stop() }
        let client = try TestSession(dsn: dsn)
        _ = client
        var m = try pgw.scrape()
        #expect(m.value("pg_up") == 1)
        #expect(m.value("pg_sessions", ["datname": "postgres", "usename": "postgres", "state": "idle"]) == 1)

        _ = try shell("\(env.clusterScript) stop '\(dir)'")
        m = try pgw.scrape()
        #expect(m.value("pg_up") == 0)
        #expect(m.all("pg_sessions").isEmpty)
        #expect(m.value("pgwarden_scrape_errors_total")! >= 1)
        m = try pgw.scrape()
        #expect(m.value("pg_up") == 0, "still down on the second scrape (reconnect refused)")
        #expect(pgw.process.isRunning)
        #expect(pgw.log.contains("level=error"))

        _ = try shell("\(env.clusterScript) restart '\(dir)'")
        let second = try TestSession(dsn: dsn)
        _ = second
        m = try pgw.scrape()
        #expect(m.value("pg_up") == 1, "the first scrape after the restart is complete")
        #expect(m.value("pg_sessions", ["datname": "postgres", "usename": "postgres", "state": "idle"]) == 1)
        #expect(pgw.log.contains("database answers again"))
    }

    @Test func wrongPasswordIsReportedWithoutThePassword() throws {
        let env = try TestEnvironment.load()
        let secret = "s3cr3t-\(uniqueSuffix())"
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn(password: secret)])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_up") == 0)
        #expect(m.value("pgwarden_build_info", ["version": PGWardenVersion.current]) == 1)
        let log = pgw.log
        #expect(log.contains("password authentication failed"))
        #expect(log.contains("28P01"))
        #expect(!log.contains(secret))
        #expect(!m.text.contains(secret))
    }

    @Test func unknownDatabase() throws {
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: [], environment: ["DATA_SOURCE_NAME": env.dsn(database: "no_such_db_\(uniqueSuffix())")])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_up") == 0)
        #expect(pgw.log.contains("does not exist"))
    }

    @Test func libpqEnvironmentIsUsedWithoutADSN() throws {
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: [], environment: [
            "PGHOST": env.socketDir, "PGPORT": String(env.port), "PGUSER": "postgres", "PGDATABASE": "postgres",
        ])
        defer { pgw.stop() }
        #expect(try pgw.scrape().value("pg_up") == 1)
    }

    @Test func unreachableHostAnswersQuickly() throws {
        // A port nobody listens on: the connection is refused and the scrape still answers.
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", "host=127.0.0.1 port=1 user=postgres dbname=postgres"])
        defer { pgw.stop() }
        let m = try pgw.scrape()
        #expect(m.value("pg_up") == 0)
        #expect(pgw.log.contains("Connection refused") || pgw.log.contains("connection refused"))
    }
}

/// Runs a shell command and returns its standard output; throws on a non-zero exit.
/// Output goes through a file, not a pipe: a server the command starts would inherit the pipe
/// and keep it open, so reading it to the end would never finish.
func shell(_ command: String) throws -> String {
    let output = "\(NSTemporaryDirectory())/pgwarden-shell-\(uniqueSuffix()).out"
    defer { try? FileManager.default.removeItem(atPath: output) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", "(\(command)) > '\(output)'"]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SetupError("`\(command)` exited with \(process.terminationStatus)")
    }
    return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
}
