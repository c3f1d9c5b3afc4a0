#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address range such as 10.0.0.0/8 or fd00::/8 (a bare address is /32 or /128).
/// As PostgreSQL's cidr type, a range with bits set right of its prefix (10.1.2.3/8) is refused:
/// it is a typo for an address or for a narrower range. An IPv4-mapped range (::ffff:10.0.0.0/104)
/// is the IPv4 range it maps (10.0.0.0/8), so it covers IPv4 clients however they connect.
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    /// The network address bytes (4 or 16).
    public let bytes: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        guard case let .success(cidr) = Self.parse(text) else { return nil }
        self = cidr
    }

    private init(bytes: [UInt8], prefix: Int) {
        self.bytes = bytes
        self.prefix = prefix
    }

    /// The range `text` writes, or what is wrong with it in plain words.
    public static func parse(_ text: String) -> Result<CIDR, CIDRError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, var address = parseIPAddress(String(parts[0])) else {
            return .failure(CIDRError("must be an address or range like 10.0.0.0/8 or fd00::/8, got \"\(text)\""))
        }
        let maxPrefix = address.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), parts[1].allSatisfy(\.isNumber), (0...maxPrefix).contains(p) else {
                return .failure(CIDRError("\"\(text)\": the prefix must be a number from 0 to \(maxPrefix)"))
            }
            prefix = p
        }
        let network = masked(address, prefix: prefix)
        guard network == address else {
            let fixed = CIDR(bytes: network, prefix: prefix)
            return .failure(CIDRError("\"\(text)\" has bits set right of its /\(prefix) prefix; write the network, \(fixed), "
                                      + "or the single address (as PostgreSQL's cidr type requires)"))
        }
        if address.count == 16 && isIPv4Mapped(address) && prefix >= 96 {
            address = Array(address[12...])
            prefix -= 96
        }
        return .success(CIDR(bytes: address, prefix: prefix))
    }

    /// True when `address` (text as PostgreSQL's client_addr shows it) lies in the range.
    /// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 ranges.
    public func contains(_ address: String) -> Bool {
        guard var candidate = parseIPAddress(address) else { return false }
        if candidate.count == 16 && bytes.count == 4 && isIPv4Mapped(candidate) {
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

/// What is wrong with a written address range.
public struct CIDRError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// ::ffff:a.b.c.d, an IPv4 address written as IPv6.
private func isIPv4Mapped(_ address: [UInt8]) -> Bool {
    address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF
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
