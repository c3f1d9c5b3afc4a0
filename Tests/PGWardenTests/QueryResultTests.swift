import Testing
@testable import PGWarden

@Suite("QueryResult")
struct QueryResultTests {
    @Test func columnIndexByName() {
        let result = QueryResult(columns: ["a", "b", "c"], rows: [])
        #expect(result.column("a") == 0)
        #expect(result.column("c") == 2)
        #expect(result.affectedRows == 0)
    }

    @Test(arguments: [
        ("42", 42.0), ("-1", -1.0), ("3.25", 3.25), ("1e3", 1000.0), ("0", 0.0),
        ("abc", 0.0), ("", 0.0), (" 5", 0.0),
    ])
    func doubleParsing(text: String, expected: Double) {
        let row: [String?] = [text]
        #expect(row.double(0) == expected)
    }

    @Test func nullsReadAsEmptyZeroOrFalse() {
        let row: [String?] = [nil]
        #expect(row.text(0) == "")
        #expect(row.double(0) == 0)
        #expect(row.int(0) == 0)
        #expect(row.bool(0) == false)
    }

    @Test(arguments: [("t", true), ("true", true), ("f", false), ("false", false), ("", false), ("yes", false)])
    func postgresBooleans(text: String, expected: Bool) {
        // Booleans arrive as "t"/"f" (libpq's text format, and the collectors' CASE in a text[]);
        // "true"/"false" (a boolean cast to text) are accepted too.
        let row: [String?] = [text]
        #expect(row.bool(0) == expected)
    }

    @Test func intAndText() {
        let row: [String?] = ["17", "x", "2.5"]
        #expect(row.int(0) == 17)
        #expect(row.text(1) == "x")
        #expect(row.int(2) == 0, "a fractional value is not an Int")
    }
}
