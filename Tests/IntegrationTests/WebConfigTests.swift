import Foundation
import Testing

/// --web.config.file with real parts: certificates and a CA made by openssl, curl verifying the
/// chain, users hashed by htpasswd -B, rotation by SIGHUP.
@Suite("Web config", .serialized)
struct WebConfigTests {
    static let endpoints = ["/", "/metrics", "/healthz", "/actions"]

    /// pgwarden with the example policy (dry run) and `extra` flags, serving under `webConfig`.
    static func start(_ env: TestEnvironment, webConfig: String, _ extra: [String] = []) throws -> PGWardenProcess {
        try PGWardenProcess(env, arguments: ["--dsn", env.dsn(), "--config.file", "\(HTTPEdgeTests.repository)/examples/pgwarden.yml",
                                             "--webhook.dry-run", "--web.config.file", webConfig] + extra)
    }

    @Test func tlsServesEveryEndpointAndCurlVerifiesTheChain() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig("""
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
            http_server_config:
              headers:
                X-Content-Type-Options: nosniff
                Strict-Transport-Security: max-age=31536000
            """)
        let pgw = try Self.start(env, webConfig: config, ["--webhook.allow-unauthenticated"])
        defer { pgw.stop() }
        let metrics = try tls.curl(port: pgw.port, "/metrics")
        #expect(metrics.exit == 0, "\(metrics.trace)")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("pg_up 1"))
        #expect(metrics.trace.lowercased().contains("x-content-type-options: nosniff"))
        #expect(metrics.trace.lowercased().contains("strict-transport-security: max-age=31536000"))
        for path in ["/", "/healthz", "/actions"] {
            #expect(try tls.curl(port: pgw.port, path).status == 200, "\(path)")
        }
        let hook = try tls.curl(port: pgw.port, "/webhook", extra: [
            "-H", "Content-Type: application/json", "--data-binary", String(decoding: HTTPEdgeTests.emptyNotification, as: UTF8.self)])
        #expect(hook.status == 200)
        // A client that trusts another CA refuses the server; plain HTTP gets no HTTP answer.
        let wrongCA = try tls.curl(port: pgw.port, "/metrics", ca: "stranger.crt")
        #expect(wrongCA.exit == 60, "certificate verification fails: \(wrongCA.trace.suffix(300))")
        #expect(wrongCA.status == 0)
        #expect(try tls.curl(port: pgw.port, "/metrics", scheme: "http").status == 0)
        // TLS 1.2 and 1.3 are offered; TLS 1.1 is not (min_version defaults to TLS12).
        #expect(try tls.curl(port: pgw.port, "/healthz", extra: ["--tlsv1.2", "--tls-max", "1.2"]).status == 200)
        #expect(try tls.curl(port: pgw.port, "/healthz", extra: ["--tlsv1.3"]).status == 200)
        #expect(try tls.curl(port: pgw.port, "/healthz", extra: ["--tlsv1.1", "--tls-max", "1.1"]).status == 0)
    }

    @Test func aClientStuckInTheHandshakeIsCutAtTheRequestDeadline() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
        let pgw = try Self.start(env, webConfig: config, ["--webhook.allow-unauthenticated", "--web.request-timeout", "2s"])
        defer { pgw.stop() }
        // The first bytes of a TLS record header, then nothing: the handshake never completes.
        let stuck = try RawSocket(port: pgw.port, receiveTimeoutSeconds: 20)
        stuck.send([0x16, 0x03, 0x01])
        let cut = eventually("the server closes the stuck handshake", timeout: .seconds(15)) { stuck.closedByPeer }
        #expect(cut)
        #expect(try tls.curl(port: pgw.port, "/healthz").status == 200)
        let metrics = Metrics(text: try tls.curl(port: pgw.port, "/metrics").body)
        #expect((metrics.value("pgwarden_http_requests_cut_total") ?? 0) >= 1)
    }

    /// pgwarden with TLS, the test CA for client certificates and `client_auth_type` `kind`.
    static func startWithClientCertificates(_ kind: String) throws -> (TLSFixture, PGWardenProcess) {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig("""
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
              client_auth_type: \(kind)
              client_ca_file: ca.crt
            """)
        return (tls, try start(env, webConfig: config, ["--webhook.allow-unauthenticated"]))
    }

    @Test func mutualTLSRefusesClientsWithoutAGoodCertificate() throws {
        let (tls, pgw) = try Self.startWithClientCertificates("RequireAndVerifyClientCert")
        defer { pgw.stop() }
        for path in Self.endpoints {
            let accepted = try tls.curl(port: pgw.port, path, cert: "client")
            #expect(accepted.status == 200, "\(path) with a client certificate: \(accepted.trace.suffix(300))")
        }
        for cert in [nil, "stranger", "expired"] as [String?] {
            let refused = try tls.curl(port: pgw.port, "/metrics", cert: cert)
            #expect(refused.status == 0, "no HTTP answer for client certificate \(cert ?? "none")")
            #expect(refused.exit != 0)
        }
        let hook = try tls.curl(port: pgw.port, "/webhook", cert: "stranger", extra: [
            "-H", "Content-Type: application/json", "--data-binary", String(decoding: HTTPEdgeTests.emptyNotification, as: UTF8.self)])
        #expect(hook.status == 0, "the webhook is behind the same wall")
    }

    @Test func verifyIfGivenAcceptsNoCertificateButRefusesABadOne() throws {
        let (tls, pgw) = try Self.startWithClientCertificates("VerifyClientCertIfGiven")
        defer { pgw.stop() }
        #expect(try tls.curl(port: pgw.port, "/healthz").status == 200)
        #expect(try tls.curl(port: pgw.port, "/healthz", cert: "client").status == 200)
        for cert in ["stranger", "expired"] {
            let refused = try tls.curl(port: pgw.port, "/metrics", cert: cert)
            #expect(refused.status == 403, "\(cert): \(refused.body)")
        }
    }

    @Test func basicAuthUsersFromHtpasswdGuardEveryEndpoint() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let line = try runTool("htpasswd", ["-nbBC", "5", "alertmanager", "hunter2-with-dashes"])
        let hash = line.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", maxSplits: 1)[1]
        let config = try tls.webConfig("""
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
            basic_auth_users:
              alertmanager: "\(hash)"
            """)
        let passwordPath = tls.path("webhook-password")
        try "hunter2-with-dashes\n".write(toFile: passwordPath, atomically: true, encoding: .utf8)
        let pgw = try Self.start(env, webConfig: config, ["--webhook.basic-auth-user", "alertmanager",
                                                          "--webhook.basic-auth-password-file", passwordPath])
        defer { pgw.stop() }
        for path in Self.endpoints + ["/webhook"] {
            let anonymous = try tls.curl(port: pgw.port, path)
            #expect(anonymous.status == 401, "\(path)")
            #expect(anonymous.trace.contains("WWW-Authenticate: Basic"))
            #expect(try tls.curl(port: pgw.port, path, user: "alertmanager:hunter2").status == 401, "\(path) wrong password")
            #expect(try tls.curl(port: pgw.port, path, user: "nobody:hunter2-with-dashes").status == 401, "\(path) unknown user")
        }
        for path in Self.endpoints {
            #expect(try tls.curl(port: pgw.port, path, user: "alertmanager:hunter2-with-dashes").status == 200, "\(path)")
        }
        // The same credentials satisfy the webhook's own basic auth on top.
        let hook = try tls.curl(port: pgw.port, "/webhook", user: "alertmanager:hunter2-with-dashes", extra: [
            "-H", "Content-Type: application/json", "--data-binary", String(decoding: HTTPEdgeTests.emptyNotification, as: UTF8.self)])
        #expect(hook.status == 200, "\(hook.body)")
    }

    @Test func webhookTokenAndBasicAuthUsersCannotBothBeSatisfied() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig("basic_auth_users:\n  alice: \"$2y$04$mTdH0/3NUfwIAwj/MFGaVOsMQzIXox6pymWDUSmBZZUgB7yl.XZZe\"\n")
        let tokenPath = tls.path("token")
        try "t0ken\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        let run = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", "\(HTTPEdgeTests.repository)/examples/pgwarden.yml",
                                        "--webhook.token-file", tokenPath, "--web.config.file", config,
                                        "--web.listen-address", "127.0.0.1:0"])
        #expect(run.status == 1)
        #expect(run.output.contains("--webhook.token-file cannot be combined with basic_auth_users"))
        // Webhook basic auth whose password is not the web user's: no request could pass both.
        let passwordPath = tls.path("password")
        try "not-s3cret\n".write(toFile: passwordPath, atomically: true, encoding: .utf8)
        let mismatch = try runPGWarden(env, ["--dsn", env.dsn(), "--config.file", "\(HTTPEdgeTests.repository)/examples/pgwarden.yml",
                                             "--webhook.basic-auth-user", "alice", "--webhook.basic-auth-password-file", passwordPath,
                                             "--web.config.file", config, "--web.listen-address", "127.0.0.1:0"])
        #expect(mismatch.status == 1)
        #expect(mismatch.output.contains("is not one of basic_auth_users"), "\(mismatch.output)")
    }

    @Test(arguments: [
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth: RequireAndVerifyClientCert\n",
         "web.yml:4: tls_server_config.client_auth: unknown key; allowed keys: cert_file, key_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: stranger.key\n",
         "web.yml:2: tls_server_config.cert_file: the certificate and key are not a usable pair"),
        ("tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n",
         "web.yml:2: tls_server_config.cert_file: cannot read the certificate"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n",
         "tls_server_config.client_ca_file: required key is missing"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: server.key\n"
            + "  client_auth_type: RequireAndVerifyClientCert\n", "tls_server_config.client_ca_file: holds no readable PEM certificate"),
        ("basic_auth_users:\n  alice: plaintext\n", "web.yml:2: basic_auth_users.alice: is not a bcrypt hash"),
    ])
    func aBrokenFileStopsStartUp(yaml: String, message: String) throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        let config = try tls.webConfig(yaml)
        let run = try runPGWarden(env, ["--dsn", env.dsn(), "--web.config.file", config, "--web.listen-address", "127.0.0.1:0"])
        #expect(run.status == 1)
        #expect(run.output.contains(message), "\(run.output)")
        #expect(run.output.contains(tls.path("web.yml")), "the error names the file")
    }
}

