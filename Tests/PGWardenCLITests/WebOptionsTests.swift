import Testing
@testable import PGWardenCLI
@testable import PGWarden

/// `serve`'s HTTP edge flags: the request deadline and the connection caps, with their bounds.
@Suite("Web options")
struct WebOptionsTests {
    static func web(_ words: [String]) throws -> WebOptions {
        try Serve(FlagParser.parse(words, spec: Serve.spec)).web
    }

    @Test func defaults() throws {
        let web = try Self.web([])
        #expect(web.configFile == nil)
        #expect(web.limits.requestTimeout == .seconds(10))
        #expect(web.limits.maxConnections == 4096)
        #expect(web.limits.maxConnectionsPerIP == 64)
    }

    @Test func valuesAreTaken() throws {
        let web = try Self.web(["--web.config.file", "/etc/pgwarden/web.yml", "--web.request-timeout", "30s",
                                "--web.max-connections", "100", "--web.max-connections-per-ip", "100"])
        #expect(web.configFile == "/etc/pgwarden/web.yml")
        #expect(web.limits.requestTimeout == .seconds(30))
        #expect(web.limits.maxConnections == 100)
        #expect(web.limits.maxConnectionsPerIP == 100)
    }

    @Test(arguments: [
        (["--web.request-timeout", "0s"], "--web.request-timeout '0s' must be a duration from 1s to 1h"),
        (["--web.request-timeout", "500ms"], "from 1s to 1h"),
        (["--web.request-timeout", "2h"], "from 1s to 1h"),
        (["--web.request-timeout", "ten"], "from 1s to 1h"),
        (["--web.max-connections", "15"], "--web.max-connections 15 must be from 16"),
        (["--web.max-connections", "-1"], "must be from 16"),
        (["--web.max-connections", "many"], "is not a whole number"),
        (["--web.max-connections-per-ip", "0"], "--web.max-connections-per-ip 0 must be from 1"),
        (["--web.max-connections", "100", "--web.max-connections-per-ip", "101"], "to --web.max-connections (100)"),
    ])
    func refusals(words: [String], mentions: String) {
        do {
            _ = try Self.web(words)
            Issue.record("\(words) was accepted")
        } catch {
            #expect("\(error)".contains(mentions), "\(error)")
        }
    }

    @Test func openFileLimitFitsTheConnections() {
        let fitted = raiseOpenFileLimit(forConnections: 100)
        #expect(fitted == 100, "a hundred connections fit any usual limit")
        #expect(raiseOpenFileLimit(forConnections: 1 << 40) < 1 << 40, "never more than the hard limit allows")
    }
}
