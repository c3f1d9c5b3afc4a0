import CMicroHTTPD
import Synchronization

/// `basic_auth_users`: user names and their bcrypt hashes. A check that the cache cannot
/// answer runs bcrypt (libxcrypt's crypt_r), one at a time, on the server's hashing thread;
/// successful checks are cached in memory (at most `cacheSize` pairs), as exporter-toolkit
/// does, so a scraper pays for bcrypt once. An unknown user is hashed against a fixed hash
/// so the answer takes as long as for a known one.
public final class BasicAuthUsers: Sendable {
    /// Pairs kept in the cache of verified credentials.
    static let cacheSize = 100
    /// bcrypt of a random password nobody knows, cost 10: what unknown users are checked against.
    static let decoyHash = "$2y$10$Ty9i9ZNJ8IHpgeFQyA9/CeaGAMyOByebkfF4on64V4CPFit/dshJS"

    /// A user and the password they sent, as bytes.
    struct Credentials: Hashable, Sendable {
        var user: [UInt8]
        var password: [UInt8]
    }

    /// What the headers alone say.
    public enum Check: Sendable, Equatable {
        /// Verified before (cached).
        case allowed
        /// No basic credentials at all (or malformed ones).
        case denied
        /// Needs a bcrypt check (`verify`).
        case needsHashing
    }

    /// User name bytes to bcrypt hash.
    let hashes: [[UInt8]: String]
    /// How many users there are (for the log).
    public var count: Int { hashes.count }
    private let cache = Mutex<Set<Credentials>>([])
    /// bcrypt runs one at a time: a flood of wrong passwords costs at most one core.
    private let hashing = Mutex<Void>(())

    /// - Parameter hashes: user name to bcrypt hash, already validated by the loader.
    public init(_ hashes: [String: String]) {
        var byBytes: [[UInt8]: String] = [:]
        for (user, hash) in hashes { byBytes[Array(user.utf8)] = hash }
        self.hashes = byBytes
    }

    /// The user and password of an `Authorization: Basic …` header, as the bytes the client sent
    /// (never decoded to text first), nil for anything else.
    static func credentials(_ authorization: [UInt8]?) -> Credentials? {
        guard let authorization, let space = authorization.firstIndex(of: UInt8(ascii: " ")),
              WebhookAuth.isScheme(authorization[..<space], "basic"),
              let decoded = Base64.decode(bytes: WebhookAuth.trimmingBlanks(authorization[(space + 1)...])),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        return Credentials(user: Array(decoded[..<colon]), password: Array(decoded[(colon + 1)...]))
    }

    /// Answers from the header's bytes when it can, without hashing.
    public func check(bytes authorization: [UInt8]?) -> Check {
        guard let credentials = Self.credentials(authorization) else { return .denied }
        return cache.withLock { $0.contains(credentials) } ? .allowed : .needsHashing
    }

    /// Runs bcrypt (slow: call it off the polling threads) and caches a success.
    public func verify(bytes authorization: [UInt8]?) -> Bool {
        guard let credentials = Self.credentials(authorization) else { return false }
        return verify(credentials)
    }

    /// `check(bytes:)` for a header given as text in code.
    public func check(_ authorization: String?) -> Check { check(bytes: authorization.map { Array($0.utf8) }) }

    /// `verify(bytes:)` for a header given as text in code.
    public func verify(_ authorization: String?) -> Bool { verify(bytes: authorization.map { Array($0.utf8) }) }

    /// Whether this user and password would pass (start-up checks; runs bcrypt).
    public func accepts(user: String, password: String) -> Bool {
        verify(Credentials(user: Array(user.utf8), password: Array(password.utf8)))
    }

    private func verify(_ credentials: Credentials) -> Bool {
        if cache.withLock({ $0.contains(credentials) }) { return true }
        let known = hashes[credentials.user]
        let hash = known ?? Self.decoyHash
        let matched = hashing.withLock { _ in
            (credentials.password + [0]).withUnsafeBufferPointer { password in
                password.withMemoryRebound(to: CChar.self) { text in
                    hash.withCString { pgw_bcrypt_verify(text.baseAddress!, credentials.password.count, $0) }
                }
            }
        }
        guard known != nil, matched == 1 else { return false }
        cache.withLock { cache in
            if cache.count >= Self.cacheSize, let evicted = cache.randomElement() { cache.remove(evicted) }
            cache.insert(credentials)
        }
        return true
    }

    /// Pairs in the cache (for tests).
    var cachedCount: Int { cache.withLock { $0.count } }

    /// Whether `hash` is a bcrypt hash crypt_r can check (`$2a$`, `$2b$` or `$2y$`, cost 4-31,
    /// 53 characters of bcrypt's base 64), and its cost.
    static func bcryptCost(_ hash: String) -> Int? {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, hash.hasPrefix("$2"), [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]),
              bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$"),
              let cost = Int(String(decoding: bytes[4..<6], as: UTF8.self)), (4...31).contains(cost) else { return nil }
        let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        guard bytes[7...].allSatisfy(alphabet.contains) else { return nil }
        return cost
    }
}
