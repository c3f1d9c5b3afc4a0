import CMicroHTTPD

#if canImport(Glibc)
import Glibc
#endif

/// `tls_server_config`: certificate and key (files or inline PEM), client certificates, and
/// the versions, cipher suites and curves as a GnuTLS priority string.
extension WebConfigLoader {
    /// Go's TLS 1.2 AEAD suite names and the GnuTLS key exchange and cipher each is made of.
    /// (CBC suites, which Go keeps only for compatibility, are not offered.)
    static let cipherSuites: [String: (kx: String, cipher: String)] = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": ("ECDHE-ECDSA", "AES-128-GCM"),
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": ("ECDHE-ECDSA", "AES-256-GCM"),
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": ("ECDHE-RSA", "AES-128-GCM"),
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": ("ECDHE-RSA", "AES-256-GCM"),
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": ("ECDHE-ECDSA", "CHACHA20-POLY1305"),
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-ECDSA", "CHACHA20-POLY1305"),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": ("ECDHE-RSA", "CHACHA20-POLY1305"),
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": ("ECDHE-RSA", "CHACHA20-POLY1305"),
        "TLS_RSA_WITH_AES_128_GCM_SHA256": ("RSA", "AES-128-GCM"),
        "TLS_RSA_WITH_AES_256_GCM_SHA384": ("RSA", "AES-256-GCM"),
    ]
    /// Go's curve names and GnuTLS's groups.
    static let curves = ["CurveP256": "GROUP-SECP256R1", "CurveP384": "GROUP-SECP384R1",
                         "CurveP521": "GROUP-SECP521R1", "X25519": "GROUP-X25519"]
    /// exporter-toolkit's version names, oldest first, and GnuTLS's.
    static let versions = [("TLS10", "VERS-TLS1.0"), ("TLS11", "VERS-TLS1.1"), ("TLS12", "VERS-TLS1.2"), ("TLS13", "VERS-TLS1.3")]

    static func parseTLS(_ fields: PolicyFields, folder: String) throws(PolicyError) -> TLSSettings {
        if let node = fields.node("client_allowed_sans") {
            throw fields.error("client_allowed_sans", node, "is not supported by pgwarden; remove it and give each "
                + "client a certificate from a CA of its own in client_ca_file")
        }
        for (file, inline) in [("cert_file", "cert"), ("key_file", "key")] where fields.node(file) == nil && fields.node(inline) == nil {
            throw fields.error(file, nil, "required key is missing: TLS needs both cert_file and key_file (or cert and key)")
        }
        let certificate = try pem(fields, file: "cert_file", inline: "cert", folder: folder, what: "certificate")
        let key = try pem(fields, file: "key_file", inline: "key", folder: folder, what: "key")
        guard let certificate, let key else {
            let missing = certificate == nil ? "cert_file" : "key_file"
            throw fields.error(missing, nil, "required key is missing: TLS needs both cert_file and key_file (or cert and key)")
        }
        let pairStatus = certificate.withCString { c in key.withCString { pgw_tls_check_key_pair(c, strlen(c), $0, strlen($0)) } }
        if pairStatus != 0 {
            throw fields.error(fields.node("cert_file") != nil ? "cert_file" : "cert", fields.node("cert_file") ?? fields.node("cert"),
                               "the certificate and key are not a usable pair: \(String(cString: pgw_tls_error_text(pairStatus)))")
        }
        let authText = try fields.string("client_auth_type") ?? ClientAuthType.noClientCert.rawValue
        guard let clientAuth = ClientAuthType(rawValue: authText) else {
            throw fields.error("client_auth_type", fields.node("client_auth_type"), "must be one of "
                + ClientAuthType.allCases.map(\.rawValue).joined(separator: ", ") + ", got \"\(authText)\"")
        }
        let clientCA = try pem(fields, file: "client_ca_file", inline: "client_ca", folder: folder, what: "client CA file")
        let caKey = fields.node("client_ca_file") != nil ? "client_ca_file" : "client_ca"
        if let clientCA {
            guard clientAuth != .noClientCert else {
                throw fields.error(caKey, fields.node(caKey), "client CAs are set but client_auth_type is NoClientCert; "
                    + "set client_auth_type: RequireAndVerifyClientCert to check client certificates")
            }
            let count = clientCA.withCString { pgw_tls_count_cas($0, strlen($0)) }
            guard count > 0 else {
                throw fields.error(caKey, fields.node(caKey), "holds no readable PEM certificate"
                    + (count < 0 ? " (\(String(cString: pgw_tls_error_text(count))))" : ""))
            }
        } else if clientAuth.verifies {
            throw fields.error("client_ca_file", nil, "required key is missing: \(clientAuth.rawValue) verifies client "
                + "certificates against client_ca_file")
        }
        return TLSSettings(certificatePEM: certificate, keyPEM: key, clientCAPEM: clientCA, clientAuth: clientAuth,
                           priorities: try priorities(fields))
    }

    /// The GnuTLS priority string for min/max version, cipher suites, server preference and curves.
    static func priorities(_ fields: PolicyFields) throws(PolicyError) -> String {
        func version(_ key: String, default fallback: Int) throws(PolicyError) -> Int {
            guard let text = try fields.string(key) else { return fallback }
            guard let index = versions.firstIndex(where: { $0.0 == text }) else {
                throw fields.error(key, fields.node(key), "must be one of \(versions.map(\.0).joined(separator: ", ")), got \"\(text)\"")
            }
            return index
        }
        let low = try version("min_version", default: 2)
        let high = try version("max_version", default: 3)
        guard low <= high else {
            throw fields.error("min_version", fields.node("min_version"), "is above max_version")
        }
        var parts = ["NORMAL", "-VERS-ALL"] + versions[low...high].reversed().map { "+\($0.1)" }
        if let suites = try fields.list("cipher_suites", includes: true, { (text, node, path) throws(PolicyError) in
            guard let suite = cipherSuites[text] else {
                throw PolicyError(source: fields.source, line: node.line, key: path,
                                  message: "is not a TLS 1.2 AEAD suite pgwarden can offer through GnuTLS; use one of "
                                      + cipherSuites.keys.sorted().joined(separator: ", "))
            }
            return (text, suite)
        }) {
            let kxs = unique(suites.map(\.1.kx)), ciphers = unique(suites.map(\.1.cipher))
            // GnuTLS combines every key exchange with every cipher listed: refuse a list whose
            // combinations would allow a suite it does not name.
            let named = Set(suites.map { "\($0.1.kx) \($0.1.cipher)" })
            for kx in kxs {
                for cipher in ciphers where !named.contains("\(kx) \(cipher)") {
                    let extra = cipherSuites.first { $0.value.kx == kx && $0.value.cipher == cipher }?.key ?? "\(kx) with \(cipher)"
                    throw fields.error("cipher_suites", fields.node("cipher_suites"), "GnuTLS cannot offer exactly these "
                        + "suites: it would also allow \(extra); add it, or list suites that share their key exchange or cipher")
                }
            }
            parts += ["-KX-ALL"] + kxs.map { "+\($0)" } + ["-CIPHER-ALL"] + ciphers.map { "+\($0)" } + ["-MAC-ALL", "+AEAD"]
        }
        if let names = try fields.list("curve_preferences", includes: true, { (text, node, path) throws(PolicyError) in
            guard let group = curves[text] else {
                throw PolicyError(source: fields.source, line: node.line, key: path,
                                  message: "must be one of \(curves.keys.sorted().joined(separator: ", ")), got \"\(text)\"")
            }
            return group
        }) {
            parts += ["-GROUP-ALL"] + unique(names).map { "+\($0)" }
        }
        if try fields.bool("prefer_server_cipher_suites") ?? true { parts.append("%SERVER_PRECEDENCE") }
        let text = parts.joined(separator: ":")
        var problem = [CChar](repeating: 0, count: 128)
        guard pgw_tls_check_priorities(text, &problem, problem.count) == 0 else {
            throw fields.error("cipher_suites", fields.node("cipher_suites"),
                               "GnuTLS refuses the resulting priorities \"\(text)\" at \"\(problem.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })\"")
        }
        return text
    }

    /// PEM text from `file` (relative to `folder`) or written inline under `inline`; not both.
    static func pem(_ fields: PolicyFields, file: String, inline: String, folder: String, what: String) throws(PolicyError) -> String? {
        let path = try fields.string(file)
        let text = try fields.string(inline)
        if path != nil && text != nil {
            throw fields.error(inline, fields.node(inline), "is given together with \(file); give one of them")
        }
        if let text { return text }
        guard let path else { return nil }
        let resolved = resolve(path, in: folder)
        return try readText(resolved, source: fields.source, key: fields.path(file), line: fields.node(file)?.line, what: what)
    }

    /// The items in first-seen order, without repeats.
    static func unique(_ items: [String]) -> [String] {
        var seen: Set<String> = []
        return items.filter { seen.insert($0).inserted }
    }
}
