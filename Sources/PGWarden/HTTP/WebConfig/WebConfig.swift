import CMicroHTTPD

/// What the HTTP server serves under, read from `--web.config.file` (exporter-toolkit's web
/// configuration format): TLS with its client-certificate policy, basic auth users, and extra
/// response headers. Without a file: plain HTTP, no users, no headers.
public struct WebConfig: Sendable {
    public var tls: TLSSettings?
    public var users: BasicAuthUsers?
    /// `http_server_config.headers`, added to every response.
    public var headers: [(String, String)] = []

    public init(tls: TLSSettings? = nil, users: BasicAuthUsers? = nil, headers: [(String, String)] = []) {
        self.tls = tls
        self.users = users
        self.headers = headers
    }

    /// Plain HTTP, no authentication, no extra headers.
    public static let plain = WebConfig()
}

/// TLS material and policy for one daemon: PEM text as read from the files, the client
/// certificate policy and a GnuTLS priority string for versions and cipher suites.
public struct TLSSettings: Sendable {
    public var certificatePEM: String
    public var keyPEM: String
    /// CA certificates client certificates are verified against.
    public var clientCAPEM: String?
    public var clientAuth: ClientAuthType
    public var priorities: String

    public init(certificatePEM: String, keyPEM: String, clientCAPEM: String? = nil,
                clientAuth: ClientAuthType = .noClientCert, priorities: String) {
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        self.clientCAPEM = clientCAPEM
        self.clientAuth = clientAuth
        self.priorities = priorities
    }
}

/// exporter-toolkit's `client_auth_type` values (Go's tls.ClientAuthType names).
public enum ClientAuthType: String, Sendable, CaseIterable {
    case noClientCert = "NoClientCert"
    case requestClientCert = "RequestClientCert"
    case requireAnyClientCert = "RequireAnyClientCert"
    case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
    case requireAndVerifyClientCert = "RequireAndVerifyClientCert"

    /// The shim's `pgw_client_auth` value.
    var code: Int32 {
        switch self {
        case .noClientCert: Int32(PGW_CLIENT_AUTH_NONE.rawValue)
        case .requestClientCert: Int32(PGW_CLIENT_AUTH_REQUEST.rawValue)
        case .requireAnyClientCert: Int32(PGW_CLIENT_AUTH_REQUIRE_ANY.rawValue)
        case .verifyClientCertIfGiven: Int32(PGW_CLIENT_AUTH_VERIFY_IF_GIVEN.rawValue)
        case .requireAndVerifyClientCert: Int32(PGW_CLIENT_AUTH_REQUIRE_VERIFY.rawValue)
        }
    }

    /// Whether client certificates are checked against `client_ca_file`.
    var verifies: Bool { self == .verifyClientCertIfGiven || self == .requireAndVerifyClientCert }
}
