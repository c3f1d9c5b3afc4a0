/// The command line's `--output json`: one JSON document per run, with the field names of the
/// audit records (`/actions`).
public enum SessionJSON {
    /// `pgwarden sessions`: `{"sessions":[…],"count":N}`; `note` says why a session would be
    /// skipped (as the table's NOTE column), empty when it would not.
    public static func sessions(_ rows: [SessionRow], notes: [Int32: String]) -> String {
        let items = rows.map { s in
            object([
                ("pid", String(s.pid)),
                ("backend_start", JSONText.quote(formatRFC3339(seconds: Int(s.backendStartMicros / 1_000_000),
                                                              milliseconds: Int(s.backendStartMicros % 1_000_000 / 1000)))),
                ("backend_start_seconds", formatValue(Double(s.backendStartMicros) / 1_000_000)),
                ("datname", JSONText.quote(s.datname)), ("usename", JSONText.quote(s.usename)),
                ("application_name", JSONText.quote(s.applicationName)), ("client_addr", JSONText.quote(s.clientAddr)),
                ("state", JSONText.quote(s.state)), ("state_age_seconds", formatValue((s.stateAge * 1000).rounded() / 1000)),
                ("transaction_age_seconds", s.transactionAge.map { formatValue(($0 * 1000).rounded() / 1000) } ?? "null"),
                ("backend_age_seconds", formatValue((s.backendAge * 1000).rounded() / 1000)),
                ("superuser", String(s.isSuperuser)), ("protected", String(s.isProtected)), ("can_signal", String(s.canSignal)),
                ("blocking", String(s.isBlocking)), ("note", JSONText.quote(notes[s.pid] ?? "")),
            ])
        }
        return "{\"sessions\":[" + items.joined(separator: ",") + "],\"count\":\(rows.count)}"
    }

    /// `pgwarden cancel|terminate`: `{"dry_run":…,"signalled":N,"left_alone":M,"actions":[records]}`.
    public static func actions(_ records: [ActionRecord], dryRun: Bool) -> String {
        let signalled = records.filter { $0.result == .success }.count
        return object([
            ("dry_run", String(dryRun)), ("signalled", String(signalled)),
            ("would_signal", String(records.filter { $0.result == .dryRun }.count)),
            ("left_alone", String(records.count - signalled - records.filter { $0.result == .dryRun }.count)),
            ("actions", "[" + records.map(\.json).joined(separator: ",") + "]"),
        ])
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