/// examples/web-config.yml as shipped, with certificates where it expects them.
@Suite("Web config example")
struct WebConfigExampleTests {
    @Test func theExampleServesMutualTLS() throws {
        let env = try TestEnvironment.load()
        let tls = try TLSFixture(env)
        try FileManager.default.createDirectory(atPath: tls.path("tls"), withIntermediateDirectories: true)
        for (from, to) in [("server.crt", "tls/pgwarden.crt"), ("server.key", "tls/pgwarden.key"), ("ca.crt", "tls/clients-ca.crt")] {
            try FileManager.default.copyItem(atPath: tls.path(from), toPath: tls.path(to))
        }
        let example = try String(contentsOfFile: "\(HTTPEdgeTests.repository)/examples/web-config.yml", encoding: .utf8)
        let config = try tls.webConfig(example, name: "web-config.yml")
        let pgw = try PGWardenProcess(env, arguments: ["--dsn", env.dsn(), "--web.config.file", config])
        defer { pgw.stop() }
        let scrape = try tls.curl(port: pgw.port, "/metrics", cert: "client")
        #expect(scrape.status == 200)
        #expect(scrape.trace.contains("X-Frame-Options: deny"))
        #expect(try tls.curl(port: pgw.port, "/metrics").status == 0)
        #expect(!pgw.log.contains("web configuration setting has no effect"), "the example draws no warning: \(pgw.log)")
    }
}
