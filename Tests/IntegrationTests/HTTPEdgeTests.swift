import Foundation
import Synchronization
import Testing

/// The HTTP edge under slow, many and oversized clients: a fixed set of polling threads, a
/// whole-request deadline, per-address caps, and credentials checked before any body byte.
@Suite("HTTP edge", .serialized)
struct HTTPEdgeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// pgwarden with the example policy (in dry run) and a bearer token.
    static func start(_ env: TestEnvironment, _ extra: [String] = []) throws -> (PGWardenProcess, String) {
        let token = "edge-\(uniqueSuffix())"
        let tokenPath = "\(env.workDir)/edge-token-\(uniqueSuffix())"
        try (token + "\n").write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let pgw = try PGWardenProcess(env, arguments: [
            "--dsn", env.dsn(), "--config.file", "\(repository)/examples/pgwarden.yml",
            "--webhook.token-file", tokenPath, "--webhook.dry-run",
        ] + extra)
        return (pgw, token)
    }

    static let emptyNotification = Array("""
        {"version":"4","status":"firing","receiver":"pgwarden","groupKey":"{}:{}","truncatedAlerts":0,\
        "groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[]}
        """.utf8)

    /// A request's status line, or 0 when the connection ended without one.
    static func status(_ bytes: [UInt8]?) -> Int {
        guard let bytes, let response = try? HTTP.parse(bytes) else { return 0 }
        return response.status
    }

    @Test func aThousandSlowClientsDoNotLockOutMetricsOrTheWebhook() throws {
        let env = try TestEnvironment.load()
        let slowCount = 1000
        let limit = raiseTestOpenFileLimit(to: slowCount + 512)
        try #require(limit >= slowCount + 256, "the test needs \(slowCount + 256) open files; the hard limit allows \(limit)")
        let (pgw, token) = try Self.start(env, ["--web.request-timeout", "30s"])
        defer { pgw.stop() }
        // 50 slow clients from each of 20 loopback addresses (under the per-address cap of 64),
        // each with a request line and part of a header, never finished.
        var slow: [RawSocket] = []
        for i in 0..<slowCount {
            let socket = try RawSocket(port: pgw.port, source: "127.0.1.\(10 + i / 50)")
            #expect(socket.send("GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: a"))
            slow.append(socket)
        }
        let sockets = slow
        let trickling = RunFlag()
        let trickler = Thread {
            while trickling.running.load(ordering: .relaxed) {
                for socket in sockets { socket.send([UInt8(ascii: "a")]) }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        trickler.start()
        defer { trickling.running.store(false, ordering: .relaxed) }
        Thread.sleep(forTimeInterval: 1)

        let metrics = try HTTP.get(port: pgw.port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("pg_up 1"))
        #expect(try HTTP.get(port: pgw.port, "/healthz").status == 200)
        let hook = try HTTP.request(port: pgw.port, method: "POST", path: "/webhook",
                                    headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                                    body: Self.emptyNotification)
        #expect(hook.status == 200)
        #expect(hook.body.contains("\"status\":\"processed\""))
        #expect(try HTTP.request(port: pgw.port, method: "POST", path: "/webhook", body: Self.emptyNotification).status == 401)
        // The slow clients were held by the server the whole time, not refused or dropped.
        let stillOpen = sockets.filter { !$0.closedByPeer }.count
        #expect(stillOpen == slowCount)
    }

    @Test func aTricklingClientIsCutOffAtTheRequestDeadline() throws {
        let env = try TestEnvironment.load()
        let (pgw, _) = try Self.start(env, ["--web.request-timeout", "2s"])
        defer { pgw.stop() }
        // A request that takes 0.5 s to trickle in is within the deadline, and the connection
        // stays usable for a second request.
        let prompt = try RawSocket(port: pgw.port)
        for byte in "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8 {
            prompt.send([byte])
            Thread.sleep(forTimeInterval: 0.015)
        }
        prompt.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let both = String(decoding: prompt.readToEnd() ?? [], as: UTF8.self)
        #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3, "two answers on one connection: \(both.prefix(300))")

        // A header sent one byte every 100 ms would take 40 s; the server cuts it off.
        let trickler = try RawSocket(port: pgw.port, receiveTimeoutSeconds: 20)
        let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "a", count: 400))\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count, trickler.send([request[sent]]), !trickler.closedByPeer {
            sent += 1
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(sent < request.count, "the server cut the connection before the request was complete")
        #expect(Self.status(trickler.readToEnd()) == 0, "no answer to a request that never completed")
        #expect(try HTTP.get(port: pgw.port, "/healthz").status == 200)
    }

    @Test func oneAddressCannotTakeMoreThanItsShare() throws {
        let env = try TestEnvironment.load()
        let (pgw, _) = try Self.start(env, ["--web.max-connections-per-ip", "4"])
        defer { pgw.stop() }
        var held: [RawSocket] = []
        for _ in 0..<4 {
            let socket = try RawSocket(port: pgw.port, source: "127.0.2.1")
            socket.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(socket)
        }
        Thread.sleep(forTimeInterval: 0.3)
        let fifth = try RawSocket(port: pgw.port, source: "127.0.2.1", receiveTimeoutSeconds: 10)
        fifth.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(Self.status(fifth.readToEnd()) == 0, "a fifth connection from the same address is refused")
        let other = try RawSocket(port: pgw.port, source: "127.0.2.2")
        other.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(Self.status(other.readToEnd()) == 200, "another address is served")
        #expect(held.allSatisfy { !$0.closedByPeer })
    }

    @Test func credentialsAreCheckedBeforeTheBodyIsRead() throws {
        let env = try TestEnvironment.load()
        let (pgw, token) = try Self.start(env)
        defer { pgw.stop() }
        // Headers announcing 10 GB and no body at all: the 401 (or, with the token, the 413)
        // arrives without the server waiting for a byte of it.
        for (authorization, expected) in [("", 401), ("Authorization: Bearer wrong\r\n", 401),
                                          ("Authorization: Bearer \(token)\r\n", 413)] {
            let socket = try RawSocket(port: pgw.port, receiveTimeoutSeconds: 20)
            socket.send("POST /webhook HTTP/1.1\r\nHost: x\r\n\(authorization)Content-Type: application/json\r\n"
                + "Content-Length: 10000000000\r\n\r\n")
            let answer = socket.readToEnd()
            #expect(Self.status(answer) == expected)
        }
        // With a 3 MB body really sent, the early answer is still readable (drained, not reset).
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 3_000_000)
        let unauthorized = try HTTP.request(port: pgw.port, method: "POST", path: "/webhook",
                                            headers: ["Content-Type": "application/json"], body: body)
        #expect(unauthorized.status == 401)
        let tooLarge = try HTTP.request(port: pgw.port, method: "POST", path: "/webhook",
                                        headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.body.contains("over the limit"))
        #expect(try HTTP.get(port: pgw.port, "/actions").status == 401)
        let metrics = try pgw.scrape()
        #expect(metrics.value("pgwarden_webhook_requests_total", ["code": "401"]) ?? 0 >= 3)
        #expect((metrics.value("pgwarden_actions_total") ?? 0) == 0, "nothing was acted on")
    }
}

/// A flag a helper thread polls to know when to stop.
final class RunFlag: Sendable {
    let running = Atomic<Bool>(true)
}
