import Testing
@testable import PGWarden

/// The web configuration reader: exporter-toolkit's keys, strictly; every refusal names the key.
@Suite("Web config loader")
struct WebConfigLoaderTests {
    static let hash = "$2y$10$Ty9i9ZNJ8IHpgeFQyA9/CeaGAMyOByebkfF4on64V4CPFit/dshJS"

    static func error(_ yaml: String) -> PolicyError? {
        do {
            _ = try WebConfigLoader.parse(yaml, source: "web.yml")
            return nil
        } catch {
            return error
        }
    }

    @Test func emptyFileMeansPlainHTTP() throws {
        let loaded = try WebConfigLoader.parse("", source: "web.yml")
        #expect(loaded.config.tls == nil)
        #expect(loaded.config.users == nil)
        #expect(loaded.config.headers.isEmpty)
        #expect(try WebConfigLoader.parse("# nothing\n", source: "web.yml").config.tls == nil)
    }

    @Test func unknownKeysAreErrorsWithASuggestion() {
        let top = Self.error("basic_auth_user:\n  a: b\n")
        #expect(top?.description == "web.yml:1: basic_auth_user: unknown key; did you mean basic_auth_users? allowed keys: "
            + "tls_server_config, http_server_config, basic_auth_users, rate_limit")
        let nested = Self.error("tls_server_config:\n  cert_file: a\n  key_fil: b\n")
        #expect(nested?.line == 3)
        #expect(nested?.key == "tls_server_config.key_fil")
        #expect(nested?.message.contains("did you mean key_file?") == true)
    }

    @Test(arguments: [
        ("rate_limit:\n  interval: 1s\n", "rate_limit", "not supported"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n", "tls_server_config.client_allowed_sans", "not supported"),
        ("tls_server_config:\n  key_file: b\n", "tls_server_config.cert_file", "required key is missing"),
        ("tls_server_config:\n  cert_file: /nonexistent/pgwarden-cert.pem\n  key_file: b\n", "tls_server_config.cert_file",
         "cannot read the certificate /nonexistent/pgwarden-cert.pem"),
        ("tls_server_config:\n  cert: x\n  cert_file: y\n  key: z\n", "tls_server_config.cert", "give one of them"),
        ("tls_server_config:\n  cert: x\n  key: z\n", "tls_server_config.cert", "not a usable pair"),
        ("http_server_config:\n  headers:\n    X-Frame-Options: allowall\n", "http_server_config.headers.X-Frame-Options", "deny or sameorigin"),
        ("http_server_config:\n  headers:\n    X-Custom: 1\n", "http_server_config.headers.X-Custom", "unknown key"),
        ("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x\"\n",
         "http_server_config.headers.Content-Security-Policy", "no control characters"),
        ("http_server_config:\n  http2: yes\n", "http_server_config.http2", "true or false"),
        ("basic_auth_users: [a]\n", "basic_auth_users", "mapping of user names"),
        ("basic_auth_users:\n  alice: secret\n", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  alice: $1$abc$def\n", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  alice: \"$2y$10$Ty9i9ZNJ8IHpgeFQyA9/CeaGAMyOByebkfF4on64V4CPFit/dsh!S\"\n", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  alice: \"$2x$10$Ty9i9ZNJ8IHpgeFQyA9/CeaGAMyOByebkfF4on64V4CPFit/dshJS\"\n", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  alice:\n", "basic_auth_users.alice", "not a bcrypt hash"),
        ("basic_auth_users:\n  \"al:ice\": \"\(hash)\"\n", "basic_auth_users.al:ice", "':'"),
        ("basic_auth_users:\n  \"al\\0ice\": \"\(hash)\"\n", "basic_auth_users.alU+0000ice", "U+0000"),
        ("basic_auth_users:\n  \"al\\u200bice\": \"\(hash)\"\n", "basic_auth_users.alU+200Bice", "U+200B"),
        ("basic_auth_users:\n  alice: \"\(hash)\"\n  alice: \"\(hash)\"\n", "alice", "more than once"),
    ])
    func refusals(yaml: String, key: String, mentions: String) {
        let error = Self.error(yaml)
        #expect(error?.key == key, "\(yaml)")
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error") should mention \(mentions)")
        #expect(error?.source == "web.yml")
    }

    @Test func usersAndHeadersAreRead() throws {
        let loaded = try WebConfigLoader.parse("""
            basic_auth_users:
              alice: "\(Self.hash)"
              "zoë": "\(Self.hash)"
            http_server_config:
              http2: true
              headers:
                X-Frame-Options: deny
                Strict-Transport-Security: max-age=31536000
            """, source: "web.yml")
        #expect(loaded.config.users?.count == 2)
        #expect(loaded.config.users?.hashes[Array("zoë".utf8)] == Self.hash)
        #expect(loaded.config.headers.map(\.0) == ["X-Frame-Options", "Strict-Transport-Security"])
        #expect(loaded.warnings.contains { $0.contains("http2") })
        #expect(try WebConfigLoader.parse("basic_auth_users: {}\n").config.users == nil, "empty means no basic auth")
    }

    @Test func bcryptCostIsRead() {
        #expect(BasicAuthUsers.bcryptCost(Self.hash) == 10)
        #expect(BasicAuthUsers.bcryptCost("$2b$04$" + String(repeating: "a", count: 53)) == 4)
        #expect(BasicAuthUsers.bcryptCost("$2b$03$" + String(repeating: "a", count: 53)) == nil)
        #expect(BasicAuthUsers.bcryptCost("$2b$32$" + String(repeating: "a", count: 53)) == nil)
        #expect(BasicAuthUsers.bcryptCost("$2b$10$" + String(repeating: "a", count: 52)) == nil)
    }

    @Test func pathsAreRelativeToTheFilesFolder() {
        #expect(WebConfigLoader.folder(of: "/etc/pgwarden/web.yml") == "/etc/pgwarden")
        #expect(WebConfigLoader.folder(of: "web.yml") == ".")
        #expect(WebConfigLoader.folder(of: "/web.yml") == "/")
        #expect(WebConfigLoader.resolve("tls/cert.pem", in: "/etc/pgwarden") == "/etc/pgwarden/tls/cert.pem")
        #expect(WebConfigLoader.resolve("/abs/cert.pem", in: "/etc/pgwarden") == "/abs/cert.pem")
    }
}

