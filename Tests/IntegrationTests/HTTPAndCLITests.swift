import Foundation
import Logging
import PGWarden
import Synchronization
import Testing

/// The HTTP surface and the command line: paths, methods, flags, exit codes, signals.
@Suite("HTTP and command line")
struct HTTPAndCLITests {
    @Test func pathsAndMethods() throws {
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn(), "--web.telemetry-path", "/custom"])
        defer { pgw.stop() }
        let landing = try HTTP.get(port: pgw.port, "/")
        #expect(landing.status == 200)
        #expect(landing.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(landing.body.contains("href=\"/custom\""))
        let metrics = try HTTP.get(port: pgw.port, "/custom")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == TextFormat.contentType)
        #expect(metrics.body.contains("pg_up 1"))
        #expect(try HTTP.get(port: pgw.port, "/metrics").status == 404)
        #expect(try HTTP.get(port: pgw.port, "/healthz").status == 200)
        let post = try HTTP.request(port: pgw.port, method: "POST", path: "/custom")
        #expect(post.status == 405)
        #expect(post.headers["allow"] == "GET, HEAD")
        #expect(try HTTP.request(port: pgw.port, method: "DELETE", path: "/").status == 405)
    }

    @Test func concurrentScrapesShareRoundTrips() throws {
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn()])
        defer { pgw.stop() }
        let port = pgw.port
        var coalesced = 0.0
        var requests = 0
        for _ in 0..<10 where coalesced == 0 {
            let ok = Counter()
            // 16 threads released together (concurrentPerform would run only one per core).
            let start = DispatchSemaphore(value: 0), done = DispatchGroup()
            for _ in 0..<16 {
                done.enter()
                Thread.detachNewThread {
                    start.wait()
                    if let r = try? HTTP.get(port: port, "/metrics"), r.status == 200, r.body.contains("pg_up 1") { ok.add() }
                    done.leave()
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
            for _ in 0..<16 { start.signal() }
            done.wait()
            requests += 16
            #expect(ok.value == 16, "every concurrent scrape answered completely")
            let m = try pgw.scrape()
            requests += 1
            coalesced = m.value("pgwarden_scrapes_coalesced_total") ?? 0
            let roundTrips = m.value("pgwarden_scrapes_total") ?? 0
            #expect(roundTrips + coalesced <= Double(requests))
        }
        #expect(coalesced > 0, "scrapes arriving together share one database round trip")
    }

    @Test func badFlagsExitWithStatus2() throws {
        let env = try TestEnvironment.load()
        for args in [["--no-such-flag"], ["--web.listen-address", "nonsense"], ["--log.level", "loud"],
                     ["--log.format", "xml"], ["--db.statement-timeout", "5"], ["--web.telemetry-path", "metrics"]] {
            let (status, output) = try runPGWarden(env, args)
            #expect(status == 2, "\(args) exits 2")
            #expect(output.contains("Error") || output.contains("error"), "\(args): \(output)")
            #expect(output.contains(args[0].hasPrefix("--no") ? "no-such-flag" : args[0]), "the message names the flag: \(output)")
        }
    }

    @Test func portInUseExitsWithStatus1() throws {
        let env = try TestEnvironment.load()
        let first = try PGWardenProcess(env, arguments: ["--dsn", env.dsn()])
        defer { first.stop() }
        let (status, output) = try runPGWarden(env, ["--dsn", env.dsn(), "--web.listen-address", "127.0.0.1:\(first.port)"])
        #expect(status == 1)
        #expect(output.contains("already in use"))
        #expect(output.contains("127.0.0.1:\(first.port)"))
    }

    @Test func versionAndHelp() throws {
        let env = try TestEnvironment.load()
        let (status, output) = try runPGWarden(env, ["--version"])
        #expect(status == 0)
        #expect(output.hasPrefix("pgwarden, version \(PGWardenVersion.current) (branch: \(BuildInfo.branch), revision: \(BuildInfo.revision))\n"))
        for field in ["build user:", "build date:", "swift version:", "platform:"] { #expect(output.contains(field), "\(output)") }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            // make test stamps the build: nothing may read "unknown" there.
            #expect(!output.contains("unknown"), "\(output)")
        }
        let help = try runPGWarden(env, ["serve", "--help"])
        #expect(help.status == 0)
        for flag in ["--web.listen-address", "--web.telemetry-path", "--dsn", "--log.level", "--log.format"] {
            #expect(help.output.contains(flag), "help lists \(flag)")
        }
    }

    @Test func subcommandsHelpAndUsageErrors() throws {
        let env = try TestEnvironment.load()
        let root = try runPGWarden(env, ["--help"])
        #expect(root.status == 0)
        for text in ["SUBCOMMANDS:", "  terminate  ", "  sessions  ", "--web.listen-address <address>", "(default: :9793)"] {
            #expect(root.output.contains(text), "pgwarden --help shows \(text): \(root.output)")
        }
        let terminate = try runPGWarden(env, ["help", "terminate"])
        #expect(terminate.status == 0)
        #expect(terminate.output.hasPrefix("OVERVIEW: Terminate the selected sessions"))
        #expect(terminate.output.contains("  --all\n") && terminate.output.contains("  --database <name> (repeatable)\n"))
        #expect(try runPGWarden(env, ["terminate", "--help"]).output == terminate.output)
        #expect(try runPGWarden(env, ["terminate", "--no-such-flag", "--help"]).output == terminate.output, "help wins")

        for (args, mention) in [(["nosuch"], "no subcommand 'nosuch'"),
                                (["--dsn", "a", "--dsn", "b"], "--dsn is given twice ('a' and 'b')"),
                                (["sessions", "--limit", "3"], "unknown flag '--limit'"),
                                (["terminate", "--database", "shop", "--limit", "0"], "--limit must be at least 1"),
                                (["cancel", "--pid", "12x"], "--pid '12x' is not a whole number"),
                                (["--webhook.timeout", "500ms"], "--webhook.timeout '500ms' must be a duration of at least 1s")] {
            let (status, output) = try runPGWarden(env, args)
            #expect(status == 2, "\(args) exits 2: \(output)")
            #expect(output.contains("pgwarden: error: \(mention)"), "\(args): \(output)")
            #expect(output.contains("--help' for the flags."), "\(args) points at the help: \(output)")
        }
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalShutsDownGracefully(signal: Int32) throws {
        let env = try TestEnvironment.load()
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn(), "--log.format", "json"])
        _ = try pgw.scrape()
        kill(pgw.process.processIdentifier, signal)
        pgw.process.waitUntilExit()
        #expect(pgw.process.terminationStatus == 0)
        #expect(pgw.log.contains("\"msg\":\"shutting down\""))
        #expect(throws: (any Error).self) { try HTTP.get(port: pgw.port, "/healthz") }
    }
}

