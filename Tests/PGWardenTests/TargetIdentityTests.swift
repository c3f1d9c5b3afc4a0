import Testing
@testable import PGWarden

/// --target.name and --webhook.target-label: what is accepted, and the messages for what is not.
@Suite("TargetIdentity")
struct TargetIdentityTests {
    static func problem(_ name: String, label: String = "instance") -> String? {
        do {
            _ = try TargetIdentity(name: name, label: label)
            return nil
        } catch {
            return error.description
        }
    }

    @Test(arguments: ["db1", "db1:9187", "10.0.0.5:5432", "[2001:db8::1]:5432", "café-primary", "db_1.example.com", "データ"])
    func printableNamesAreAccepted(name: String) {
        #expect(Self.problem(name) == nil)
    }

    @Test(arguments: [
        ("db 1", "U+0020"), (" db1", "U+0020"), ("db1\t", "U+0009"), ("db1\n", "U+000A"), ("db\u{0}1", "U+0000"),
        ("db1\u{2028}", "U+2028"), ("db1\u{2029}", "U+2029"), ("db\u{A0}1", "U+00A0"), ("db\u{200B}1", "U+200B"),
        ("db\u{202E}1", "U+202E"), ("db\u{7F}", "U+007F"), ("\u{1B}[31mdb1", "U+001B"), ("db\u{E000}", "U+E000"),
        ("db\u{FEFF}1", "U+FEFF"), ("db\u{3000}1", "U+3000"),
    ])
    func blanksSeparatorsAndControlsAreRefused(name: String, code: String) {
        let message = Self.problem(name)
        #expect(message?.contains("contains \(code), a blank, separator or control character") == true, "\(message ?? "accepted")")
    }

    @Test func emptyNameIsRefused() {
        #expect(Self.problem("") == "--target.name is empty; give the name this server's alerts carry in their instance label")
    }

    @Test(arguments: ["instance", "server", "_x", "pg_instance2", "A"])
    func labelNamesAreAccepted(label: String) {
        #expect(Self.problem("db1", label: label) == nil)
    }

    @Test(arguments: ["", "2instance", "in-stance", "in stance", "inst.ance", "instanceé", "instance\u{0}"])
    func labelNamesAreChecked(label: String) {
        #expect(Self.problem("db1", label: label)?.hasPrefix("--webhook.target-label") == true)
    }
}
