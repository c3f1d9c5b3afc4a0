import Testing
@testable import PGWarden

/// basic_auth_users: bcrypt through crypt_r, the cache of verified pairs, and what never matches.
@Suite("Basic auth users")
struct BasicAuthUsersTests {
    // Written by `htpasswd -nbBC 4 "" PASSWORD` (cost 4 keeps the test fast).
    static let secretHash = "$2y$04$mTdH0/3NUfwIAwj/MFGaVOsMQzIXox6pymWDUSmBZZUgB7yl.XZZe"  // s3cret
    static let zoeHash = "$2y$04$xkeWqfySgcYHP7WvbkMTH.grjxlydTbVWJF0rLaycuKrQ4C4x69zK"  // zoë-pass
    static let longHash = "$2y$04$FSkEHbNyKc6.oWwsWlzGo.F31mcA0zqOS5/kKrOW.EFMwVQGKvfUO"  // 72 × "a"

    static func basic(_ user: [UInt8], _ password: [UInt8]) -> String {
        "Basic " + Base64.encode(user + [UInt8(ascii: ":")] + password)
    }

    static func basic(_ user: String, _ password: String) -> String { basic(Array(user.utf8), Array(password.utf8)) }

    @Test func rightPasswordVerifiesAndIsThenCached() {
        let users = BasicAuthUsers(["alice": Self.secretHash, "zoë": Self.zoeHash])
        let header = Self.basic("alice", "s3cret")
        #expect(users.check(header) == .needsHashing)
        #expect(users.verify(header))
        #expect(users.check(header) == .allowed)
        #expect(users.verify(Self.basic("zoë", "zoë-pass")), "user names and passwords are UTF-8 bytes")
        #expect(users.check(Self.basic("alice", "s3cret ")) == .needsHashing, "only the exact pair is cached")
    }

    @Test func wrongCredentialsNeverVerifyNorAreCached() {
        let users = BasicAuthUsers(["alice": Self.secretHash])
        for header in [Self.basic("alice", "S3cret"), Self.basic("alice", ""), Self.basic("bob", "s3cret"),
                       Self.basic("Alice", "s3cret"), Self.basic("alice\u{0}", "s3cret")] {
            #expect(!users.verify(header), "\(header)")
            #expect(users.check(header) == .needsHashing)
        }
        // A NUL would end the password for crypt_r: "s3cret\0anything" must not pass as "s3cret".
        #expect(!users.verify(Self.basic(Array("alice".utf8), Array("s3cret".utf8) + [0] + Array("x".utf8))))
    }

    @Test func passwordsLongerThanBcryptReadsNeverMatch() {
        let users = BasicAuthUsers(["alice": Self.longHash])
        let a72 = String(repeating: "a", count: 72)
        #expect(users.verify(Self.basic("alice", a72)))
        // bcrypt ignores bytes past 72; a longer password would match the hash of its prefix.
        #expect(!users.verify(Self.basic("alice", a72 + "b")))
    }

    @Test(arguments: [nil, "", "Bearer s3cret", "Basic", "Basic !!!", "Basic YWxpY2U=", "basic"])
    func malformedHeadersAreDeniedWithoutHashing(header: String?) {
        let users = BasicAuthUsers(["alice": Self.secretHash])
        #expect(users.check(header) == .denied)
        #expect(!users.verify(header))
    }

    @Test func schemeIsCaseInsensitive() {
        let users = BasicAuthUsers(["alice": Self.secretHash])
        let header = "bAsIc " + Base64.encode(Array("alice:s3cret".utf8))
        #expect(users.verify(header))
    }

    @Test func cacheIsBounded() {
        let users = BasicAuthUsers(["alice": Self.secretHash])
        #expect(users.verify(Self.basic("alice", "s3cret")))
        // Only successes are cached; failures never grow it, so it stays at one entry here.
        for i in 0..<5 { #expect(!users.verify(Self.basic("alice", "wrong\(i)"))) }
        #expect(users.cachedCount == 1)
    }
}

extension Base64 {
    /// Standard Base64 with padding (tests only).
    static func encode(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? table[Int((b1 & 15) << 2 | b2 >> 6)] : "=")
            out.append(n > 2 ? table[Int(b2 & 63)] : "=")
            i += 3
        }
        return out
    }
}