/// Header values as the server's handler received them, by request.
final class HeaderCapture: HTTPHandler {
    let authorizations = Mutex<[[UInt8]?]>([])
    func handle(_ request: HTTPRequest) -> HTTPResponse {
        authorizations.withLock { $0.append(request.headerValueBytes("authorization")) }
        return HTTPResponse(status: 200, text: "ok\n")
    }
    func admit(_ head: HTTPRequest) -> Admission { .accept(maxBodyBytes: 0, lane: .standard) }
}

extension HTTPAndCLITests {
    /// Header values reach the handler as the bytes the client sent. Decoded to text first, each
    /// invalid UTF-8 sequence became U+FFFD, so two different tokens arrived as the same one.
    @Test func headerValuesReachTheHandlerAsSent() throws {
        let capture = HeaderCapture()
        let server = HTTPServer(handler: capture, logger: Logger(label: "test"))
        try server.start(ListenAddress(host: "127.0.0.1", port: 0))
        defer { server.stop() }
        let values: [[UInt8]] = [Array("Bearer tok".utf8) + [0xFF], Array("Bearer tok".utf8) + [0xFE],
                                 Array("Bearer tok\u{FFFD}".utf8), Array("Bearer r\u{F3}".utf8)]
        for value in values {
            let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: ".utf8) + value
                + Array("\r\n\r\n".utf8)
            #expect(try HTTP.raw(port: server.port, request).status == 200)
        }
        let seen = capture.authorizations.withLock { $0 }
        #expect(seen == values)
        #expect(Set(seen.compactMap { $0 }).count == values.count, "different tokens stay different")
    }
}

/// A thread-safe counter for concurrent requests.
final class Counter: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
