import Testing
@testable import PGWarden

/// A pid-addressed alert's pid and backend_start labels: only plain decimal numbers and a
/// plausible time pass, and anything else leaves the alert addressing nothing.
@Suite("AlertAddress")
struct AlertAddressTests {
    /// A fixed "now" (2023-11-14T22:13:20Z) so that the plausibility window does not move.
    static let now: Double = 1_700_000_000

    static func row(pid: Int32 = 42, epoch: Double = 1_699_999_000.123456) -> SessionRow {
        SessionRow(pid: pid, backendStartMicros: epoch.isFinite ? Int64((epoch * 1_000_000).rounded()) : 0, backendStartEpoch: epoch, datname: "shop",
                   usename: "app", state: "idle in transaction", stateAge: 100)
    }

    /// Hostile backend_start values: each must make the alert address nothing, whatever the
    /// session at its pid. NaN, infinities, exponents and hexadecimal are what `Double(_:)` took.
    @Test(arguments: [
        "NaN", "nan", "-nan", "inf", "-inf", "+inf", "infinity", "1e308", "1e-300", "1.7e9", "0x1p3", "0x6553F100",
        " 1700000000", "1700000000 ", "\t1700000000", "1700000000\n", "", ".", "1700000000.", ".5",
        "+1700000000", "-1700000000", "1_700_000_000", "1,700,000,000", "１７００", "１７０００００００００",
        "1700000000.5.5", "01699999000", "1699999000.1234567890", "1699999000,5", "1699999000\u{0}",
        "1699999000\u{2028}", "٣",
    ])
    func hostileBackendStartAddressesNothing(start: String) {
        let s = Selection.narrowing(SessionCriteria(), by: ["alertname": "X", "pid": "42", "backend_start": start],
                                    now: Self.now)
        #expect(s.unusableReason != nil, "backend_start \(start.debugDescription) was accepted")
        #expect(s.unusableReason?.contains("backend_start") == true)
        #expect(!s.matches(Self.row()))
        var params = SQLParameters()
        #expect(s.sqlConditions(&params) == ["false"])
    }

    /// Plain decimals outside the window: before 2000, or more than a day past the clock.
    @Test(arguments: ["0", "1", "946684799", "946684799.999999", "1700086401", "9999999999", "99999999999"])
    func implausibleBackendStartAddressesNothing(start: String) {
        let s = Selection.narrowing(SessionCriteria(), by: ["pid": "42", "backend_start": start], now: Self.now)
        #expect(s.unusableReason != nil, "backend_start \(start) was accepted")
        #expect(!s.matches(Self.row()))
    }

    @Test(arguments: [("1699999000.123456", 1_699_999_000.123456), ("946684800", 946_684_800),
                      ("1700086400", 1_700_086_400), ("1699999000.1", 1_699_999_000.1),
                      ("1699999000.123456789", 1_699_999_000.123456789)])
    func plainDecimalBackendStartIsRead(start: String, expected: Double) {
        let s = Selection.narrowing(SessionCriteria(), by: ["pid": "42", "backend_start": start], now: Self.now)
        #expect(s.unusableReason == nil)
        #expect(s.pid == 42)
        #expect(s.backendStartEpoch == expected)
    }

    /// The reason names the label and shows its value quoted (escaped, cut short).
    @Test func reasonNamesTheLabel() {
        let nan = Selection.narrowing(SessionCriteria(), by: ["pid": "42", "backend_start": "NaN"], now: Self.now)
        #expect(nan.unusableReason?.hasPrefix(#"the alert's backend_start label "NaN" is not Unix seconds"#) == true)
        let old = Selection.narrowing(SessionCriteria(), by: ["pid": "42", "backend_start": "1"], now: Self.now)
        #expect(old.unusableReason?.hasPrefix(#"the alert's backend_start label "1" is not a time"#) == true)
        let long = Selection.narrowing(SessionCriteria(), by: ["pid": String(repeating: "9", count: 100)], now: Self.now)
        #expect(long.unusableReason?.contains(String(repeating: "9", count: 40) + "…\"") == true)
        #expect(long.unusableReason?.contains(String(repeating: "9", count: 41)) == false)
        let nul = Selection.narrowing(SessionCriteria(), by: ["pid": "4\u{0}2"], now: Self.now)
        #expect(nul.unusableReason?.contains(#""4\u00002""#) == true)
    }

    /// Hostile pids: no sign, blanks, leading zeros, separators, other digits or numbers past Int32.
    @Test(arguments: [
        "NaN", "inf", "0x2a", "+42", "-42", "-1", "0", "00", "042", " 42", "42 ", "4 2", "4_2", "42.0", "4.2e1", "4e1",
        "", "４２", "٤٢", "2147483648", "99999999999", "4294967338", "42\u{0}", "42\n",
    ])
    func hostilePidAddressesNothing(pid: String) {
        let s = Selection.narrowing(SessionCriteria(), by: ["pid": pid, "backend_start": "1699999000.123456"], now: Self.now)
        #expect(s.unusableReason?.contains("pid label") == true, "pid \(pid.debugDescription) was accepted")
        #expect(s.pid == nil)
        #expect(!s.matches(Self.row()))
    }

    @Test(arguments: [("1", Int32(1)), ("42", 42), ("2147483647", Int32.max)])
    func plainDecimalPidIsRead(text: String, expected: Int32) {
        #expect(AlertAddress.pid(text) == expected)
    }

    /// A Selection made in code with a non-finite backend_start matches nothing (the guard fails
    /// closed, not open).
    @Test(arguments: [Double.nan, .infinity, -.infinity, .signalingNaN])
    func nonFiniteBackendStartNeverMatches(epoch: Double) {
        let s = Selection(criteria: SessionCriteria(), pid: 42, backendStartEpoch: epoch)
        #expect(!s.matches(Self.row()))
        #expect(!s.matches(Self.row(epoch: epoch)))
    }
}
