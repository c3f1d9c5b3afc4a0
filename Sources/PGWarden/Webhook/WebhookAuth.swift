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

    /// Whether an Authorization header value is acceptable (text given in code; see the bytes form).
    public func accepts(_ authorization: String?) -> Bool {
        accepts(bytes: authorization.map { Array($0.utf8) })
    }

    /// Whether an Authorization header value, as the bytes the client sent, is acceptable. The
    /// comparison is over those bytes: a header decoded to text first would turn every invalid
    /// UTF-8 sequence into U+FFFD, and two different tokens into the same one.
    public func accepts(bytes authorization: [UInt8]?) -> Bool {
        if isOpen { return true }
        guard let authorization, let space = authorization.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let scheme = authorization[..<space]
        let credentials = Self.trimmingBlanks(authorization[(space + 1)...])
        if Self.isScheme(scheme, "bearer"), let token = bearerToken {
            return constantTimeEqual(Array(credentials), token)
        }
        if Self.isScheme(scheme, "basic"), let user = basicUser, let password = basicPassword,
           let decoded = Base64.decode(bytes: credentials) {
            return constantTimeEqual(decoded, user + [UInt8(ascii: ":")] + password)
        }
        return false
    }

    /// True when `bytes` are `lowercase` in any mix of ASCII case.
    static func isScheme(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        bytes.count == lowercase.utf8.count
            && zip(bytes, lowercase.utf8).allSatisfy { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
    }

    /// `bytes` without leading and trailing spaces and tabs (HTTP's optional whitespace).
    static func trimmingBlanks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return []
        }
        return bytes[first...last]
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
