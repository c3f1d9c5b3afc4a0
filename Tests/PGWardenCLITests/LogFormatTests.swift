import Foundation
import Logging
import Testing
@testable import PGWardenCLI
@testable import PGWarden

@Suite("LineLogHandler rendering")
struct LogFormatTests {
    @Test func logfmtLine() {
        let line = LineLogHandler.render([
            ("level", "info"), ("msg", "hello world"), ("empty", ""), ("q", "say \"hi\""), ("nl", "a\nb"),
            ("eq", "a=b"), ("bs", "C:\\x"), ("plain", "ok"), ("utf8", "データ"),
        ], format: .logfmt)
        #expect(line == #"level=info msg="hello world" empty="" q="say \"hi\"" nl="a\nb" eq="a=b" bs="C:\\x" plain=ok utf8=データ"#)
    }

    @Test(arguments: ["simple", "x.y-z_1", "/path/to", "127.0.0.1:9793", "ró"])
    func logfmtBareValues(value: String) {
        #expect(LineLogHandler.render([("k", value)], format: .logfmt) == "k=\(value)")
    }

    @Test(arguments: ["", "two words", "a=b", "\"", "\\", "a\nb", "a\rb", "trailing "])
    func logfmtQuotedValues(value: String) {
        let line = LineLogHandler.render([("k", value)], format: .logfmt)
        #expect(line.hasPrefix("k=\""))
        #expect(line.hasSuffix("\""))
        #expect(line.count >= 4)
        #expect(!line.contains("\n") && !line.contains("\r"), "a log line must stay one line: \(line)")
    }

    /// A value with a CR LF pair must not break the line either. Swift treats "\r\n" as a single
    /// Character, which matches neither the "\n" nor the "\r" case of `logfmtValue`.
    @Test func logfmtEscapesCRLF() {
        let line = LineLogHandler.render([("msg", "first\r\nsecond")], format: .logfmt)
        #expect(line == #"msg="first\r\nsecond""#)
        #expect(!line.unicodeScalars.contains("\n"))
    }

    /// logfmt readers end an unquoted value at any character <= " ", so a tab must be quoted too.
    @Test func logfmtQuotesTabs() {
        let line = LineLogHandler.render([("msg", "a\tb")], format: .logfmt)
        #expect(line.hasPrefix("msg=\""))
    }

    @Test func jsonLineIsValidJSONInFieldOrder() throws {
        let fields = [("ts", "1970-01-01T00:00:00.000Z"), ("level", "error"), ("msg", "scrape \"failed\"\nnext"),
                      ("error", "PostgreSQL timed out: no answer"), ("utf8", "ró データ 🐘")]
        let line = LineLogHandler.render(fields, format: .json)
        #expect(line.hasPrefix("{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"error\","))
        #expect(!line.contains("\n"))
        let object = try JSONDecoder().decode([String: String].self, from: Data(line.utf8))
        #expect(object == Dictionary(uniqueKeysWithValues: fields))
    }

    @Test func jsonEmptyFields() {
        #expect(LineLogHandler.render([], format: .json) == "{}")
        #expect(LineLogHandler.render([("k", "")], format: .json) == #"{"k":""}"#)
    }

    @Test func formats() {
        #expect(LogFormat(rawValue: "logfmt") == .logfmt)
        #expect(LogFormat(rawValue: "json") == .json)
        #expect(LogFormat(rawValue: "text") == nil)
        #expect(LogFormat.allCases.count == 2)
    }

    @Test func handlerMetadataAndLevel() {
        var handler = LineLogHandler(label: "t", format: .json, level: .warning)
        #expect(handler.logLevel == .warning)
        handler[metadataKey: "db"] = "primary"
        #expect(handler[metadataKey: "db"] == "primary")
        #expect(handler.metadata["db"] == "primary")
        handler[metadataKey: "db"] = nil
        #expect(handler.metadata.isEmpty)
    }

    // MARK: Timestamps

    @Test(arguments: [
        (0, 0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000, 123, "2023-11-14T22:13:20.123Z"),
        (1_234_567_890, 999, "2009-02-13T23:31:30.999Z"),
        (951_782_400, 7, "2000-02-29T00:00:00.007Z"),
        (86_399, 50, "1970-01-01T23:59:59.050Z"),
        (253_402_300_799, 0, "9999-12-31T23:59:59.000Z"),
    ])
    func rfc3339KnownInstants(seconds: Int, milliseconds: Int, expected: String) {
        #expect(formatRFC3339(seconds: seconds, milliseconds: milliseconds) == expected)
    }

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), independent of gmtime.
    static func civil(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    @Test func rfc3339AgreesWithIndependentCalendar() {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var seconds = 0
        while seconds < 4_102_444_800 { // through 2099
            let (y, m, d) = Self.civil(seconds / 86400)
            let s = seconds % 86400
            let expected = "\(y)-\(two(m))-\(two(d))T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60)).042Z"
            #expect(formatRFC3339(seconds: seconds, milliseconds: 42) == expected)
            seconds += 7_777_777 // about 90 days, so hours, days and months all vary
        }
    }
}