/// Versions, suites, curves and server preference as a GnuTLS priority string.
@Suite("TLS priorities")
struct TLSPrioritiesTests {
    static func priorities(_ yaml: String) throws -> String {
        let root = try #require(try YAMLReader.parse(yaml))
        let fields = try PolicyFields(root, path: "tls_server_config", source: "web.yml", allowed: WebConfigLoader.tlsKeys)
        return try WebConfigLoader.priorities(fields)
    }

    @Test func defaultsAreTLS12AndTLS13WithServerPreference() throws {
        #expect(try Self.priorities("{}") == "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE")
        #expect(try Self.priorities("min_version: TLS13\nprefer_server_cipher_suites: false")
            == "NORMAL:-VERS-ALL:+VERS-TLS1.3")
    }

    @Test func suitesAndCurvesNarrowThePriorities() throws {
        let text = try Self.priorities("""
            max_version: TLS12
            cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
            curve_preferences: [X25519, CurveP256]
            """)
        #expect(text == "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM"
            + ":-MAC-ALL:+AEAD:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:%SERVER_PRECEDENCE")
    }

    @Test(arguments: [
        ("min_version: TLS13\nmax_version: TLS12", "above max_version"),
        ("min_version: SSL3", "must be one of TLS10, TLS11, TLS12, TLS13"),
        ("cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]", "not a TLS 1.2 AEAD suite"),
        ("cipher_suites: []", "is empty"),
        // ECDHE-RSA x {AES-128-GCM, CHACHA20} and ECDHE-ECDSA x AES-128-GCM would also allow
        // ECDHE-ECDSA with CHACHA20: GnuTLS cannot offer exactly this list.
        ("cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305, "
            + "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]", "would also allow TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"),
        ("curve_preferences: [CurveP224]", "must be one of"),
    ])
    func refusals(yaml: String, mentions: String) {
        do {
            let text = try Self.priorities(yaml)
            Issue.record("\(yaml) gave \(text)")
        } catch {
            #expect("\(error)".contains(mentions), "\(error)")
        }
    }
}
