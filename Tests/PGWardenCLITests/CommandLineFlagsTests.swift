import Testing
@testable import PGWardenCLI
@testable import PGWarden

/// FlagParser: long flags with values, switches, repeats, and the messages for what is wrong.
@Suite("FlagParser")
struct CommandLineFlagsTests {
    static let spec = CommandSpec(name: "pgwarden test", abstract: "A command for the tests.", flags: [
        .value("web.listen-address", "address", help: "Where to listen.", default: ":9793"),
        .value("dsn", "dsn", help: "Connection string."),
        .repeatable("database", "name", help: "A database."),
        .toggle("dry-run", help: "Signal nothing."),
        .value("limit", "count", help: "At most this many."),
    ])

    static func parse(_ words: [String]) throws(UsageError) -> ParsedFlags {
        try FlagParser.parse(words, spec: spec)
    }

    static func message(_ words: [String]) -> String? {
        do {
            _ = try parse(words)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func valuesSwitchesAndDefaults() throws {
        let flags = try Self.parse(["--dsn", "host=db port=5432", "--dry-run", "--database=shop", "--database", "crm"])
        #expect(flags.value("dsn") == "host=db port=5432")
        #expect(flags.isSet("dry-run"))
        #expect(flags.values("database") == ["shop", "crm"])
        #expect(flags.value("web.listen-address") == ":9793", "the default when absent")
        #expect(flags.value("limit") == nil)
        #expect(!flags.helpRequested && !flags.versionRequested)

        let empty = try Self.parse([])
        #expect(!empty.isSet("dry-run"))
        #expect(empty.values("database").isEmpty)
    }

    @Test func anEqualsSignKeepsTheRestOfTheValue() throws {
        let flags = try Self.parse(["--dsn=host=db password=a=b", "--web.listen-address="])
        #expect(flags.value("dsn") == "host=db password=a=b")
        #expect(flags.value("web.listen-address") == "", "an explicit empty value is a value, not the default")
    }

    @Test func aValueMayStartWithOneDash() throws {
        #expect(try Self.parse(["--limit", "-3"]).value("limit") == "-3")
    }

    @Test func helpAndVersionAreNoticedAnywhere() throws {
        #expect(try Self.parse(["--dsn", "x", "--help"]).helpRequested)
        #expect(try Self.parse(["-h"]).helpRequested)
        #expect(try Self.parse(["--version"]).versionRequested)
        #expect(try Self.parse(["--no-such-flag", "--help"]).helpRequested, "help wins over a wrong flag")
        #expect(try Self.parse(["--dsn", "-h"]).helpRequested, "and over a missing value")
    }

    @Test func integers() throws {
        #expect(try Self.parse(["--limit", "25"]).integer("limit") == 25)
        #expect(try Self.parse([]).integer("limit") == nil)
        #expect(try Self.parse(["--limit", "70000"]).integer("limit", as: Int32.self) == 70000)
        for bad in ["ten", "1.5", "", "99999999999999999999"] {
            #expect(throws: UsageError("--limit '\(bad)' is not a whole number (or is out of range); write it like --limit 10.")) {
                try Self.parse(["--limit", bad]).integer("limit")
            }
        }
        #expect(throws: UsageError.self) { try Self.parse(["--limit", "3000000000"]).integer("limit", as: Int32.self) }
    }

    @Test(arguments: [
        (["--no-such-flag"], "unknown flag '--no-such-flag'."),
        (["--dsm", "x"], "unknown flag '--dsm' (did you mean '--dsn'?)."),
        (["--web.listen-addres", ":1"], "unknown flag '--web.listen-addres' (did you mean '--web.listen-address'?)."),
        (["-d"], "unknown flag '-d'; pgwarden's flags are long, like --dsn."),
        (["shop"], "unexpected argument 'shop'; pgwarden test takes only flags."),
        (["--dsn"], "--dsn needs a value; write it like --dsn <dsn>."),
        (["--dsn", "--dry-run"], "--dsn needs a value; write it like --dsn <dsn>."),
        (["--dry-run=yes"], "--dry-run takes no value; write just --dry-run."),
        (["--dsn", "a", "--dsn=b"], "--dsn is given twice ('a' and 'b'); give it once."),
        (["--"], "unexpected argument '--'; pgwarden test takes only flags."),
    ])
    func rejects(words: [String], message: String) {
        #expect(Self.message(words) == message)
    }

    @Test func aSwitchGivenTwiceIsStillOn() throws {
        #expect(try Self.parse(["--dry-run", "--dry-run"]).isSet("dry-run"))
    }

    @Test func helpListsEveryFlagWithPlaceholderAndDefault() {
        let text = FlagParser.help(Self.spec, subcommands: [(name: "serve", abstract: "Run it.")])
        #expect(text.hasPrefix("OVERVIEW: A command for the tests.\n"))
        #expect(text.contains("USAGE: pgwarden test [<subcommand>] [<flags>]"))
        #expect(text.contains("  serve  Run it.\n"))
        #expect(text.contains("  --web.listen-address <address>\n        Where to listen. (default: :9793)\n"))
        #expect(text.contains("  --database <name> (repeatable)\n"))
        #expect(text.contains("  --dry-run\n        Signal nothing.\n"))
        #expect(text.contains("  --help\n"))
        #expect(!FlagParser.help(Self.spec).contains("SUBCOMMANDS"))
    }

    @Test(arguments: [("", "abc", 3), ("dsn", "dsn", 0), ("dsm", "dsn", 1), ("kitten", "sitting", 3), ("ab", "ba", 2)])
    func editDistance(a: String, b: String, distance: Int) {
        #expect(PGWarden.editDistance(Array(a), Array(b)) == distance)
    }
}
