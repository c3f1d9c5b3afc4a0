import Testing
@testable import PGWarden

@Suite("ListenAddress")
struct ListenAddressTests {
    @Test(arguments: [
        (":9793", "", UInt16(9793)),
        ("127.0.0.1:9793", "127.0.0.1", 9793),
        ("[::1]:9793", "::1", 9793),
        ("[::]:80", "::", 80),
        ("[fe80::1%eth0]:9793", "fe80::1%eth0", 9793),
        ("localhost:80", "localhost", 80),
        ("0.0.0.0:65535", "0.0.0.0", 65535),
        ("exporter.example.com:1", "exporter.example.com", 1),
    ])
    func parses(text: String, host: String, port: UInt16) {
        #expect(ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test(arguments: [
        "9793", "::1:80", "[::1]", ":99999", ":65536", "host:", "", ":", "[]:80", "[::1:80", "::1]:80",
        ":-1", "host:80a", "host:8 0", "localhost",
    ])
    func rejects(text: String) {
        #expect(ListenAddress(parsing: text) == nil)
    }

    @Test(arguments: [":9793", "127.0.0.1:9793", "[::1]:9793", "localhost:80"])
    func descriptionRoundTrips(text: String) {
        let parsed = ListenAddress(parsing: text)
        #expect(parsed?.description == text)
        #expect(parsed.flatMap { ListenAddress(parsing: $0.description) } == parsed)
    }

    @Test func descriptionBracketsIPv6() {
        #expect(ListenAddress(host: "::1", port: 80).description == "[::1]:80")
        #expect(ListenAddress(host: "", port: 80).description == ":80")
        #expect(ListenAddress(host: "10.0.0.1", port: 80).description == "10.0.0.1:80")
    }
}
