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
        switch unit {
        case "ms": total += .milliseconds(value)
        case "s": total += .seconds(value)
        case "m": total += .seconds(value * 60)
        case "h": total += .seconds(value * 3600)
        default: return nil
        }
    }
    return total
}
