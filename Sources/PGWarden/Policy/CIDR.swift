#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address range such as 10.0.0.0/8 or fd00::/8 (a bare address is /32 or /128).
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    /// The network address bytes (4 or 16).
    public let bytes: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = parseIPAddress(String(parts[0])) else { return nil }
        let maxPrefix = address.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...maxPrefix).contains(p) else { return nil }
            prefix = p
        }
        self.prefix = prefix
        self.bytes = masked(address, prefix: prefix)
    }

    /// True when `address` (text as PostgreSQL's client_addr shows it) lies in the range.
    /// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 ranges.
    public func contains(_ address: String) -> Bool {
        guard var candidate = parseIPAddress(address) else { return false }
        if candidate.count == 16 && bytes.count == 4 && candidate[0..<10].allSatisfy({ $0 == 0 })
            && candidate[10] == 0xFF && candidate[11] == 0xFF {
            candidate = Array(candidate[12...])
        }
        guard candidate.count == bytes.count else { return false }
        return masked(candidate, prefix: prefix) == bytes
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + "/\(prefix)"
    }
}

/// The bytes of an IPv4 or IPv6 address in text form (PostgreSQL may append /32 or /128).
func parseIPAddress(_ text: String) -> [UInt8]? {
    var text = text
    if text.hasSuffix("/32") || text.hasSuffix("/128") { text = String(text[..<text.lastIndex(of: "/")!]) }
    var v4 = [UInt8](repeating: 0, count: 4)
    if inet_pton(AF_INET, text, &v4) == 1 { return v4 }
    var v6 = [UInt8](repeating: 0, count: 16)
    if inet_pton(AF_INET6, text, &v6) == 1 { return v6 }
    return nil
}

private func masked(_ address: [UInt8], prefix: Int) -> [UInt8] {
    address.enumerated().map { index, byte in
        let bits = max(0, min(8, prefix - index * 8))
        return bits == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
    }
}
