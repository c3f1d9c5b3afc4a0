import Foundation
import PGWarden
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `--audit.file`: one JSON line per record, mode 0600, reopened on SIGHUP, and a write failure
/// that is counted and never blocks an action.
@Suite("Audit file against a real server")
struct AuditFileTests {
    static func policy(db: String) -> String {
        """
        rules:
          - name: audited
            match: {alertname: Audited}
            action: terminate
            databases: [\(db)]
            allow_superuser: true
        """
    }

    /// The lines of the file, parsed.
    static func records(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func recordsAreAppendedWithLabelsQueryIDAndTextAndTheFileReopensOnSighup() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let path = "\(fx.env.workDir)/audit-\(uniqueSuffix()).jsonl"
        let hook = try HookFixture(fx, policy: Self.policy(db: db), extraArguments: ["--audit.file", path, "--audit.query-text"])
        // A superuser's session, so that it may compute a query_id (compute_query_id is superuser-only).
        let victim = try fx.connect(role: "postgres", database: db)
        try victim.run("SET compute_query_id = on")
        try victim.run("BEGIN; SELECT 'pgw audit marker' AS marker")
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "Audited", "team": "db \"ops\""])])
        #expect(status == 200 && HookFixture.results(json)[victim.pid] == "success", "\(json)")
        try eventually("the record reaches the file") { Self.records(path).count == 1 }
        let record = try #require(Self.records(path).first)
        #expect(record["pid"] as? Int == Int(victim.pid) && record["result"] as? String == "success")
        #expect(record["rule"] as? String == "audited" && record["action"] as? String == "terminate")
        let labels = try #require(record["labels"] as? [String: String])
        #expect(labels["alertname"] == "Audited" && labels["team"] == "db \"ops\"")
        #expect((record["query_id"] as? String).map { Int64($0) != nil } == true, "query_id on PostgreSQL 14+: \(record)")
        #expect(record["query"] as? String == "BEGIN; SELECT 'pgw audit marker' AS marker")
        var status0 = stat()
        #expect(stat(path, &status0) == 0 && status0.st_mode & 0o777 == 0o600, "mode \(String(status0.st_mode & 0o777, radix: 8))")

        // logrotate: rename, then SIGHUP; the next record goes to a new file.
        #expect(rename(path, path + ".1") == 0)
        kill(hook.pgw.process.processIdentifier, SIGHUP)
        eventually("the file is reopened") { hook.pgw.log.contains("audit file reopened") }
        let second = try fx.connect(role: "postgres", database: db)
        try second.idleInTransaction()
        #expect(HookFixture.results(try hook.notify([HookFixture.alert(["alertname": "Audited"])]).1)[second.pid] == "success")
        try eventually("the second record reaches the new file") { Self.records(path).count == 1 }
        #expect(Self.records(path).first?["pid"] as? Int == Int(second.pid))
        #expect(Self.records(path + ".1").count == 1, "the rotated file keeps the first record only")
    }

    /// A disk that refuses every write (/dev/full answers ENOSPC): the action still happens and
    /// answers 200; the failure is counted and logged.
    @Test func aFailingWriteIsCountedAndBlocksNothing() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let hook = try HookFixture(fx, policy: Self.policy(db: db), extraArguments: ["--audit.file", "/dev/full"])
        let victim = try fx.connect(role: try fx.createRole(), database: db)
        try victim.idleInTransaction()
        let (status, json) = try hook.notify([HookFixture.alert(["alertname": "Audited"])])
        #expect(status == 200 && HookFixture.results(json)[victim.pid] == "success", "\(json)")
        #expect(victim.wasTerminated())
        try eventually("the failed write is counted") {
            try (hook.pgw.scrape().value("pgwarden_audit_write_errors_total") ?? 0) >= 1
        }
        #expect(hook.pgw.log.contains("audit record not written"))
    }

    @Test func auditFlagsNeedTheWebhook() throws {
        let env = try TestEnvironment.load()
        let alone = try runPGWarden(env, ["--dsn", env.dsn(), "--audit.file", "/tmp/x.jsonl"])
        #expect(alone.status == 2 && alone.output.contains("--audit.file records the webhook's actions"), "\(alone.output)")
        let text = try runPGWarden(env, ["--dsn", env.dsn(), "--audit.query-text"])
        #expect(text.status == 2 && text.output.contains("--audit.query-text only has an effect with --audit.file"), "\(text.output)")
    }

    /// Files that cannot take the trail stop start-up with the reason, instead of hanging (a FIFO
    /// nobody reads) or writing nowhere (a directory).
    @Test func anUnusableAuditFileStopsStartUp() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let fifo = "\(fx.env.workDir)/audit-fifo-\(uniqueSuffix())"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let policy = "\(fx.env.workDir)/policy-\(uniqueSuffix()).yml"
        try Self.policy(db: "x").write(toFile: policy, atomically: true, encoding: .utf8)
        for (path, reason) in [(fifo, "No such device or address"), (fx.env.workDir, "Is a directory")] {
            let run = try runPGWarden(fx.env, ["--dsn", fx.env.dsn(), "--config.file", policy, "--webhook.allow-unauthenticated",
                                               "--web.listen-address", "127.0.0.1:0", "--audit.file", path])
            #expect(run.status == 1, "\(run.output)")
            #expect(run.output.contains("--audit.file \(path): cannot open it for appending (\(reason))"), "\(run.output)")
        }
    }
}
