/// Per-role and per-database overrides of the server's session timeouts (`ALTER ROLE … SET`,
/// `ALTER DATABASE … SET`, `ALTER ROLE … IN DATABASE … SET`), from `pg_db_role_setting`.
///
/// A role whose `idle_in_transaction_session_timeout` or `statement_timeout` is set to 0 has the
/// server's guard switched off for all its new sessions, whatever postgresql.conf says.
public struct RoleSettingsCollector: Collector {
    /// A timeout pgwarden exports from pg_db_role_setting, from which server version on.
    struct Setting {
        var name: String
        var since: Int
    }

    /// Every one of them is a time in milliseconds when given without a unit (GUC_UNIT_MS).
    static let settings: [Setting] = [
        Setting(name: "idle_in_transaction_session_timeout", since: 0),
        Setting(name: "idle_session_timeout", since: 140000),
        Setting(name: "statement_timeout", since: 0),
        Setting(name: "transaction_timeout", since: 170000),
        Setting(name: "lock_timeout", since: 0),
    ]

    public init() {}

    public func columns(options: CollectorOptions) -> [String] { ["datname", "usename", "setting", "value"] }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        // Branches differ only in the settings the version has (14: idle_session_timeout,
        // 17: transaction_timeout). setdatabase/setrole 0 mean every database/role: no name, ''.
        // An entry whose database or role is gone (dropped while the scrape ran) is left out: its
        // '' would be the "every" row's label, and two series with the same labels break the scrape.
        // The stored name is the setting's canonical spelling (GUCArrayAdd), the value the text
        // given to SET; pgwarden converts it (`seconds(fromSettingValue:)`).
        let names = Self.settings.filter { serverVersion >= $0.since }.map { "'\($0.name)'" }.joined(separator: ", ")
        return """
            SELECT ARRAY[COALESCE(d.datname::text, ''), COALESCE(r.rolname::text, ''), s.name, s.value] FROM (\
            SELECT setdatabase, setrole, split_part(c, '=', 1) AS name, substr(c, strpos(c, '=') + 1) AS value \
            FROM pg_db_role_setting, unnest(setconfig) AS c) AS s \
            LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole \
            WHERE s.name IN (\(names)) AND (s.setdatabase = 0 OR d.oid IS NOT NULL) AND (s.setrole = 0 OR r.oid IS NOT NULL) \
            ORDER BY 1
            """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var family = MetricFamily("pg_role_setting_seconds", .gauge,
            help: "A session timeout set per role and/or database (pg_db_role_setting), in seconds (0 = off); empty datname/usename mean all.")
        let d = result.column("datname"), u = result.column("usename")
        let s = result.column("setting"), v = result.column("value")
        for row in result.rows {
            // A value pgwarden cannot read exactly as the server would is left out, not guessed.
            guard let seconds = Self.seconds(fromSettingValue: row.text(v)) else { continue }
            family.add(seconds, [("datname", row.text(d)), ("usename", row.text(u)), ("setting", row.text(s))])
        }
        return [family]
    }

    /// A millisecond-unit setting's value as stored by SET (`0`, `5000`, `30s`, `1.5min`, ` 10 min `)
    /// in seconds, read as the server's parse_int reads it: an optional sign, an integer in
    /// decimal, 0x hex or 0 octal, or a fraction (strtod: decimal with an exponent, or hex with a
    /// binary one), then an optional unit; a fraction
    /// rounded to the next smaller unit, the result to whole milliseconds. nil for what the
    /// server would refuse for these settings: negative, out of range, an unknown unit,
    /// trailing text.
    public static func seconds(fromSettingValue text: String) -> Double? {
        let bytes = Array(text.utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        let isDigit: (UInt8) -> Bool = { (0x30...0x39).contains($0) }
        var i = 0
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D {  // + -
            negative = bytes[i] == 0x2D
            i += 1
        }
        let start = i
        var value = 0.0
        if i + 1 < bytes.count, bytes[i] == 0x30, bytes[i + 1] | 0x20 == 0x78 {  // 0x…
            i += 2
            let digitsStart = i
            while i < bytes.count, let digit = hexDigit(bytes[i]) { value = value * 16 + Double(digit); i += 1 }
            guard i > digitsStart else { return nil }
            if i < bytes.count, bytes[i] == 0x2E {  // strtod then reads a hex fraction and a binary exponent
                i += 1
                var scale = 1.0 / 16
                while i < bytes.count, let digit = hexDigit(bytes[i]) { value += Double(digit) * scale; scale /= 16; i += 1 }
                if i < bytes.count, bytes[i] | 0x20 == 0x70 {  // p, P
                    var j = i + 1
                    var exponentNegative = false
                    if j < bytes.count, bytes[j] == 0x2B || bytes[j] == 0x2D { exponentNegative = bytes[j] == 0x2D; j += 1 }
                    let exponentStart = j
                    var exponent = 0
                    while j < bytes.count, isDigit(bytes[j]) { exponent = min(exponent * 10 + Int(bytes[j] - 0x30), 100_000); j += 1 }
                    if j > exponentStart {
                        value *= pow2(exponentNegative ? -exponent : exponent)
                        i = j
                    }
                }
            }
        } else {
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            let integerDigits = String(decoding: bytes[start..<i], as: UTF8.self)
            var fractionDigits: String?, exponent: String?
            if i < bytes.count, bytes[i] == 0x2E {  // .
                let from = i + 1
                i = from
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
                fractionDigits = String(decoding: bytes[from..<i], as: UTF8.self)
            }
            if i < bytes.count, bytes[i] | 0x20 == 0x65 {  // e, E: an exponent only with digits after it
                var j = i + 1
                if j < bytes.count, bytes[j] == 0x2B || bytes[j] == 0x2D { j += 1 }
                let digitsStart = j
                while j < bytes.count, isDigit(bytes[j]) { j += 1 }
                if j > digitsStart {
                    exponent = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
                    i = j
                }
            }
            guard !integerDigits.isEmpty || !(fractionDigits ?? "").isEmpty else { return nil }
            if fractionDigits != nil || exponent != nil {  // strtod
                let number = "\(integerDigits.isEmpty ? "0" : integerDigits).\(fractionDigits.flatMap { $0.isEmpty ? nil : $0 } ?? "0")e\(exponent ?? "0")"
                guard let parsed = Double(number) else { return nil }
                value = parsed
            } else if integerDigits.utf8.count > 1, integerDigits.hasPrefix("0") {  // 0… is octal, as strtol reads it
                for byte in integerDigits.utf8 {
                    guard byte <= 0x37 else { return nil }
                    value = value * 8 + Double(byte - 0x30)
                }
            } else {
                for byte in integerDigits.utf8 { value = value * 10 + Double(byte - 0x30) }
            }
        }
        if negative { value = -value }
        while i < bytes.count, isSpace(bytes[i]) { i += 1 }
        var end = bytes.count
        while end > i, isSpace(bytes[end - 1]) { end -= 1 }
        let unit = String(decoding: bytes[i..<end], as: UTF8.self)
        var milliseconds = value
        if !unit.isEmpty {
            guard let index = Self.units.firstIndex(where: { $0.name == unit }) else { return nil }
            milliseconds = value * Self.units[index].milliseconds
            if index + 1 < Self.units.count {
                let smaller = Self.units[index + 1].milliseconds
                milliseconds = (milliseconds / smaller).rounded(.toNearestOrEven) * smaller
            }
        }
        let rounded = milliseconds.rounded(.toNearestOrEven)
        guard rounded.isFinite, rounded >= 0, rounded <= Double(Int32.max) else { return nil }
        return (rounded + 0) / 1000  // + 0: -0 reads as 0
    }

    /// The time units of a millisecond setting, largest first (the server's conversion table).
    static let units: [(name: String, milliseconds: Double)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000), ("ms", 1), ("us", 0.001),
    ]

    /// 2 to the power of `exponent`, 0 or infinity beyond Double's range.
    private static func pow2(_ exponent: Int) -> Double {
        Double(sign: .plus, exponent: max(-1100, min(1100, exponent)), significand: 1)
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        default: return nil
        }
    }
}
