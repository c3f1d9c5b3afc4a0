import Testing
@testable import PGWarden

@Suite("parseDuration")
struct DurationParsingTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)),
        ("5s", .seconds(5)),
        ("0s", .zero),
        ("2m", .seconds(120)),
        ("1m30s", .seconds(90)),
        ("2h", .seconds(7200)),
        ("1h30m15s", .seconds(3600 + 1800 + 15)),
        ("1s500ms", .milliseconds(1500)),
        ("90s", .seconds(90)),
        ("0010s", .seconds(10)),
    ])
    func accepts(text: String, expected: Duration) {
        #expect(parseDuration(text) == expected)
    }

    @Test(arguments: [
        "", "5", "5x", "-1s", "s", "ms", "1.5s", " 5s", "5s ", "5 s", "5S", "1m30", "5ms5", "+5s", "٣s", "5sec",
        "99999999999999999999s",
    ])
    func rejects(text: String) {
        #expect(parseDuration(text) == nil)
    }

    @Test func millisecondsAndSecondsHelpers() {
        let d = parseDuration("1m30s") ?? .zero
        #expect(d.milliseconds == 90_000)
        #expect(d.seconds == 90)
        #expect(Duration.milliseconds(1234).milliseconds == 1234)
        #expect(Duration.milliseconds(1234).seconds == 1.234)
        // Sub-millisecond remainders round down.
        #expect(Duration.microseconds(1999).milliseconds == 1)
    }

    @Test func queryTimeoutExceedsStatementTimeoutByOneSecond() {
        let settings = ConnectionSettings(dsn: nil, statementTimeout: .seconds(7))
        #expect(settings.queryTimeout == .seconds(8))
        #expect(ConnectionSettings(dsn: nil).queryTimeout > ConnectionSettings(dsn: nil).statementTimeout)
    }
}
