#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The credentials a webhook request must present: a bearer token, HTTP basic auth, both
/// (either is accepted), or none when explicitly allowed. Compared in constant time; never logged.
public struct WebhookAuth: Sendable {
    public var bearerToken: [UInt8]?
    public var basicUser: [UInt8]?
    public var basicPassword: [UInt8]?

    public init(bearerToken: String? = nil, basicUser: String? = nil, basicPassword: String? = nil) {
        self.bearerToken = bearerToken.map { Array($0.utf8) }
        self.basicUser = basicUser.map { Array($0.utf8) }
        self.basicPassword = basicPassword.map { Array($0.utf8) }
    }

    /// True when no credential is configured (needs --webhook.allow-unauthenticated).
    public var isOpen: Bool { bearerToken == nil && basicUser == nil }

    /// Whether an Authorization header value is acceptable.
    public func accepts(_ authorization: String?) -> Bool {
        if isOpen { return true }
        guard let authorization else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return false }
        let scheme = parts[0].lowercased()
        let credentials = String(parts[1]).trimmingWhitespace()
        if scheme == "bearer", let token = bearerToken {
            return constantTimeEqual(Array(credentials.utf8), token)
        }
        if scheme == "basic", let user = basicUser, let password = basicPassword,
           let decoded = Base64.decode(credentials) {
            return constantTimeEqual(decoded, user + [UInt8(ascii: ":")] + password)
        }
        return false
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt(bitPattern: a.count ^ b.count)
    for i in 0..<max(a.count, b.count) {
        difference |= UInt((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0))
    }
    return difference == 0
}
