/// The command line's output for prepared transactions: an aligned table or one JSON document,
/// with the field names of the records in `/actions`.
public enum PreparedOutput {
    static let header = ["GID", "XID", "DATABASE", "OWNER", "PREPARED", "AGE"]

    /// `pgwarden prepared`: the transactions, with a NOTE column saying why one would be skipped.
    public static func table(_ transactions: [PreparedTransaction], notes: [String] = []) -> String {
        let rows = transactions.enumerated().map { cells($1) + [$0 < notes.count ? notes[$0] : ""] }
        return SessionTable.table(header + ["NOTE"], rows)
    }

    /// `pgwarden rollback-prepared`: what was (or would be) done to each transaction.
    public static func table(records: [ActionRecord]) -> String {
        SessionTable.table(header + ["ACTION", "RESULT"], records.compactMap { r in
            r.prepared.map { cells($0) + [r.action.rawValue, r.result.rawValue] }
        })
    }

    static func cells(_ t: PreparedTransaction) -> [String] {
        [visible(t.gid), t.transaction, visible(t.datname), visible(t.owner), t.preparedText, SessionTable.formatAge(t.age)]
    }

    /// Text for a terminal: a gid is chosen by whoever prepared the transaction, and could hold
    /// escape sequences that rewrite what the operator sees. Controls, format and separator
    /// characters are shown as `\u{…}`, a backslash as `\\`, so every gid reads unambiguously.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\\" {
                out += "\\\\"
            } else if GlobPattern.isInvisible(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `{"prepared_transactions":[…],"count":N}`.
    public static func json(_ transactions: [PreparedTransaction], notes: [String] = []) -> String {
        let items = transactions.enumerated().map { index, t in
            SessionJSON.object([
                ("gid", JSONText.quote(t.gid)), ("transaction", JSONText.quote(t.transaction)),
                ("prepared", JSONText.quote(t.preparedText)), ("prepared_seconds", formatValue(t.preparedEpoch)),
                ("datname", JSONText.quote(t.datname)), ("owner", JSONText.quote(t.owner)),
                ("prepared_age_seconds", formatValue((t.age * 1000).rounded() / 1000)),
                ("superuser", String(t.isSuperuser)), ("protected", String(t.isProtected)),
                ("can_rollback", String(t.canRollBack)), ("via_set_role", String(t.viaRole)),
                ("note", JSONText.quote(index < notes.count ? notes[index] : "")),
            ])
        }
        return "{\"prepared_transactions\":[" + items.joined(separator: ",") + "],\"count\":\(transactions.count)}"
    }

    /// `{"dry_run":…,"rolled_back":N,"would_roll_back":N,"left_alone":N,"actions":[records]}`.
    public static func json(records: [ActionRecord], dryRun: Bool) -> String {
        let done = records.filter { $0.result == .success }.count
        let would = records.filter { $0.result == .dryRun }.count
        return SessionJSON.object([
            ("dry_run", String(dryRun)), ("rolled_back", String(done)), ("would_roll_back", String(would)),
            ("left_alone", String(records.count - done - would)),
            ("actions", "[" + records.map(\.json).joined(separator: ",") + "]"),
        ])
    }
}
