/// The two numbers of a pid-addressed alert (its `pid` and `backend_start` labels), read
/// strictly. Swift's `Int32(_:)` and `Double(_:)` take far more than a decimal number: `+42`,
/// `NaN`, `inf`, `1e308`, `0x1p3`; a NaN backend_start compares false with every tolerance, so
/// it would pass the pid-reuse guard instead of failing it. Here only plain decimal digits are
/// numbers, and a backend_start must also be a plausible time.
public enum AlertAddress {
    /// 2000-01-01T00:00:00Z: no PostgreSQL backend that is running today started before it.
    public static let earliestBackendStart: Double = 946_684_800
    /// How far past this host's clock a backend_start may lie (clock skew between the hosts).
    public static let futureSlack: Double = 86_400
    /// The most fraction digits a backend_start may have (nanoseconds; PostgreSQL gives 6).
    public static let maxFractionDigits = 9

    /// Why a label could not be read.
    public enum Problem: Error, Equatable, Sendable {
        /// Not written as the plain decimal number the label must hold.
        case notDecimal
        /// A number, but not a time a running backend can have started at.
        case implausible
    }

    /// A process id: 1 to 2147483647 in ASCII decimal digits, without sign, blanks, leading
    /// zeros, separators or anything else (`42`, never `+42`, ` 42`, `042`, `4_2`, `４２`).
    public static func pid(_ text: String) -> Int32? {
        let bytes = Array(text.utf8)
        guard (1...10).contains(bytes.count), isDigits(bytes), bytes[0] != UInt8(ascii: "0") else { return nil }
        let value = bytes.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        return value <= Int64(Int32.max) ? Int32(value) : nil
    }

    /// A backend start as Unix seconds: ASCII digits without leading zeros, optionally a dot and
    /// 1 to 9 more digits (`1700000000`, `1700000000.123456`), between 2000-01-01 and a day past
    /// `now`. No sign, exponent, hexadecimal, blanks, separators, NaN or infinity.
    public static func backendStart(_ text: String, now: Double) -> Result<Double, Problem> {
        let bytes = Array(text.utf8)
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let integer = parts[0]
        guard (1...10).contains(integer.count), isDigits(integer), integer.first != UInt8(ascii: "0") else {
            return .failure(.notDecimal)
        }
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...maxFractionDigits).contains(fraction.count), isDigits(fraction) else { return .failure(.notDecimal) }
        }
        // The grammar above is a subset of what Double reads, and every such text is finite.
        guard let value = Double(text), value.isFinite else { return .failure(.notDecimal) }
        guard value >= earliestBackendStart, value <= now + futureSlack else { return .failure(.implausible) }
        return .success(value)
    }

    /// True when every byte is an ASCII digit (and there is at least one).
    static func isDigits(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A label value as it is shown in a reason: JSON-quoted, cut at 40 characters.
    static func shown(_ text: String) -> String {
        JSONText.quote(text.count <= 40 ? text : String(text.prefix(40)) + "…")
    }
}
