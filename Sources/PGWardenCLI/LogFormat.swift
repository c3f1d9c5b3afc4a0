import Logging
import PGWarden

#if canImport(Glibc)
import Glibc
#endif

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt, json
}

/// A swift-log handler writing one line per event to standard error, as logfmt or JSON.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let format: LogFormat
    let label: String

    public init(label: String, format: LogFormat, level: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [("ts", timestamp()), ("level", "\(event.level)"), ("msg", "\(event.message)")]
        let merged = metadata.isEmpty ? event.metadata ?? [:] : metadata.merging(event.metadata ?? [:]) { $1 }
        for key in merged.keys.sorted() { fields.append((key, "\(merged[key]!)")) }
        var line = Self.render(fields, format: format) + "\n"
        line.withUTF8 { buffer in
            _ = write(2, buffer.baseAddress, buffer.count)
        }
    }

    /// One line from ordered fields.
    public static func render(_ fields: [(String, String)], format: LogFormat) -> String {
        var line = format == .json ? "{" : ""
        line.reserveCapacity(fields.reduce(2) { $0 + $1.0.utf8.count + $1.1.utf8.count + 6 })
        for (index, (key, value)) in fields.enumerated() {
            switch format {
            case .logfmt:
                if index > 0 { line += " " }
                line += key
                line += "="
                line += logfmtValue(value)
            case .json:
                if index > 0 { line += "," }
                line += JSONText.quote(key)
                line += ":"
                line += JSONText.quote(value)
            }
        }
        if format == .json { line += "}" }
        return line
    }

    /// A logfmt value: as it is, or quoted (JSON escapes, DEL too) when it is empty or holds
    /// blanks, control characters, `=`, quotes or backslashes.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.utf8.contains {
            $0 <= 0x20 || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0x7F
        }
        return needsQuotes ? JSONText.quoted(value, escapingDelete: true) : value
    }

    func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return formatRFC3339(seconds: Int(ts.tv_sec), milliseconds: Int(ts.tv_nsec / 1_000_000))
    }
}
