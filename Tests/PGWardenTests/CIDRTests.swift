import Testing
@testable import PGWarden

@Suite("CIDR")
struct CIDRTests {
    @Test func parsesIPv4() throws {
        let cidr = try #require(CIDR("10.0.0.0/8"))
        #expect(cidr.bytes == [10, 0, 0, 0])
        #expect(cidr.prefix == 8)
        #expect(cidr.description == "10.0.0.0/8")
        let host = try #require(CIDR("192.168.1.10"))
        #expect(host.prefix == 32)
        #expect(host.description == "192.168.1.10/32")
        #expect(CIDR("0.0.0.0/0")?.description == "0.0.0.0/0")
    }

    @Test func parsesIPv6() throws {
        let cidr = try #require(CIDR("fd00::/8"))
        #expect(cidr.bytes.count == 16)
        #expect(cidr.bytes[0] == 0xFD)
        #expect(cidr.prefix == 8)
        #expect(cidr.description == "fd00::/8")
        let loopback = try #require(CIDR("::1"))
        #expect(loopback.prefix == 128)
        #expect(loopback.description == "::1/128")
    }

    /// Bits right of the prefix are a typo (for an address or a narrower range): refused, as
    /// PostgreSQL's cidr type refuses them, with the network that was perhaps meant.
    @Test(arguments: [
        ("10.1.2.3/8", "10.0.0.0/8"), ("10.3.2.3/15", "10.2.0.0/15"), ("192.168.255.255/20", "192.168.240.0/20"),
        ("2001:db8:abcd::1/32", "2001:db8::/32"), ("1.2.3.4/0", "0.0.0.0/0"), ("::ffff:10.1.2.3/104", "::ffff:10.0.0.0/104"),
    ])
    func refusesHostBits(text: String, network: String) {
        #expect(CIDR(text) == nil)
        guard case let .failure(problem) = CIDR.parse(text) else { Issue.record("\(text) parsed"); return }
        #expect(problem.description.contains("has bits set right of its"), "\(problem)")
        #expect(problem.description.contains("write the network, \(network)"), "\(problem)")
        #expect(CIDR("10.0.0.0/8") != CIDR("10.0.0.0/9"))
    }

    /// An IPv4-mapped range is the IPv4 range it maps: it covers plain IPv4 clients too.
    @Test func ipv4MappedRangesAreIPv4Ranges() throws {
        let mapped = try #require(CIDR("::ffff:10.0.0.0/104"))
        #expect(mapped == CIDR("10.0.0.0/8"))
        #expect(mapped.description == "10.0.0.0/8")
        #expect(mapped.contains("10.9.8.7") && mapped.contains("::ffff:10.9.8.7"))
        #expect(!mapped.contains("11.0.0.1"))
        #expect(CIDR("::ffff:0:0/96") == CIDR("0.0.0.0/0"))
        #expect(CIDR("::fffe:0:0/95")?.bytes.count == 16)  // wider than the mapped block: stays IPv6
    }

    @Test func contains() throws {
        let ten = try #require(CIDR("10.0.0.0/8"))
        #expect(ten.contains("10.255.1.2"))
        #expect(ten.contains("10.0.0.0"))
        #expect(!ten.contains("11.0.0.1"))
        #expect(!ten.contains("9.255.255.255"))
        #expect(ten.contains("10.1.2.3/32"), "PostgreSQL's inet text may carry /32")
        #expect(!ten.contains("garbage"))
        #expect(!ten.contains(""))
        #expect(!ten.contains("fd00::1"))
        let host = try #require(CIDR("192.168.1.10"))
        #expect(host.contains("192.168.1.10"))
        #expect(!host.contains("192.168.1.11"))
        let ula = try #require(CIDR("fd00::/8"))
        #expect(ula.contains("fd12:3456::1"))
        #expect(ula.contains("fd00::1/128"))
        #expect(!ula.contains("fe80::1"))
        #expect(!ula.contains("10.0.0.1"))
        #expect(try #require(CIDR("0.0.0.0/0")).contains("203.0.113.7"))
    }

    @Test func ipv4MappedClientMatchesIPv4Range() throws {
        let ten = try #require(CIDR("10.0.0.0/8"))
        #expect(ten.contains("::ffff:10.1.2.3"))
        #expect(!ten.contains("::ffff:11.1.2.3"))
        #expect(!ten.contains("::10.1.2.3"), "IPv4-compatible (not mapped) addresses are not IPv4")
        #expect(try #require(CIDR("10.1.2.3")).contains("::ffff:10.1.2.3"))
    }

    @Test(arguments: ["10.0.0.0/33", "abc", "10.0.0/8", "::1/129", "1.2.3.4/-1", "1.2.3.4/", "", "/8",
                      "1.2.3.4/8/8", "1.2.3.4/ 8", "1.2.3.4/+8", "1.2.3.256", "fd00::/", "10.0.0.0/abc", " 10.0.0.0/8"])
    func invalid(_ text: String) {
        #expect(CIDR(text) == nil, "\(text)")
    }
}
