import CMicroHTTPD

#if canImport(Glibc)
import Glibc
#endif

/// Reads `--web.config.file`, exporter-toolkit's web configuration format (what node_exporter
/// and postgres_exporter read), strictly: unknown keys, keys pgwarden cannot honour, wrong
/// types, unreadable or mismatched certificate files are errors naming the file, the line and
/// the key. Paths are relative to the file's folder.
public enum WebConfigLoader {
    static let topLevelKeys = ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"]
    static let tlsKeys = [
        "cert_file", "key_file", "cert", "key", "client_ca_file", "client_ca", "client_auth_type",
        "client_allowed_sans", "min_version", "max_version", "cipher_suites", "prefer_server_cipher_suites",
        "curve_preferences",
    ]
    static let httpKeys = ["http2", "headers"]

    /// The configuration and the warnings worth logging (settings accepted but without effect).
    public struct Loaded: Sendable {
        public var config: WebConfig
        public var warnings: [String]
    }

    /// Reads the file at `path` and every file it names.
    public static func load(path: String) throws(PolicyError) -> Loaded {
        let text = try readText(path, source: path, what: "web configuration file")
        return try parse(text, source: path, folder: folder(of: path))
    }

    /// Parses a web configuration; `folder` resolves relative paths.
    public static func parse(_ yaml: String, source: String = "<input>", folder: String = ".") throws(PolicyError) -> Loaded {
        let document: YAMLNode?
        do {
            document = try YAMLReader.parse(yaml)
        } catch {
            throw PolicyLoader.syntaxError(error, source: source)
        }
        var loaded = Loaded(config: WebConfig(), warnings: [])
        guard let root = document, !root.isNull else { return loaded }
        let top = try PolicyFields(root, path: "", source: source, allowed: topLevelKeys)
        if let node = top.node("rate_limit") {
            throw top.error("rate_limit", node, "is not supported by pgwarden; remove it (--web.max-connections-per-ip and "
                + "--web.request-timeout bound what one client can take)")
        }
        if let node = top.node("tls_server_config"), !node.isNull {
            let fields = try PolicyFields(node, path: "tls_server_config", source: source, allowed: tlsKeys)
            loaded.config.tls = try parseTLS(fields, folder: folder)
        }
        if let node = top.node("http_server_config"), !node.isNull {
            let fields = try PolicyFields(node, path: "http_server_config", source: source, allowed: httpKeys)
            if try fields.bool("http2") == true {
                loaded.warnings.append("http_server_config.http2: pgwarden speaks HTTP/1.1 only; the setting has no effect")
            }
            loaded.config.headers = try parseHeaders(fields)
        }
        if let node = top.node("basic_auth_users"), !node.isNull {
            let (users, warnings) = try parseUsers(node, top: top)
            loaded.config.users = users
            loaded.warnings += warnings
        }
        return loaded
    }

    /// `basic_auth_users`: names a Basic credential can carry, bcrypt hashes crypt_r can check.
    static func parseUsers(_ node: YAMLNode, top: PolicyFields) throws(PolicyError) -> (BasicAuthUsers?, [String]) {
        guard let pairs = node.pairs else {
            throw top.error("basic_auth_users", node, "must be a mapping of user names to bcrypt hashes, got \(PolicyFields.describe(node))")
        }
        var hashes: [String: String] = [:]
        var warnings: [String] = []
        for pair in pairs {
            let line = pair.key.line
            guard let user = pair.key.scalar?.text, !user.isEmpty else {
                throw PolicyError(source: top.source, line: line, key: "basic_auth_users", message: "a user name is empty")
            }
            let key = "basic_auth_users.\(printable(user))"
            if let bad = user.unicodeScalars.first(where: PolicyFields.isInvisible) {
                throw PolicyError(source: top.source, line: line, key: key,
                                  message: "the user name contains \(codePoint(bad)), a control or invisible character; remove it")
            }
            if user.contains(":") {
                throw PolicyError(source: top.source, line: line, key: key,
                                  message: "the user name contains ':', which HTTP basic auth cannot carry in a user name")
            }
            guard let hash = pair.value.scalar?.text, let cost = BasicAuthUsers.bcryptCost(hash) else {
                throw PolicyError(source: top.source, line: pair.value.line, key: key,
                                  message: "is not a bcrypt hash ($2a$, $2b$ or $2y$, as `htpasswd -nBC 10 \"\" | tr -d ':\\n'` writes)")
            }
            if cost > 14 {
                warnings.append("\(key): bcrypt cost \(cost) makes each uncached login check take seconds; 10-12 is usual")
            }
            hashes[user] = hash
        }
        return (hashes.isEmpty ? nil : BasicAuthUsers(hashes), warnings)
    }

    /// `http_server_config.headers`: the headers exporter-toolkit allows, with single-line values.
    static func parseHeaders(_ fields: PolicyFields) throws(PolicyError) -> [(String, String)] {
        guard let node = fields.node("headers"), !node.isNull else { return [] }
        let allowed = ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "X-XSS-Protection",
                       "Strict-Transport-Security"]
        let headers = try PolicyFields(node, path: fields.path("headers"), source: fields.source, allowed: allowed)
        var result: [(String, String)] = []
        for name in allowed {
            guard let value = try headers.string(name) else { continue }
            guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw headers.error(name, headers.node(name), "must be printable ASCII on one line (no control characters)")
            }
            if name == "X-Frame-Options", !["deny", "sameorigin"].contains(value.lowercased()) {
                throw headers.error(name, headers.node(name), "must be deny or sameorigin, got \"\(value)\"")
            }
            if name == "X-Content-Type-Options", value.lowercased() != "nosniff" {
                throw headers.error(name, headers.node(name), "must be nosniff, got \"\(value)\"")
            }
            result.append((name, value))
        }
        return result
    }

    /// The folder holding `path` ("." for a bare file name).
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `path` resolved against `folder` unless absolute.
    static func resolve(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") ? path : (folder == "." ? path : "\(folder)/\(path)")
    }

    /// A file as UTF-8 text, or an error naming it and the reason.
    static func readText(_ path: String, source: String, key: String? = nil, line: Int? = nil,
                         what: String) throws(PolicyError) -> String {
        switch readWholeFile(path, limit: maxConfigFileBytes) {
        case .success(let bytes):
            guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else {
                throw PolicyError(source: source, line: line, key: key, message: "\(path): the \(what) is not UTF-8 text")
            }
            return text
        case .failure(let problem):
            throw PolicyError(source: source, line: line, key: key, message: "cannot read the \(what) \(path): \(problem.reason)")
        }
    }

    /// A user name as it may appear in a message (control characters escaped).
    static func printable(_ text: String) -> String {
        text.unicodeScalars.map { PolicyFields.isInvisible($0) ? codePoint($0) : String($0) }.joined()
    }

    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
