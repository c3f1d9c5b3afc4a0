import Foundation
import Testing

/// SIGHUP re-reads --web.config.file and its certificate files without closing the socket; a
/// broken new file keeps the previous configuration and shows in the reload gauge.
@Suite("Web config reload", .serialized)
struct WebConfigReloadTests {
    /// The common name of the certificate the server presents, from curl's trace.
    static func subject(_ trace: String) -> String? {
        guard let line = trace.split(separator: "\n").first(where: { $0.contains("subject:") }) else { return nil }
        return line.components(separatedBy: "CN=").last.map { String($0.prefix { $0 != "," && $0 != ";" }) }
    }

    /// Sends SIGHUP and waits until the log shows its outcome `count` times.
    static func reload(_ pgw: PGWardenProcess, expecting message: String, count: Int) {
        kill(pgw.process.processIdentifier, SIGHUP)
        eventually("\(message) logged \(count) times") { pgw.log.components(separatedBy: message).count - 1 >= count }
    }

    static func gauge(_ tls: TLSFixture, _ port: Int, cert: String? = nil) throws -> Double? {
        let scrape = try tls.curl(port: port, "/metrics", cert: cert)
        return Metrics(text: scrape.body).value("pgwarden_web_config_last_reload_successful")
    }

    @Test func rotatedCertificatesAndSettingsAreServedAfterSIGHUP() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig("tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n")
        try FileManager.default.copyItem(atPath: tls.path("server.crt"), toPath: tls.path("live.crt"))
        try FileManager.default.copyItem(atPath: tls.path("server.key"), toPath: tls.path("live.key"))
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn(), "--web.config.file", config])
        defer { pgw.stop() }
        let first = try tls.curl(port: pgw.port, "/healthz")
        #expect(first.status == 200)
        #expect(Self.subject(first.trace) == "first")
        #expect(try Self.gauge(tls, pgw.port) == 1)

        // A connection kept open across the reload still gets its answer.
        let kept = try RawSocket(port: pgw.port)

        // New certificate and key in place, SIGHUP: new connections get the new certificate.
        try tls.server(named: "second", commonName: "second")
        for ext in ["crt", "key"] {
            try Data(contentsOf: URL(fileURLWithPath: tls.path("second.\(ext)")))
                .write(to: URL(fileURLWithPath: tls.path("live.\(ext)")), options: .atomic)
        }
        Self.reload(pgw, expecting: "web configuration reloaded", count: 1)
        let second = try tls.curl(port: pgw.port, "/healthz")
        #expect(second.status == 200)
        #expect(Self.subject(second.trace) == "second")
        #expect(kept.closedByPeer == false, "the old daemon lets its connections finish")

        // A broken file: the previous configuration stays, the gauge says so, the log says why.
        _ = try tls.webConfig("tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n  min_version: TLS9\n")
        Self.reload(pgw, expecting: "web configuration reload failed", count: 1)
        #expect(pgw.log.contains("min_version: must be one of TLS10, TLS11, TLS12, TLS13"))
        let kept2 = try tls.curl(port: pgw.port, "/healthz")
        #expect(kept2.status == 200)
        #expect(Self.subject(kept2.trace) == "second")
        #expect(try Self.gauge(tls, pgw.port) == 0)

        // A key that does not match the certificate is refused the same way.
        try FileManager.default.copyItem(atPath: tls.path("stranger.key"), toPath: tls.path("mismatch.key"))
        _ = try tls.webConfig("tls_server_config:\n  cert_file: live.crt\n  key_file: mismatch.key\n")
        Self.reload(pgw, expecting: "web configuration reload failed", count: 2)
        #expect(Self.subject(try tls.curl(port: pgw.port, "/healthz").trace) == "second")

        // Switching on client certificates by reload: refused without, served with.
        _ = try tls.webConfig("""
            tls_server_config:
              cert_file: live.crt
              key_file: live.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
            """)
        Self.reload(pgw, expecting: "web configuration reloaded", count: 2)
        #expect(try tls.curl(port: pgw.port, "/healthz").status == 0)
        #expect(try tls.curl(port: pgw.port, "/healthz", cert: "client").status == 200)
        #expect(try Self.gauge(tls, pgw.port, cert: "client") == 1)

        // And back to plain HTTP.
        _ = try tls.webConfig("# plain HTTP\n")
        Self.reload(pgw, expecting: "web configuration reloaded", count: 3)
        #expect(try HTTP.get(port: pgw.port, "/healthz").status == 200)
        #expect(pgw.stop() == 0, "a clean exit with a daemon still draining")
    }
}
