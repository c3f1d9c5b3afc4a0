/// Parses durations written as Prometheus does: `500ms`, `5s`, `2m`, `1h`, `1m30s`.
public func parseDuration(_ text: String) -> Duration? {
    var rest = Substring(text)
    var total = Duration.zero
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        let unit = rest.prefix { $0.isLetter }
        rest = rest.dropFirst(unit.count)
        let factor: Int64
        switch unit {
        case "ms": total += .milliseconds(value); continue
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3600
        default: return nil
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow, seconds < Int64.max / 1000 else { return nil }
        total += .seconds(seconds)
    }
    return total
}
