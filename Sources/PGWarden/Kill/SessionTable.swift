/// Renders sessions and action records as an aligned text table for the command line.
public enum SessionTable {
    static let header = ["PID", "DATABASE", "ROLE", "APPLICATION", "CLIENT", "STATE", "AGE"]

    /// Sessions, with a NOTE column saying why one would be skipped.
    public static func render(sessions: [SessionRow], notes: [Int32: String] = [:]) -> String {
        let rows = sessions.map { cells($0) + [notes[$0.pid] ?? ""] }
        return table(header + ["NOTE"], rows)
    }

    /// Action records: what was (or would be) done to each session.
    public static func render(records: [ActionRecord]) -> String {
        table(header + ["ACTION", "RESULT"], records.map { cells($0.session) + [$0.action.rawValue, $0.result.rawValue] })
    }

    static func cells(_ s: SessionRow) -> [String] {
        [String(s.pid), s.datname, s.usename, s.applicationName, s.clientAddr.isEmpty ? "local" : s.clientAddr,
         s.state, formatAge(s.stateAge)]
    }

    /// 75 -> "1m15s", 3725 -> "1h2m5s", 0.4 -> "0s".
    public static func formatAge(_ seconds: Double) -> String {
        var rest = Int(seconds.rounded(.down))
        let h = rest / 3600, m = (rest % 3600) / 60
        rest %= 60
        return (h > 0 ? "\(h)h" : "") + (h > 0 || m > 0 ? "\(m)m" : "") + "\(rest)s"
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let clean = rows.map { $0.map { $0.map { $0.isNewline || $0 == "\t" ? " " : $0 }.reduce(into: "") { $0.append($1) } } }
        var widths = header.map(\.count)
        for row in clean { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ")
        }
        return ([line(header)] + clean.map(line)).joined(separator: "\n") + "\n"
    }
}
